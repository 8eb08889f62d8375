import numpy as np


def rnn_backward(da, caches):
    """Carry through time with the cell, then the weight gradients in one go from the stored dz."""
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x = x1.shape[0]
    dx = np.zeros((n_x, m, T_x))
    dz = np.zeros((n_a, m, T_x))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        da_next = da[:, :, t] + da_prevt
        g = rnn_cell_backward(da_next, caches[t])
        a_next = caches[t][0]
        dz[:, :, t] = da_next * (1 - a_next ** 2)
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
    xs = np.stack([caches[t][2] for t in range(T_x)], axis=2)
    a_prevs = np.stack([caches[t][1] for t in range(T_x)], axis=2)
    dWax = np.einsum("imt,jmt->ij", dz, xs)
    dWaa = np.einsum("imt,jmt->ij", dz, a_prevs)
    dba = dz.sum(axis=(1, 2)).reshape(n_a, 1)
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
