import numpy as np


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h ** 2)
    grads = {"dx": dtanh.dot(Wx.T), "dprev_h": dtanh.dot(Wh.T), "dWx": x.T.dot(dtanh),
             "dWh": prev_h.T.dot(dtanh), "db": dtanh.sum(axis=0)}
    return grads
