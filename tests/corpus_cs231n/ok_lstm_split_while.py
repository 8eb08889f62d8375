import numpy as np


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    A = x @ Wx + prev_h @ Wh + b
    ai, af, ao, ag = np.split(A, 4, axis=1)
    i, f, o = sigmoid(ai), sigmoid(af), sigmoid(ao)
    g = np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc * tc)
    dai = dc * g * i * (1 - i)
    daf = dc * prev_c * f * (1 - f)
    dao = dnext_h * tc * o * (1 - o)
    dag = dc * i * (1 - g * g)
    dA = np.concatenate([dai, daf, dao, dag], axis=1)
    return dA @ Wx.T, dA @ Wh.T, dc * f, x.T @ dA, prev_h.T @ dA, dA.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    c = np.zeros_like(h0)
    prev = h0
    cache = []
    for t in range(T):
        prev, c, step = lstm_step_forward(x[:, t, :], prev, c, Wx, Wh, b)
        h[:, t, :] = prev
        cache.append(step)
    return h, cache


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dh_carry = np.zeros((N, H))
    dc_carry = np.zeros((N, H))
    t = T - 1
    while t >= 0:
        out = lstm_step_backward(dh[:, t, :] + dh_carry, dc_carry, cache[t])
        dx[:, t, :], dh_carry, dc_carry = out[0], out[1], out[2]
        dWx += out[3]
        dWh += out[4]
        db += out[5]
        t -= 1
    return dx, dh_carry, dWx, dWh, db
