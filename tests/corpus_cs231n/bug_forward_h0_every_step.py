import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(a)
    cache = (x, prev_h, Wx, Wh, b, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, b, next_h = cache
    da = (1 - np.square(next_h)) * dnext_h
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    caches = []
    h_t = h0
    for t in range(T):
        h_next, c = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_next
        caches.append(c)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x0 = cache[0][0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros((H,))
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dcur = dh[:, t] + dh_next
        dx[:, t], dh_next, dWx_, dWh_, db_ = rnn_step_backward(dcur, cache[t])
        dWx += dWx_
        dWh += dWh_
        db += db_
    dh0 = dh_next
    return dx, dh0, dWx, dWh, db
