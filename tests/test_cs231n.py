"""CS231n's rnn_layers.py functions, and a GRU in their style: the homework's published numbers, finite
differences, and the course's own gradients on the same weights, transposed.

The weights are moved between the two layouts by hand here (not with bptt/notation.py), so these
tests are independent of the conversions that tests/test_notation.py checks.
"""

import numpy as np
import pytest

from bptt import cs231n, gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_backward, rnn_forward
from bptt.activations import sigmoid as plain_sigmoid
from helpers import random_case

SHAPES = [(3, 5, 4, 4), (4, 2, 3, 3), (2, 3, 1, 5), (3, 4, 2, 1), (1, 1, 1, 1)]  # (D, H, N, T), as (n_x, n_a, m, T_x)
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def homework_case(cell: str, D: int, H: int, N: int, T: int, seed: int = 0) -> tuple:
    """(x, h0, Wx, Wh, b, dh) in the homework's shapes, small enough to keep tanh and sigmoid unsaturated."""
    rng = np.random.RandomState(seed)
    k = GATES[cell]
    return (rng.randn(N, T, D), rng.randn(N, H) * 0.5, rng.randn(D, k * H) * 0.5, rng.randn(H, k * H) * 0.5,
            rng.randn(k * H) * 0.1, rng.randn(N, T, H))


def numerical(f, arrays: list, h: float = 1e-6) -> list:
    """Central differences of the scalar f() against every entry of every array (changed in place, restored)."""
    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + h
            plus = f()
            array[i] = old - h
            minus = f()
            array[i] = old
            grad[i] = (plus - minus) / (2 * h)
        grads.append(grad)
    return grads


def test_step_forwards_match_the_homeworks_published_numbers():
    N, D, H = 3, 10, 4
    x = np.linspace(-0.4, 0.7, num=N * D).reshape(N, D)
    prev_h = np.linspace(-0.2, 0.5, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.1, 0.9, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.3, 0.7, num=H * H).reshape(H, H)
    b = np.linspace(-0.2, 0.4, num=H)
    next_h, _ = cs231n.rnn_step_forward(x, prev_h, Wx, Wh, b)
    np.testing.assert_allclose(next_h, [[-0.58172089, -0.50182032, -0.41232771, -0.31410098],
                                        [0.66854692, 0.79562378, 0.87755553, 0.92795967],
                                        [0.97934501, 0.99144213, 0.99646691, 0.99854353]], atol=1e-8)
    N, D, H = 3, 4, 5
    x = np.linspace(-0.4, 1.2, num=N * D).reshape(N, D)
    prev_h = np.linspace(-0.3, 0.7, num=N * H).reshape(N, H)
    prev_c = np.linspace(-0.4, 0.9, num=N * H).reshape(N, H)
    Wx = np.linspace(-2.1, 1.3, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.7, 2.2, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.3, 0.7, num=4 * H)
    next_h, next_c, _ = cs231n.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    np.testing.assert_allclose(next_h, [[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                                        [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                                        [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]], atol=1e-8)
    np.testing.assert_allclose(next_c, [[0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
                                        [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
                                        [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]], atol=1e-8)


def test_sequence_forwards_match_the_homeworks_published_numbers():
    N, T, D, H = 2, 3, 4, 5
    x = np.linspace(-0.1, 0.3, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.3, 0.1, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.4, num=D * H).reshape(D, H)
    Wh = np.linspace(-0.4, 0.1, num=H * H).reshape(H, H)
    b = np.linspace(-0.7, 0.1, num=H)
    h, _ = cs231n.rnn_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, [
        [[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
         [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
         [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
        [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
         [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
         [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]], atol=1e-8)
    N, D, H, T = 2, 5, 4, 3
    x = np.linspace(-0.4, 0.6, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.4, 0.8, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.9, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.3, 0.6, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.2, 0.7, num=4 * H)
    h, _ = cs231n.lstm_forward(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, [
        [[0.01764008, 0.01823233, 0.01882671, 0.0194232], [0.11287491, 0.12146228, 0.13018446, 0.13902939],
         [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
        [[0.45767879, 0.4761092, 0.4936887, 0.51041945], [0.6704845, 0.69350089, 0.71486014, 0.7346449],
         [0.81733511, 0.83677871, 0.85403753, 0.86935314]]], atol=1e-8)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("D, H, N, T", SHAPES)
def test_sequence_backward_matches_finite_differences(cell, D, H, N, T):
    x, h0, Wx, Wh, b, dh = homework_case(cell, D, H, N, T)
    forward, backward = getattr(cs231n, f"{cell}_forward"), getattr(cs231n, f"{cell}_backward")
    got = backward(dh, forward(x, h0, Wx, Wh, b)[1])
    want = numerical(lambda: np.sum(dh * forward(x, h0, Wx, Wh, b)[0]), [x, h0, Wx, Wh, b])
    for name, g, w in zip(("dx", "dh0", "dWx", "dWh", "db"), got, want):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
@pytest.mark.parametrize("D, H, N", [(3, 5, 4), (2, 2, 1), (1, 3, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_step_backward_matches_finite_differences(cell, D, H, N, seed):
    x, h0, Wx, Wh, b, dh = homework_case(cell, D, H, N, 1, seed)
    x, dnext_h = x[:, 0, :], dh[:, 0, :]
    forward, backward = getattr(cs231n, f"{cell}_step_forward"), getattr(cs231n, f"{cell}_step_backward")
    got = backward(dnext_h, forward(x, h0, Wx, Wh, b)[1])
    want = numerical(lambda: np.sum(dnext_h * forward(x, h0, Wx, Wh, b)[0]), [x, h0, Wx, Wh, b])
    for name, g, w in zip(("dx", "dprev_h", "dWx", "dWh", "db"), got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("D, H, N", [(3, 5, 4), (2, 2, 1), (1, 3, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_step_backward_matches_finite_differences_through_both_outputs(D, H, N, seed):
    x, prev_h, Wx, Wh, b, dh = homework_case("lstm", D, H, N, 2, seed)
    x, dnext_h, dnext_c = x[:, 0, :], dh[:, 0, :], dh[:, 1, :]
    prev_c = np.random.RandomState(seed + 7).randn(N, H)

    def loss():
        next_h, next_c, _ = cs231n.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
        return np.sum(dnext_h * next_h) + np.sum(dnext_c * next_c)

    got = cs231n.lstm_step_backward(dnext_h, dnext_c, cs231n.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[2])
    want = numerical(loss, [x, prev_h, prev_c, Wx, Wh, b])
    for name, g, w in zip(("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"), got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8, err_msg=name)


def test_sigmoid_is_the_logistic_function_and_stays_finite_where_exp_overflows():
    x = np.array([-5.0, -0.3, 0.0, 0.3, 5.0])
    np.testing.assert_allclose(cs231n.sigmoid(x), plain_sigmoid(x), rtol=1e-15)
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(cs231n.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])


@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
@pytest.mark.parametrize("seed", [0, 3])
def test_rnn_in_both_notations_gives_the_same_gradients_transposed(n_x, n_a, m, T_x, seed):
    x, a0, parameters, da = random_case("rnn", n_x, n_a, m, T_x, seed)
    course = rnn_backward(da, rnn_forward(x, a0, parameters)[2])
    X, h0, dh = x.transpose(1, 2, 0), a0.T, da.transpose(1, 2, 0)  # (N, T, D), (N, H), (N, T, H)
    h, cache = cs231n.rnn_forward(X, h0, parameters["Wax"].T, parameters["Waa"].T, parameters["ba"][:, 0])
    np.testing.assert_allclose(h, rnn_forward(x, a0, parameters)[0].transpose(1, 2, 0), rtol=1e-13, atol=1e-15)
    dx, dh0, dWx, dWh, db = cs231n.rnn_backward(dh, cache)
    for got, want in ((dx, course["dx"].transpose(1, 2, 0)), (dh0, course["da0"].T), (dWx, course["dWax"].T),
                      (dWh, course["dWaa"].T), (db, course["dba"][:, 0])):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell, order", [("lstm", "ifoc"), ("gru", "rzh")])  # the LSTM's i, f, o, g: the course's c is g
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
@pytest.mark.parametrize("seed", [0, 3])
def test_gated_cells_in_both_notations_give_the_same_gradients_restacked(cell, order, n_x, n_a, m, T_x, seed):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    forward, backward = (lstm_forward, lstm_backward) if cell == "lstm" else (gru_forward, gru_backward)
    *outputs, caches = forward(x, a0, parameters)
    course = backward(da, caches)
    # each course W acts on [a_prev; xt]: its first n_a columns are the a_prev part
    Wx = np.hstack([parameters["W" + g][:, n_a:].T for g in order])  # (D, kH)
    Wh = np.hstack([parameters["W" + g][:, :n_a].T for g in order])  # (H, kH)
    b = np.concatenate([parameters["b" + g][:, 0] for g in order])  # (kH,)
    h, cache = getattr(cs231n, f"{cell}_forward")(x.transpose(1, 2, 0), a0.T, Wx, Wh, b)
    np.testing.assert_allclose(h, outputs[0].transpose(1, 2, 0), rtol=1e-13, atol=1e-15)
    dx, dh0, dWx, dWh, db = getattr(cs231n, f"{cell}_backward")(da.transpose(1, 2, 0), cache)
    np.testing.assert_allclose(dx, course["dx"].transpose(1, 2, 0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dh0, course["da0"].T, rtol=1e-12, atol=1e-14)
    for k, g in enumerate(order):
        block = slice(k * n_a, (k + 1) * n_a)
        np.testing.assert_allclose(dWx[:, block], course["dW" + g][:, n_a:].T, rtol=1e-12, atol=1e-14, err_msg=g)
        np.testing.assert_allclose(dWh[:, block], course["dW" + g][:, :n_a].T, rtol=1e-12, atol=1e-14, err_msg=g)
        np.testing.assert_allclose(db[block], course["db" + g][:, 0], rtol=1e-12, atol=1e-14, err_msg=g)
