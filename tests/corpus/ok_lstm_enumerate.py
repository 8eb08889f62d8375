import numpy as np
from rnn_utils import *


def lstm_backward(da, caches):
    cache_list, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x))
    grads = {}
    for gate in ("f", "i", "c", "o"):
        grads["dW" + gate] = np.zeros((n_a, n_a + n_x))
        grads["db" + gate] = np.zeros((n_a, 1))
    da_next = np.zeros((n_a, m))
    dc_next = np.zeros((n_a, m))
    # only the first T_x caches belong to da's steps
    for t, cache in reversed(list(enumerate(cache_list[:T_x]))):
        step = lstm_cell_backward(da[:, :, t] + da_next, dc_next, cache)
        da_next, dc_next = step["da_prev"], step["dc_prev"]
        dx[:, :, t] = step["dxt"]
        for key in grads:
            grads[key] = grads[key] + step[key]
    return dict(dx=dx, da0=da_next, **grads)
