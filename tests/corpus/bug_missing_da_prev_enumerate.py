import numpy as np

def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dz = da_next * (1.0 - a_next * a_next)
    return {
        "dxt": np.dot(parameters["Wax"].T, dz),
        "da_prev": np.dot(parameters["Waa"].T, dz),
        "dWax": np.dot(dz, xt.T),
        "dWaa": np.dot(dz, a_prev.T),
        "dba": np.sum(dz, axis=1, keepdims=True),
    }

def rnn_backward(da, caches):
    n_a, m, T_x = da.shape
    n_x = caches[1].shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    # walk the caches from the last step back to the first
    for i, cache in enumerate(reversed(caches[0])):
        t = T_x - 1 - i
        grads = rnn_cell_backward(da[:, :, t], cache)
        dx[:, :, t] = grads["dxt"]
        da_prevt = grads["da_prev"]
        dWax += grads["dWax"]
        dWaa += grads["dWaa"]
        dba += grads["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
