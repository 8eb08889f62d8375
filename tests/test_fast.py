"""The fast backward: the course's numbers to rounding, whatever the block layout."""

from dataclasses import replace

import numpy as np
import pytest

import bptt.fast
from bptt import (
    RNNCode, lstm_backward, lstm_cell_backward, lstm_forward, numerical_gradients, rnn_backward, rnn_cell_backward,
    rnn_forward, trace_rnn,
)
from bptt.fast import backward_in_blocks, block_bounds, rnn_backward_fast, segments
from bptt.fast_lstm import lstm_backward_in_blocks
from helpers import random_case

SHAPES = [(3, 5, 4, 6), (5, 3, 2, 7), (2, 3, 1, 1), (1, 1, 1, 1), (4, 6, 1, 9), (6, 4, 3, 1), (8, 8, 5, 13)]


@pytest.mark.parametrize("block_columns", [1, 7, bptt.fast.BLOCK_COLUMNS])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_fast_equals_the_course_backward(monkeypatch, block_columns, n_x, n_a, m, T_x):
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", block_columns)  # 1 and 7 force one or a few steps a block
    x, a0, parameters, da = random_case("rnn", n_x, n_a, m, T_x, seed=n_x + T_x)
    caches = rnn_forward(x, a0, parameters)[2]
    expected = rnn_backward(da, caches)
    got = rnn_backward_fast(da, caches)
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert got[key].shape == value.shape, key
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-14 * np.abs(value).max(), err_msg=key)


@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 4, 2, 5), (4, 2, 1, 3)])
def test_fast_agrees_with_finite_differences(n_x, n_a, m, T_x):
    x, a0, parameters, da = random_case("rnn", n_x, n_a, m, T_x, seed=7)
    got = rnn_backward_fast(da, rnn_forward(x, a0, parameters)[2])
    numeric = numerical_gradients("rnn", x, a0, parameters, da)
    for key, value in numeric.items():
        error = np.linalg.norm(got[key] - value) / (np.linalg.norm(got[key]) + np.linalg.norm(value))
        assert error < 1e-8, f"{key}: relative error {error:.1e}"


def test_fast_with_a_wrong_gradient_fails_the_finite_difference_check():
    """The check above can fail: a gradient with one entry off is caught."""
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 5, seed=7)
    got = rnn_backward_fast(da, rnn_forward(x, a0, parameters)[2])
    got["dWaa"][1, 2] += 1e-4
    numeric = numerical_gradients("rnn", x, a0, parameters, da)["dWaa"]
    assert np.linalg.norm(got["dWaa"] - numeric) / np.linalg.norm(numeric) > 1e-6


@pytest.mark.parametrize("T_x, m", [(1, 1), (100, 32), (200, 64), (9, 2048), (300, 1)])
def test_blocks_cover_every_step_once_and_stay_narrow(T_x, m):
    bounds = block_bounds(T_x, m)
    assert bounds[0] == T_x and bounds[-1] == 0
    assert all(t1 > t0 for t1, t0 in zip(bounds[:-1], bounds[1:]))
    widest = max(1, bptt.fast.BLOCK_COLUMNS // m)
    assert all(t1 - t0 <= widest for t1, t0 in zip(bounds[:-1], bounds[1:]))


@pytest.mark.parametrize("t1, t0, splits, expected", [
    (100, 50, (88, 75, 63), [(100, 88), (88, 75), (75, 63), (63, 50)]),
    (100, 50, (100, 50, 20, 120), [(100, 50)]),  # a split on a bound or outside the block cuts nothing
    (3, 2, (), [(3, 2)]),
])
def test_segments_cut_a_block_at_the_splits_inside_it(t1, t0, splits, expected):
    assert segments(t1, t0, splits) == expected


def course_running_totals(cell: str, da: np.ndarray, caches: tuple) -> dict:
    """{t: the weight and bias totals once the course loop has run steps T_x-1 .. t}, from the course's cells."""
    n_a, m, T_x = da.shape
    da_prevt, dc_prevt, totals, running = np.zeros((n_a, m)), np.zeros((n_a, m)), {}, {}
    for t in reversed(range(T_x)):
        if cell == "rnn":
            g = rnn_cell_backward(da[:, :, t] + da_prevt, caches[0][t])
        else:
            g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
            dc_prevt = g["dc_prev"]
        da_prevt = g["da_prev"]
        share = {key: value for key, value in g.items() if key[:2] in ("dW", "db")}
        totals = {key: totals.get(key, 0) + value for key, value in share.items()}
        running[t] = totals
    return running


@pytest.mark.parametrize("block_columns", [1, 12, bptt.fast.BLOCK_COLUMNS])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_splits_hand_over_the_course_running_totals_and_change_nothing_else(monkeypatch, block_columns, cell):
    """At each split on_block sees the totals of the steps from it to T_x-1, which the course loop's own
    running sums give; the returned gradients are the course backward's."""
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", block_columns)
    n_x, n_a, m, T_x = 3, 4, 2, 17
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed=5)
    if cell == "rnn":
        caches, kernel, backward = rnn_forward(x, a0, parameters)[2], backward_in_blocks, rnn_backward
    else:
        caches, kernel, backward = lstm_forward(x, a0, parameters)[3], lstm_backward_in_blocks, lstm_backward
    seen = {}
    got = kernel(da, caches, block_bounds(T_x, m), None,
                 lambda t0, totals: seen.setdefault(t0, {k: v.copy() for k, v in totals.items()}), None, (13, 5, 4))
    assert {13, 5, 4} <= set(seen)
    running = course_running_totals(cell, da, caches)
    for t0, totals in seen.items():
        for key, value in totals.items():
            np.testing.assert_allclose(value, running[t0][key], rtol=1e-12, atol=1e-14, err_msg=f"{key} after t0={t0}")
    expected = backward(da, caches)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-14 * np.abs(value).max(), err_msg=key)


@pytest.mark.parametrize("block_columns", [1, 12, bptt.fast.BLOCK_COLUMNS])  # more blocks than checkpoints, fewer
@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 5, 4, 17), (5, 3, 1, 2), (2, 2, 3, 1), (2, 3, 2, 40)])
def test_traced_course_code_matches_the_line_by_line_loop_at_every_step(monkeypatch, block_columns, n_x, n_a, m, T_x):
    """The correct code is traced on the fast kernel; an equal but distinct code object takes the loop."""
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", block_columns)
    x, a0, parameters, da = random_case("rnn", n_x, n_a, m, T_x, seed=3)
    caches = rnn_forward(x, a0, parameters)[2]
    same_code = replace(RNNCode(), dz=lambda da_next, a_next, a_prev: da_next * (1 - a_next**2))
    fast, loop = trace_rnn(da, caches), trace_rnn(da, caches, same_code)
    assert fast.order == loop.order
    for got, want in zip(fast.steps(), loop.steps()):
        for part in ("inputs", "outputs", "totals"):
            assert list(getattr(got, part)) == list(getattr(want, part))
            for key, value in getattr(want, part).items():
                np.testing.assert_allclose(getattr(got, part)[key], value, rtol=1e-11, atol=1e-13, err_msg=key)
    for t in (0, T_x - 1, T_x // 2):
        for key, value in loop.step(t).totals.items():
            np.testing.assert_allclose(fast.step(t).totals[key], value, rtol=1e-11, atol=1e-13, err_msg=key)
    assert fast.first_divergence(loop) is None
    assert fast.nbytes <= loop.nbytes
