import numpy as np


def rnn_cell_backward(da_next, cache):
    """Recompute z from the cache and differentiate tanh at z."""
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    ba = parameters["ba"]
    z = np.dot(Wax, xt) + np.dot(Waa, a_prev) + ba
    dtanh = da_next * (1 - np.tanh(z) ** 2)
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
