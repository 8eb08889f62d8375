import numpy as np


def rnn_backward(da, caches):
    """dx is built after the loop from the list of per-step dxt."""
    (caches, x) = caches
    n_a, m, T_x = da.shape
    params = caches[0][3]
    dWax = np.zeros_like(params["Wax"])
    dWaa = np.zeros_like(params["Waa"])
    dba = np.zeros_like(params["ba"])
    da_prevt = np.zeros((n_a, m))
    dxs = []
    for t in list(range(T_x))[::-1]:
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dxs.append(gradients["dxt"])
        da_prevt = gradients["da_prev"].copy()
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    dx = np.stack(dxs[::-1], axis=2)   # dxs was filled from the last step back
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
