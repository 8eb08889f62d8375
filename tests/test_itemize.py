"""Itemized gradients: each share is the course's backward on one column of da, and they sum to the total."""

import numpy as np
import pytest

from bptt import (
    BUGS, RunConfig, bugs_for, code_for, gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_backward,
    rnn_forward, run,
)
from bptt.itemize import GRU_KEYS, LSTM_KEYS, RNN_KEYS, itemize, size_problem
from helpers import random_case

SHAPES = [(3, 5, 4, 6), (2, 3, 1, 1), (4, 2, 3, 9), (1, 1, 2, 3)]


def case(cell, n_x, n_a, m, T_x, seed=0):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    if cell == "rnn":
        return da, rnn_forward(x, a0, parameters)[2], rnn_backward
    if cell == "gru":
        return da, gru_forward(x, a0, parameters)[2], gru_backward
    return da, lstm_forward(x, a0, parameters)[3], lstm_backward


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_each_share_is_the_course_backward_on_that_column_alone(cell, n_x, n_a, m, T_x):
    da, caches, backward = case(cell, n_x, n_a, m, T_x)
    itemized = itemize(da, caches, cell)
    assert itemized.keys == {"rnn": RNN_KEYS, "lstm": LSTM_KEYS, "gru": GRU_KEYS}[cell]
    for s in range(T_x):
        only_s = np.zeros_like(da)
        only_s[:, :, s] = da[:, :, s]
        expected = backward(only_s, caches)
        for key in itemized.keys:
            np.testing.assert_allclose(itemized.shares[key][s], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_shares_sum_to_the_total_and_fractions_to_one(cell, n_x, n_a, m, T_x):
    da, caches, backward = case(cell, n_x, n_a, m, T_x, seed=3)
    itemized = itemize(da, caches, cell)
    total = backward(da, caches)
    for key in itemized.keys:
        np.testing.assert_allclose(itemized.total(key), total[key], rtol=1e-10, atol=1e-12, err_msg=key)
        # the LSTM's c<0> is zero, so with T_x = 1 the forget gate gets no gradient at all
        expected_sum = 1.0 if np.any(total[key]) else 0.0
        np.testing.assert_allclose(itemized.fractions(key).sum(), expected_sum, rtol=1e-9)
        np.testing.assert_allclose(itemized.norms(key), [np.linalg.norm(v) for v in itemized.shares[key]])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_source_reaches_only_its_own_step_and_earlier_ones(cell):
    da, caches, _ = case(cell, 3, 4, 2, 6, seed=1)
    itemized = itemize(da, caches, cell)
    for key in itemized.keys:
        by_step = itemized.by_step[key]  # [source, step]
        assert np.all(np.triu(by_step, k=1).T == 0), key  # step t > s never sees source s
    # a source always reaches its own step (the forget gate excepted at t = 0, where c_prev is zero)
    assert np.all(np.diag(itemized.by_step[{"rnn": "dWaa", "lstm": "dWo", "gru": "dWh"}[cell]]) > 0)


def test_vanishing_gradients_leave_the_early_steps_almost_nothing():
    vanishing = run(RunConfig(scenario="vanishing", T_x=25, scale=0.5))
    itemized = itemize(vanishing.da, vanishing.caches, "rnn")
    reach = itemized.by_step["dWaa"][-1]  # the only loss is at the last step
    assert reach[0] < 1e-4 * reach[-1]
    np.testing.assert_allclose(itemized.fractions("dWaa")[-1], 1.0)  # da is zero at every other step


@pytest.mark.parametrize("bug", [b for b in BUGS if not b.raises], ids=lambda b: b.id)
def test_a_bugs_shares_sum_to_the_buggy_gradients(bug):
    buggy = run(RunConfig(cell=bug.cell, scenario="classroom", bug=bug.id))
    itemized = itemize(buggy.da, buggy.caches, bug.cell, code_for(buggy.config))
    grads = buggy.trace.gradients()
    for key in itemized.keys:
        np.testing.assert_allclose(itemized.total(key), grads[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_without_the_carried_gradient_each_loss_feeds_only_its_own_step():
    buggy = run(RunConfig(scenario="classroom", bug="missing-da-prev"))
    itemized = itemize(buggy.da, buggy.caches, "rnn", code_for(buggy.config))
    by_step = itemized.by_step["dWaa"]
    assert np.all(by_step[~np.eye(len(by_step), dtype=bool)] == 0)
    for step in buggy.trace.steps():
        np.testing.assert_allclose(itemized.shares["dWaa"][step.t], step.outputs["dWaa"], atol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_correct_code_passed_as_a_variant_gives_the_same_shares(cell):
    correct = run(RunConfig(cell=cell, scenario="classroom"))
    fast = itemize(correct.da, correct.caches, cell)
    traced_path = itemize(correct.da, correct.caches, cell, code_for(RunConfig(cell=cell, bug=bugs_for(cell)[0].id)))
    assert not np.allclose(traced_path.total(fast.keys[0]), fast.total(fast.keys[0]))  # the bug really ran
    same = itemize(correct.da, correct.caches, cell, code_for(RunConfig(cell=cell)))
    for key in fast.keys:
        np.testing.assert_array_equal(same.shares[key], fast.shares[key])


@pytest.mark.parametrize("bug", [b for b in BUGS if b.raises], ids=lambda b: b.id)
def test_a_raising_bug_is_a_readable_error(bug):
    buggy = run(RunConfig(cell=bug.cell, scenario="classroom", bug=bug.id))
    with pytest.raises(ValueError, match="raises at t = "):
        itemize(buggy.da, buggy.caches, bug.cell, code_for(buggy.config))


@pytest.mark.parametrize("cell, sizes, ok", [
    ("rnn", (2, 8, 4, 25), True),
    ("lstm", (2, 8, 4, 100), True),
    ("rnn", (2, 8, 4, 101), False),
    ("lstm", (256, 512, 128, 50), False),
    ("gru", (2, 8, 4, 100), True),
    ("gru", (256, 512, 128, 50), False),
])
def test_sizes_beyond_the_classroom_get_a_message(cell, sizes, ok):
    problem = size_problem(cell, *sizes)
    assert (problem is None) == ok
    assert problem is None or "T_x" in problem


def test_itemize_refuses_a_long_sequence_in_words():
    long = run(RunConfig(scenario="classroom", T_x=101))
    with pytest.raises(ValueError, match="use T_x ≤ 100"):
        itemize(long.da, long.caches, "rnn")
