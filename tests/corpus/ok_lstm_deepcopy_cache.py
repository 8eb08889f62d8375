import copy
import numpy as np


def lstm_backward(da, caches):
    cache_list, x = caches
    n_a, m, T_x = da.shape
    params = cache_list[0][9]
    grads = {"dx": np.zeros((x.shape[0], m, T_x))}
    for g in "fico":
        grads["dW" + g] = np.zeros_like(params["W" + g])
        grads["db" + g] = np.zeros_like(params["b" + g])
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        cache = copy.deepcopy(cache_list[t])     # so the cell cannot change the forward's cache
        step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cache)
        grads["dx"][:, :, t] = step["dxt"]
        da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
        for k in list(grads):
            if k != "dx":
                grads[k] += step[k]
    grads["da0"] = da_prevt
    return grads
