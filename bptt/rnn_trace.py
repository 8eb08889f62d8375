"""The RNN's backward loop, traced: it keeps dz at each step and derives the rest."""

from dataclasses import replace

import numpy as np

from .buffers import empty
from .fast import backward_in_blocks
from .trace import Step, StepError, Trace, carry_array, checkpoints_on_blocks, scaled, stack
from .variants import RNNCode


class RNNTrace(Trace):
    """A traced rnn_backward. Stored: dz (T_x, n_a, m) and dx; everything else is derived."""

    cell = "rnn"
    input_keys = ("da_next",)
    step_keys = ("dxt", "da_prev", "dWax", "dWaa", "dba")
    total_keys = ("dx", "dWax", "dWaa", "dba")
    final_keys = ("dx", "da0", "dWax", "dWaa", "dba")
    # half the LSTM's: a step's share is a quarter of the LSTM's work, so twice the steps still rebuild faster
    checkpoint_count = 4

    def __init__(self, code: RNNCode, dz: np.ndarray, **state):
        self.code = code
        self.dz = dz  # (T_x, n_a, m); row t is the pre-activation gradient of step t
        parameters = state["cell_caches"][0][3]
        self.Wax, self.Waa = parameters["Wax"], parameters["Waa"]
        super().__init__(accumulate=code.accumulate, **state)

    def _cache(self, t: int) -> tuple:
        return self.cell_caches[self.code.cache_index(t)]

    def _stored_vectors(self) -> list:
        return [self.dz]

    @staticmethod
    def _memory_terms(n_x: int, n_a: int, m: int) -> tuple:
        """(vectors stored per step, weight and bias entries, entries of one shown step's vectors): see nbytes_bound."""
        return 1, n_a * n_a + n_a * n_x + n_a, 3 * n_a * m  # dz; dWaa, dWax, dba; da_prevt, da_next, da_prev

    def _step_vectors(self, k: int, near: Step | None = None) -> tuple:
        code, t = self.code, self.order[k]
        dz = self.dz[t]  # (n_a, m)
        # the carried gradient is what the previous step's cell returned as da_prev: the neighbour has it at hand
        if near is not None and near.position == k - 1:
            returned = near.outputs["da_prev"]
        else:
            returned = code.da_prev(self.Waa, self.dz[self.order[k - 1]]) if k else np.zeros_like(dz)
        da_prevt = scaled(code.carry(t), returned)  # (n_a, m); truncation cuts or rescales it here
        da_t = self.da[:, :, t]
        inputs = {"da_t": da_t, "da_prevt": da_prevt, "da_next": code.da_next(da_t, da_prevt)}
        # the next step's carried gradient is this da_prev unless truncation changed it on the way
        after = near is not None and near.position == k + 1 and code.carry(near.t) == 1.0
        outputs = {
            "dz": dz,
            "dxt": self.dx[:, :, t],
            "da_prev": near.inputs["da_prevt"] if after else code.da_prev(self.Waa, dz),
        }
        return inputs, outputs

    def _matrix_contributions(self, k0: int, k1: int) -> dict:
        ts = self.order[k0:k1]
        m = self.da.shape[1]
        dz = stack([self.dz[t] for t in ts])  # (n_a, k·m)
        xt = stack([self._cache(t)[2] for t in ts])  # (n_x, k·m)
        a_prev = stack([self._cache(t)[1] for t in ts])  # (n_a, k·m)
        return {"dWax": self.code.dWax(dz, xt, m), "dWaa": self.code.dWaa(dz, a_prev, m), "dba": self.code.dba(dz, m)}


def trace_rnn(da: np.ndarray, caches: tuple, code: RNNCode = RNNCode()) -> RNNTrace:
    """Run rnn_backward as `code` writes it, keeping what a person needs to step through it.

    trace = trace_rnn(da, caches); trace.gradients()["dWaa"]  # same as rnn_backward(da, caches)
    """
    if replace(code, carry=RNNCode().carry) == RNNCode():
        return _trace_course_code(da, caches, code)
    cell_caches, x = caches
    a1, a0, x1, parameters = cell_caches[0]
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    n_a, m, T_x = da.shape
    n_x = x1.shape[0]
    dz_all = np.zeros((T_x, n_a, m))
    dx = np.zeros((n_x, m, T_x))
    dba = np.zeros((n_a, 1))  # accumulated here only so that a bad dba shape raises where the course's loop does
    order, error = [], None
    da_prevt = np.zeros((n_a, m))
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        for t in code.order(T_x):
            quantity = "cache"
            try:
                a_next, a_prev, xt, _ = cell_caches[code.cache_index(t)]
                quantity = "da_next"
                da_next = code.da_next(da[:, :, t], scaled(code.carry(t), da_prevt))  # (n_a, m)
                quantity = "dz"
                dz = code.dz(da_next, a_next, a_prev)  # (n_a, m)
                quantity = "dxt"
                dxt = code.dxt(Wax, dz)  # (n_x, m)
                quantity = "da_prev"
                da_prev = code.da_prev(Waa, dz)  # (n_a, m)
                quantity = "dba"
                dbat = code.dba(dz, m)  # (n_a, 1)
                quantity = "dx"
                dx[:, :, t] = dxt
                quantity = "dba"
                if code.accumulate:
                    dba += dbat
                else:
                    dba = dbat
            except (ValueError, IndexError, TypeError) as e:
                error = StepError(t, quantity, type(e).__name__, str(e))
                break
            dz_all[t] = dz
            da_prevt = da_prev
            order.append(t)
    da0 = da_prevt if code.set_da0 else np.zeros((n_a, m))
    return RNNTrace(
        code, dz_all, da=da, cell_caches=cell_caches, dx=dx, order=order, error=error,
        da0=da0,
    )


def _trace_course_code(da: np.ndarray, caches: tuple, code: RNNCode) -> RNNTrace:
    """The course's correct code (truncated by `code.carry`, if at all), traced at the speed of rnn_backward_fast.

    It runs the same blocked backward, keeping every dz and the running totals at the
    checkpoints, which the trace would otherwise recompute. A bug's variant takes the line-by-line
    loop instead, so that it fails at the step and line where the student's notebook fails.
    """
    cell_caches = caches[0]
    n_a, m, T_x = da.shape
    # the blocked backward's own layout, (n_a, T_x, m), read by the trace as (T_x, n_a, m); rows padded by
    # one cache line, since a row length of a multiple of 4 KiB maps every row to the same cache sets
    dz_all = empty((n_a, T_x * m + 8))[:, : T_x * m].reshape(n_a, T_x, m)
    keys, count = ("dWax", "dWaa", "dba"), RNNTrace.checkpoint_count
    bounds, splits, checkpoints, keep = checkpoints_on_blocks(T_x, m, keys, count)
    with np.errstate(all="ignore"):  # overflow is shown to the user as Inf/NaN, not raised
        grads = backward_in_blocks(da, caches, bounds, dz_all, keep, carry_array(code.carry, T_x), splits)
    return RNNTrace(
        code, dz_all.transpose(1, 0, 2), da=da, cell_caches=cell_caches, dx=grads["dx"],
        order=range(T_x - 1, -1, -1), error=None, da0=grads["da0"], checkpoints=checkpoints,
    )
