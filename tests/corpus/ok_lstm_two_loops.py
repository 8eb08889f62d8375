import numpy as np


def lstm_backward(da, caches):
    (caches, x) = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    # pass 1, backward in time: only the two carried gradients
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    per_step = {}
    for t in reversed(range(T_x)):
        per_step[t] = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        da_prevt = per_step[t]["da_prev"]
        dc_prevt = per_step[t]["dc_prev"]
    # pass 2: collect everything else
    out = {"dx": np.stack([per_step[t]["dxt"] for t in range(T_x)], axis=-1), "da0": da_prevt}
    for name in ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"):
        out[name] = sum(per_step[t][name] for t in range(T_x))
    return out
