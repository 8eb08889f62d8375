"""Every GRU bug in the catalog shows the symptom its entry states, measured on the executable variant.

test_catalog.py already holds each variant to its wrong lines and to its documented first divergence
and wrong gradients; these tests measure the rest of what each `symptom` sentence claims.
"""

from dataclasses import replace

import numpy as np
import pytest

from bptt import SCENARIOS, bugs_for, get_bug, gru_forward, run, trace_gru
from bptt.trace import differs
from helpers import random_case

N_X, N_A, M, T_X = 3, 5, 4, 4
LAST = T_X - 1  # the first step the loop runs
MATRICES = ("dWr", "dbr", "dWz", "dbz", "dWh", "dbh")


def traces(bug_id: str, seed: int = 0) -> tuple:
    """(buggy trace, correct trace) on one random non-square case."""
    x, a0, parameters, da = random_case("gru", N_X, N_A, M, T_X, seed)
    caches = gru_forward(x, a0, parameters)[2]
    return trace_gru(da, caches, get_bug(bug_id).variant), trace_gru(da, caches)


def differing(got: dict, want: dict) -> list:
    return [key for key in want if differs(got[key], want[key])]


def test_the_catalog_has_at_least_four_gru_bugs_with_gru_ids():
    bugs = bugs_for("gru")
    assert len(bugs) >= 4
    assert all(bug.id.startswith("gru-") and bug.raises is None for bug in bugs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_missing_da_t_gives_exact_zeros_with_the_right_shapes(seed):
    buggy, correct = traces("gru-missing-da-t", seed)
    for key, value in buggy.gradients().items():
        assert value.shape == correct.gradients()[key].shape
        assert not np.any(value), key


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_z_swapped_negates_the_first_steps_update_gate_gradients(seed):
    buggy, correct = traces("gru-z-swapped", seed)
    assert buggy.error is None
    got, want = buggy.step(LAST).outputs, correct.step(LAST).outputs
    for key in ("dWz", "dbz"):
        np.testing.assert_allclose(got[key], -want[key], rtol=1e-12, atol=1e-14)
    assert differing(buggy.gradients(), correct.gradients()) == list(correct.final_keys)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reset_after_matmul_is_off_at_the_last_step_only_where_the_reset_gate_is(seed):
    buggy, correct = traces("gru-reset-after-matmul", seed)
    got, want = buggy.step(LAST).outputs, correct.step(LAST).outputs
    assert [key for key in ("dxt", "da_prev") + MATRICES if differs(got[key], want[key])] == [
        "dxt", "da_prev", "dWr", "dbr"]
    assert differing(buggy.gradients(), correct.gradients()) == list(correct.final_keys)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_direct_path_is_right_at_the_last_step_but_for_da_prev(seed):
    buggy, correct = traces("gru-no-direct-path", seed)
    got, want = buggy.step(LAST).outputs, correct.step(LAST).outputs
    assert [key for key in ("dxt", "da_prev") + MATRICES if differs(got[key], want[key])] == ["da_prev"]


@pytest.mark.parametrize("scenario", ["course", "classroom", "echo", "vanishing"])
def test_no_direct_path_carries_back_a_fraction_of_the_gradient_at_every_step(scenario):
    config = replace(SCENARIOS[scenario].defaults, cell="gru")
    right = run(config).trace.norms("da_prevt")[:-1]  # nothing is carried into the last step
    wrong = run(replace(config, bug="gru-no-direct-path")).trace.norms("da_prevt")[:-1]
    assert np.all(wrong < right)
    if scenario == "vanishing":  # the update gate holds the state: the direct path was nearly all of it
        assert wrong[-4] < 1e-3 * right[-4] and wrong[0] < 1e-12 * right[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_overwrite_keeps_only_step_0s_share_and_leaves_dx_and_da0_alone(seed):
    buggy, correct = traces("gru-overwrite-not-accumulate", seed)
    got, want = buggy.gradients(), correct.gradients()
    share_of_t0 = correct.step(0).outputs
    for key in MATRICES:
        np.testing.assert_allclose(got[key], share_of_t0[key], rtol=1e-13, atol=1e-15)
    for key in ("dx", "da0"):
        np.testing.assert_array_equal(got[key], want[key])
