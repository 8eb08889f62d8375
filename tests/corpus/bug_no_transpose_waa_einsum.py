import numpy as np

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = da_next * (1 - np.power(a_next, 2))
    gradients = {}
    gradients["dxt"] = np.dot(parameters["Wax"].T, dtanh)
    gradients["dWax"] = np.dot(dtanh, xt.T)
    gradients["da_prev"] = np.einsum("ij,jm->im", parameters["Waa"], dtanh)
    gradients["dWaa"] = np.dot(dtanh, a_prev.T)
    gradients["dba"] = np.sum(dtanh, axis=1, keepdims=True)
    return gradients

def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    grads = {
        "dx": np.zeros((n_x, m, T_x)),
        "da0": np.zeros((n_a, m)),
        "dWax": np.zeros((n_a, n_x)),
        "dWaa": np.zeros((n_a, n_a)),
        "dba": np.zeros((n_a, 1)),
    }
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        grads["dx"][:, :, t] = step["dxt"]
        da_prevt = step["da_prev"]
        for name in ("dWax", "dWaa", "dba"):
            grads[name] += step[name]
    grads["da0"] = da_prevt
    return grads
