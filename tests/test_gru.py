"""The GRU: forward as d2l writes it, backward against finite differences, the trace against the backward."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt import (
    GRUCode, RunConfig, gradient_check, gru_backward, gru_cell_backward, gru_cell_forward, gru_forward,
    rnn_cell_forward, run, sigmoid, trace_gru,
)
from bptt.trace import N_CHECKPOINTS
from helpers import random_case

SHAPES = [(3, 5, 4, 4), (1, 1, 1, 1), (2, 3, 1, 6), (4, 2, 3, 2), (5, 5, 2, 3)]  # n_x, n_a, m, T_x


def cell_case(n_x, n_a, m, seed=0):
    x, a0, parameters, da = random_case("gru", n_x, n_a, m, 1, seed)
    return x[:, :, 0], a0, parameters, da[:, :, 0]


def cell_loss(xt, a_prev, parameters, da_next) -> float:
    return float(np.sum(da_next * gru_cell_forward(xt, a_prev, parameters)[0]))


def central_difference(f, value: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        original = value[index]
        value[index] = original + eps
        plus = f()
        value[index] = original - eps
        minus = f()
        value[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("n_x, n_a, m", [(3, 5, 4), (1, 1, 1), (4, 2, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_cell_backward_matches_finite_differences(n_x, n_a, m, seed):
    xt, a_prev, parameters, da_next = cell_case(n_x, n_a, m, seed)
    cache = gru_cell_forward(xt, a_prev, parameters)[2]
    gradients = gru_cell_backward(da_next, cache)
    loss = lambda: cell_loss(xt, a_prev, parameters, da_next)  # noqa: E731  reads the arrays as they are bumped
    numeric = {"dxt": central_difference(loss, xt), "da_prev": central_difference(loss, a_prev)}
    for name in ("Wr", "br", "Wz", "bz", "Wh", "bh"):
        numeric["d" + name] = central_difference(loss, parameters[name])
    assert set(gradients) == set(numeric)
    for key, value in numeric.items():
        np.testing.assert_allclose(gradients[key], value, rtol=1e-6, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_sequence_backward_matches_finite_differences(n_x, n_a, m, T_x):
    x, a0, parameters, da = random_case("gru", n_x, n_a, m, T_x)
    check = gradient_check("gru", x, a0, parameters, da)
    assert check.max_error < 1e-7, check.verdict
    assert set(check.per_parameter) == {"dx", "da0", "dWr", "dbr", "dWz", "dbz", "dWh", "dbh"}


def test_backward_over_fewer_steps_than_the_forward_matches_finite_differences():
    """As the course's LSTM example (x has 7 steps, da 4): the loss covers only the first T_x steps."""
    x, a0, parameters, da = random_case("gru", 3, 4, 2, 6)
    check = gradient_check("gru", x, a0, parameters, da[:, :, :4])
    assert check.max_error < 1e-7, check.verdict


def test_forward_is_d2ls_gru_with_the_reset_before_the_matmul():
    xt, a_prev, p, _ = cell_case(3, 4, 2)
    n_a = 4
    r = sigmoid(p["Wr"][:, :n_a] @ a_prev + p["Wr"][:, n_a:] @ xt + p["br"])
    z = sigmoid(p["Wz"][:, :n_a] @ a_prev + p["Wz"][:, n_a:] @ xt + p["bz"])
    h_tilde = np.tanh(p["Wh"][:, :n_a] @ (r * a_prev) + p["Wh"][:, n_a:] @ xt + p["bh"])
    a_next, yt_pred, cache = gru_cell_forward(xt, a_prev, p)
    np.testing.assert_allclose(a_next, z * a_prev + (1 - z) * h_tilde, rtol=1e-14)
    np.testing.assert_allclose(yt_pred.sum(axis=0), 1.0)
    for got, want in zip(cache[2:5], (r, z, h_tilde)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_with_the_update_gate_shut_and_the_reset_open_the_gru_is_the_rnn_with_waa_from_wh():
    """The reason the scenarios rescale Wh[:, :n_a] for vanishing and exploding gradients."""
    xt, a_prev, p, _ = cell_case(3, 4, 2)
    p = p | {"bz": np.full((4, 1), -60.0), "br": np.full((4, 1), 60.0)}  # zt ≈ 1e-26, rt = 1 in float64
    rnn = {"Wax": p["Wh"][:, 4:], "Waa": p["Wh"][:, :4], "ba": p["bh"], "Wya": p["Wy"], "by": p["by"]}
    np.testing.assert_allclose(gru_cell_forward(xt, a_prev, p)[0], rnn_cell_forward(xt, a_prev, rnn)[0], rtol=1e-12)


@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES + [(3, 4, 2, 40)])
def test_trace_gives_what_gru_backward_returns(n_x, n_a, m, T_x):
    x, a0, parameters, da = random_case("gru", n_x, n_a, m, T_x)
    caches = gru_forward(x, a0, parameters)[2]
    expected, trace = gru_backward(da, caches), trace_gru(da, caches)
    got = trace.gradients()
    assert list(got) == list(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-13, err_msg=key)
    assert trace.first_divergence(trace_gru(da, caches)) is None


def test_every_step_rebuilt_is_the_course_cell_on_what_the_loop_handed_it():
    x, a0, parameters, da = random_case("gru", 3, 4, 2, 12)
    cell_caches = gru_forward(x, a0, parameters)[2][0]
    trace = trace_gru(da, (cell_caches, x))
    da_prevt, running = np.zeros((4, 2)), None
    walked = {step.t: step for step in trace.steps()}
    for t in reversed(range(12)):
        g = gru_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
        running = {k: g[k] + (running[k] if running else 0) for k in ("dWr", "dbr", "dWz", "dbz", "dWh", "dbh")}
        for step in (trace.step(t), walked[t]):  # random access and the walk agree with the course's loop
            np.testing.assert_allclose(step.inputs["da_prevt"], da_prevt, rtol=1e-12, atol=1e-14)
            for key in ("dxt", "da_prev", "dWr", "dbz", "dWh"):
                np.testing.assert_allclose(step.outputs[key], g[key], rtol=1e-12, atol=1e-14, err_msg=key)
            for key, total in running.items():
                np.testing.assert_allclose(step.totals[key], total, rtol=1e-12, atol=1e-13, err_msg=key)
        da_prevt = g["da_prev"]


@pytest.mark.parametrize("carry", [lambda t: 0.0, lambda t: 0.0 if t % 3 == 2 else 1.0, lambda t: 1.5])
def test_the_carry_factor_scales_what_the_loop_hands_the_cell(carry):
    x, a0, parameters, da = random_case("gru", 3, 4, 2, 8)
    cell_caches = gru_forward(x, a0, parameters)[2][0]
    trace = trace_gru(da, (cell_caches, x), replace(GRUCode(), carry=carry))
    da_prevt, dWh, dx = np.zeros((4, 2)), 0, np.zeros_like(x)
    for t in reversed(range(8)):
        g = gru_cell_backward(da[:, :, t] + carry(t) * da_prevt, cell_caches[t])
        np.testing.assert_allclose(trace.step(t).inputs["da_prevt"], carry(t) * da_prevt, rtol=1e-12, atol=1e-14)
        da_prevt, dWh, dx[:, :, t] = g["da_prev"], dWh + g["dWh"], g["dxt"]
    got = trace.gradients()
    np.testing.assert_allclose(got["dWh"], dWh, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got["dx"], dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got["da0"], da_prevt, rtol=1e-12, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(
    n_x=st.integers(1, 4), n_a=st.integers(1, 4), m=st.integers(1, 3), T_x=st.integers(1, 12),
    factors=st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=12, max_size=12), seed=st.integers(0, 1000),
)
def test_any_truncation_of_any_small_run_is_the_course_cell_on_the_scaled_carry(n_x, n_a, m, T_x, factors, seed):
    x, a0, parameters, da = random_case("gru", n_x, n_a, m, T_x, seed)
    cell_caches = gru_forward(x, a0, parameters)[2][0]
    trace = trace_gru(da, (cell_caches, x), replace(GRUCode(), carry=lambda t: factors[t]))
    da_prevt, totals = np.zeros((n_a, m)), {}
    for t in reversed(range(T_x)):
        g = gru_cell_backward(da[:, :, t] + factors[t] * da_prevt, cell_caches[t])
        totals = {k: g[k] + totals.get(k, 0) for k in ("dWr", "dbr", "dWz", "dbz", "dWh", "dbh")}
        np.testing.assert_allclose(trace.step(t).outputs["da_prev"], g["da_prev"], rtol=1e-11, atol=1e-13)
        da_prevt = g["da_prev"]
    got = trace.gradients()
    for key, total in totals.items():
        np.testing.assert_allclose(got[key], total, rtol=1e-11, atol=1e-13, err_msg=key)
    np.testing.assert_allclose(got["da0"], da_prevt, rtol=1e-11, atol=1e-13)


def test_a_cut_at_every_step_leaves_each_step_with_its_own_loss_only():
    """carry = 0 everywhere: each step's share is what finite differences give for a one-step backward."""
    x, a0, parameters, da = random_case("gru", 2, 3, 2, 5)
    caches = gru_forward(x, a0, parameters)[2]
    trace = trace_gru(da, caches, replace(GRUCode(), carry=lambda t: 0.0))
    for t in range(5):
        xt, a_prev = caches[0][t][5].copy(), caches[0][t][1].copy()
        loss = lambda: cell_loss(xt, a_prev, parameters, da[:, :, t])  # noqa: E731
        np.testing.assert_allclose(trace.step(t).outputs["dxt"], central_difference(loss, xt), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 5, 4, 30), (2, 8, 3, 5), (6, 2, 1, 17)])
def test_trace_stores_vectors_and_stays_within_its_bound(n_x, n_a, m, T_x):
    x, a0, parameters, da = random_case("gru", n_x, n_a, m, T_x)
    trace = trace_gru(da, gru_forward(x, a0, parameters)[2])
    assert trace.da_carried.shape == (T_x, n_a, m)
    for t in (T_x - 1, T_x // 2, 0):
        trace.step(t)
        assert trace.nbytes <= trace.nbytes_bound
    if T_x >= 2 * N_CHECKPOINTS:  # every checkpoint kept, and a shown step off them: the bound counts what is there
        trace.step(T_x - 1)  # position 0: the first checkpoint ends two or more steps later
        assert trace.nbytes == trace.nbytes_bound


def test_a_variant_that_raises_stops_the_trace_at_that_step_with_numpys_message():
    x, a0, parameters, da = random_case("gru", 3, 4, 2, 5)
    flat = replace(GRUCode(), dzt=lambda da_next, zt, a_prev, h_tilde: np.sum(da_next * zt, axis=1))  # (n_a,)
    trace = trace_gru(da, gru_forward(x, a0, parameters)[2], flat)
    assert (trace.error.t, trace.error.kind, trace.order) == (4, "ValueError", ())
    assert trace.error.quantity == "cell" and "shapes (4,2) (4,)" in trace.error.message  # as the LSTM's trace names it
    with pytest.raises(ValueError, match="raised at t=4"):
        trace.gradients()


def test_run_knows_the_gru_and_its_bugs():
    correct, buggy = run(RunConfig(cell="gru")), run(RunConfig(cell="gru", bug="gru-missing-da-t"))
    assert correct.c is None and correct.Waa.shape == (5, 5)
    assert np.any(correct.trace.gradients()["dWh"]) and not np.any(buggy.trace.gradients()["dWh"])
    with pytest.raises(ValueError, match="bug of the GRU, not of the LSTM"):
        run(RunConfig(cell="lstm", bug="gru-z-swapped"))
    with pytest.raises(ValueError, match="bug of the RNN, not of the GRU"):
        run(RunConfig(cell="gru", bug="missing-da-t"))
