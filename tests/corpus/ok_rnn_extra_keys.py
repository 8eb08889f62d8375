import numpy as np


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, p = cache
    dz = da_next * (1 - a_next**2)          # (n_a, m)
    dxt = p["Wax"].T @ dz                   # (n_x, m)
    dWax = dz @ xt.T                        # (n_a, n_x)
    da_prev = p["Waa"].T @ dz               # (n_a, m)
    dWaa = dz @ a_prev.T                    # (n_a, n_a)
    dba = dz.sum(axis=1, keepdims=True)     # (n_a, 1)
    return dict(dxt=dxt, da_prev=da_prev, dWax=dWax, dWaa=dWaa, dba=dba, dz=dz)  # dz kept for debugging


def rnn_backward(da, caches):
    cache_list, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax, dWaa, dba = np.zeros((n_a, n_x)), np.zeros((n_a, n_a)), np.zeros((n_a, 1))
    carry = np.zeros((n_a, m))
    for t in range(T_x - 1, -1, -1):
        g = rnn_cell_backward(da[..., t] + carry, cache_list[t])
        dx[..., t] = g["dxt"]
        carry = g["da_prev"]
        dWax = dWax + g["dWax"]
        dWaa = dWaa + g["dWaa"]
        dba = dba + g["dba"]
    return dict(dx=dx, da0=carry, dWax=dWax, dWaa=dWaa, dba=dba)
