import numpy as np


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = da_next * (1 - a_next ** 2)
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def backward_one_step(t, da, da_carry, caches, totals):
    """Runs the cell at step t and adds its share to the totals; returns (dxt, da_prev)."""
    g = rnn_cell_backward(da[:, :, t] + da_carry, caches[t])
    for key in totals:
        totals[key] = g[key]
    return g["dxt"], g["da_prev"]


def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    totals = {"dWax": np.zeros((n_a, n_x)), "dWaa": np.zeros((n_a, n_a)), "dba": np.zeros((n_a, 1))}
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        dx[:, :, t], da_prevt = backward_one_step(t, da, da_prevt, caches, totals)
    return {"dx": dx, "da0": da_prevt, "dWax": totals["dWax"], "dWaa": totals["dWaa"], "dba": totals["dba"]}
