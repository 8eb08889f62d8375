"""The LSTM's backward loop, traced: it keeps the two gradients carried into each cell and derives the rest."""

from dataclasses import replace

import numpy as np

from .buffers import empty
from .fast_lstm import lstm_backward_in_blocks, lstm_weight_gradients_of_steps
from .lstm import GATES
from .trace import Step, StepError, Trace, carry_array, checkpoints_on_blocks, scaled, stack
from .variants import LSTMCode

BIASES = tuple("db" + g for g in GATES)  # dbf, dbi, dbc, dbo
WEIGHTS = tuple("dW" + g for g in GATES)  # dWf, dWi, dWc, dWo
GATE_GRADIENTS = ("dft", "dit", "dcct", "dot")  # in the order of GATES


def gate_gradients(code: LSTMCode, da_next, dc_next, cache: tuple) -> dict:
    """The first lines of lstm_cell_backward as `code` writes them: dc and the four gate gradients.

    Every line is elementwise, so it also runs on k steps stacked side by side (n_a, k·m),
    which is how the trace sums a run of steps at once.
    """
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    dtanh_c = code.dtanh_c(c_next)  # (n_a, m)
    dc = dc_next + ot * dtanh_c * da_next  # (n_a, m): all that reaches c_next
    g = {
        "dot": da_next * np.tanh(c_next) * ot * (1 - ot),
        "dcct": dc * it * (1 - cct**2),
        "dit": dc * cct * it * (1 - it),
        "dft": dc * c_prev * ft * (1 - ft),
        "dc": dc,
    }
    g["gates"] = [g["dft"], g["dit"], g["dcct"], g["dot"]]  # in the order of GATES
    return g


def lstm_cell_gradients(code: LSTMCode, da_next, dc_next, cache: tuple) -> dict:
    """lstm_cell_backward as `code` writes it, with the intermediates a person wants to see.

    Every line is elementwise or a matmul on the batch axis, so it also runs on k steps
    stacked side by side (n_a, k·m).
    """
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a = a_next.shape[0]
    g = gate_gradients(code, da_next, dc_next, cache)
    W = [parameters["W" + gate] for gate in GATES]
    g["da_prev"] = sum(np.dot(code.Wa(Wg, n_a).T, dg) for Wg, dg in zip(W, g["gates"]))
    g["dc_prev"] = g["dc"] * ft
    g["dxt"] = sum(np.dot(code.Wx(Wg, n_a).T, dg) for Wg, dg in zip(W, g["gates"]))
    g["concat"] = code.concat(a_prev, xt)  # (n_a + n_x, m)
    for name, dg in zip(GATES, g["gates"]):
        g["db" + name] = np.sum(dg, axis=1, keepdims=True)
    return g


class LSTMTrace(Trace):
    """A traced lstm_backward. Stored: what the loop carried into each step, da_prevt and dc_prevt (T_x, n_a, m), and dx.

    Everything a step shows is derived from those two vectors and the forward cache: da_next is
    the loop's own line applied to da[:,:,t] and da_prevt, dc_next is dc_prevt, and the cell's
    gate gradients, da_prev, dc_prev, dxt and weight gradients are the cell rebuilt on them.
    """

    cell = "lstm"
    input_keys = ("da_next", "dc_next")
    step_keys = ("dxt", "da_prev", "dc_prev") + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)
    total_keys = ("dx",) + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)
    final_keys = ("dx", "da0") + tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)

    def __init__(self, code: LSTMCode, da_carried: np.ndarray, dc_carried: np.ndarray, **state):
        self.code = code
        self.da_carried = da_carried  # (T_x, n_a, m): da_prevt as the loop held it when it ran step t
        self.dc_carried = dc_carried  # (T_x, n_a, m): and dc_prevt, which the cell receives as dc_next
        super().__init__(accumulate=True, **state)

    def _stored_vectors(self) -> list:
        return [self.da_carried, self.dc_carried]

    @staticmethod
    def _memory_terms(n_x: int, n_a: int, m: int) -> tuple:
        """(vectors stored per step, weight and bias entries, entries of one shown step's vectors): see nbytes_bound."""
        # da_prevt, dc_prevt; four gates' dW and db; da_next, four gate gradients, dc, da_prev, dc_prev and dxt
        return 2, 4 * (n_a * n_a + n_a * n_x + n_a), 8 * n_a * m + n_x * m

    def _inputs(self, k: int) -> dict:
        t = self.order[k]
        da_t, da_prevt, dc_prevt = self.da[:, :, t], self.da_carried[t], self.dc_carried[t]
        return {
            "da_t": da_t, "da_prevt": da_prevt, "da_next": self.code.da_next(da_t, da_prevt),
            "dc_prevt": dc_prevt, "dc_next": dc_prevt,
        }

    def _step_vectors(self, k: int, near: Step | None = None) -> tuple:
        inputs = self._inputs(k)
        g = lstm_cell_gradients(self.code, inputs["da_next"], inputs["dc_next"], self.cell_caches[self.order[k]])
        outputs = {key: g[key] for key in ("dft", "dit", "dcct", "dot", "dc", "dxt", "da_prev", "dc_prev")}
        return inputs, outputs

    @np.errstate(all="ignore")
    def norms(self, key: str) -> np.ndarray:
        """As Trace.norms; what entered a cell is read from the stored vectors, without rebuilding the cell."""
        if key not in ("da_t", "da_prevt", "da_next", "dc_prevt", "dc_next"):
            return super().norms(key)
        values = np.full(self.T_x, np.nan)
        for k, t in enumerate(self.order):
            values[t] = np.linalg.norm(self._inputs(k)[key])
        return values

    def _matrix_contributions(self, k0: int, k1: int) -> dict:
        ts = self.order[k0:k1]
        if runs_the_course_backward(self.code):  # the kernel's lines: tested equal to the readable ones below
            return lstm_weight_gradients_of_steps(self.da, self.da_carried, self.dc_carried, self.cell_caches, ts)
        caches = [self.cell_caches[t] for t in ts]
        # a_next (index 0) is the one part of the cache the gate gradients do not read
        stacked_cache = (None, *(stack([c[i] for c in caches]) for i in range(1, 9)), caches[0][9])
        da_next = self.code.da_next(stack([self.da[:, :, t] for t in ts]), stack([self.da_carried[t] for t in ts]))
        # only the gate gradients: da_prev and dxt, the cell's other products, add nothing to the weights
        gates = gate_gradients(self.code, da_next, stack([self.dc_carried[t] for t in ts]), stacked_cache)["gates"]
        return weight_gradients(gates, self.code.concat(stacked_cache[2], stacked_cache[8]))

    def _own_contributions(self, k: int, inputs: dict, outputs: dict) -> dict:
        """The step's weight gradients from the gate gradients _step_vectors already has."""
        cache = self.cell_caches[self.order[k]]
        return weight_gradients([outputs[name] for name in GATE_GRADIENTS], self.code.concat(cache[2], cache[8]))


def weight_gradients(gates: list, concat: np.ndarray) -> dict:
    """dWf, ..., dbo from the gate gradients [dft, dit, dcct, dot] and [a_prev; xt], one step or k side by side.

    As the course's cell writes them: dWf = np.dot(dft, concat.T), dbf = np.sum(dft, axis=1, keepdims=True), ...
    """
    weights = {name: np.dot(dg, concat.T) for name, dg in zip(WEIGHTS, gates)}
    return weights | {name: np.sum(dg, axis=1, keepdims=True) for name, dg in zip(BIASES, gates)}


def runs_the_course_backward(code: LSTMCode) -> bool:
    """True when every piece lstm_backward uses is the course's (c0 belongs to the forward; carry, the
    truncation, is one the fast kernel runs too)."""
    return replace(code, c0=LSTMCode().c0, carry=LSTMCode().carry) == LSTMCode()


def trace_lstm(da: np.ndarray, caches: tuple, code: LSTMCode = LSTMCode()) -> LSTMTrace:
    """Run lstm_backward as `code` writes it, keeping what a person needs to step through it.

    trace = trace_lstm(da, caches); trace.gradients()["dWf"]  # same as lstm_backward(da, caches)
    """
    if runs_the_course_backward(code):
        return _trace_course_code(da, caches, code)
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][8].shape[0]
    da_carried = np.zeros((T_x, n_a, m))
    dc_carried = np.zeros((T_x, n_a, m))
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    order, error = [], None
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        for t in reversed(range(T_x)):
            factor = code.carry(t)  # truncation cuts or rescales both carried gradients here
            da_prevt, dc_prevt = scaled(factor, da_prevt), scaled(factor, dc_prevt)
            carried = da_prevt, dc_prevt
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
            da_carried[t], dc_carried[t] = carried
            order.append(t)
    da0 = da_prevt
    return LSTMTrace(
        code, da_carried, dc_carried, da=da, cell_caches=cell_caches, dx=dx, order=order, error=error,
        da0=da0,
    )


def _trace_course_code(da: np.ndarray, caches: tuple, code: LSTMCode) -> LSTMTrace:
    """The course's backward (truncated by `code.carry`, if at all), traced at the speed of lstm_backward_fast.

    It runs the same blocked backward, which writes what it carries into each step straight into
    the trace's two stored arrays and hands over the running totals at the checkpoints. A bug's
    variant takes the line-by-line loop instead, so that it fails at the step and line where the
    student's notebook fails.
    """
    cell_caches = caches[0]
    n_a, m, T_x = da.shape
    carried = empty((T_x, n_a, m)), empty((T_x, n_a, m))
    bounds, splits, checkpoints, keep = checkpoints_on_blocks(T_x, m, WEIGHTS + BIASES, LSTMTrace.checkpoint_count)
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        grads = lstm_backward_in_blocks(
            da, caches, bounds, carried, keep, carry_array(code.carry, T_x), splits
        )
    return LSTMTrace(
        code, *carried, da=da, cell_caches=cell_caches, dx=grads["dx"], order=range(T_x - 1, -1, -1),
        error=None, da0=grads["da0"], checkpoints=checkpoints,
    )
