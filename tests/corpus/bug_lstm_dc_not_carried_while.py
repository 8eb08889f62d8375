import numpy as np
from rnn_utils import *

def lstm_backward(da, caches):
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    names = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
    sums = {}
    for name in names:
        sums[name] = np.zeros((n_a, n_a + n_x)) if name.startswith("dW") else np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    t = T_x - 1
    while t >= 0:
        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        for name in names:
            sums[name] += gradients[name]
        da_prevt = gradients["da_prev"]
        t = t - 1
    out = {"dx": dx, "da0": da_prevt}
    out.update(sums)
    return out
