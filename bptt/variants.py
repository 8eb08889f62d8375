"""The lines of the course's code that a bug can change, as swappable pieces.

`RNNCode()`, `LSTMCode()` and `GRUCode()` are the course's correct code. A catalog bug is the same
code with one or two pieces replaced, e.g. `replace(RNNCode(), da_next=lambda da_t, da_prevt: da_prevt)`
is "forgot to add da[:,:,t]". The traced backward runs whichever pieces it is given, so a
bug's variant is executable by construction. Each default is the course line it stands for.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .lstm import lstm_cell_forward


@dataclass(frozen=True)
class RNNCode:
    """rnn_backward and rnn_cell_backward, piece by piece."""

    # for t in reversed(range(T_x)):
    order: Callable = lambda T_x: range(T_x - 1, -1, -1)
    # caches[t]
    cache_index: Callable = lambda t: t
    # rnn_cell_backward(da[:,:,t] + da_prevt, caches[t])
    da_next: Callable = lambda da_t, da_prevt: da_t + da_prevt
    # dz = da_next * (1 - a_next**2)
    dz: Callable = lambda da_next, a_next, a_prev: da_next * (1 - a_next**2)
    # dxt = np.dot(Wax.T, dz)
    dxt: Callable = lambda Wax, dz: np.dot(Wax.T, dz)
    # da_prev = np.dot(Waa.T, dz)
    da_prev: Callable = lambda Waa, dz: np.dot(Waa.T, dz)
    # dWax = np.dot(dz, xt.T); m is the batch size, for the one bug that divides by it
    dWax: Callable = lambda dz, xt, m: np.dot(dz, xt.T)
    # dWaa = np.dot(dz, a_prev.T)
    dWaa: Callable = lambda dz, a_prev, m: np.dot(dz, a_prev.T)
    # dba = np.sum(dz, axis=1, keepdims=True)
    dba: Callable = lambda dz, m: np.sum(dz, axis=1, keepdims=True)
    # dWax += dWaxt (and dWaa, dba); False means dWax = dWaxt
    accumulate: bool = True
    # da0 = da_prevt; False leaves da0 at its np.zeros
    set_da0: bool = True
    # the factor on da_prevt before the loop hands it to the cell at step t (0 where truncation cuts)
    carry: Callable = lambda t: 1.0


@dataclass(frozen=True)
class LSTMCode:
    """lstm_forward's first cell state, lstm_backward and lstm_cell_backward, piece by piece."""

    # c_next = np.zeros(a_next.shape), before the forward loop; c is the (n_a, m, T_x) cell-state array
    c0: Callable = lambda c: np.zeros(c[:, :, 0].shape)
    # lstm_cell_backward(da[:,:,t] + da_prevt, dc_prevt, caches[t])
    da_next: Callable = lambda da_t, da_prevt: da_t + da_prevt
    # da_prevt = gradients["da_prev"]; False: the line is missing and da_prevt stays zero
    carry_da: bool = True
    # dc_prevt = gradients["dc_prev"]; False: the line is missing and dc_prevt stays zero
    carry_dc: bool = True
    # 1 - np.tanh(c_next)**2, the derivative of tanh at c_next
    dtanh_c: Callable = lambda c_next: 1 - np.tanh(c_next) ** 2
    # Wf[:, :n_a], the part of a gate's weights that sees a_prev
    Wa: Callable = lambda W, n_a: W[:, :n_a]
    # Wf[:, n_a:], the part that sees xt
    Wx: Callable = lambda W, n_a: W[:, n_a:]
    # concat = np.concatenate((a_prev, xt), axis=0), the stack the gates' weights act on
    concat: Callable = lambda a_prev, xt: np.concatenate((a_prev, xt), axis=0)
    # the factor on da_prevt and dc_prevt before the loop hands them to the cell at step t (0 where truncation cuts)
    carry: Callable = lambda t: 1.0


@dataclass(frozen=True)
class GRUCode:
    """gru_backward and gru_cell_backward, piece by piece."""

    # gru_cell_backward(da[:,:,t] + da_prevt, caches[t])
    da_next: Callable = lambda da_t, da_prevt: da_t + da_prevt
    # dh_tilde = da_next * (1 - zt) * (1 - h_tilde**2)
    dh_tilde: Callable = lambda da_next, zt, h_tilde: da_next * (1 - zt) * (1 - h_tilde**2)
    # dzt = da_next * (a_prev - h_tilde) * zt * (1 - zt)
    dzt: Callable = lambda da_next, zt, a_prev, h_tilde: da_next * (a_prev - h_tilde) * zt * (1 - zt)
    # drt = dra * a_prev * rt * (1 - rt), dra being the gradient reaching rt * a_prev;
    # Wha = Wh[:, :n_a] and dh_tilde for the bug that resets after the matmul
    drt: Callable = lambda dra, a_prev, rt, Wha, dh_tilde: dra * a_prev * rt * (1 - rt)
    # da_next * zt, the first term of da_prev: the path that skips the cell through the update gate
    da_direct: Callable = lambda da_next, zt: da_next * zt
    # dra * rt, the second term of da_prev: the path through the reset gate into the candidate
    da_reset: Callable = lambda dra, rt, Wha, dh_tilde: dra * rt
    # dWr += gradients["dWr"] (and dbr, dWz, dbz, dWh, dbh); False means dWr = gradients["dWr"]
    accumulate: bool = True
    # the factor on da_prevt before the loop hands it to the cell at step t (0 where truncation cuts)
    carry: Callable = lambda t: 1.0


def lstm_forward_with(code: LSTMCode, x: np.ndarray, a0: np.ndarray, parameters: dict) -> tuple:
    """lstm_forward with the first cell state made by `code.c0`; the rest is the course's loop.

    a, y, c, caches = lstm_forward_with(LSTMCode(), x, a0, parameters)
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((n_y, m, T_x))
    a_next = a0
    c_next = code.c0(c)
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = yt
        caches.append(cache)
    return a, y, c, (caches, x)
