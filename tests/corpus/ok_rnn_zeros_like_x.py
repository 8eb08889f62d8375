import numpy as np

def rnn_backward(da, caches):
    caches, x = caches
    _, m, T_x = da.shape
    dx = np.zeros_like(x[:, :, :T_x], dtype=float)
    params = caches[0][3]
    dWax = np.zeros(params["Wax"].shape)
    dWaa = np.zeros(params["Waa"].shape)
    dba = np.zeros(params["ba"].shape)
    da_next = np.zeros(da[:, :, 0].shape)
    for t in reversed(range(T_x)):
        da_next = da_next + da[:, :, t]
        gr = rnn_cell_backward(da_next, caches[t])
        dx[:, :, t] = gr["dxt"]
        dWax += gr["dWax"]
        dWaa += gr["dWaa"]
        dba += gr["dba"]
        da_next = gr["da_prev"]
    return {"dx": dx, "da0": da_next, "dWax": dWax, "dWaa": dWaa, "dba": dba}
