"""The course's backward functions agree with central differences of L = sum(da * a)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt import gradient_check, numerical_gradients, rnn_backward, rnn_forward
from bptt.catalog import get_bug
from bptt.rnn_trace import trace_rnn
from helpers import random_case

SHAPES = [(3, 5, 10, 4), (4, 2, 3, 3), (2, 3, 1, 5), (3, 4, 2, 1), (1, 1, 1, 1), (5, 5, 2, 3)]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", SHAPES)
def test_backward_matches_finite_differences(cell, n_x, n_a, m, T_x):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x)
    check = gradient_check(cell, x, a0, parameters, da)
    assert check.max_error < 1e-7, check.verdict
    assert check.verdict.startswith("OK")
    gates = {"lstm": "fico", "gru": "rzh"}.get(cell)
    expected = {"dx", "da0"} | ({"dWax", "dWaa", "dba"} if cell == "rnn" else {f"d{w}{g}" for w in "Wb" for g in gates})
    assert set(check.per_parameter) == expected


@settings(max_examples=15, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    n_x=st.integers(1, 4), n_a=st.integers(1, 4), m=st.integers(1, 3), T_x=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_backward_matches_finite_differences_on_any_small_shape(cell, n_x, n_a, m, T_x, seed):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    assert gradient_check(cell, x, a0, parameters, da).max_error < 1e-6


def test_finite_differences_cover_only_the_steps_da_covers():
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 5)
    grads = numerical_gradients("rnn", x, a0, parameters, da[:, :, :3])
    assert grads["dx"].shape == (3, 2, 3)


def test_gradient_check_catches_a_wrong_backward():
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 3)
    buggy = lambda da, caches: trace_rnn(da, caches, get_bug("no-transpose-waa").variant).gradients()  # noqa: E731
    check = gradient_check("rnn", x, a0, parameters, da, backward=buggy)
    assert check.verdict.startswith("WRONG")
    assert check.per_parameter["dWaa"] > 1e-3
    assert check.per_entry["dWaa"].shape == (4, 4)


def test_gradient_check_reports_a_shape_mismatch_as_infinite():
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 3)

    def flat_dba(da, caches):
        grads = rnn_backward(da, caches)
        return grads | {"dba": grads["dba"].ravel()}

    check = gradient_check("rnn", x, a0, parameters, da, backward=flat_dba)
    assert check.per_parameter["dba"] == float("inf")
    assert "dba" in check.verdict


def test_gradient_check_reports_a_missing_key_as_infinite():
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 3)
    check = gradient_check("rnn", x, a0, parameters, da, backward=lambda da, caches: {
        k: v for k, v in rnn_backward(da, caches).items() if k != "da0"})
    assert check.per_parameter["da0"] == float("inf") and "da0" in check.verdict


def test_course_backward_is_linear_in_da():
    """Independent of finite differences: the backward is a linear map of da."""
    x, a0, parameters, da = random_case("rnn", 3, 4, 2, 4)
    caches = rnn_forward(x, a0, parameters)[2]
    other = np.random.RandomState(7).randn(*da.shape)
    g1, g2, g12 = rnn_backward(da, caches), rnn_backward(other, caches), rnn_backward(2 * da + other, caches)
    for key in g1:
        np.testing.assert_allclose(g12[key], 2 * g1[key] + g2[key], rtol=1e-12, atol=1e-12)
