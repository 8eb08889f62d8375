import numpy as np
from rnn_utils import sigmoid


def lstm_cell_backward(da_next, dc_next, cache):
    """Gates recomputed from the parameters rather than read from the cache."""
    a_next, c_next, a_prev, c_prev, _, _, _, _, xt, p = cache
    n_a = a_prev.shape[0]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(p["Wf"], concat) + p["bf"])
    it = sigmoid(np.dot(p["Wi"], concat) + p["bi"])
    cct = np.tanh(np.dot(p["Wc"], concat) + p["bc"])
    ot = sigmoid(np.dot(p["Wo"], concat) + p["bo"])
    dsig = lambda s: s - s ** 2
    dc = dc_next + ot * (1 - np.tanh(c_next) ** 2) * da_next
    d = {"f": dc * c_prev * dsig(ft), "i": dc * cct * dsig(it), "c": dc * it * (1 - cct ** 2),
         "o": da_next * np.tanh(c_next) * dsig(ot)}
    grads = {"dc_prev": dc * ft}
    dconcat = 0
    for g in "fico":
        grads["dW" + g] = np.einsum("am,bm->ab", d[g], concat)
        grads["db" + g] = d[g].sum(axis=1, keepdims=True)
        dconcat = dconcat + p["W" + g].T.dot(d[g])
    grads["da_prev"], grads["dxt"] = dconcat[:n_a], dconcat[n_a:]
    return grads
