import numpy as np

def rnn_backward(da, caches):
    cache_list, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_next = np.zeros((n_a, m))
    step = T_x - 1
    while step >= 0:
        grads = rnn_cell_backward(da_next, cache_list[step])
        dx[:, :, step] = grads["dxt"]
        dWax += grads["dWax"]
        dWaa += grads["dWaa"]
        dba += grads["dba"]
        da_next = grads["da_prev"]
        step -= 1
    return {"dx": dx, "da0": da_next, "dWax": dWax, "dWaa": dWaa, "dba": dba}
