"""The fast LSTM backward and the trace on it: the course's numbers to rounding, whatever the sizes and blocks."""

import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import bptt.fast
import bptt.lstm_trace
from bptt import LSTMCode, lstm_backward, lstm_cell_backward, lstm_forward, numerical_gradients, trace_lstm
from bptt.fast import block_bounds
from bptt.fast_lstm import lstm_backward_fast, lstm_backward_in_blocks
from bptt.truncation import carry_factors
from helpers import random_case


def assert_course_numbers(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert got[key].shape == value.shape, key
        np.testing.assert_allclose(got[key], value, rtol=1e-11, atol=1e-13 * max(1.0, np.abs(value).max()), err_msg=key)


@settings(max_examples=40, deadline=None)
@given(
    n_x=st.integers(1, 9), n_a=st.integers(1, 7), m=st.integers(1, 5), T_x=st.integers(1, 12),
    block_columns=st.sampled_from([1, 3, 8, bptt.fast.BLOCK_COLUMNS]), seed=st.integers(0, 10_000),
)
@example(n_x=9, n_a=2, m=1, T_x=1, block_columns=1, seed=0)  # n_x > n_a, one example, one step
@example(n_x=1, n_a=7, m=1, T_x=12, block_columns=bptt.fast.BLOCK_COLUMNS, seed=1)
def test_fast_lstm_equals_the_course_backward(n_x, n_a, m, T_x, block_columns, seed):
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed)
    caches = lstm_forward(x, a0, parameters)[3]
    expected = lstm_backward(da, caches)
    original = bptt.fast.BLOCK_COLUMNS
    bptt.fast.BLOCK_COLUMNS = block_columns  # 1 and 3 force one or a few steps a block
    try:
        got = lstm_backward_fast(da, caches)
    finally:
        bptt.fast.BLOCK_COLUMNS = original
    assert_course_numbers(got, expected)


def test_the_carried_gradients_are_what_the_course_loop_hands_each_cell():
    n_x, n_a, m, T_x = 4, 3, 2, 7
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed=5)
    caches = lstm_forward(x, a0, parameters)[3]
    carried = np.full((T_x, n_a, m), np.nan), np.full((T_x, n_a, m), np.nan)
    got = lstm_backward_in_blocks(da, caches, [7, 3, 0], carried)
    assert_course_numbers(got, lstm_backward(da, caches))
    # the course's loop, written out: what step t receives is what step t+1's cell returned
    da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        np.testing.assert_allclose(carried[0][t], da_prevt, rtol=1e-12, atol=1e-14, err_msg=f"da_prevt at t={t}")
        np.testing.assert_allclose(carried[1][t], dc_prevt, rtol=1e-12, atol=1e-14, err_msg=f"dc_prevt at t={t}")
        cell = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
        da_prevt, dc_prevt = cell["da_prev"], cell["dc_prev"]


@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 4, 2, 5), (5, 2, 1, 3), (2, 3, 3, 1)])
def test_fast_lstm_agrees_with_finite_differences(n_x, n_a, m, T_x):
    """Against L = sum(da * a), whose gradient at a<t> is da[:,:,t]: no trust in the course's code needed."""
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed=11)
    got = lstm_backward_fast(da, lstm_forward(x, a0, parameters)[3])
    numeric = numerical_gradients("lstm", x, a0, parameters, da)
    for key, value in numeric.items():
        scale = np.linalg.norm(got[key]) + np.linalg.norm(value) or 1.0  # dWf is zero at T_x = 1: c<0> is zeros
        error = np.linalg.norm(got[key] - value) / scale
        assert error < 1e-8, f"{key}: relative error {error:.1e}"


def test_a_wrong_gate_gradient_fails_the_finite_difference_check():
    """The check above can fail: one entry of dWo off by 1e-4 is caught."""
    x, a0, parameters, da = random_case("lstm", 3, 4, 2, 5, seed=11)
    got = lstm_backward_fast(da, lstm_forward(x, a0, parameters)[3])
    got["dWo"][1, 2] += 1e-4
    numeric = numerical_gradients("lstm", x, a0, parameters, da)["dWo"]
    assert np.linalg.norm(got["dWo"] - numeric) / np.linalg.norm(numeric) > 1e-6


@pytest.mark.parametrize("truncate", [0, 2])  # truncation scales the carried pair in place
def test_the_step_loop_allocates_no_arrays(monkeypatch, truncate):
    """Peak memory is the buffers set up before the loop: a temporary (n_a, m) array per step would show as 256 KiB."""
    n_x, n_a, m, T_x = 8, 64, 512, 6
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", 2 * m)  # three blocks of two steps
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed=2)
    caches = lstm_forward(x, a0, parameters)[3]
    widest = 2
    buffers = (
        n_x * m * T_x  # dx
        + 4 * n_a * (n_a + n_x)  # the stacked weights
        + 3 * 4 * n_a * (n_a + n_x + 1)  # [dW | db], its per-segment share, and the contiguous copies returned
        + 4 * n_a * (n_a + n_x)  # the stacked weights' two parts, transposed
        + (4 * n_a + (n_a + n_x + 1) + n_a) * widest * m  # a block's gate gradients, [a_prev; xt; 1] and da
        + (4 * n_a + 9 * n_a) * m  # one step's gates, five intermediates, the carried pair, da0 and dc0
    ) * 8
    tracemalloc.start()
    try:
        lstm_backward_in_blocks(da, caches, block_bounds(T_x, m), None, None, carry_factors(T_x, truncate))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < buffers + n_a * m * 8 // 4, f"peak {peak:,} B, buffers {buffers:,} B"


def test_blocks_of_one_step_each_still_cover_the_sequence():
    """With one step a block the kernel is the plain course loop, reordered: still the same numbers."""
    x, a0, parameters, da = random_case("lstm", 2, 3, 2, 4, seed=3)
    caches = lstm_forward(x, a0, parameters)[3]
    got = lstm_backward_in_blocks(da, caches, [4, 3, 2, 1, 0])
    assert_course_numbers(got, lstm_backward(da, caches))


@pytest.mark.parametrize("block_columns", [1, 12, bptt.fast.BLOCK_COLUMNS])  # more blocks than checkpoints, fewer
@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 5, 4, 17), (6, 2, 1, 2), (2, 2, 3, 1), (2, 3, 2, 40)])
def test_traced_course_code_runs_on_the_kernel_and_matches_the_course_cell_at_every_step(
    monkeypatch, block_columns, n_x, n_a, m, T_x
):
    """The correct code is traced on the fast kernel; each step's rebuilt vectors and matrices are the course cell's,
    and the running totals the course loop's. An equal but distinct code object takes the line-by-line loop."""
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", block_columns)
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed=3)
    caches = lstm_forward(x, a0, parameters)[3]
    calls = []
    kernel = bptt.lstm_trace.lstm_backward_in_blocks
    monkeypatch.setattr(bptt.lstm_trace, "lstm_backward_in_blocks", lambda *args: calls.append(1) or kernel(*args))
    fast = trace_lstm(da, caches)
    assert calls == [1]
    assert fast.nbytes <= fast.nbytes_bound
    da_prevt, dc_prevt, running = np.zeros((n_a, m)), np.zeros((n_a, m)), None
    for step in fast.steps():
        t = step.t
        np.testing.assert_allclose(step.inputs["da_prevt"], da_prevt, rtol=1e-12, atol=1e-14, err_msg=f"t={t}")
        np.testing.assert_allclose(step.inputs["dc_next"], dc_prevt, rtol=1e-12, atol=1e-14, err_msg=f"t={t}")
        cell = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
        for key, value in cell.items():
            np.testing.assert_allclose(step.outputs[key], value, rtol=1e-11, atol=1e-13, err_msg=f"{key} at t={t}")
        shares = {key: value for key, value in cell.items() if key.startswith(("dW", "db"))}
        running = shares if running is None else {key: running[key] + shares[key] for key in shares}
        for key, value in running.items():
            np.testing.assert_allclose(fast.step(t).totals[key], value, rtol=1e-11, atol=1e-13, err_msg=f"{key} at t={t}")
        da_prevt, dc_prevt = cell["da_prev"], cell["dc_prev"]
    assert_course_numbers(fast.gradients(), lstm_backward(da, caches))
    same_code = replace(LSTMCode(), da_next=lambda da_t, da_prevt: da_t + da_prevt)
    loop = trace_lstm(da, caches, same_code)
    assert fast.first_divergence(loop) is None and loop.first_divergence(fast) is None


@settings(max_examples=30, deadline=None)
@given(
    n_x=st.integers(1, 6), n_a=st.integers(1, 6), m=st.integers(1, 4), T_x=st.integers(1, 9),
    run=st.tuples(st.integers(0, 8), st.integers(1, 9)), seed=st.integers(0, 10_000),
)
def test_a_run_of_steps_rebuilds_to_the_course_cells_shares_summed(n_x, n_a, m, T_x, run, seed):
    """The trace's rebuild of any run of steps (the kernel's lines) is the sum of lstm_cell_backward's dW and db
    over those steps, fed what the course loop carried into each."""
    k0 = min(run[0], T_x - 1)
    k1 = min(k0 + run[1], T_x)
    x, a0, parameters, da = random_case("lstm", n_x, n_a, m, T_x, seed=seed)
    caches = lstm_forward(x, a0, parameters)[3]
    trace = trace_lstm(da, caches)
    da_prevt, dc_prevt, expected = np.zeros((n_a, m)), np.zeros((n_a, m)), {}
    for k, t in enumerate(reversed(range(T_x))):
        cell = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
        if k0 <= k < k1:
            expected = {key: expected.get(key, 0) + value for key, value in cell.items() if key[:2] in ("dW", "db")}
        da_prevt, dc_prevt = cell["da_prev"], cell["dc_prev"]
    got = trace._matrix_contributions(k0, k1)
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert got[key].flags.c_contiguous, key
        np.testing.assert_allclose(got[key], value, rtol=1e-11, atol=1e-13 * max(1.0, np.abs(value).max()), err_msg=key)
