import numpy as np

def lstm_cell_backward(da_next, dc_next, cache):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_x, m = xt.shape
    n_a, m = a_next.shape
    Wf, Wi, Wc, Wo = parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]

    dc = np.add(dc_next, np.multiply(ot * (1 - np.square(np.tanh(c_next))), da_next))
    dot = np.multiply(da_next, np.tanh(c_next)) * ot * (1 - ot)
    dcct = np.multiply(dc * it, 1 - np.square(cct))
    dit = np.multiply(dc * cct, it * (1 - it))
    dft = np.multiply(dc * c_prev, ft * (1 - ft))

    concat = np.concatenate((a_prev, xt), axis=0)
    dWf = np.dot(dft, concat.T)
    dWi = np.dot(dit, concat.T)
    dWc = np.dot(dcct, concat.T)
    dWo = np.dot(dot, concat.T)
    dbf = np.sum(dft, axis=1, keepdims=True)
    dbi = np.sum(dit, axis=1, keepdims=True)
    dbc = np.sum(dcct, axis=1, keepdims=True)
    dbo = np.sum(dot, axis=1, keepdims=True)

    Wf_a, Wf_x = Wf[:, :n_a], Wf[:, n_a:]
    Wi_a, Wi_x = Wi[:, :n_a], Wi[:, n_a:]
    Wc_a, Wc_x = Wc[:, :n_a], Wc[:, n_a:]
    Wo_a, Wo_x = Wo[:, :n_a], Wo[:, n_a:]
    da_prev = Wf_a.T @ dft + Wi_a.T @ dit + Wc_a.T @ dcct + Wo_a.T @ dot
    dxt = Wf_x.T @ dft + Wi_x.T @ dit + Wc_x.T @ dcct + Wo_x.T @ dot
    dc_prev = np.multiply(dc, ft)

    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf, "dWi": dWi,
            "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}
