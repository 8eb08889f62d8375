import numpy as np

def lstm_backward(da, caches):
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    keys = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
    tot = {k: 0 for k in keys}
    da_next = np.zeros((n_a, m))
    dc_next = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        da_next += da[:, :, t]
        grads = lstm_cell_backward(da_next, dc_next, caches[t])
        da_next, dc_next = grads["da_prev"], grads["dc_prev"]
        dx[:, :, t] = grads["dxt"]
        for k in keys:
            tot[k] = tot[k] + grads[k]
    return {"dx": dx, "da0": da_next, **tot}
