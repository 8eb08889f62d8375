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

from .buffers import empty
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
    dx = empty((n_x, m, T_x))
    # [dW | db] side by side: one product of the gate gradients with the stacked [a_prev; xt; 1] gives both
    total = np.zeros((4 * n_a, n_a + n_x + 1))
    share = np.empty_like(total)
    totals = by_gate(total, n_a)
    widest = max((t1 - t0 for t1, t0 in zip(bounds[:-1], bounds[1:])), default=0)
    gates_buffer = empty((4 * n_a * widest * m,))  # flat, so any block reshapes as a view
    concat_buffer = empty(((n_a + n_x + 1) * widest * m,))
    da_buffer = empty((widest * n_a * m,))
    dn, dc, *scratch = (np.empty((n_a, m)) for _ in range(5))  # (n_a, m) each
    gates = np.empty((4 * n_a, m))  # one step's [dft; dit; dcct; dot], contiguous: strided operands make numpy buffer
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
            a_prev, ft = cell_caches[t][2], cell_caches[t][4]
            da_in, dc_in = slot(t)  # (n_a, m) each: what the step after this one handed back
            da_out, dc_out = slot(t - 1)
            np.copyto(concat[:n_a, j], a_prev)  # gathered for the block's weight gradients
            np.add(da_t[j], da_in, out=dn)  # da_next = da[:,:,t] + da_prevt
            gates_into(gates, dc, scratch, dn, dc_in, cell_caches[t])
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


def gates_into(gates: np.ndarray, dc: np.ndarray, scratch: list, da_next: np.ndarray, dc_next: np.ndarray,
               cache: tuple) -> None:
    """The first lines of the course's lstm_cell_backward, written into buffers: no array is allocated.

    gates (4·n_a, m) receives [dft; dit; dcct; dot], dc (n_a, m) all that reaches c_next; scratch is
    three (n_a, m) buffers. gates_into(gates, dc, scratch, da_next, dc_next, caches[0][t])
    """
    _, c_next, _, c_prev, ft, it, cct, ot = cache[:8]
    n_a = c_next.shape[0]
    dft, dit, dcct, dot = gates[:n_a], gates[n_a: 2 * n_a], gates[2 * n_a: 3 * n_a], gates[3 * n_a:]
    tanh_c, left, right = scratch
    np.tanh(c_next, out=tanh_c)
    # dc = dc_next + ot * (1 - tanh(c_next)**2) * da_next: all that reaches c_next
    np.multiply(tanh_c, tanh_c, out=dc)
    np.subtract(1.0, dc, out=dc)
    np.multiply(ot, dc, out=dc)
    np.multiply(dc, da_next, out=dc)
    np.add(dc_next, dc, out=dc)
    # dot = da_next * tanh(c_next) * ot * (1 - ot)
    np.multiply(da_next, tanh_c, out=left)
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


def by_gate(total: np.ndarray, n_a: int) -> dict:
    """[dW | db] (4·n_a, n_a + n_x + 1) as the course's keys, in lstm_backward's order dWf, dbf, dWi, ...: views.

    by_gate(np.zeros((8, 6)), 2)["dbi"].shape -> (2, 1)
    """
    dW, db = total[:, :-1], total[:, -1:]  # dWf, dWi, dWc, dWo stacked; dbf, ..., dbo stacked
    totals = {}
    for i, gate in enumerate(GATES):
        totals |= {"dW" + gate: dW[i * n_a: (i + 1) * n_a], "db" + gate: db[i * n_a: (i + 1) * n_a]}
    return totals


def lstm_weight_gradients_of_steps(
    da: np.ndarray, da_carried: np.ndarray, dc_carried: np.ndarray, cell_caches: list, ts: list
) -> dict:
    """What the course's lstm_cell_backward adds to dWf, dbf, ..., dbo at the steps ts, summed, given what the
    loop carried into each: a traced run's rebuild of those steps, on the kernel's lines and one product.

    lstm_weight_gradients_of_steps(trace.da, trace.da_carried, trace.dc_carried, caches[0], [9, 8, 7])
    """
    n_a, m = da.shape[:2]
    n_x = cell_caches[ts[0]][8].shape[0]
    k = len(ts)
    G = np.empty((4 * n_a, k, m))  # [dft; dit; dcct; dot] of each step
    concat = np.empty((n_a + n_x + 1, k, m))  # [a_prev; xt; 1] of each step
    concat[n_a + n_x:] = 1.0
    dn, dc, *scratch = (np.empty((n_a, m)) for _ in range(5))  # (n_a, m) each
    gates = np.empty((4 * n_a, m))
    for j, t in enumerate(ts):
        np.add(da[:, :, t], da_carried[t], out=dn)  # da_next
        gates_into(gates, dc, scratch, dn, dc_carried[t], cell_caches[t])
        G[:, j] = gates
        concat[:n_a, j] = cell_caches[t][2]  # a_prev
        concat[n_a: n_a + n_x, j] = cell_caches[t][8]  # xt
    total = np.dot(G.reshape(4 * n_a, k * m), concat.reshape(n_a + n_x + 1, k * m).T)  # (4·n_a, n_a + n_x + 1)
    return {key: np.ascontiguousarray(value) for key, value in by_gate(total, n_a).items()}


def lstm_backward_fast(da: np.ndarray, caches: tuple) -> dict:
    """lstm_backward with the same arguments and the same dict, equal to rounding, and faster (docs/PERFORMANCE.md).

    gradients = lstm_backward_fast(da, caches); gradients["dWf"]  # (n_a, n_a + n_x)
    """
    return lstm_backward_in_blocks(da, caches, block_bounds(da.shape[2], da.shape[1]))
