import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(np.dot(x, Wx) + np.dot(prev_h, Wh) + b)
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h}
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    dz = dnext_h * (1.0 - cache["next_h"] * cache["next_h"])
    dx = np.dot(dz, cache["Wx"].T)
    dprev_h = np.dot(dz, cache["Wh"].T)
    dWx = np.dot(cache["x"].T, dz)
    dWh = np.dot(cache["prev_h"].T, dz)
    db = np.sum(dz, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    cache = []
    prev_h = h0
    t = 0
    while t < T:
        prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(c)
        t += 1
    return h, cache


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros((H,))
    dprev = np.zeros((N, H))
    t = T - 1
    while t >= 0:
        dx[:, t, :], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        t -= 1
    dh0 = dprev
    return dx, dh0, dWx, dWh, db
