"""The LSTM's backward loop, traced: it keeps what enters each cell and derives the rest."""

import numpy as np

from .lstm import GATES
from .trace import StepError, Trace, stack
from .variants import LSTMCode

BIASES = tuple("db" + g for g in GATES)  # dbf, dbi, dbc, dbo
WEIGHTS = tuple("dW" + g for g in GATES)  # dWf, dWi, dWc, dWo


def lstm_cell_gradients(code: LSTMCode, da_next, dc_next, cache: tuple) -> dict:
    """lstm_cell_backward as `code` writes it, with the intermediates a person wants to see.

    Every line is elementwise or a matmul on the batch axis, so it also runs on k steps
    stacked side by side (n_a, k·m), which is how the trace sums a run of steps at once.
    """
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a = a_next.shape[0]
    dtanh_c = code.dtanh_c(c_next)  # (n_a, m)
    dc = dc_next + ot * dtanh_c * da_next  # (n_a, m): all that reaches c_next
    g = {
        "dot": da_next * np.tanh(c_next) * ot * (1 - ot),
        "dcct": dc * it * (1 - cct**2),
        "dit": dc * cct * it * (1 - it),
        "dft": dc * c_prev * ft * (1 - ft),
        "dc": dc,
    }
    gate_grads = [g["dft"], g["dit"], g["dcct"], g["dot"]]  # in the order of GATES
    W = [parameters["W" + gate] for gate in GATES]
    g["da_prev"] = sum(np.dot(code.Wa(Wg, n_a).T, dg) for Wg, dg in zip(W, gate_grads))
    g["dc_prev"] = dc * ft
    g["dxt"] = sum(np.dot(code.Wx(Wg, n_a).T, dg) for Wg, dg in zip(W, gate_grads))
    g["concat"] = code.concat(a_prev, xt)  # (n_a + n_x, m)
    for name, dg in zip(GATES, gate_grads):
        g["db" + name] = np.sum(dg, axis=1, keepdims=True)
    g["gates"] = gate_grads
    return g


class LSTMTrace(Trace):
    """A traced lstm_backward. Stored: da_next and dc_next (T_x, n_a, m) and dx."""

    cell = "lstm"
    input_keys = ("da_next", "dc_next")
    step_keys = ("dxt", "da_prev", "dc_prev") + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)
    total_keys = ("dx",) + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)
    final_keys = ("dx", "da0") + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)

    def __init__(self, code: LSTMCode, da_next: np.ndarray, dc_next: np.ndarray, **state):
        self.code = code
        self.da_next = da_next  # (T_x, n_a, m): what the loop handed each cell as da_next
        self.dc_next = dc_next  # (T_x, n_a, m): and as dc_next
        super().__init__(accumulate=True, **state)

    def _stored_vectors(self) -> list:
        return [self.da_next, self.dc_next]

    def _cell(self, k: int) -> dict:
        t = self.order[k]
        return lstm_cell_gradients(self.code, self.da_next[t], self.dc_next[t], self.cell_caches[t])

    def _step_vectors(self, k: int) -> tuple:
        t = self.order[k]
        g = self._cell(k)
        zeros = np.zeros_like(g["dc"])
        previous = self._cell(k - 1) if k else None
        da_prevt = previous["da_prev"] if previous and self.code.carry_da else zeros
        dc_prevt = previous["dc_prev"] if previous and self.code.carry_dc else zeros
        inputs = {
            "da_t": self.da[:, :, t], "da_prevt": da_prevt, "da_next": self.da_next[t],
            "dc_prevt": dc_prevt, "dc_next": self.dc_next[t],
        }
        outputs = {key: g[key] for key in ("dft", "dit", "dcct", "dot", "dc", "dxt", "da_prev", "dc_prev")}
        return inputs, outputs

    def _matrix_contributions(self, k0: int, k1: int) -> dict:
        ts = self.order[k0:k1]
        caches = [self.cell_caches[t] for t in ts]
        stacked_cache = tuple(stack([c[i] for c in caches]) for i in range(9)) + (caches[0][9],)
        g = lstm_cell_gradients(
            self.code, stack([self.da_next[t] for t in ts]), stack([self.dc_next[t] for t in ts]), stacked_cache
        )
        weights = {name: np.dot(dg, g["concat"].T) for name, dg in zip(WEIGHTS, g["gates"])}
        return weights | {name: g[name] for name in BIASES}


def trace_lstm(da: np.ndarray, caches: tuple, code: LSTMCode = LSTMCode()) -> LSTMTrace:
    """Run lstm_backward as `code` writes it, keeping what a person needs to step through it.

    trace = trace_lstm(da, caches); trace.gradients()["dWf"]  # same as lstm_backward(da, caches)
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][8].shape[0]
    da_next_all = np.zeros((T_x, n_a, m))
    dc_next_all = np.zeros((T_x, n_a, m))
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    order, error = [], None
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        for t in reversed(range(T_x)):
            quantity = "da_next"
            try:
                da_next = code.da_next(da[:, :, t], da_prevt)  # (n_a, m)
                dc_next = dc_prevt  # (n_a, m)
                quantity = "cell"
                g = lstm_cell_gradients(code, da_next, dc_next, cell_caches[t])
                if code.carry_da:
                    da_prevt = g["da_prev"]
                if code.carry_dc:
                    dc_prevt = g["dc_prev"]
                quantity = "dxt"
                dx[:, :, t] = g["dxt"]
            except (ValueError, IndexError, TypeError) as e:
                error = StepError(t, quantity, type(e).__name__, str(e))
                break
            da_next_all[t] = da_next
            dc_next_all[t] = dc_next
            order.append(t)
    da0 = da_prevt
    return LSTMTrace(
        code, da_next_all, dc_next_all, da=da, cell_caches=cell_caches, dx=dx, order=order, error=error,
        da0=da0,
    )
