"""lstm_backward, fast: the course's numbers, at close to the machine's matmul speed.

The same idea as bptt/fast.py. Only the recurrence has to run one step at a time: the four
gate gradients, then dc_prev = dc * ft and da_prev, which is one matmul of the gates' stacked
a_prev blocks [Wf; Wi; Wc; Wo][:, :n_a] with the stacked gate gradients. Everything else
(dxt, every dW, every db) is linear in the gate gradients, so it runs once per block of steps
as one large matmul over the block's columns. The gate gradients of step t sit at
G[:, t - t0, :], so a block is one (4·n_a, k·m) matrix with no copying. Buffers are allocated
once and reused; the step loop allocates nothing.
"""

from typing import Callable

import numpy as np

from .fast import block_bounds, segments
from .lstm import GATES


def lstm_backward_in_blocks(
    da: np.ndarray,
    caches: tuple,
    bounds: list,
    carried: tuple | None = None,
    on_block: Callable | None = None,
    carry: np.ndarray | None = None,
    splits: tuple = (),
) -> dict:
    """lstm_backward run block by block between `bounds` (descending from T_x to 0).

    carried, if given, is a pair (da_carried, dc_carried) of (T_x, n_a, m) arrays that receive the
    gradients the loop carries into each step: [t] is da_prevt and dc_prevt as step t receives
    them (zeros at T_x-1). on_block(t0, totals), if given, is called after the block that starts at
    step t0, and after the steps from each of `splits` on, with the running dWf, ..., dbo (updated
    in place later: copy what you keep); only the products that sum them are cut at a split. carry
    (T_x,), if given, is the factor on both carried gradients before the loop hands them to step t
    (truncated BPTT: 0 where they are cut); da0 is never scaled.

    lstm_backward_in_blocks(da, caches, block_bounds(T_x, m))  # the dict lstm_backward returns
    """
    cell_caches, x = caches
    parameters = cell_caches[0][9]
    n_a, m, T_x = da.shape
    n_x = cell_caches[0][8].shape[0]
    W = np.concatenate([parameters["W" + gate] for gate in GATES])  # (4·n_a, n_a + n_x): [Wf; Wi; Wc; Wo]
    WaT = np.ascontiguousarray(W[:, :n_a].T)  # (n_a, 4·n_a), the part that sees a_prev
    WxT = np.ascontiguousarray(W[:, n_a:].T)  # (n_x, 4·n_a), the part that sees xt
    dx = np.empty((n_x, m, T_x))
    # [dW | db] side by side: one product of the gate gradients with the stacked [a_prev; xt; 1] gives both
    total = np.zeros((4 * n_a, n_a + n_x + 1))
    share = np.empty_like(total)
    dW, db = total[:, : n_a + n_x], total[:, n_a + n_x:]  # dWf, dWi, dWc, dWo stacked; dbf, ..., dbo stacked
    # each gate's rows of the stacks, in the order lstm_backward returns them: dWf, dbf, dWi, dbi, ...
    totals = {}
    for i, gate in enumerate(GATES):
        totals |= {"dW" + gate: dW[i * n_a: (i + 1) * n_a], "db" + gate: db[i * n_a: (i + 1) * n_a]}
    widest = max((t1 - t0 for t1, t0 in zip(bounds[:-1], bounds[1:])), default=0)
    gates_buffer = np.empty(4 * n_a * widest * m)  # flat, so any block reshapes as a view
    concat_buffer = np.empty((n_a + n_x + 1) * widest * m)
    da_buffer = np.empty(widest * n_a * m)
    dn, dc, tanh_c, left, right = (np.empty((n_a, m)) for _ in range(5))  # (n_a, m) each
    gates = np.empty((4 * n_a, m))  # one step's [dft; dit; dcct; dot], contiguous: strided operands make numpy buffer
    dft, dit, dcct, dot = gates[:n_a], gates[n_a: 2 * n_a], gates[2 * n_a: 3 * n_a], gates[3 * n_a:]
    da0, dc0 = np.zeros((n_a, m)), np.zeros((n_a, m))  # what step 0 hands back: da0 is returned, dc0 is not
    if carried is None:
        # the carried gradient is read before the step overwrites it, so one buffer each serves every step
        da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
        slot = lambda t: (da_prevt, dc_prevt) if t >= 0 else (da0, dc0)  # noqa: E731
    else:
        da_carried, dc_carried = carried
        da_carried[T_x - 1] = 0.0
        dc_carried[T_x - 1] = 0.0
        slot = lambda t: (da_carried[t], dc_carried[t]) if t >= 0 else (da0, dc0)  # noqa: E731
    for t1, t0 in zip(bounds[:-1], bounds[1:]):
        k = t1 - t0
        G = gates_buffer[: 4 * n_a * k * m].reshape(4 * n_a, k, m)  # [dft; dit; dcct; dot] of each step
        concat = concat_buffer[: (n_a + n_x + 1) * k * m].reshape(n_a + n_x + 1, k, m)  # [a_prev; xt; 1] of each step
        concat[n_a + n_x:] = 1.0  # the row that sums the gate gradients into db
        da_t = da_buffer[: k * n_a * m].reshape(k, n_a, m)
        # da[:, :, t] is strided in time; read the whole block at once, while its cache lines are loaded
        np.copyto(da_t, da[:, :, t0:t1].transpose(2, 0, 1))  # (k, n_a, m)
        for t in range(t1 - 1, t0 - 1, -1):
            j = t - t0
            _, c_next, a_prev, c_prev, ft, it, cct, ot = cell_caches[t][:8]
            da_in, dc_in = slot(t)  # (n_a, m) each: what the step after this one handed back
            da_out, dc_out = slot(t - 1)
            np.copyto(concat[:n_a, j], a_prev)  # gathered for the block's weight gradients
            np.add(da_t[j], da_in, out=dn)  # da_next = da[:,:,t] + da_prevt
            np.tanh(c_next, out=tanh_c)
            # dc = dc_next + ot * (1 - tanh(c_next)**2) * da_next: all that reaches c_next
            np.multiply(tanh_c, tanh_c, out=dc)
            np.subtract(1.0, dc, out=dc)
            np.multiply(ot, dc, out=dc)
            np.multiply(dc, dn, out=dc)
            np.add(dc_in, dc, out=dc)
            # dot = da_next * tanh(c_next) * ot * (1 - ot)
            np.multiply(dn, tanh_c, out=left)
            np.multiply(left, ot, out=left)
            np.subtract(1.0, ot, out=right)
            np.multiply(left, right, out=dot)
            # dcct = dc * it * (1 - cct**2)
            np.multiply(dc, it, out=left)
            np.multiply(cct, cct, out=right)
            np.subtract(1.0, right, out=right)
            np.multiply(left, right, out=dcct)
            # dit = dc * cct * it * (1 - it)
            np.multiply(dc, cct, out=left)
            np.multiply(left, it, out=left)
            np.subtract(1.0, it, out=right)
            np.multiply(left, right, out=dit)
            # dft = dc * c_prev * ft * (1 - ft)
            np.multiply(dc, c_prev, out=left)
            np.multiply(left, ft, out=left)
            np.subtract(1.0, ft, out=right)
            np.multiply(left, right, out=dft)
            np.multiply(dc, ft, out=dc_out)  # dc_prev
            np.matmul(WaT, gates, out=da_out)  # da_prev: the only product that has to wait for the previous step
            if carry is not None and t > 0 and carry[t - 1] != 1.0:  # what step t - 1 will receive
                for carried_out in (da_out, dc_out):
                    if carry[t - 1] == 0.0:
                        carried_out.fill(0.0)  # a cut is exact zeros, as detaching is, even after an overflow
                    else:
                        np.multiply(carried_out, carry[t - 1], out=carried_out)
            np.copyto(G[:, j], gates)  # kept for the block's products
        G_block = G.reshape(4 * n_a, k * m)  # (4·n_a, k·m): every step of the block side by side, still a view
        xt = concat[n_a: n_a + n_x]  # (n_x, k, m)
        np.copyto(xt, x[:, :, t0:t1].transpose(0, 2, 1))  # the block's inputs in G's order
        concat_block = concat.reshape(n_a + n_x + 1, k * m)  # (n_a + n_x + 1, k·m)
        for s1, s0 in segments(t1, t0, splits):
            columns = slice((s0 - t0) * m, (s1 - t0) * m)  # the steps s0 .. s1-1 of the block
            np.matmul(G_block[:, columns], concat_block[:, columns].T, out=share)  # [dW | db] of those steps
            total += share
            if on_block is not None:
                on_block(s0, totals)
        dxt = xt.reshape(n_x, k * m)  # the inputs are no longer needed: their buffer takes dxt
        np.matmul(WxT, G_block, out=dxt)
        np.copyto(dx[:, :, t0:t1], xt.transpose(0, 2, 1))
    return {"dx": dx, "da0": da0, **{key: np.ascontiguousarray(value) for key, value in totals.items()}}


def lstm_backward_fast(da: np.ndarray, caches: tuple) -> dict:
    """lstm_backward with the same arguments and the same dict, equal to rounding, and faster (docs/PERFORMANCE.md).

    gradients = lstm_backward_fast(da, caches); gradients["dWf"]  # (n_a, n_a + n_x)
    """
    return lstm_backward_in_blocks(da, caches, block_bounds(da.shape[2], da.shape[1]))
