import numpy as np


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = (1 - next_h * next_h) * dnext_h
    dx = np.matmul(dtanh, Wx.T)
    dprev_h = np.matmul(dtanh, Wh.T)
    dWx = np.matmul(x.T, dtanh)
    dWh = np.matmul(prev_h.T, dtanh)
    db = dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
