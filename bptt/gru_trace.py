"""The GRU's backward loop, traced: it keeps the gradient carried into each cell and derives the rest."""

import numpy as np

from .gru import GATES
from .trace import Step, StepError, Trace, scaled, stack
from .variants import GRUCode

BIASES = tuple("db" + g for g in GATES)  # dbr, dbz, dbh
WEIGHTS = tuple("dW" + g for g in GATES)  # dWr, dWz, dWh
MATRIX_KEYS = tuple(k for pair in zip(WEIGHTS, BIASES) for k in pair)  # dWr, dbr, dWz, dbz, dWh, dbh


def gate_gradients(code: GRUCode, da_next: np.ndarray, cache: tuple) -> dict:
    """The first lines of gru_cell_backward as `code` writes them: dh_tilde, dzt, dra and drt.

    Every line is elementwise or a matmul on the batch axis, so it also runs on k steps stacked
    side by side (n_a, k·m), which is how the trace sums a run of steps at once.
    gate_gradients(GRUCode(), da_next, cache)["gates"]  # [drt, dzt, dh_tilde], in the order of GATES
    """
    (a_next, a_prev, rt, zt, h_tilde, xt, parameters) = cache
    n_a = a_prev.shape[0]
    Wha = parameters["Wh"][:, :n_a]  # (n_a, n_a): the candidate's weights on rt * a_prev
    dh_tilde = code.dh_tilde(da_next, zt, h_tilde)  # (n_a, m)
    dzt = code.dzt(da_next, zt, a_prev, h_tilde)  # (n_a, m)
    dra = np.dot(Wha.T, dh_tilde)  # (n_a, m): the gradient reaching rt * a_prev
    drt = code.drt(dra, a_prev, rt, Wha, dh_tilde)  # (n_a, m)
    return {"dh_tilde": dh_tilde, "dzt": dzt, "dra": dra, "drt": drt, "gates": [drt, dzt, dh_tilde]}


def gru_cell_gradients(code: GRUCode, da_next: np.ndarray, cache: tuple) -> dict:
    """gru_cell_backward as `code` writes it, with the intermediates a person wants to see; no weight gradients.

    gru_cell_gradients(GRUCode(), da_next, cache)["da_prev"]  # == gru_cell_backward(da_next, cache)["da_prev"]
    """
    (a_next, a_prev, rt, zt, h_tilde, xt, parameters) = cache
    n_a = a_prev.shape[0]
    Wr, Wz, Wh = parameters["Wr"], parameters["Wz"], parameters["Wh"]
    g = gate_gradients(code, da_next, cache)
    drt, dzt, dh_tilde = g["gates"]
    g["da_prev"] = (
        code.da_direct(da_next, zt) + code.da_reset(g["dra"], rt, Wh[:, :n_a], dh_tilde)
        + np.dot(Wr[:, :n_a].T, drt) + np.dot(Wz[:, :n_a].T, dzt)
    )  # (n_a, m)
    g["dxt"] = np.dot(Wr[:, n_a:].T, drt) + np.dot(Wz[:, n_a:].T, dzt) + np.dot(Wh[:, n_a:].T, dh_tilde)  # (n_x, m)
    return g


def weight_gradients(gates: list, a_prev: np.ndarray, rt: np.ndarray, xt: np.ndarray) -> dict:
    """dWr, dbr, dWz, dbz, dWh, dbh from the three pre-activation gradients (k steps stacked side by side).

    weight_gradients([drt, dzt, dh_tilde], a_prev, rt, xt)["dWh"]  # (n_a, n_a + n_x)
    """
    concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, k·m)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)  # what Wh saw
    drt, dzt, dh_tilde = gates
    weights = {"dWr": np.dot(drt, concat.T), "dWz": np.dot(dzt, concat.T), "dWh": np.dot(dh_tilde, concat_r.T)}
    biases = {name: np.sum(dg, axis=1, keepdims=True) for name, dg in zip(BIASES, gates)}
    return {key: (weights | biases)[key] for key in MATRIX_KEYS}


class GRUTrace(Trace):
    """A traced gru_backward. Stored: the gradient the loop carried into each step, da_prevt (T_x, n_a, m), and dx.

    Everything a step shows is derived from that vector and the forward cache: da_next is the
    loop's own line applied to da[:,:,t] and da_prevt, and the cell's gate gradients, da_prev, dxt
    and weight gradients are the cell rebuilt on it. da_prevt is stored after the code's `carry`
    factor, so it is exactly what the cell received (zero where truncation cut it).
    """

    cell = "gru"
    input_keys = ("da_next",)
    step_keys = ("dxt", "da_prev") + MATRIX_KEYS
    total_keys = ("dx",) + MATRIX_KEYS
    final_keys = ("dx", "da0") + MATRIX_KEYS

    def __init__(self, code: GRUCode, da_carried: np.ndarray, **state):
        self.code = code
        self.da_carried = da_carried  # (T_x, n_a, m): da_prevt as the cell at step t received it
        super().__init__(accumulate=code.accumulate, **state)

    def _stored_vectors(self) -> list:
        return [self.da_carried]

    @staticmethod
    def _memory_terms(n_x: int, n_a: int, m: int) -> tuple:
        """(vectors stored per step, weight and bias entries, entries of one shown step's vectors): see nbytes_bound."""
        # da_prevt; three gates' dW and db; da_next, dh_tilde, dzt, dra, drt, da_prev and dxt
        return 1, 3 * (n_a * n_a + n_a * n_x + n_a), 6 * n_a * m + n_x * m

    def _inputs(self, k: int) -> dict:
        t = self.order[k]
        da_t, da_prevt = self.da[:, :, t], self.da_carried[t]
        return {"da_t": da_t, "da_prevt": da_prevt, "da_next": self.code.da_next(da_t, da_prevt)}

    def _step_vectors(self, k: int, near: Step | None = None) -> tuple:
        inputs = self._inputs(k)
        g = gru_cell_gradients(self.code, inputs["da_next"], self.cell_caches[self.order[k]])
        outputs = {key: g[key] for key in ("dh_tilde", "dzt", "dra", "drt", "dxt", "da_prev")}
        return inputs, outputs

    @np.errstate(all="ignore")
    def norms(self, key: str) -> np.ndarray:
        """As Trace.norms; what entered a cell is read from the stored vectors, without rebuilding the cell."""
        if key not in ("da_t", "da_prevt", "da_next"):
            return super().norms(key)
        values = np.full(self.T_x, np.nan)
        for k, t in enumerate(self.order):
            values[t] = np.linalg.norm(self._inputs(k)[key])
        return values

    def _matrix_contributions(self, k0: int, k1: int) -> dict:
        ts = self.order[k0:k1]
        caches = [self.cell_caches[t] for t in ts]
        # a_next (index 0) is the one part of the cache the gate gradients do not read
        stacked_cache = (None, *(stack([c[i] for c in caches]) for i in range(1, 6)), caches[0][6])
        da_next = self.code.da_next(stack([self.da[:, :, t] for t in ts]), stack([self.da_carried[t] for t in ts]))
        gates = gate_gradients(self.code, da_next, stacked_cache)["gates"]
        return weight_gradients(gates, stacked_cache[1], stacked_cache[2], stacked_cache[5])


def trace_gru(da: np.ndarray, caches: tuple, code: GRUCode = GRUCode()) -> GRUTrace:
    """Run gru_backward as `code` writes it, keeping what a person needs to step through it.

    trace = trace_gru(da, caches); trace.gradients()["dWz"]  # same as gru_backward(da, caches)
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][5].shape[0]
    da_carried = np.zeros((T_x, n_a, m))
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    order, error = [], None
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        for t in reversed(range(T_x)):
            quantity = "da_next"
            try:
                carried = scaled(code.carry(t), da_prevt)  # (n_a, m): truncation cuts or rescales it here
                da_next = code.da_next(da[:, :, t], carried)  # (n_a, m)
                quantity = "cell"
                g = gru_cell_gradients(code, da_next, cell_caches[t])
                quantity = "dxt"
                dx[:, :, t] = g["dxt"]
            except (ValueError, IndexError, TypeError) as e:
                error = StepError(t, quantity, type(e).__name__, str(e))
                break
            da_carried[t] = carried
            da_prevt = g["da_prev"]
            order.append(t)
    return GRUTrace(code, da_carried, da=da, cell_caches=cell_caches, dx=dx, order=order, error=error, da0=da_prevt)
