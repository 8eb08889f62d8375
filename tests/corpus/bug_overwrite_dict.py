import numpy as np

def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    grads = {"dx": np.zeros((n_x, m, T_x)), "dWax": np.zeros((n_a, n_x)),
             "dWaa": np.zeros((n_a, n_a)), "dba": np.zeros((n_a, 1))}
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        grads["dx"][:, :, t] = step["dxt"]
        da_prevt = step["da_prev"]
        # keep this step's weight gradients
        grads["dWax"] = step["dWax"]
        grads["dWaa"] = step["dWaa"]
        grads["dba"] = step["dba"]
    grads["da0"] = da_prevt
    return grads
