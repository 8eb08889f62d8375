import numpy as np

KEYS = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]


def add_step(totals, grads):
    for k in KEYS:
        totals[k] += grads[k]


def lstm_backward(da, caches):
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    totals = {k: np.zeros((n_a, n_a + n_x)) if k[1] == "W" else np.zeros((n_a, 1)) for k in KEYS}
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        grads = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = grads["dxt"]
        add_step(totals, grads)
    return {"dx": dx, "da0": grads["da_prev"], **totals}
