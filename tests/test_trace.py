"""The traced backward: consistent at every step, equal to the course's code, small in memory."""

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from bptt import (
    LSTMCode, RNNCode, lstm_backward, lstm_cell_backward, lstm_forward, rnn_backward, rnn_cell_backward,
    rnn_forward, trace_lstm, trace_rnn,
)
from bptt.trace import MAX_MOVES, N_CHECKPOINTS, checkpoint_ends, differs, max_abs_error
from helpers import random_case

ROOT = Path(__file__).resolve().parents[1]

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


MEMORY_SIZES = [(16, 40, 8, 60), (48, 16, 4, 120), (5, 40, 3, 90), (64, 8, 2, 30)]  # n_x ≠ n_a/2; n_x > n_a twice


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("n_x, n_a, m, T_x", MEMORY_SIZES)
def test_trace_memory_meets_its_stated_bound_as_counted_and_as_measured(cell, n_x, n_a, m, T_x):
    """The bound counts the per-step vectors, dx, da0, the checkpoints and the step shown last; tracemalloc,
    which sees every allocation the trace keeps, agrees. It is never T_x copies of the weight gradients."""
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x)
    caches = rnn_forward(x, a0, parameters)[2] if cell == "rnn" else lstm_forward(x, a0, parameters)[3]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        trace = trace_rnn(da, caches) if cell == "rnn" else trace_lstm(da, caches)
        for t in (T_x - 2, T_x - 3, T_x // 2):  # a jump and one-step moves: the shown step is kept
            trace.step(t)
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    python_objects = 200 * T_x + 20_000  # the order tuple, the position dict, the Step and its dicts
    assert trace.nbytes <= trace.nbytes_bound
    assert retained <= trace.nbytes_bound + python_objects, f"retained {retained:,} B, bound {trace.nbytes_bound:,} B"
    weights = n_a * n_a + n_a * n_x + n_a if cell == "rnn" else 4 * (n_a * n_a + n_a * n_x + n_a)
    assert trace.nbytes_bound < T_x * weights * 8


def test_the_memory_bound_is_tight_enough_to_catch_a_matrix_per_step():
    """The check above can fail: a trace that also kept one (n_a, n_a) matrix per step would be over."""
    trace, _, _ = traced("rnn", 16, 40, 8, 60)
    assert trace.nbytes + 60 * 40 * 40 * 8 > trace.nbytes_bound


def course_running_totals(cell: str, da: np.ndarray, caches: tuple) -> dict:
    """t -> the course loop's running weight and bias totals after step t, summed from the course's cell."""
    n_a, m, T_x = da.shape
    da_prevt, dc_prevt, running, after = np.zeros((n_a, m)), np.zeros((n_a, m)), None, {}
    for t in reversed(range(T_x)):
        if cell == "rnn":
            g = rnn_cell_backward(da[:, :, t] + da_prevt, caches[0][t])
        else:
            g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[0][t])
            dc_prevt = g["dc_prev"]
        da_prevt = g["da_prev"]
        shares = {key: value for key, value in g.items() if key.startswith(("dW", "db"))}
        running = shares if running is None else {key: running[key] + shares[key] for key in shares}
        after[t] = running
    return after


def walk(kind: str, T_x: int) -> list:
    """Forward time indices to visit: one-step moves, with a jump or two."""
    rng = np.random.default_rng(4)
    if kind == "on":
        return list(range(T_x - 1, -1, -1))
    if kind == "back":
        return list(range(T_x))
    if kind == "to-and-fro":  # more moves in a row than MAX_MOVES, none of them on a checkpoint
        return [T_x // 2 + (i % 2) for i in range(3 * MAX_MOVES)]
    ts, t = [], T_x // 2
    for _ in range(4 * T_x):
        t = int(np.clip(t + rng.choice([-1, 1]) if rng.random() > 0.05 else rng.integers(T_x), 0, T_x - 1))
        ts.append(t)
    return ts


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("kind", ["on", "back", "to-and-fro", "random"])
def test_stepping_by_one_gives_the_course_totals_and_what_a_fresh_trace_computes(cell, kind):
    n_x, n_a, m, T_x = 3, 5, 2, 41
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed=8)
    caches = rnn_forward(x, a0, parameters)[2] if cell == "rnn" else lstm_forward(x, a0, parameters)[3]
    make = trace_rnn if cell == "rnn" else trace_lstm
    trace, course = make(da, caches), course_running_totals(cell, da, caches)
    for t in walk(kind, T_x):
        step, fresh = trace.step(t), make(da, caches).step(t)  # a fresh trace has no neighbour to start from
        for key, value in course[t].items():
            np.testing.assert_allclose(step.totals[key], value, rtol=1e-10, atol=1e-12, err_msg=f"{key} at t={t}")
            np.testing.assert_allclose(step.totals[key], fresh.totals[key], rtol=1e-11, atol=1e-13)
        for part in ("inputs", "outputs"):
            for key, value in getattr(fresh, part).items():
                np.testing.assert_allclose(getattr(step, part)[key], value, rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_one_step_move_does_not_sum_again_from_a_checkpoint(cell, monkeypatch):
    trace, _, _ = traced(cell, 3, 4, 2, 40)
    trace.step(24)
    sums = []
    monkeypatch.setattr(trace, "_matrix_totals", lambda k: sums.append(k))
    for t in (23, 22, 23, 24, 23, 22, 21):  # checkpoints end on t = 35, 30, 25, 20, ...: none of these
        trace.step(t)
    assert sums == []


def test_stepping_through_inf_and_nan_gives_what_a_fresh_trace_computes():
    """Inf - Inf is NaN: where a total is not finite, the move falls back to the exact sum."""
    x, a0, parameters, da = random_case("rnn", 2, 3, 1, 30, seed=2)
    da[:, :, 17] = np.inf
    caches = rnn_forward(x, a0, parameters)[2]
    trace = trace_rnn(da, caches)
    for t in list(range(29, -1, -1)) + list(range(30)):
        step, fresh = trace.step(t), trace_rnn(da, caches).step(t)
        for key in ("dWax", "dWaa", "dba"):
            assert max_abs_error(step.totals[key], fresh.totals[key]) <= 1e-12 * (1 + np.nanmax(np.abs(
                np.where(np.isfinite(fresh.totals[key]), fresh.totals[key], 0)))), f"{key} at t={t}"


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_step_shown_cannot_be_written_to(cell):
    """The next step's totals are derived from this one's: writing into them would corrupt it, so numpy refuses."""
    trace, _, _ = traced(cell, 3, 4, 2, 12)
    step = trace.step(5)
    weight = "dWaa" if cell == "rnn" else "dWf"
    with pytest.raises(ValueError, match="read-only"):
        step.totals[weight][0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        step.outputs[weight] += 1.0


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


@pytest.mark.parametrize("positions", [0, 1, 2, 7, 8, 9, 100, 199, 200])
def test_checkpoints_are_evenly_spaced_and_end_on_the_last_step(positions):
    ends = checkpoint_ends(positions)
    assert ends == tuple(sorted({i * positions // N_CHECKPOINTS for i in range(1, N_CHECKPOINTS + 1)} - {0}))
    assert ends[-1:] == ((positions,) if positions else ())


def test_a_run_and_its_steps_load_no_masked_arrays():
    """numpy.ma costs a quarter of a second on a cold start without bytecode; nothing on the run path needs it."""
    script = (
        "import sys\n"
        "from bptt import RunConfig, run\n"
        "for cell in ('rnn', 'lstm', 'gru'):\n"
        "    trace = run(RunConfig(cell=cell, scenario='classroom', T_x=20)).trace\n"
        "    trace.step(3), trace.gradients(), trace.norms('da_prevt'), list(trace.steps())\n"
        "print(sorted(m for m in sys.modules if m == 'numpy.ma' or m.startswith('numpy.ma.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
