"""Truncated BPTT against independent math: chunked course backwards, finite differences of each loss term, exact
expectations over every cut pattern, and the figures the pages show."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

import bptt.fast
from bptt import (
    SCENARIOS, GRUCode, LSTMCode, RNNCode, gru_backward, gru_cell_forward, gru_forward, lstm_backward,
    lstm_cell_forward, lstm_forward, rnn_backward, rnn_cell_forward, rnn_forward, run, trace_gru, trace_lstm, trace_rnn,
    validate,
)
from bptt.fast import backward_in_blocks, block_bounds
from bptt.fast_lstm import lstm_backward_in_blocks
from bptt.truncation import (
    CarryFactors, carried_norms, carry_factors, compare, cut_steps, explosion_stopped, recurrent_bias,
    relative_errors, truncated,
)
from helpers import random_case

CELLS = ["rnn", "lstm", "gru"]
FORWARD = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}
BACKWARD = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}
TRACE = {"rnn": trace_rnn, "lstm": trace_lstm, "gru": trace_gru}
CODE = {"rnn": RNNCode(), "lstm": LSTMCode(), "gru": GRUCode()}
# an equal but distinct code object, which takes the line-by-line loop instead of the fast kernel
LOOP_CODE = {
    "rnn": replace(RNNCode(), dz=lambda da_next, a_next, a_prev: da_next * (1 - a_next**2)),
    "lstm": replace(LSTMCode(), dtanh_c=lambda c_next: 1 - np.tanh(c_next) ** 2),
    "gru": GRUCode(),
}
PATHS = {"rnn": ["fast", "loop"], "lstm": ["fast", "loop"], "gru": ["loop"]}
CELL_PATHS = [(cell, path) for cell in CELLS for path in PATHS[cell]]
RECURRENT = {"rnn": ("dWaa",), "lstm": ("dWf", "dWi", "dWc", "dWo"), "gru": ("dWr", "dWz", "dWh")}
PARAMETERS = {"rnn": ("Wax", "Waa", "ba"), "lstm": tuple(p + g for g in "fico" for p in "Wb"),
              "gru": tuple(p + g for g in "rzh" for p in "Wb")}


def case(cell, n_x=2, n_a=3, m=2, T_x=7, seed=0):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    return x, a0, parameters, da, FORWARD[cell](x, a0, parameters)[-1]


def traced(cell, path, da, caches, factors):
    base = CODE[cell] if path == "fast" else LOOP_CODE[cell]
    return TRACE[cell](da, caches, truncated(base, factors))


def assert_gradients_equal(got: dict, want: dict, rtol=1e-11):
    assert list(got) == list(want)
    for key, value in want.items():
        assert got[key].shape == value.shape, key
        np.testing.assert_allclose(got[key], value, rtol=rtol, atol=rtol * max(1.0, np.abs(value).max()), err_msg=key)


def chunked_backward(cell: str, da, caches, k: int) -> dict:
    """d2l's regular truncation, independently: the course's own backward run on each chunk of k steps alone.

    Detaching the state at the start of a chunk leaves the forward as it is, and makes the backward of each chunk
    start from nothing carried in; the chunk's weight gradients add up, its dx is its own columns, and only the
    first chunk's gradient into its initial state is da0 (the others flow into a detached state).
    """
    cell_caches, x = caches
    starts = range(0, da.shape[2], k)
    chunks = [BACKWARD[cell](da[:, :, s:s + k], (cell_caches[s:s + k], x[:, :, s:s + k])) for s in starts]
    whole = {"dx": np.concatenate([g["dx"] for g in chunks], axis=2), "da0": chunks[0]["da0"]}
    return {key: whole[key] if key in whole else sum(g[key] for g in chunks) for key in chunks[0]}


def per_step_forward(cell: str, x, a0, parameters: dict, step_parameters: dict) -> np.ndarray:
    """The forward with its own copy of the weights at each step (step_parameters[t] overrides parameters).

    Returns a (n_a, m, T_x)."""
    n_a, m, T_x = a0.shape[0], x.shape[1], x.shape[2]
    a = np.zeros((n_a, m, T_x))
    a_prev, c_prev = a0, np.zeros_like(a0)
    for t in range(T_x):
        p = step_parameters.get(t, parameters)
        if cell == "lstm":
            a_prev, c_prev, _, _ = lstm_cell_forward(x[:, :, t], a_prev, c_prev, p)
        else:
            a_prev = (rnn_cell_forward if cell == "rnn" else gru_cell_forward)(x[:, :, t], a_prev, p)[0]
        a[:, :, t] = a_prev
    return a


def path_weighted_gradients(cell: str, x, a0, parameters: dict, da, factors: np.ndarray, eps=1e-6) -> dict:
    """Truncated BPTT from its definition, by central differences.

    Loss term s, L_s = sum(da[:,:,s] * a[:,:,s]), reaches the weights used at step t ≤ s (and x[:,:,t]) only
    through the links carried into steps s-1, ..., t, each multiplied by its factor: so the truncated gradient is
    sum over s ≥ t of prod(factors[t:s]) * dL_s/d(weights at step t), the derivative taken by finite differences on
    a forward whose step t has its own copy of the weights. da0 is the same with t = 0, through a0.
    """
    T_x = x.shape[2]
    weight = np.array([[np.prod(factors[t:s]) if s >= t else 0.0 for t in range(T_x)] for s in range(T_x)])  # (s, t)

    def losses(step_parameters=None, x=x, a0=a0):
        a = per_step_forward(cell, x, a0, parameters, step_parameters or {})
        return np.einsum("amt,amt->t", da, a)  # (T_x,) each L_s

    def derivative(perturbed):  # perturbed(sign) -> the loss terms with the entry moved by sign * eps
        return (perturbed(+1) - perturbed(-1)) / (2 * eps)  # (T_x,) dL_s

    grads = {}
    for name in PARAMETERS[cell]:
        grad = np.zeros_like(parameters[name])
        for t in range(T_x):
            for index in np.ndindex(grad.shape):
                def perturbed(sign, t=t, index=index):
                    value = parameters[name].copy()
                    value[index] += sign * eps
                    return losses({t: {**parameters, name: value}})
                grad[index] += weight[:, t] @ derivative(perturbed)
        grads["d" + name] = grad
    dx = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        def perturbed(sign, index=index):
            moved = x.copy()
            moved[index] += sign * eps
            return losses(x=moved)
        dx[index] = weight[:, index[2]] @ derivative(perturbed)
    da0 = np.zeros_like(a0)
    for index in np.ndindex(a0.shape):
        def perturbed(sign, index=index):
            moved = a0.copy()
            moved[index] += sign * eps
            return losses(a0=moved)
        da0[index] = weight[:, 0] @ derivative(perturbed)
    return grads | {"dx": dx, "da0": da0}


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("T_x, k", [(7, 1), (7, 2), (7, 3), (6, 3), (5, 4), (1, 1), (9, 8)])
def test_regular_truncation_is_the_course_backward_run_on_each_chunk_alone(cell, path, T_x, k):
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=T_x + k)
    got = traced(cell, path, da, caches, carry_factors(T_x, k)).gradients()
    assert_gradients_equal(got, chunked_backward(cell, da, caches, k))


@pytest.mark.parametrize("block_columns", [1, 4, bptt.fast.BLOCK_COLUMNS])  # a block of one step, a few, all
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("T_x, k", [(9, 2), (9, 4), (12, 5)])
def test_the_fast_kernels_truncate_as_the_course_backward_on_chunks(monkeypatch, block_columns, cell, T_x, k):
    monkeypatch.setattr(bptt.fast, "BLOCK_COLUMNS", block_columns)
    x, a0, parameters, da, caches = case(cell, n_x=3, n_a=4, m=2, T_x=T_x, seed=k)
    kernel = backward_in_blocks if cell == "rnn" else lstm_backward_in_blocks
    got = kernel(da, caches, block_bounds(T_x, 2), None, None, carry_factors(T_x, k))
    assert_gradients_equal(got, chunked_backward(cell, da, caches, k))


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("factors", [
    (1.0, 0.0, 1.0, 1.0, 0.0),  # regular cuts at other places
    (3.0, 0.0, 1.5, 1.5, 1.0),  # randomized: kept links rescaled
    (0.5, -2.0, 0.0, 2.5, 1.0),  # any factor at all: the trace is linear in each link
])
def test_truncated_gradients_are_the_path_weighted_finite_differences_of_each_loss_term(cell, path, factors):
    x, a0, parameters, da, caches = case(cell, T_x=5, seed=11)
    code = replace(CODE[cell] if path == "fast" else LOOP_CODE[cell], carry=CarryFactors(factors))
    got = TRACE[cell](da, caches, code)
    want = path_weighted_gradients(cell, x, a0, parameters, da, np.array(factors))
    assert_gradients_equal(got.gradients(), {key: want[key] for key in got.gradients()}, rtol=1e-6)


def test_the_path_weighted_finite_differences_tell_a_wrong_factor_apart():
    """The check above can fail: a trace cut at step 2 does not match finite differences weighted as a cut at step 1."""
    x, a0, parameters, da, caches = case("rnn", T_x=5, seed=11)
    got = trace_rnn(da, caches, replace(RNNCode(), carry=CarryFactors((1.0, 1.0, 0.0, 1.0, 1.0)))).gradients()
    want = path_weighted_gradients("rnn", x, a0, parameters, da, np.array((1.0, 0.0, 1.0, 1.0, 1.0)))
    assert np.linalg.norm(got["dWaa"] - want["dWaa"]) > 1e-3 * np.linalg.norm(want["dWaa"])


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("T_x", [1, 4, 9])
def test_truncating_at_T_x_is_full_bptt_exactly(cell, path, T_x):
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=3)
    factors = carry_factors(T_x, T_x)
    assert np.array_equal(factors, np.ones(T_x)) and cut_steps(factors) == ()
    base = CODE[cell] if path == "fast" else LOOP_CODE[cell]
    assert truncated(base, factors) is base
    got = traced(cell, path, da, caches, factors).gradients()
    want = TRACE[cell](da, caches, base).gradients()
    for key in want:
        assert np.array_equal(got[key], want[key]), key
    assert_gradients_equal(got, BACKWARD[cell](da, caches))


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_randomized_truncation_is_unbiased_exactly_over_every_cut_pattern(cell, path, k):
    """The expectation, summed over all 2^(T_x-1) patterns of kept links with their probabilities, is full BPTT."""
    T_x, keep = 5, 1 - 1 / k
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=k)
    expected = None
    for kept in itertools.product([False, True], repeat=T_x - 1):
        probability = np.prod([keep if link else 1 - keep for link in kept])
        factors = np.array([1 / keep if link else 0.0 for link in kept] + [1.0])
        g = traced(cell, path, da, caches, factors).gradients()
        expected = {key: probability * v + (0 if expected is None else expected[key]) for key, v in g.items()}
    assert_gradients_equal(expected, BACKWARD[cell](da, caches), rtol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_randomized_truncation_averaged_over_seeds_is_full_bptt_and_unscaled_cuts_are_not(cell):
    """Over 1000 seeds the mean is within 5 standard errors of full BPTT in every entry; the same cuts without the
    1/p rescaling of the kept links fail that test (so it can fail)."""
    T_x, k, seeds = 6, 3, 1000
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=5)
    full = BACKWARD[cell](da, caches)
    samples = {"scaled": [], "unscaled": []}
    for seed in range(seeds):
        factors = carry_factors(T_x, k, randomized=True, seed=seed)
        for kind, f in (("scaled", factors), ("unscaled", np.minimum(factors, 1.0))):
            g = TRACE[cell](da, caches, truncated(CODE[cell], f)).gradients()
            samples[kind].append(np.concatenate([g[key].ravel() for key in full]))
    want = np.concatenate([full[key].ravel() for key in full])
    z = {}
    for kind, values in samples.items():
        values = np.array(values)  # (seeds, entries)
        standard_error = values.std(axis=0, ddof=1) / np.sqrt(seeds) + 1e-12
        z[kind] = np.max(np.abs(values.mean(axis=0) - want) / standard_error)
    assert z["scaled"] < 5, z
    assert z["unscaled"] > 20, z


@pytest.mark.parametrize("k", [2, 3, 8])
def test_randomized_chunks_are_k_steps_long_on_average(k):
    """Each link is cut with probability 1/k on its own: over many seeds, 1/k of the links within 4 standard errors."""
    T_x, seeds = 50, 400
    cuts = np.array([len(cut_steps(carry_factors(T_x, k, randomized=True, seed=seed))) for seed in range(seeds)])
    links = seeds * (T_x - 1)
    assert abs(cuts.sum() / links - 1 / k) < 4 * np.sqrt((1 / k) * (1 - 1 / k) / links)
    again = [carry_factors(T_x, k, randomized=True, seed=seed) for seed in (0, 0, 1)]
    assert np.array_equal(again[0], again[1]) and not np.array_equal(again[0], again[2])  # the draws are the seed's


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("T_x, k, randomized, seed", [
    (9, 3, False, 0), (8, 2, False, 0), (10, 3, True, 4), (7, 7, True, 2),
])
def test_the_cut_steps_reported_are_where_the_loop_hands_the_cell_nothing(cell, path, T_x, k, randomized, seed):
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=seed)
    factors = carry_factors(T_x, k, randomized, seed)
    cut = cut_steps(factors)
    if not randomized:  # d2l detaches the state at the start of each chunk of k steps, after the first
        assert cut == tuple(s - 1 for s in reversed(range(k, T_x, k)))
    trace = traced(cell, path, da, caches, factors)
    carried = ("da_prevt", "dc_prevt") if cell == "lstm" else ("da_prevt",)
    steps = list(trace.steps())
    for before, step in zip(steps, steps[1:]):  # before is step t + 1, which the loop ran first
        returned = [before.outputs[key.replace("prevt", "prev")] for key in carried]
        assert all(np.abs(r).max() > 0 for r in returned)
        for key, r in zip(carried, returned):
            if step.t in cut:
                assert np.array_equal(step.inputs[key], np.zeros_like(r)), (key, step.t)
            else:
                np.testing.assert_allclose(step.inputs[key], factors[step.t] * r, rtol=1e-12, err_msg=f"{key} {step.t}")
    for t in [*range(T_x), *reversed(range(T_x)), 0, T_x - 1, T_x // 2]:  # stepped to, one by one and by jumps
        shown, want = trace.step(t), steps[T_x - 1 - t]
        for part in ("inputs", "outputs"):
            for key, value in getattr(want, part).items():
                got = getattr(shown, part)[key]
                np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-14, err_msg=f"{key} at t={t}")
        for key in RECURRENT[cell]:
            np.testing.assert_allclose(shown.totals[key], want.totals[key], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("cell, path", CELL_PATHS)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_the_relative_error_is_the_recurrent_weights_distance_from_full_bptt(cell, path, k):
    T_x, n_a = 8, 3
    x, a0, parameters, da, caches = case(cell, n_a=n_a, T_x=T_x, seed=k)
    truncated_trace = traced(cell, path, da, caches, carry_factors(T_x, k))
    full_trace = TRACE[cell](da, caches)
    got, want = chunked_backward(cell, da, caches, k), BACKWARD[cell](da, caches)
    columns = (lambda g: g) if cell == "rnn" else (lambda g: g[:, :n_a])  # a gate's weights on a_prev
    difference = np.sqrt(sum(np.sum((columns(got[key]) - columns(want[key])) ** 2) for key in RECURRENT[cell]))
    size = np.sqrt(sum(np.sum(columns(want[key]) ** 2) for key in RECURRENT[cell]))
    assert recurrent_bias(truncated_trace, full_trace) == pytest.approx(difference / size, rel=1e-9)
    assert recurrent_bias(truncated_trace, full_trace) > 0.01  # cutting a link that carries something costs
    errors = relative_errors(truncated_trace, full_trace)
    assert list(errors) == list(want)
    for key in want:
        expected = np.linalg.norm(got[key] - want[key]) / np.linalg.norm(want[key])
        assert errors[key] == pytest.approx(expected, rel=1e-9, abs=1e-15), key
    assert recurrent_bias(full_trace, full_trace) == 0.0


@pytest.mark.parametrize("cell, scenario, explodes", [
    ("rnn", "exploding", True), ("lstm", "exploding", True), ("rnn", "vanishing", False), ("lstm", "vanishing", False),
    ("gru", "exploding", None), ("gru", "vanishing", None),  # the GRU's gates decide: only the definition is checked
])
def test_truncation_stops_the_explosion_and_has_nothing_to_stop_where_gradients_vanish(cell, scenario, explodes):
    """In the exploding scenario the full run's carried gradient grows past the largest the truncated run carries;
    in the vanishing one it never does. The steps are checked against norms read off the steps themselves."""
    k = 5
    config = replace(SCENARIOS[scenario].defaults, cell=cell)
    full, cut = run(config), run(replace(config, truncate=k))
    result = compare(cut.trace, full.trace)
    carried = ("da_prevt", "dc_prevt") if cell == "lstm" else ("da_prevt",)
    norms = {
        name: np.array([np.sqrt(sum(np.sum(s.inputs[key] ** 2) for key in carried)) for s in trace.steps()])[::-1]
        for name, trace in (("full", full.trace), ("cut", cut.trace))
    }  # (T_x,) in forward time
    np.testing.assert_allclose(result.full_norms, norms["full"], rtol=1e-12)
    np.testing.assert_allclose(result.truncated_norms, norms["cut"], rtol=1e-12)
    grown = tuple(t for t in reversed(range(config.T_x)) if norms["full"][t] > norms["cut"].max() * (1 + 1e-9))
    assert result.stopped == grown == explosion_stopped(cut.trace, full.trace)
    assert result.cut == cut_steps(carry_factors(config.T_x, k))
    if explodes is not None:
        assert bool(result.stopped) == explodes, result.stopped
    if explodes:  # from the first cut back to t = 0, at every step
        assert set(result.stopped) >= set(range(result.cut[0] + 1))


def test_the_carried_norms_of_the_lstm_count_the_cell_state_too():
    config = replace(SCENARIOS["classroom"].defaults, cell="lstm")
    trace = run(config).trace
    both = np.sqrt(trace.norms("da_prevt") ** 2 + trace.norms("dc_prevt") ** 2)
    np.testing.assert_allclose(carried_norms(trace), both, rtol=1e-12)
    assert np.all(carried_norms(trace)[:-1] > trace.norms("da_prevt")[:-1])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("scenario", ["course", "classroom", "echo"])
def test_a_run_with_truncate_runs_the_truncated_backward_on_unchanged_inputs(cell, scenario):
    config = replace(SCENARIOS[scenario].defaults, cell=cell)
    full, cut = run(config), run(replace(config, truncate=2))
    for name in ("x", "a0"):
        assert np.array_equal(getattr(full.inputs, name), getattr(cut.inputs, name))
    assert np.array_equal(full.da, cut.da)
    assert_gradients_equal(cut.trace.gradients(), chunked_backward(cell, cut.da, cut.caches, 2))
    first, again = run(replace(config, truncate=2, randomized=True)), run(replace(config, truncate=2, randomized=True))
    assert first.trace.code == again.trace.code  # the same draws from the same seed
    for key, value in first.trace.gradients().items():
        assert np.array_equal(value, again.trace.gradients()[key])


@pytest.mark.parametrize("changes, words", [
    ({"truncate": -1}, "truncate = -1 is out of range: use 0 for full BPTT or a whole number of steps from 1 to T_x"),
    ({"truncate": 6}, "truncate = 6 is out of range: use 0 for full BPTT or a whole number of steps from 1 to T_x = 5"),
    ({"truncate": 2.5}, "truncate = 2.5 is out of range"),
    ({"truncate": True}, "truncate = True is out of range"),
    ({"truncate": 0, "randomized": True},
     "randomized = True needs a mean chunk length (truncate) of at least 2 steps, not 0"),
    ({"truncate": 1, "randomized": True}, "Use truncate = 2 or more, or randomized = False"),
    ({"truncate": 3, "randomized": "yes"}, "randomized = 'yes' is not a yes/no value: use True or False"),
])
def test_a_bad_truncation_says_what_is_wrong_and_what_to_use(changes, words):
    config = replace(SCENARIOS["classroom"].defaults, **changes)
    with pytest.raises(ValueError) as error:
        validate(config)
    assert words in str(error.value)
    with pytest.raises(ValueError, match="truncate|randomized"):
        run(config)


@pytest.mark.parametrize("truncate, randomized", [(0, False), (1, False), (5, False), (2, True), (5, True)])
def test_a_good_truncation_passes_validation(truncate, randomized):
    config = replace(SCENARIOS["classroom"].defaults, truncate=truncate, randomized=randomized)
    assert validate(config) == config


@pytest.mark.parametrize("cell, path", CELL_PATHS)
def test_a_cut_is_exact_zeros_even_after_the_carried_gradient_overflowed(cell, path):
    """Detaching stops Inf and NaN too: 0 * Inf would be NaN and spread into every step before the cut."""
    T_x, k = 7, 3  # chunks [0, 3), [3, 6), [6, 7): the links into steps 5 and 2 are cut
    x, a0, parameters, da, caches = case(cell, T_x=T_x, seed=1)
    da[:, :, T_x - 1] = np.inf
    with np.errstate(all="ignore"):
        trace = traced(cell, path, da, caches, carry_factors(T_x, k))
        assert not np.all(np.isfinite(trace.step(T_x - 1).outputs["da_prev"]))  # what the cut stops
        carried = ("da_prevt", "dc_prevt") if cell == "lstm" else ("da_prevt",)
        for key in carried:
            assert np.array_equal(trace.step(5).inputs[key], np.zeros_like(da[:, :, 0])), key
        assert np.all(np.isfinite(trace.dx[:, :, : T_x - 1]))
        assert np.all(np.isfinite(trace.da0))
