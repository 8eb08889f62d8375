import numpy as np

GATES = ["f", "i", "c", "o"]


def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt) = cache
    n_a, m = a_next.shape
    dtanh_c = 1 - np.tanh(c_next) ** 2
    dc = dc_next + ot * dtanh_c * da_next
    d = {
        "o": da_next * np.tanh(c_next) * ot * (1 - ot),
        "c": dc * it * (1 - cct ** 2),
        "i": dc * cct * it * (1 - it),
        "f": dc * c_prev * ft * (1 - ft),
    }
    concat = np.concatenate((a_prev, xt), axis=0)
    gradients = {"da_prev": np.zeros((n_a, m)), "dxt": np.zeros(xt.shape)}
    for g in GATES:
        W = parameters["W" + g]
        gradients["dW" + g] = np.dot(d[g], concat.T)
        gradients["db" + g] = np.sum(d[g], axis=1, keepdims=True)
        gradients["da_prev"] += np.dot(W[:, :n_a].T, d[g])
        gradients["dxt"] += np.dot(W[:, n_a:].T, d[g])
    gradients["dc_prev"] = dc * ft
    return gradients


def lstm_backward(da, caches):
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    grads = {"dx": np.zeros((n_x, m, T_x)), "da0": np.zeros((n_a, m))}
    for g in GATES:
        grads["dW" + g] = np.zeros((n_a, n_a + n_x))
        grads["db" + g] = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        da_prevt = step["da_prev"]
        dc_prevt = step["dc_prev"]
        grads["dx"][:, :, t] = step["dxt"]
        for g in GATES:
            grads["dW" + g] += step["dW" + g]
            grads["db" + g] += step["db" + g]
    grads["da0"] = da_prevt
    return grads
