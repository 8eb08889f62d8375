"""Itemized gradients: how much of dWaa (dWax, dba; the LSTM's and GRU's dW*, db*) came from each timestep's loss.

The backward is linear in da, so running it with da restricted to column s gives the
part of every gradient that the loss at step s is responsible for, and these shares
sum exactly to the total (the decomposition RNNbow proposed). Source s reaches steps
s, s-1, ..., 0, so all sources together cost O(T_x²) cell backwards: the correct code
runs them all at once, one loop over t with the live sources stacked side by side.
"""

from dataclasses import dataclass

import numpy as np

from .gru import GATES as GRU_GATES
from .gru_trace import MATRIX_KEYS as GRU_KEYS
from .gru_trace import gru_cell_gradients, trace_gru
from .lstm_trace import BIASES, WEIGHTS, lstm_cell_gradients, trace_lstm
from .rnn_trace import trace_rnn
from .variants import GRUCode, LSTMCode, RNNCode

RNN_KEYS = ("dWax", "dWaa", "dba")
LSTM_KEYS = tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)  # dWf, dbf, dWi, dbi, ...
KEYS = {"rnn": RNN_KEYS, "lstm": LSTM_KEYS, "gru": GRU_KEYS}  # GRU: dWr, dbr, dWz, dbz, dWh, dbh
GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}  # weight matrices of n_a rows each
XT_INDEX = {"rnn": 2, "lstm": 8, "gru": 5}  # where xt sits in a cell's cache
TRACE = {"rnn": trace_rnn, "lstm": trace_lstm, "gru": trace_gru}
CORRECT = {"rnn": RNNCode(), "lstm": LSTMCode(), "gru": GRUCode()}

MAX_T_X = 100  # one backward per source: T_x² cell steps
MAX_WORK = 5e8  # multiply-adds of all the per-source weight gradients together
MAX_VALUES = 4e6  # floats held by the shares (T_x copies of every weight gradient)


@dataclass(frozen=True)
class Itemized:
    """Every weight gradient split by the timestep whose loss it came from."""

    cell: str  # "rnn", "lstm" or "gru"
    keys: tuple  # the gradients itemized, course names
    shares: dict  # key -> (T_x, *shape): shares[key][s] is the part that the loss at step s produced
    by_step: dict  # key -> (T_x, T_x): [s, t] the norm of what step t added to source s's share (0 for t > s)

    @property
    def T_x(self) -> int:
        return next(iter(self.shares.values())).shape[0]

    def total(self, key: str) -> np.ndarray:
        """The whole gradient, the sum of the shares. itemized.total("dWaa")  # == gradients["dWaa"]"""
        return self.shares[key].sum(axis=0)

    def norms(self, key: str) -> np.ndarray:
        """(T_x,) Frobenius norm of each source's share."""
        return np.linalg.norm(self.shares[key].reshape(self.T_x, -1), axis=1)

    def fractions(self, key: str) -> np.ndarray:
        """(T_x,) each share projected on the total, as a fraction of it: they sum to 1.

        A fraction above 1 or below 0 means that source pulls against the others. All zeros
        when the total is zero.
        """
        total = self.total(key).ravel()
        squared = float(total @ total)
        if squared == 0.0 or not np.isfinite(squared):
            return np.zeros(self.T_x)
        return self.shares[key].reshape(self.T_x, -1) @ total / squared


def size_problem(cell: str, n_x: int, n_a: int, m: int, T_x: int) -> str | None:
    """Why these sizes are too large to itemize, in words, or None when they are fine.

    size_problem("rnn", 2, 8, 4, 25) -> None
    """
    width = (n_a + n_x + 1) * GATE_COUNT[cell]  # columns of all weight gradients, biases included
    if T_x > MAX_T_X:
        return f"itemizing runs one backward per timestep: use T_x ≤ {MAX_T_X} (this run has T_x = {T_x})"
    if T_x * T_x / 2 * n_a * width * m > MAX_WORK or T_x * n_a * width > MAX_VALUES:
        return (
            f"itemizing keeps T_x copies of every weight gradient and runs T_x²/2 cell steps, too much at "
            f"n_a = {n_a}, n_x = {n_x}, m = {m}, T_x = {T_x}: lower n_a, m or T_x"
        )
    return None


def itemize(da: np.ndarray, caches: tuple, cell: str, code: RNNCode | LSTMCode | GRUCode | None = None) -> Itemized:
    """Split the backward's weight gradients by source timestep; raises ValueError for sizes or raising code.

    itemize(da, caches, "rnn").total("dWaa")  # == rnn_backward(da, caches)["dWaa"]

    `code` is a catalog bug's variant: its shares come from one traced backward per source
    and sum to the buggy gradients (every catalog bug that runs is linear in da).
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][XT_INDEX[cell]].shape[0]
    problem = size_problem(cell, n_x, n_a, m, T_x)
    if problem:
        raise ValueError(problem)
    with np.errstate(all="ignore"):  # exploding runs overflow to Inf, shown as such
        if code is not None and code != CORRECT[cell]:
            return _itemize_traced(da, caches, cell, code)
        return {"rnn": _itemize_rnn, "lstm": _itemize_lstm, "gru": _itemize_gru}[cell](da, cell_caches)


def _itemize_rnn(da: np.ndarray, cell_caches: list) -> Itemized:
    n_a, m, T_x = da.shape
    Waa = cell_caches[0][3]["Waa"]
    n_x = cell_caches[0][2].shape[0]
    shares = {"dWax": np.zeros((T_x, n_a, n_x)), "dWaa": np.zeros((T_x, n_a, n_a)), "dba": np.zeros((T_x, n_a, 1))}
    by_step = {key: np.zeros((T_x, T_x)) for key in RNN_KEYS}
    carry = np.zeros((T_x, n_a, m))  # carry[s]: the gradient reaching a<t> from the loss at s alone
    for t in reversed(range(T_x)):
        a_next, a_prev, xt, _ = cell_caches[t]
        carry[t] = da[:, :, t]  # source t enters here; sources after t arrive through da_prevt
        dz = carry[t:] * (1 - a_next**2)  # (k, n_a, m), one row per live source s = t..T_x-1
        step = {
            "dWax": np.einsum("kam,xm->kax", dz, xt),  # (k, n_a, n_x)
            "dWaa": np.einsum("kam,bm->kab", dz, a_prev),  # (k, n_a, n_a)
            "dba": dz.sum(axis=2, keepdims=True),  # (k, n_a, 1)
        }
        for key, value in step.items():
            shares[key][t:] += value
            by_step[key][t:, t] = np.linalg.norm(value.reshape(len(value), -1), axis=1)
        carry[t:] = np.einsum("ab,kam->kbm", Waa, dz)  # Waa.T @ dz for every source
    return Itemized("rnn", RNN_KEYS, shares, by_step)


def _itemize_lstm(da: np.ndarray, cell_caches: list) -> Itemized:
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][8].shape[0]
    shares = {key: np.zeros((T_x, n_a, n_a + n_x if key.startswith("dW") else 1)) for key in LSTM_KEYS}
    by_step = {key: np.zeros((T_x, T_x)) for key in LSTM_KEYS}
    carry_a = np.zeros((T_x, n_a, m))  # per source, the gradient reaching a<t>
    carry_c = np.zeros((T_x, n_a, m))  # and c<t>
    for t in reversed(range(T_x)):
        carry_a[t] = da[:, :, t]
        k = T_x - t
        cache = cell_caches[t]
        # the live sources side by side on the batch axis: column kk·m + j is source t+kk, example j
        tiled = tuple(np.tile(v, (1, k)) for v in cache[:9]) + (cache[9],)
        g = lstm_cell_gradients(LSTMCode(), _side_by_side(carry_a[t:]), _side_by_side(carry_c[t:]), tiled)
        concat = g["concat"][:, :m]  # (n_a + n_x, m), the same for every source
        for weight, bias, dg in zip(WEIGHTS, BIASES, g["gates"]):
            per_source = dg.reshape(n_a, k, m)  # (n_a, k, m)
            step = {
                weight: np.einsum("akm,bm->kab", per_source, concat),  # (k, n_a, n_a + n_x)
                bias: per_source.sum(axis=2).T[:, :, None],  # (k, n_a, 1)
            }
            for key, value in step.items():
                shares[key][t:] += value
                by_step[key][t:, t] = np.linalg.norm(value.reshape(k, -1), axis=1)
        carry_a[t:] = g["da_prev"].reshape(n_a, k, m).transpose(1, 0, 2)
        carry_c[t:] = g["dc_prev"].reshape(n_a, k, m).transpose(1, 0, 2)
    return Itemized("lstm", LSTM_KEYS, shares, by_step)


def _itemize_gru(da: np.ndarray, cell_caches: list) -> Itemized:
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][5].shape[0]
    shares = {key: np.zeros((T_x, n_a, n_a + n_x if key.startswith("dW") else 1)) for key in GRU_KEYS}
    by_step = {key: np.zeros((T_x, T_x)) for key in GRU_KEYS}
    carry = np.zeros((T_x, n_a, m))  # per source, the gradient reaching a<t>
    for t in reversed(range(T_x)):
        carry[t] = da[:, :, t]
        k = T_x - t
        cache = cell_caches[t]
        _, a_prev, rt, _, _, xt, _ = cache
        # the live sources side by side on the batch axis: column kk·m + j is source t+kk, example j
        tiled = tuple(np.tile(v, (1, k)) for v in cache[:6]) + (cache[6],)
        g = gru_cell_gradients(GRUCode(), _side_by_side(carry[t:]), tiled)
        concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, m), the same for every source
        seen = {"r": concat, "z": concat, "h": np.concatenate((rt * a_prev, xt), axis=0)}  # what each gate's W saw
        for gate, dg in zip(GRU_GATES, g["gates"]):
            per_source = dg.reshape(n_a, k, m)  # (n_a, k, m)
            step = {
                "dW" + gate: np.einsum("akm,bm->kab", per_source, seen[gate]),  # (k, n_a, n_a + n_x)
                "db" + gate: per_source.sum(axis=2).T[:, :, None],  # (k, n_a, 1)
            }
            for key, value in step.items():
                shares[key][t:] += value
                by_step[key][t:, t] = np.linalg.norm(value.reshape(k, -1), axis=1)
        carry[t:] = g["da_prev"].reshape(n_a, k, m).transpose(1, 0, 2)
    return Itemized("gru", GRU_KEYS, shares, by_step)


def _side_by_side(per_source: np.ndarray) -> np.ndarray:
    """(k, n_a, m) -> (n_a, k·m), sources side by side on the batch axis."""
    k, n_a, m = per_source.shape
    return per_source.transpose(1, 0, 2).reshape(n_a, k * m)


def _itemize_traced(da: np.ndarray, caches: tuple, cell: str, code: RNNCode | LSTMCode | GRUCode) -> Itemized:
    """One traced backward of `code` per source: slower, but it runs whatever the bug changed."""
    T_x = da.shape[2]
    keys = KEYS[cell]
    shares, by_step = {}, {key: np.zeros((T_x, T_x)) for key in keys}
    for s in range(T_x):
        da_s = np.zeros_like(da)
        da_s[:, :, s] = da[:, :, s]  # (n_a, m, T_x), the loss at step s alone
        trace = TRACE[cell](da_s, caches, code)
        if trace.error is not None:
            raise ValueError(f"this code raises at t = {trace.error.t}, so there is nothing to itemize: "
                             f"{trace.error.message}")
        grads = trace.gradients()
        for key in keys:
            shares.setdefault(key, np.zeros((T_x,) + grads[key].shape))[s] = grads[key]
        for step in trace.steps():
            for key in keys:
                by_step[key][s, step.t] = np.linalg.norm(step.outputs[key])
    return Itemized(cell, keys, shares, by_step)
