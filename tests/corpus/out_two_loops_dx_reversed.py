import numpy as np


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = da_next * (1 - a_next**2)
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, 1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))

    # first pass: carry the gradient back in time and keep every step's gradients
    step_grads = [None] * T_x
    for t in reversed(range(T_x)):
        step_grads[t] = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        da_prevt = step_grads[t]["da_prev"]
    da0 = da_prevt

    # second pass, forward in time: add up the shared weights' gradients
    for t in range(T_x):
        dx[:, :, t] = step_grads[T_x - 1 - t]["dxt"]
        dWax += step_grads[t]["dWax"]
        dWaa += step_grads[t]["dWaa"]
        dba += step_grads[t]["dba"]

    return {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
