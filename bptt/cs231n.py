"""CS231n's RNN homework (`rnn_layers.py`), forward and backward, written as that homework writes it.

The sibling of the course's notebook, in its own conventions: batch first, x (N, T, D),
h (N, T, H), the weights on the right (x @ Wx with Wx (D, H)), a bias b of shape (H,), the
functions take and return bare arrays, not dicts. The LSTM keeps its four gates in one
(N, 4H) activation, in the homework's order i, f, o, g. Students compare these line by line
with their own file, so they stay plain. bptt/notation.py maps them onto the course's names.
"""

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The homework's logistic function: never exponentiates a positive number. sigmoid(np.zeros(2)) -> [0.5, 0.5]"""
    pos_mask = x >= 0
    neg_mask = x < 0
    z = np.zeros_like(x, dtype=float)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x, dtype=float)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """One step: next_h = tanh(x Wx + prev_h Wh + b), x (N, D), prev_h (N, H).

    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    """
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple:
    """Gradients of one step, given the total gradient dnext_h reaching next_h.

    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
    """
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h**2)  # (N, H); next_h is already tanh(...), so tanh' = 1 - next_h**2
    dx = dtanh.dot(Wx.T)  # (N, D)
    dprev_h = dtanh.dot(Wh.T)  # (N, H)
    dWx = x.T.dot(dtanh)  # (D, H)
    dWh = prev_h.T.dot(dtanh)  # (H, H)
    db = np.sum(dtanh, axis=0)  # (H,)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """The whole sequence, x of shape (N, T, D); the cache is the list of the steps' caches.

    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh: np.ndarray, cache: list) -> tuple:
    """Backpropagation through time; dh (N, T, H) is the loss's gradient at each hidden state.

    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dh0 = np.zeros((N, H))
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        # h[:, t, :] feeds both the loss at t and the next step, so both gradients add up here
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def lstm_step_forward(x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                      b: np.ndarray) -> tuple:
    """One LSTM step; Wx (D, 4H), Wh (H, 4H), b (4H,) hold the gates i, f, o, g side by side.

    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    """
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b  # (N, 4H)
    i = sigmoid(a[:, :H])  # (N, H)
    f = sigmoid(a[:, H:2 * H])  # (N, H)
    o = sigmoid(a[:, 2 * H:3 * H])  # (N, H)
    g = np.tanh(a[:, 3 * H:])  # (N, H)
    next_c = f * prev_c + i * g  # (N, H)
    next_h = o * np.tanh(next_c)  # (N, H)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, cache: tuple) -> tuple:
    """Gradients of one LSTM step, given the gradients reaching next_h and next_c.

    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    # everything that reaches next_c: directly, and through next_h = o * tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)  # (N, H)
    di = dc * g * i * (1 - i)  # (N, H)
    df = dc * prev_c * f * (1 - f)  # (N, H)
    do = dnext_h * np.tanh(next_c) * o * (1 - o)  # (N, H)
    dg = dc * i * (1 - g**2)  # (N, H)
    da = np.hstack((di, df, do, dg))  # (N, 4H)
    dx = da.dot(Wx.T)  # (N, D)
    dprev_h = da.dot(Wh.T)  # (N, H)
    dprev_c = dc * f  # (N, H)
    dWx = x.T.dot(da)  # (D, 4H)
    dWh = prev_h.T.dot(da)  # (H, 4H)
    db = np.sum(da, axis=0)  # (4H,)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """The whole sequence; the first cell state is zeros, as in the homework.

    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    prev_c = np.zeros((N, H))
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def lstm_backward(dh: np.ndarray, cache: list) -> tuple:
    """Backpropagation through time for the LSTM; the cell-state gradient is carried from step to step.

    dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dh0 = np.zeros((N, H))
    dprev_h = np.zeros((N, H))
    dprev_c = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, dprev_c, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def gru_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """One GRU step in the homework's style (the homework has none): d2l's gates, reset r, update z and
    the candidate h_tilde, side by side in Wx (D, 3H), Wh (H, 3H) and b (3H,).

    next_h, cache = gru_step_forward(x, prev_h, Wx, Wh, b)
    """
    H = prev_h.shape[1]
    a = x.dot(Wx[:, :2 * H]) + prev_h.dot(Wh[:, :2 * H]) + b[:2 * H]  # (N, 2H)
    r = sigmoid(a[:, :H])  # (N, H)
    z = sigmoid(a[:, H:])  # (N, H)
    # the reset acts on prev_h before Wh sees it, as in d2l
    h_tilde = np.tanh(x.dot(Wx[:, 2 * H:]) + (r * prev_h).dot(Wh[:, 2 * H:]) + b[2 * H:])  # (N, H)
    next_h = z * prev_h + (1 - z) * h_tilde  # (N, H)
    cache = (x, prev_h, Wx, Wh, r, z, h_tilde)
    return next_h, cache


def gru_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple:
    """Gradients of one GRU step; dr, dz and dh_tilde are taken inside the sigmoids and the tanh.

    dx, dprev_h, dWx, dWh, db = gru_step_backward(dnext_h, cache)
    """
    x, prev_h, Wx, Wh, r, z, h_tilde = cache
    H = prev_h.shape[1]
    dh_tilde = dnext_h * (1 - z) * (1 - h_tilde**2)  # (N, H); h_tilde is already tanh(...)
    dz = dnext_h * (prev_h - h_tilde) * z * (1 - z)  # (N, H)
    drh = dh_tilde.dot(Wh[:, 2 * H:].T)  # (N, H): the gradient reaching r * prev_h
    dr = drh * prev_h * r * (1 - r)  # (N, H)
    da = np.hstack((dr, dz, dh_tilde))  # (N, 3H)
    dx = da.dot(Wx.T)  # (N, D)
    # prev_h reaches next_h directly (z * prev_h), through the reset into the candidate, and through both gates
    dprev_h = dnext_h * z + drh * r + da[:, :2 * H].dot(Wh[:, :2 * H].T)
    dWx = x.T.dot(da)  # (D, 3H)
    dWh = np.hstack((prev_h.T.dot(da[:, :2 * H]), (r * prev_h).T.dot(dh_tilde)))  # (H, 3H)
    db = np.sum(da, axis=0)  # (3H,)
    return dx, dprev_h, dWx, dWh, db


def gru_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """The whole sequence, x of shape (N, T, D), as rnn_forward runs it.

    h, cache = gru_forward(x, h0, Wx, Wh, b)
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = gru_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def gru_backward(dh: np.ndarray, cache: list) -> tuple:
    """Backpropagation through time for the GRU: rnn_backward's loop around gru_step_backward.

    dx, dh0, dWx, dWh, db = gru_backward(dh, cache)
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 3 * H))
    dWh = np.zeros((H, 3 * H))
    db = np.zeros(3 * H)
    dh0 = np.zeros((N, H))
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db
