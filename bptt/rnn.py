"""The course's basic RNN, forward and backward, written as the notebook writes it.

Students compare these line by line with their own notebook, so they stay plain:
np.dot, the course's variable names, the course's cache layouts. The fast and the
traced versions live elsewhere and are tested equal to these.
"""

import numpy as np

from .activations import softmax


def rnn_cell_forward(xt: np.ndarray, a_prev: np.ndarray, parameters: dict) -> tuple:
    """One step: a_next = tanh(Wax xt + Waa a_prev + ba), yt_pred = softmax(Wya a_next + by).

    a_next, yt_pred, cache = rnn_cell_forward(xt, a_prev, parameters)
    """
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]
    a_next = np.tanh(np.dot(Wax, xt) + np.dot(Waa, a_prev) + ba)  # (n_a, m)
    yt_pred = softmax(np.dot(Wya, a_next) + by)  # (n_y, m)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_forward(x: np.ndarray, a0: np.ndarray, parameters: dict) -> tuple:
    """The whole sequence, x of shape (n_x, m, T_x).

    a, y_pred, caches = rnn_forward(x, a0, parameters)
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a = np.zeros((n_a, m, T_x))
    y_pred = np.zeros((n_y, m, T_x))
    a_next = a0
    for t in range(T_x):
        xt = x[:,:,t]
        a_next, yt_pred, cache = rnn_cell_forward(xt, a_next, parameters)
        a[:,:,t] = a_next
        y_pred[:,:,t] = yt_pred
        caches.append(cache)
    caches = (caches, x)
    return a, y_pred, caches


def rnn_cell_backward(da_next: np.ndarray, cache: tuple) -> dict:
    """Gradients of one step, given the total gradient da_next reaching a_next.

    gradients = rnn_cell_backward(da_next, cache); gradients["da_prev"]  # (n_a, m)
    """
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dz = da_next * (1 - a_next**2)  # (n_a, m); a_next is already tanh(z), so tanh'(z) = 1 - a_next**2
    dxt = np.dot(Wax.T, dz)  # (n_x, m)
    dWax = np.dot(dz, xt.T)  # (n_a, n_x)
    da_prev = np.dot(Waa.T, dz)  # (n_a, m)
    dWaa = np.dot(dz, a_prev.T)  # (n_a, n_a)
    dba = np.sum(dz, axis=1, keepdims=True)  # (n_a, 1)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da: np.ndarray, caches: tuple) -> dict:
    """Backpropagation through time; da (n_a, m, T_x) is the loss's gradient at each a<t>.

    gradients = rnn_backward(da, caches); gradients["dWaa"]  # (n_a, n_a)
    """
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da0 = np.zeros((n_a, m))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        # a<t> feeds both the output at t and the next step, so both gradients add up here
        gradients = rnn_cell_backward(da[:,:,t] + da_prevt, caches[t])
        dxt, da_prevt, dWaxt, dWaat, dbat = (
            gradients["dxt"], gradients["da_prev"], gradients["dWax"], gradients["dWaa"], gradients["dba"]
        )
        dx[:,:,t] = dxt
        dWax += dWaxt
        dWaa += dWaat
        dba += dbat
    da0 = da_prevt
    return {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
