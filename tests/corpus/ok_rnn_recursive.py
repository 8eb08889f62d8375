import numpy as np


def rnn_backward(da, caches):
    cache_list, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    out = {"dx": np.zeros((n_x, m, T_x)), "dWax": np.zeros((n_a, n_x)),
           "dWaa": np.zeros((n_a, n_a)), "dba": np.zeros((n_a, 1))}

    def back(t, carry):
        if t < 0:
            return carry
        g = rnn_cell_backward(da[:, :, t] + carry, cache_list[t])
        out["dx"][:, :, t] = g["dxt"]
        out["dWax"] += g["dWax"]
        out["dWaa"] += g["dWaa"]
        out["dba"] += g["dba"]
        return back(t - 1, g["da_prev"])

    out["da0"] = back(T_x - 1, np.zeros((n_a, m)))
    return out
