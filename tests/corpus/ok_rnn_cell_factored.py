import numpy as np

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    # (1 - a)(1 + a) is 1 - a**2 factored
    dtanh = da_next * (1 - a_next) * (1 + a_next)
    gradients = {
        "dxt": parameters["Wax"].T.dot(dtanh),
        "da_prev": parameters["Waa"].T.dot(dtanh),
        "dWax": dtanh.dot(xt.T),
        "dWaa": dtanh.dot(a_prev.T),
        "dba": dtanh.sum(1).reshape(-1, 1),
    }
    return gradients
