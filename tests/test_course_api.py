"""The course API reproduces the numbers the assignment notebook prints.

The expected values are the notebook's published outputs, not this code's: a student
who gets these numbers in their notebook gets the same numbers here.
"""

import numpy as np
import pytest

from bptt import (
    lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward,
    rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward, sigmoid, softmax,
)
from bptt.scenarios import RunConfig, make_inputs


def test_rnn_forward_matches_the_notebook():
    np.random.seed(1)
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    parameters = {
        "Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3), "Wya": np.random.randn(2, 5),
        "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1),
    }
    a, y_pred, caches = rnn_forward(x, a0, parameters)
    np.testing.assert_allclose(a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267], atol=5e-9)
    np.testing.assert_allclose(y_pred[1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947], atol=5e-9)
    np.testing.assert_allclose(caches[1][1][3], [-1.1425182, -0.34934272, -0.20889423, 0.58662319], atol=5e-9)
    assert a.shape == (5, 10, 4) and y_pred.shape == (2, 10, 4) and len(caches) == 2


def test_rnn_backward_matches_the_notebook():
    inputs = make_inputs(RunConfig(cell="rnn", scenario="course"))
    _, _, caches = rnn_forward(inputs.x, inputs.a0, inputs.parameters)
    gradients = rnn_backward(inputs.da, caches)
    np.testing.assert_allclose(gradients["dx"][1][2], [-2.07101689, -0.59255627, 0.02466855, 0.01483317], atol=5e-9)
    assert gradients["dx"].shape == (3, 10, 4)
    np.testing.assert_allclose(gradients["da0"][2][3], -0.314942375127, atol=5e-12)
    np.testing.assert_allclose(gradients["dWax"][3][1], 11.2641044965, atol=5e-10)
    np.testing.assert_allclose(gradients["dWaa"][1][2], 2.30333312658, atol=5e-11)
    np.testing.assert_allclose(gradients["dba"][4], [-0.74747722], atol=5e-9)
    assert gradients["dWax"].shape == (5, 3) and gradients["dWaa"].shape == (5, 5)
    assert gradients["dba"].shape == (5, 1) and gradients["da0"].shape == (5, 10)


def test_lstm_backward_matches_the_notebook():
    inputs = make_inputs(RunConfig(cell="lstm", scenario="course"))
    assert inputs.x.shape == (3, 10, 7) and inputs.da.shape == (5, 10, 4)  # the notebook's quirk, kept
    _, _, _, caches = lstm_forward(inputs.x, inputs.a0, inputs.parameters)
    g = lstm_backward(inputs.da, caches)
    np.testing.assert_allclose(g["dx"][1][2], [0.00218254, 0.28205375, -0.48292508, -0.43281115], atol=5e-9)
    assert g["dx"].shape == (3, 10, 4)
    expected = {
        ("da0", 2, 3): 0.312770310257, ("dWf", 3, 1): -0.0809802310938, ("dWi", 1, 2): 0.40512433093,
        ("dWc", 3, 1): -0.0793746735512, ("dWo", 1, 2): 0.038948775763,
        ("dbf", 4, 0): -0.15745657, ("dbi", 4, 0): -0.50848333, ("dbc", 4, 0): -0.42510818, ("dbo", 4, 0): -0.17958196,
    }
    for (key, i, j), value in expected.items():
        np.testing.assert_allclose(g[key][i][j], value, atol=5e-9, err_msg=key)
    for key in ("dWf", "dWi", "dWc", "dWo"):
        assert g[key].shape == (5, 8)
    for key in ("dbf", "dbi", "dbc", "dbo"):
        assert g[key].shape == (5, 1)


def test_cell_caches_have_the_course_layout():
    rng = np.random.RandomState(0)
    xt, a_prev, c_prev = rng.randn(3, 2), rng.randn(4, 2), rng.randn(4, 2)
    rnn_p = {"Wax": rng.randn(4, 3), "Waa": rng.randn(4, 4), "Wya": rng.randn(2, 4), "ba": rng.randn(4, 1), "by": rng.randn(2, 1)}
    a_next, yt_pred, cache = rnn_cell_forward(xt, a_prev, rnn_p)
    assert cache[0] is a_next and cache[1] is a_prev and cache[2] is xt and cache[3] is rnn_p
    assert set(rnn_cell_backward(np.ones((4, 2)), cache)) == {"dxt", "da_prev", "dWax", "dWaa", "dba"}
    lstm_p = {f"W{g}": rng.randn(4, 7) for g in "fico"} | {f"b{g}": rng.randn(4, 1) for g in "fico"}
    lstm_p |= {"Wy": rng.randn(2, 4), "by": rng.randn(2, 1)}
    a_next, c_next, yt, cache = lstm_cell_forward(xt, a_prev, c_prev, lstm_p)
    assert len(cache) == 10 and cache[0] is a_next and cache[1] is c_next and cache[8] is xt
    np.testing.assert_allclose(c_next, cache[4] * c_prev + cache[5] * cache[6])
    np.testing.assert_allclose(a_next, cache[7] * np.tanh(c_next))
    grads = lstm_cell_backward(np.ones((4, 2)), np.ones((4, 2)), cache)
    assert set(grads) == {"dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}


def test_lstm_forward_starts_from_a_zero_cell_state():
    inputs = make_inputs(RunConfig(cell="lstm", scenario="course"))
    a, y, c, (cell_caches, x) = lstm_forward(inputs.x, inputs.a0, inputs.parameters)
    assert not np.any(cell_caches[0][3])  # c_prev of the first step
    np.testing.assert_array_equal(cell_caches[1][3], c[:, :, 0])


@pytest.mark.parametrize("shape", [(3, 1), (2, 5), (4, 2)])
def test_softmax_is_over_axis_0(shape):
    z = np.random.RandomState(1).randn(*shape) * 50  # large values: the max shift must keep it finite
    s = softmax(z)
    np.testing.assert_allclose(s.sum(axis=0), np.ones(shape[1]))
    np.testing.assert_allclose(s, np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0))


def test_sigmoid_matches_its_definition():
    z = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), np.ones_like(z))
