import numpy as np


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    # total gradient reaching the cell state
    dc = dc_next + ot * (1 - tanh_c ** 2) * da_next
    dot = da_next * tanh_c * ot * (1 - ot)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.vstack([xt, a_prev])
    # gradient of the whole stack [a_prev; xt], then split it
    dconcat = (parameters["Wf"].T @ dft + parameters["Wi"].T @ dit
               + parameters["Wc"].T @ dcct + parameters["Wo"].T @ dot)
    da_prev = dconcat[:n_a]
    dxt = dconcat[n_a:]
    dc_prev = dc * ft
    return {
        "dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev,
        "dWf": dft @ concat.T, "dbf": dft.sum(axis=1, keepdims=True),
        "dWi": dit @ concat.T, "dbi": dit.sum(axis=1, keepdims=True),
        "dWc": dcct @ concat.T, "dbc": dcct.sum(axis=1, keepdims=True),
        "dWo": dot @ concat.T, "dbo": dot.sum(axis=1, keepdims=True),
    }


def lstm_backward(da, caches):
    caches, x = caches
    a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters = caches[0]
    n_a, m, T_x = da.shape
    n_x = x1.shape[0]
    dx = np.zeros((n_x, m, T_x))
    totals = {k: np.zeros_like(parameters["W" + k[-1]]) if k.startswith("dW") else np.zeros((n_a, 1))
              for k in ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")}
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = g["dxt"]
        da_prevt, dc_prevt = g["da_prev"], g["dc_prev"]
        for k in totals:
            totals[k] += g[k]
    return {"dx": dx, "da0": da_prevt, **totals}
