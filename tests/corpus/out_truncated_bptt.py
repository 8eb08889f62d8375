import numpy as np


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, params = cache
    Wax, Waa = params["Wax"], params["Waa"]
    dz = da_next * (1 - a_next ** 2)   # tanh'
    dxt = Wax.T.dot(dz)
    dWax = dz.dot(xt.T)
    da_prev = Waa.T.dot(dz)
    dWaa = dz.dot(a_prev.T)
    dba = dz.sum(axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da, caches):
    caches, x = caches
    a1, a0, x1, params = caches[0]
    n_a, m, T_x = da.shape
    n_x = x1.shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    K = 5  # truncated BPTT: only the last K steps
    for t in reversed(range(max(0, T_x - K), T_x)):
        g = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax += g["dWax"]
        dWaa += g["dWaa"]
        dba += g["dba"]
    da0 = da_prevt
    return {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
