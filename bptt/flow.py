"""Gradient flow: how the gradient carried back in time shrinks or grows, and why.

In the RNN, the gradient carried from step t+1 into step t is Waa.T @ (da_next * (1 - a²)),
so the gradient that the last step's loss sends back to a<t> is the product of step
Jacobians ∏ diag(1 - a<k>²)·Waa, transposed, applied to da<T_x-1>. Its norm, next to the
gradient norms, shows the cause; the spectral radius of Waa predicts its slope while tanh
stays in its linear range. The LSTM's cell state has its own path back, c<t-1> -> c<t> times
the forget gate f<t>, with no matrix and no tanh' on it: that is what lets its gradient survive.
The GRU has the same kind of path on its hidden state itself: a_next = zt * a_prev + ..., so
a<t-1> -> a<t> times the update gate z<t> carries the gradient back with no matrix on it either.
"""

from dataclasses import dataclass, replace

import numpy as np

from .gru import gru_forward
from .gru_trace import trace_gru
from .lstm import lstm_forward
from .lstm_trace import trace_lstm
from .rnn import rnn_forward
from .rnn_trace import trace_rnn
from .scenarios import RunConfig, make_inputs

MAX_WORK = 2e9  # multiply-adds of the per-example Jacobian products, m·n_a³·T_x


@dataclass(frozen=True)
class Flow:
    """Gradient norms over t for one run, with the quantities that explain them."""

    cell: str  # "rnn", "lstm" or "gru"
    radius: float  # spectral radius of Waa (LSTM: Wf[:, :n_a], the forget gate's recurrent block; GRU: Wh[:, :n_a])
    da_prevt: np.ndarray  # (T_x,) Frobenius norm of the gradient carried into each step (0 at T_x-1)
    dc_prevt: np.ndarray | None  # (T_x,) the same for the LSTM's cell state; None for the RNN and the GRU
    path: np.ndarray  # (T_x,) max over the batch of the norm of the product back from T_x-1 to t:
    # RNN ||∏ diag(1 - a²)·Waa||₂, LSTM ∏ f (the cell state's own path), GRU ∏ z (a's direct path);
    # 1 at t = T_x-1
    da_last: float  # ||da[:,:,T_x-1]||, the last step's own loss gradient

    @property
    def T_x(self) -> int:
        return len(self.da_prevt)


def spectral_radius(W: np.ndarray) -> float:
    """Largest |eigenvalue|. spectral_radius(np.diag([0.5, -2.0])) -> 2.0"""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def jacobian_products(a: np.ndarray, Waa: np.ndarray) -> np.ndarray:
    """(T_x, m): per example, the spectral norm of ∂a<T_x-1>/∂a<t> = ∏_{k=T_x-1..t+1} diag(1 - a<k>²)·Waa.

    jacobian_products(a, Waa)[-1]  # ones: a<T_x-1> with respect to itself
    """
    n_a, m, T_x = a.shape
    if m * n_a**3 * T_x > MAX_WORK:
        raise ValueError(f"the Jacobian products need m·n_a³·T_x multiply-adds, too many at n_a = {n_a}, "
                         f"m = {m}, T_x = {T_x}: lower n_a, m or T_x")
    norms = np.ones((T_x, m))
    product = np.broadcast_to(np.eye(n_a), (m, n_a, n_a))  # (m, n_a, n_a), the product so far per example
    with np.errstate(all="ignore"):  # exploding products overflow to Inf, which the page shows
        for t in reversed(range(T_x - 1)):
            step = (1 - a[:, :, t + 1].T ** 2)[:, :, None] * Waa  # (m, n_a, n_a): diag(1 - a<t+1>²)·Waa
            product = product @ step
            finite = np.all(np.isfinite(product), axis=(1, 2))
            norms[t] = np.inf
            if finite.any():
                norms[t, finite] = np.linalg.norm(product[finite], ord=2, axis=(1, 2))
    return norms


def forget_products(ft: np.ndarray) -> np.ndarray:
    """(T_x, m): per example, the largest over units of ∏_{k=t+1..T_x-1} f<k>, the cell state's own path back.

    ∂c<T_x-1>/∂c<t> along that path is diag(∏ f), so this is its spectral norm. ft is (n_a, m, T_x).
    Handed the GRU's update gates zt instead, it is the same for a<t>'s direct path, a_next = zt * a_prev + ...
    """
    n_a, m, T_x = ft.shape
    later = np.concatenate([ft[:, :, 1:], np.ones((n_a, m, 1))], axis=2)  # (n_a, m, T_x): f<t+1>, 1 past the end
    products = np.cumprod(later[:, :, ::-1], axis=2)[:, :, ::-1]  # (n_a, m, T_x)
    return products.max(axis=0).T


def measure(cell: str, x: np.ndarray, a0: np.ndarray, parameters: dict, da: np.ndarray) -> Flow:
    """Forward and backward of the course's correct code, reduced to the flow's norms.

    measure("rnn", x, a0, parameters, da).da_prevt  # (T_x,)
    """
    T_x = da.shape[2]
    with np.errstate(all="ignore"):
        if cell == "rnn":
            a, _, caches = rnn_forward(x[:, :, :T_x], a0, parameters)
            trace, Waa = trace_rnn(da, caches), parameters["Waa"]
            path = jacobian_products(a, Waa).max(axis=1)
        elif cell == "gru":
            _, _, caches = gru_forward(x[:, :, :T_x], a0, parameters)
            trace, Waa = trace_gru(da, caches), parameters["Wh"][:, : a0.shape[0]]
            zt = np.stack([cache[3] for cache in caches[0]], axis=2)  # (n_a, m, T_x)
            path = forget_products(zt).max(axis=1)
        else:
            _, _, _, caches = lstm_forward(x[:, :, :T_x], a0, parameters)
            trace, Waa = trace_lstm(da, caches), parameters["Wf"][:, : a0.shape[0]]
            ft = np.stack([cache[4] for cache in caches[0]], axis=2)  # (n_a, m, T_x)
            path = forget_products(ft).max(axis=1)
        return Flow(
            cell=cell,
            radius=spectral_radius(Waa),
            da_prevt=trace.norms("da_prevt"),
            dc_prevt=trace.norms("dc_prevt") if cell == "lstm" else None,
            path=path,
            da_last=float(np.linalg.norm(da[:, :, -1])),
        )


def side_by_side(config: RunConfig) -> dict:
    """The RNN, the LSTM and the GRU on the same x, a0 and da (the RNN scenario's draws), each with its own weights.

    side_by_side(RunConfig(scenario="vanishing"))["lstm"].dc_prevt  # (T_x,)
    """
    inputs = make_inputs(replace(config, cell="rnn"))
    if inputs.da is None:
        raise ValueError(f"scenario {config.scenario!r} computes da from each cell's own predictions, so the "
                         f"cells would not share a loss: use vanishing, exploding, classroom or course")
    flows = {"rnn": measure("rnn", inputs.x, inputs.a0, inputs.parameters, inputs.da)}
    for cell in ("lstm", "gru"):
        parameters = make_inputs(replace(config, cell=cell)).parameters
        flows[cell] = measure(cell, inputs.x, inputs.a0, parameters, inputs.da)
    return flows


def telling_step(flow: Flow, factor: float = 100.0) -> int:
    """The step nearest the end where da_prevt has shrunk or grown `factor`-fold since it entered; else 0.

    telling_step(side_by_side(RunConfig(scenario="vanishing"))["rnn"])  # a step a few links back
    """
    norms = flow.da_prevt
    if flow.T_x < 2 or not norms[-2] > 0:
        return 0
    for t in reversed(range(flow.T_x - 1)):
        ratio = norms[t] / norms[-2]
        if not np.isfinite(ratio) or ratio <= 1 / factor or ratio >= factor:
            return t
    return 0
