"""rnn_backward, fast: the course's numbers, at close to the machine's matmul speed.

Only the chain da_prev = Waa.T @ dz has to run one step at a time. Everything else the
backward computes (dxt, dWax, dWaa, dba) is linear in dz, so it runs once per block of
steps as one large matmul over the block's stacked columns, where BLAS is at its best.
Inside a block, dz of step t sits at dz[:, t - t0, :], so the block is one (n_a, k·m)
matrix with no copying. Buffers are allocated once and reused; the step loop allocates
nothing.
"""

from typing import Callable

import numpy as np

from .buffers import empty

BLOCK_COLUMNS = 2048  # a block of steps spans about this many batch columns: wide for BLAS, small for the cache


def block_bounds(T_x: int, m: int) -> list:
    """Where blocks of steps start and end, from T_x down to 0: blocks of equal width, no wider
    than BLOCK_COLUMNS batch columns.

    block_bounds(100, 32) -> [100, 50, 0]
    """
    widest = max(1, BLOCK_COLUMNS // m)  # steps
    blocks = -(-T_x // widest)
    return sorted({0, T_x} | {T_x * i // blocks for i in range(blocks)}, reverse=True)


def segments(t1: int, t0: int, splits: tuple) -> list:
    """The block of steps [t0, t1) cut at each of `splits` that falls inside it: (s1, s0) pairs, latest first.

    segments(100, 50, (88, 75, 63)) -> [(100, 88), (88, 75), (75, 63), (63, 50)]
    """
    cuts = sorted({t1, t0} | {s for s in splits if t0 < s < t1}, reverse=True)
    return list(zip(cuts[:-1], cuts[1:]))


def backward_in_blocks(
    da: np.ndarray,
    caches: tuple,
    bounds: list,
    dz_all: np.ndarray | None = None,
    on_block: Callable | None = None,
    carry: np.ndarray | None = None,
    splits: tuple = (),
) -> dict:
    """rnn_backward run block by block between `bounds` (descending from T_x to 0).

    dz_all (n_a, T_x, m), if given, receives every step's dz (dz_all[:, t] is step t); otherwise
    one block's worth of buffer is reused. on_block(t0, totals), if given, is called after the
    block that starts at step t0, and after the steps from each of `splits` on, with the running
    dWax, dWaa, dba (updated in place later: copy what you keep); only the products that sum
    them are cut at a split, so a split costs far less than a block boundary. carry (T_x,), if
    given, is the factor on da_prevt before the loop hands it to step t (truncated BPTT: 0 where
    the carried gradient is cut); da0 is never scaled.

    backward_in_blocks(da, caches, block_bounds(T_x, m))  # the dict rnn_backward returns
    """
    cell_caches, x = caches
    parameters = cell_caches[0][3]
    n_a, m, T_x = da.shape
    n_x = parameters["Wax"].shape[1]
    WaaT = np.ascontiguousarray(parameters["Waa"].T)  # (n_a, n_a); BLAS runs the plain product faster
    WaxT = np.ascontiguousarray(parameters["Wax"].T)  # (n_x, n_a)
    dx = empty((n_x, m, T_x))
    # dWaa, dWax and dba side by side: one product of dz with the stacked [a_prev; xt; 1] gives all three
    total = np.zeros((n_a, n_a + n_x + 1))
    share = np.empty_like(total)
    totals = {"dWax": total[:, n_a: n_a + n_x], "dWaa": total[:, :n_a], "dba": total[:, n_a + n_x:]}
    widest = max((t1 - t0 for t1, t0 in zip(bounds[:-1], bounds[1:])), default=0)
    rows = n_a + n_x + 1
    inputs_buffer = empty((rows * widest * m,))  # flat, so any block reshapes as a view
    dz_buffer = empty((n_a * widest * m,)) if dz_all is None else None
    da_prevt = np.zeros((n_a, m))
    dtanh = np.empty((n_a, m))
    for t1, t0 in zip(bounds[:-1], bounds[1:]):
        k = t1 - t0
        inputs = inputs_buffer[: rows * k * m].reshape(rows, k, m)  # [a_prev; xt; 1] of each step
        a_prev, xt = inputs[:n_a], inputs[n_a: n_a + n_x]
        inputs[n_a + n_x:] = 1.0  # the row that sums dz into dba
        dz = dz_all[:, t0:t1] if dz_all is not None else dz_buffer[: n_a * k * m].reshape(n_a, k, m)
        # da[:, :, t] is strided in time; read the whole block at once, while its cache lines are loaded
        np.copyto(dz, da[:, :, t0:t1].transpose(0, 2, 1))  # (n_a, k, m)
        for t in range(t1 - 1, t0 - 1, -1):
            a_next = cell_caches[t][0]  # (n_a, m)
            np.copyto(a_prev[:, t - t0], cell_caches[t][1])  # gathered for the block's dWaa
            dz_t = dz[:, t - t0]  # (n_a, m), a view into the block, holding da[:, :, t] so far
            np.multiply(a_next, a_next, out=dtanh)
            np.subtract(1.0, dtanh, out=dtanh)  # 1 - a_next**2
            np.add(dz_t, da_prevt, out=dz_t)  # da_next
            np.multiply(dz_t, dtanh, out=dz_t)
            np.matmul(WaaT, dz_t, out=da_prevt)  # the only product that has to wait for the previous step
            if carry is not None and t > 0 and carry[t - 1] != 1.0:  # what step t - 1 will receive
                if carry[t - 1] == 0.0:
                    da_prevt.fill(0.0)  # a cut is exact zeros, as detaching is, even after an overflow
                else:
                    np.multiply(da_prevt, carry[t - 1], out=da_prevt)
        dz_block = dz.reshape(n_a, k * m)  # (n_a, k·m): every step of the block side by side, still a view
        np.copyto(xt, x[:, :, t0:t1].transpose(0, 2, 1))  # (n_x, k, m), the block's inputs in dz's order
        inputs_block = inputs.reshape(rows, k * m)  # (n_a + n_x + 1, k·m)
        for s1, s0 in segments(t1, t0, splits):
            columns = slice((s0 - t0) * m, (s1 - t0) * m)  # the steps s0 .. s1-1 of the block
            np.matmul(dz_block[:, columns], inputs_block[:, columns].T, out=share)  # [dWaa, dWax, dba] of those steps
            total += share
            if on_block is not None:
                on_block(s0, totals)
        dxt = xt.reshape(n_x, k * m)  # the inputs are no longer needed: their buffer takes dxt
        np.matmul(WaxT, dz_block, out=dxt)
        np.copyto(dx[:, :, t0:t1], xt.transpose(0, 2, 1))
    return {"dx": dx, "da0": da_prevt, **{key: np.ascontiguousarray(value) for key, value in totals.items()}}


def rnn_backward_fast(da: np.ndarray, caches: tuple) -> dict:
    """rnn_backward with the same arguments and the same dict, equal to rounding, and faster (docs/PERFORMANCE.md).

    gradients = rnn_backward_fast(da, caches); gradients["dWaa"]  # (n_a, n_a)
    """
    return backward_in_blocks(da, caches, block_bounds(da.shape[2], da.shape[1]))
