import numpy as np

# GRADED FUNCTION: rnn_cell_backward

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]

    # derivative of tanh: 1 - tanh^2, and a_next is the tanh already
    dtanh = np.multiply(da_next, 1 - np.square(a_next))

    dxt = np.matmul(Wax.T, dtanh)
    dWax = np.matmul(dtanh, np.transpose(xt))
    da_prev = np.matmul(np.transpose(Waa), dtanh)
    dWaa = np.matmul(dtanh, np.transpose(a_prev))
    dba = np.sum(dtanh, axis=-1, keepdims=True)

    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients

# GRADED FUNCTION: rnn_backward

def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da0 = np.zeros((n_a, m))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(np.add(da[:, :, t], da_prevt), caches[t])
        dxt, da_prevt, dWaxt, dWaat, dbat = gradients["dxt"], gradients["da_prev"], gradients["dWax"], gradients["dWaa"], gradients["dba"]
        dx[:, :, t] = dxt
        dWax = np.add(dWax, dWaxt)
        dWaa = np.add(dWaa, dWaat)
        dba = np.add(dba, dbat)
    da0 = da_prevt
    gradients = {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients
