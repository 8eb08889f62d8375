"""A GRU, forward and backward, written the way the course writes its RNN and LSTM.

The gates are laid out and named as d2l.ai does (reset r, update z, candidate h̃), in the
course's shapes: x is (n_x, m, T_x), and every gate's weights act on the stack
concat = [a_prev; xt] of shape (n_a + n_x, m), a_prev on top, like the course's LSTM.

Forward, one step:

    rt      = σ(Wr·[a_prev; xt] + br)                   # (n_a, m) reset gate
    zt      = σ(Wz·[a_prev; xt] + bz)                   # (n_a, m) update gate
    h_tilde = tanh(Wh·[rt * a_prev; xt] + bh)           # (n_a, m) candidate
    a_next  = zt * a_prev + (1 - zt) * h_tilde          # (n_a, m)
    yt_pred = softmax(Wy·a_next + by)                   # (n_y, m)

Backward, given da_next. dh_tilde, dzt and drt are the gradients at the pre-activations
(inside the tanh and the sigmoids), as the course's dcct, dit, dft are:

    dh_tilde = da_next * (1-zt) * (1 - h_tilde**2)
    dzt      = da_next * (a_prev - h_tilde) * zt*(1-zt)
    dra      = Wh[:, :n_a].T @ dh_tilde                 # reaches rt * a_prev
    drt      = dra * a_prev * rt*(1-rt)
    dWr = drt @ [a_prev; xt].T,  dWz = dzt @ [a_prev; xt].T,  dWh = dh_tilde @ [rt*a_prev; xt].T
    dbr, dbz, dbh = drt, dzt, dh_tilde summed over the batch (keepdims)
    da_prev  = da_next * zt + dra * rt + Wr[:, :n_a].T @ drt + Wz[:, :n_a].T @ dzt
    dxt      = Wr[:, n_a:].T @ drt + Wz[:, n_a:].T @ dzt + Wh[:, n_a:].T @ dh_tilde

The first term of da_prev, da_next * zt, is the GRU's reason to exist: where the update gate
is near 1 the gradient passes back to a_prev unchanged, with no matrix and no tanh on the way,
as the LSTM's dc_prev = dc * ft does. The sequence backward is the RNN's loop: da_prevt starts at
zero and the cell is called with (da[:,:,t] + da_prevt, caches[t]).
"""

import numpy as np

from .activations import sigmoid, softmax

GATES = ("r", "z", "h")  # reset, update, candidate: the suffixes of Wr, br, ...


def gru_cell_forward(xt: np.ndarray, a_prev: np.ndarray, parameters: dict) -> tuple:
    """One GRU step.

    a_next, yt_pred, cache = gru_cell_forward(xt, a_prev, parameters)
    """
    Wr = parameters["Wr"]
    br = parameters["br"]
    Wz = parameters["Wz"]
    bz = parameters["bz"]
    Wh = parameters["Wh"]
    bh = parameters["bh"]
    Wy = parameters["Wy"]
    by = parameters["by"]
    n_x, m = xt.shape
    n_y, n_a = Wy.shape
    concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, m)
    rt = sigmoid(np.dot(Wr, concat) + br)  # (n_a, m)
    zt = sigmoid(np.dot(Wz, concat) + bz)  # (n_a, m)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)  # (n_a + n_x, m): the reset acts before Wh
    h_tilde = np.tanh(np.dot(Wh, concat_r) + bh)  # (n_a, m)
    a_next = zt * a_prev + (1 - zt) * h_tilde  # (n_a, m)
    yt_pred = softmax(np.dot(Wy, a_next) + by)  # (n_y, m)
    cache = (a_next, a_prev, rt, zt, h_tilde, xt, parameters)
    return a_next, yt_pred, cache


def gru_forward(x: np.ndarray, a0: np.ndarray, parameters: dict) -> tuple:
    """The whole sequence, x of shape (n_x, m, T_x).

    a, y, caches = gru_forward(x, a0, parameters)
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x))
    y = np.zeros((n_y, m, T_x))
    a_next = a0
    for t in range(T_x):
        xt = x[:,:,t]
        a_next, yt, cache = gru_cell_forward(xt, a_next, parameters)
        a[:,:,t] = a_next
        y[:,:,t] = yt
        caches.append(cache)
    caches = (caches, x)
    return a, y, caches


def gru_cell_backward(da_next: np.ndarray, cache: tuple) -> dict:
    """Gradients of one GRU step, given the total gradient da_next reaching a_next.

    gradients = gru_cell_backward(da_next, cache); gradients["da_prev"]  # (n_a, m)
    """
    (a_next, a_prev, rt, zt, h_tilde, xt, parameters) = cache
    Wr, Wz, Wh = parameters["Wr"], parameters["Wz"], parameters["Wh"]
    n_a, m = a_next.shape
    dh_tilde = da_next * (1 - zt) * (1 - h_tilde**2)  # (n_a, m); h_tilde is already tanh(...)
    dzt = da_next * (a_prev - h_tilde) * zt * (1 - zt)  # (n_a, m)
    dra = np.dot(Wh[:, :n_a].T, dh_tilde)  # (n_a, m): the gradient reaching rt * a_prev
    drt = dra * a_prev * rt * (1 - rt)  # (n_a, m)
    concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, m)
    concat_r = np.concatenate((rt * a_prev, xt), axis=0)  # (n_a + n_x, m), what Wh saw
    dWr = np.dot(drt, concat.T)  # (n_a, n_a + n_x)
    dWz = np.dot(dzt, concat.T)
    dWh = np.dot(dh_tilde, concat_r.T)
    dbr = np.sum(drt, axis=1, keepdims=True)  # (n_a, 1)
    dbz = np.sum(dzt, axis=1, keepdims=True)
    dbh = np.sum(dh_tilde, axis=1, keepdims=True)
    da_prev = da_next * zt + dra * rt + np.dot(Wr[:, :n_a].T, drt) + np.dot(Wz[:, :n_a].T, dzt)
    dxt = np.dot(Wr[:, n_a:].T, drt) + np.dot(Wz[:, n_a:].T, dzt) + np.dot(Wh[:, n_a:].T, dh_tilde)
    return {
        "dxt": dxt, "da_prev": da_prev,
        "dWr": dWr, "dbr": dbr, "dWz": dWz, "dbz": dbz, "dWh": dWh, "dbh": dbh,
    }


def gru_backward(da: np.ndarray, caches: tuple) -> dict:
    """Backpropagation through time for the GRU; T_x is read from da, as in the course.

    gradients = gru_backward(da, caches); gradients["dWz"]  # (n_a, n_a + n_x)
    """
    (caches, x) = caches
    (a1, a0, r1, z1, h1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    da0 = np.zeros((n_a, m))
    da_prevt = np.zeros((n_a, m))
    dWr = np.zeros((n_a, n_a + n_x))
    dWz = np.zeros((n_a, n_a + n_x))
    dWh = np.zeros((n_a, n_a + n_x))
    dbr = np.zeros((n_a, 1))
    dbz = np.zeros((n_a, 1))
    dbh = np.zeros((n_a, 1))
    for t in reversed(range(T_x)):
        # a<t> feeds both the output at t and the next step, so both gradients add up here
        gradients = gru_cell_backward(da[:,:,t] + da_prevt, caches[t])
        da_prevt = gradients["da_prev"]
        dx[:,:,t] = gradients["dxt"]
        dWr += gradients["dWr"]
        dWz += gradients["dWz"]
        dWh += gradients["dWh"]
        dbr += gradients["dbr"]
        dbz += gradients["dbz"]
        dbh += gradients["dbh"]
    da0 = da_prevt
    return {
        "dx": dx, "da0": da0,
        "dWr": dWr, "dbr": dbr, "dWz": dWz, "dbz": dbz, "dWh": dWh, "dbh": dbh,
    }
