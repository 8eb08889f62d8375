import numpy as np


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = da_next
    dtanh *= 1 - a_next ** 2          # in place: saves a copy
    dxt = np.dot(parameters["Wax"].T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(parameters["Waa"].T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
