"""The traced backward: consistent at every step, equal to the course's code, small in memory."""

import numpy as np
import pytest

from bptt import (
    LSTMCode, RNNCode, lstm_backward, lstm_cell_backward, lstm_forward, rnn_backward, rnn_cell_backward,
    rnn_forward, trace_lstm, trace_rnn,
)
from bptt.trace import N_CHECKPOINTS, differs, max_abs_error
from helpers import random_case

SHAPES = [(3, 5, 4, 6), (2, 3, 1, 1), (4, 2, 3, 12), (1, 1, 1, 3), (5, 5, 2, 20)]


def traced(cell, n_x, n_a, m, T_x, seed=0):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    if cell == "rnn":
        caches = rnn_forward(x, a0, parameters)[2]
        return trace_rnn(da, caches), rnn_backward(da, caches), caches
    caches = lstm_forward(x, a0, parameters)[3]
    return trace_lstm(da, caches), lstm_backward(da, caches), caches


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_correct_trace_equals_the_course_backward(cell, n_x, n_a, m, T_x):
    trace, expected, _ = traced(cell, n_x, n_a, m, T_x)
    got = trace.gradients()
    assert list(got) == list(expected)
    for key in expected:
        assert got[key].shape == expected[key].shape
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_each_step_is_what_the_course_cell_computes(cell, n_x, n_a, m, T_x):
    trace, _, caches = traced(cell, n_x, n_a, m, T_x)
    assert trace.order == tuple(range(T_x - 1, -1, -1))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for step in trace.steps():
        t = step.t
        np.testing.assert_allclose(step.inputs["da_t"], trace.da[:, :, t])
        np.testing.assert_allclose(step.inputs["da_prevt"], da_prevt, atol=1e-13)
        np.testing.assert_allclose(step.inputs["da_next"], trace.da[:, :, t] + da_prevt, atol=1e-13)
        if cell == "rnn":
            expected = rnn_cell_backward(trace.da[:, :, t] + da_prevt, caches[0][t])
            a_next = caches[0][t][0]
            np.testing.assert_allclose(step.outputs["dz"], step.inputs["da_next"] * (1 - a_next**2), atol=1e-13)
        else:
            np.testing.assert_allclose(step.inputs["dc_prevt"], dc_prevt, atol=1e-13)
            expected = lstm_cell_backward(trace.da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
            dc_prevt = expected["dc_prev"]
        for key, value in expected.items():
            np.testing.assert_allclose(step.outputs[key], value, rtol=1e-12, atol=1e-13, err_msg=f"{key} at t={t}")
        da_prevt = expected["da_prev"]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("T_x", [1, 3, 17, 40])
def test_running_totals_are_sums_of_the_step_contributions(cell, T_x):
    trace, expected, _ = traced(cell, 3, 4, 2, T_x)
    running = None
    for step in trace.steps():
        shares = {key: step.outputs[key] for key in step.totals if key != "dx"}
        running = shares if running is None else {key: running[key] + shares[key] for key in shares}
        for key, value in running.items():
            np.testing.assert_allclose(step.totals[key], value, rtol=1e-11, atol=1e-12, err_msg=f"{key} at t={step.t}")
            np.testing.assert_allclose(trace.step(step.t).totals[key], value, rtol=1e-11, atol=1e-12)
        done = np.zeros(T_x, bool)
        done[step.t:] = True
        np.testing.assert_array_equal(step.totals["dx"][:, :, ~done], 0)
        np.testing.assert_allclose(step.totals["dx"][:, :, done], expected["dx"][:, :, done], rtol=1e-12)
    for key, value in running.items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-11, atol=1e-12)


def test_random_access_matches_the_loop_order_for_every_step():
    trace, _, _ = traced("rnn", 3, 4, 2, 30)
    for step in trace.steps():
        again = trace.step(step.t)
        assert again.position == step.position
        for part in ("inputs", "outputs", "totals"):
            for key, value in getattr(step, part).items():
                np.testing.assert_allclose(getattr(again, part)[key], value, rtol=1e-11, atol=1e-12)


def test_asking_for_a_step_that_did_not_run_says_so():
    trace, _, _ = traced("rnn", 2, 3, 1, 3)
    with pytest.raises(KeyError, match="t=7 was not run"):
        trace.step(7)


@pytest.mark.parametrize("n_x, n_a, m, T_x", [(16, 32, 8, 60), (8, 16, 4, 200)])
def test_rnn_trace_memory_stays_within_the_budget(n_x, n_a, m, T_x):
    """dz and dx, plus a fixed number of checkpoints: never T_x copies of an (n_a, n_a) matrix."""
    trace, _, _ = traced("rnn", n_x, n_a, m, T_x)
    vectors = (n_a + n_x) * m * T_x * 8
    checkpoints = N_CHECKPOINTS * (n_a * n_a + n_a * n_x + n_a) * 8
    assert trace.nbytes <= vectors + checkpoints + n_a * m * 8
    assert trace.nbytes < T_x * n_a * n_a * 8


def test_inf_and_nan_flow_into_the_trace_instead_of_raising():
    x, a0, parameters, da = random_case("rnn", 2, 3, 1, 4)
    da[:, :, 3] = np.inf
    trace = trace_rnn(da, rnn_forward(x, a0, parameters)[2])
    assert trace.error is None
    assert not np.all(np.isfinite(trace.gradients()["dWaa"]))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_variant_pieces_default_to_the_course_code(cell):
    x, a0, parameters, da = random_case(cell, 2, 3, 2, 3)
    if cell == "rnn":
        caches = rnn_forward(x, a0, parameters)[2]
        got, expected = trace_rnn(da, caches, RNNCode()).gradients(), rnn_backward(da, caches)
    else:
        caches = lstm_forward(x, a0, parameters)[3]
        got, expected = trace_lstm(da, caches, LSTMCode()).gradients(), lstm_backward(da, caches)
    assert all(max_abs_error(got[key], expected[key]) < 1e-12 for key in expected)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (np.zeros(3), np.zeros(3), 0.0),
        (np.ones(3), np.zeros(3), 1.0),
        (np.zeros((3, 1)), np.zeros(3), float("inf")),
        (np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), 0.0),
        (np.array([np.nan, 1.0]), np.array([0.0, 1.0]), float("inf")),
        (np.array([np.inf]), np.array([-np.inf]), float("inf")),
    ],
)
def test_max_abs_error_treats_shapes_and_non_finite_values_strictly(a, b, expected):
    assert max_abs_error(a, b) == expected


def test_differs_ignores_rounding_but_not_real_changes():
    b = np.linspace(-3, 3, 7)
    assert not differs(b * (1 + 1e-12), b)
    assert differs(b * (1 + 1e-5), b)
    assert differs(b.reshape(7, 1), b)
