"""Every catalog bug does what the catalog says it does.

The strongest check here is textual: put the bug's wrong line into the reference source in
place of the right line, run that module, and the executable variant must give the same
gradients (or raise the same error, with the same shapes).
"""

import inspect

import numpy as np
import pytest

import bptt.gru
import bptt.lstm
import bptt.rnn
from bptt import BUGS, bugs_for, get_bug, lstm_forward, lstm_forward_with, rnn_forward, trace_lstm, trace_rnn
from bptt.gru import gru_forward
from bptt.gru_trace import trace_gru
from bptt.trace import differs
from helpers import random_case

REQUIRED = {
    "rnn": ["missing-da-t", "missing-da-prev", "overwrite-not-accumulate", "da0-not-set", "forward-order",
            "wrong-cache", "tanh-twice", "no-transpose-waa", "dwaa-transposed", "no-transpose-wax",
            "dba-no-keepdims", "divide-by-m"],
    "lstm": ["lstm-no-carry", "lstm-dc-not-carried", "lstm-c-view", "lstm-full-weights", "lstm-tanh-c"],
    "gru": ["gru-missing-da-t", "gru-z-swapped", "gru-reset-after-matmul", "gru-no-direct-path",
            "gru-overwrite-not-accumulate"],
}
MODULES = {"rnn": bptt.rnn, "lstm": bptt.lstm, "gru": bptt.gru}
N_X, N_A, M, T_X = 3, 5, 4, 4  # all different, so a transpose cannot hide behind a square shape


def run_variant(bug, seed=0):
    """The bug's executable variant on a non-square case: (trace, correct trace, forward outputs)."""
    x, a0, parameters, da = random_case(bug.cell, N_X, N_A, M, T_X, seed)
    if bug.cell == "rnn":
        caches = rnn_forward(x, a0, parameters)[2]
        return trace_rnn(da, caches, bug.variant), trace_rnn(da, caches), None
    if bug.cell == "gru":
        caches = gru_forward(x, a0, parameters)[2]
        return trace_gru(da, caches, bug.variant), trace_gru(da, caches), None
    right_caches = lstm_forward(x, a0, parameters)[3]
    a, y, c, caches = lstm_forward_with(bug.variant, x, a0, parameters)
    return trace_lstm(da, caches, bug.variant), trace_lstm(da, right_caches), (a, y, c)


def mutated_module(bug):
    """The reference module's source with the bug's right lines swapped for its wrong lines."""
    source = inspect.getsource(MODULES[bug.cell]).replace("from .activations", "from bptt.activations")
    rights, wrongs = bug.right.split("\n"), bug.wrong.split("\n") if bug.wrong else None
    for i, right in enumerate(rights):
        assert source.count(right) == 1, right
        source = source.replace(right, wrongs[i] if wrongs else "pass")
    namespace = {"m": M}  # divide-by-m's wrong lines use the student's own m = xt.shape[1]
    exec(compile(source, f"<{bug.id}>", "exec"), namespace)
    return namespace


def test_catalog_has_every_required_id_once():
    ids = [bug.id for bug in BUGS]
    assert len(ids) == len(set(ids))
    for cell, required in REQUIRED.items():
        assert set(required) <= {bug.id for bug in bugs_for(cell)}


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_entry_is_complete_and_its_right_line_is_in_the_reference_code(bug):
    source = inspect.getsource(getattr(MODULES[bug.cell], bug.function))
    for line in bug.right.split("\n"):
        assert line in source, f"{bug.id}: {line!r} is not in {bug.function}"
    assert bug.title and bug.symptom and bug.hint
    assert 2 <= bug.why.count(". ") + 1 <= 4, "two or three plain sentences"
    assert bug.wrong == "" or len(bug.wrong.split("\n")) == len(bug.right.split("\n"))
    assert get_bug(bug.id) is bug


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
@pytest.mark.parametrize("seed", [0, 1])
def test_variant_behaves_exactly_like_the_wrong_line(bug, seed):
    x, a0, parameters, da = random_case(bug.cell, N_X, N_A, M, T_X, seed)
    mutated = mutated_module(bug)
    trace = run_variant(bug, seed)[0]
    if bug.cell in ("rnn", "gru"):
        caches = mutated[f"{bug.cell}_forward"](x, a0, parameters)[2]
        backward = mutated[f"{bug.cell}_backward"]
    else:
        caches = mutated["lstm_forward"](x, a0, parameters)[3]
        backward = mutated["lstm_backward"]
    if bug.raises:
        with pytest.raises(Exception) as raised:
            backward(da, caches)
        assert (type(raised.value).__name__, str(raised.value)) == (trace.error.kind, trace.error.message)
        return
    expected = backward(da, caches)
    got = trace.gradients()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-11, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_variant_shows_its_documented_symptom(bug):
    trace, correct, _ = run_variant(bug)
    divergence = trace.first_divergence(correct)
    scope, quantity, index = bug.first
    t = None if index is None else range(T_X)[index]
    assert (divergence.scope, divergence.quantity, divergence.t) == (scope, quantity, t)
    if bug.raises:
        assert trace.error.kind == bug.raises
        return
    assert trace.error is None
    got, want = trace.gradients(), correct.gradients()
    assert tuple(key for key in want if differs(got[key], want[key])) == bug.wrong_keys
    for key in want:
        assert got[key].shape == want[key].shape, f"{bug.id} changes the shape of {key}"


def test_missing_da_t_gives_exact_zeros_with_the_right_shapes():
    trace, correct, _ = run_variant(get_bug("missing-da-t"))
    for key, value in trace.gradients().items():
        assert value.shape == correct.gradients()[key].shape
        assert not np.any(value), key
    for step in trace.steps():
        assert not np.any(step.inputs["da_next"]) and np.any(step.inputs["da_t"])


def test_divide_by_m_gives_exactly_one_mth_of_the_weights():
    trace, correct, _ = run_variant(get_bug("divide-by-m"))
    got, want = trace.gradients(), correct.gradients()
    for key in ("dWax", "dWaa", "dba"):
        np.testing.assert_allclose(got[key], want[key] / M, rtol=1e-13, atol=1e-15)
    for key in ("dx", "da0"):
        np.testing.assert_array_equal(got[key], want[key])


def test_dwaa_transposed_gives_exactly_the_transpose():
    trace, correct, _ = run_variant(get_bug("dwaa-transposed"))
    np.testing.assert_allclose(trace.gradients()["dWaa"], correct.gradients()["dWaa"].T, rtol=1e-13, atol=1e-14)


def test_overwrite_keeps_only_the_last_step_the_loop_ran():
    trace, correct, _ = run_variant(get_bug("overwrite-not-accumulate"))
    share_of_t0 = correct.step(0).outputs
    for key in ("dWax", "dWaa", "dba"):
        np.testing.assert_allclose(trace.gradients()[key], share_of_t0[key], rtol=1e-13)


def test_lstm_c_view_has_a_correct_forward_and_a_wrong_backward():
    bug = get_bug("lstm-c-view")
    x, a0, parameters, da = random_case("lstm", N_X, N_A, M, T_X)
    a, y, c, caches = lstm_forward_with(bug.variant, x, a0, parameters)
    a_ref, y_ref, c_ref, ref_caches = lstm_forward(x, a0, parameters)
    for got, want in ((a, a_ref), (y, y_ref), (c, c_ref)):
        np.testing.assert_array_equal(got, want)
    assert not np.any(ref_caches[0][0][3]) and np.any(caches[0][0][3])  # step 0's cached c_prev was overwritten
    np.testing.assert_array_equal(caches[0][0][3], c[:, :, 0])
    assert differs(trace_lstm(da, caches).gradients()["dWf"], trace_lstm(da, ref_caches).gradients()["dWf"])


def test_no_transpose_waa_is_silent_because_waa_is_square():
    trace, correct, _ = run_variant(get_bug("no-transpose-waa"))
    assert trace.error is None
    assert all(v.shape == correct.gradients()[k].shape for k, v in trace.gradients().items())


def test_raising_variants_stop_at_the_first_step_with_numpys_message():
    wax = run_variant(get_bug("no-transpose-wax"))[0].error
    assert (wax.t, wax.kind) == (T_X - 1, "ValueError")
    assert f"shapes ({N_A},{N_X}) and ({N_A},{M}) not aligned" in wax.message
    full = run_variant(get_bug("lstm-full-weights"))[0].error
    assert f"from shape ({N_A + N_X},{M}) into shape ({N_X},{M})" in full.message


def test_unknown_id_names_the_known_ones():
    with pytest.raises(KeyError, match="missing-da-t"):
        get_bug("no-such-bug")
