"""bptt/notation.py: the conversions go both ways and agree with the homework's own code, every
catalog bug has lines in CS231n notation, and those lines, spliced into bptt/cs231n.py, do what the
course's variant does.
"""

import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bptt.cs231n
from bptt import (BUGS, get_bug, gru_backward, gru_forward, lstm_backward, lstm_forward, lstm_forward_with,
                  rnn_backward, rnn_forward, trace_gru, trace_lstm, trace_rnn)
from bptt import cs231n, notation
from bptt.figures.stepper_data import rows_for
from bptt.trace import differs
from helpers import random_case

N_X, N_A, M, T_X = 3, 5, 4, 4  # all different, so a transpose cannot hide behind a square shape
CELLS = ["rnn", "lstm", "gru"]
# a course name, whole: none may be left in anything shown in cs231n notation
COURSE_WORDS = re.compile(r"(?<![\w.])(a<t>|da\[:,:|dx\[:,:|da_prevt|da_prev|da_next|dc_prevt|dc_next|dc_prev|a_next|a_prev|"
                          r"c_next|c_prev|xt|dxt|da0|a0|dWax|dWaa|dba|Waa|Wax|ba|caches|zt|rt|ot|ft|cct|n_a|n_x|"
                          r"dW[fico]|db[fico]|W[fico]|b[fico]|dW[rz]|db[rzh]|W[rz]|b[rzh]|concat)(?!\w)")


def course_run(bug, seed: int) -> tuple:
    """(x, a0, parameters, da, the bug's traced backward, the correct one) on a non-square case."""
    x, a0, parameters, da = random_case(bug.cell, N_X, N_A, M, T_X, seed)
    if bug.cell in ("rnn", "gru"):
        forward, trace = (rnn_forward, trace_rnn) if bug.cell == "rnn" else (gru_forward, trace_gru)
        caches = forward(x, a0, parameters)[2]
        return x, a0, parameters, da, trace(da, caches, bug.variant), trace(da, caches)
    caches = lstm_forward_with(bug.variant, x, a0, parameters)[3]
    return x, a0, parameters, da, trace_lstm(da, caches, bug.variant), trace_lstm(da, lstm_forward(x, a0, parameters)[3])


def spliced(lines: notation.BugLines) -> dict:
    """bptt/cs231n.py run with the bug's right lines swapped for its wrong ones in its one function."""
    module = inspect.getsource(bptt.cs231n)
    function = inspect.getsource(getattr(cs231n, lines.function))
    rights = lines.right.split("\n")
    wrongs = lines.wrong.split("\n") if lines.wrong else ["pass"] * len(rights)
    mutated = function
    for right, wrong in zip(rights, wrongs):
        assert mutated.count(right) == 1, right
        mutated = mutated.replace(right, wrong)
    namespace = {"N": M}  # divide-by-m's wrong lines use the student's own N = x.shape[0]
    exec(compile(module.replace(function, mutated), f"<cs231n {lines.function}>", "exec"), namespace)
    return namespace


def homework_backward(namespace: dict, cell: str, x, a0, parameters, da) -> dict:
    """The (mutated) homework's forward and backward on the course's case, as a dict of CS231n keys."""
    X, h0, dh = notation.inputs_to_cs231n(x, a0, da)
    h, cache = namespace[f"{cell}_forward"](X, h0, *notation.parameters_to_cs231n(cell, parameters))
    return dict(zip(notation.CS231N_KEYS, namespace[f"{cell}_backward"](dh, cache)))


@pytest.mark.parametrize("shape", [(5, 4), (5, 1), (3, 4, 6), (1, 1), (2, 7)])
def test_arrays_round_trip_and_land_in_the_homeworks_shapes(shape):
    value = np.arange(np.prod(shape), dtype=float).reshape(shape)
    there = notation.as_cs231n(value)
    assert there.shape == {2: shape[::-1], 3: shape[1:] + shape[:1]}[len(shape)]
    np.testing.assert_array_equal(notation.as_course(there), value)


def test_a_bias_goes_back_to_a_column_and_an_array_of_no_known_layout_is_refused():
    np.testing.assert_array_equal(notation.as_course(np.arange(3.0)), [[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="2 or 3 axes"):
        notation.as_cs231n(np.zeros(3))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("seed", [0, 1])
def test_parameters_round_trip_both_ways(cell, seed):
    _, _, parameters, _ = random_case(cell, N_X, N_A, M, T_X, seed)
    Wx, Wh, b = notation.parameters_to_cs231n(cell, parameters)
    k = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    assert (Wx.shape, Wh.shape, b.shape) == ((N_X, k * N_A), (N_A, k * N_A), (k * N_A,))
    output = {key: parameters[key] for key in ("Wya", "Wy", "by") if key in parameters}
    back = notation.parameters_to_course(cell, Wx, Wh, b, output)
    assert back.keys() == parameters.keys()
    for key in parameters:
        np.testing.assert_array_equal(back[key], parameters[key], err_msg=key)
    again = notation.parameters_to_cs231n(cell, back)
    for got, want in zip(again, (Wx, Wh, b)):
        np.testing.assert_array_equal(got, want)


def test_the_lstm_gates_land_in_the_homeworks_order_i_f_o_g():
    _, _, parameters, _ = random_case("lstm", N_X, N_A, M, T_X)
    Wx, Wh, b = notation.parameters_to_cs231n("lstm", parameters)
    for k, gate in enumerate("ifoc"):
        block = slice(k * N_A, (k + 1) * N_A)
        np.testing.assert_array_equal(Wh[:, block], parameters["W" + gate][:, :N_A].T)
        np.testing.assert_array_equal(Wx[:, block], parameters["W" + gate][:, N_A:].T)
        np.testing.assert_array_equal(b[block], parameters["b" + gate][:, 0])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("seed", [0, 2])
def test_course_gradients_converted_are_what_the_homework_returns_and_convert_back(cell, seed):
    x, a0, parameters, da = random_case(cell, N_X, N_A, M, T_X, seed)
    course = course_run(next(b for b in BUGS if b.cell == cell), seed)[5].gradients()
    homework = homework_backward(vars(cs231n), cell, x, a0, parameters, da)
    converted = notation.gradients_to_cs231n(cell, course)
    assert tuple(converted) == notation.CS231N_KEYS
    for key in notation.CS231N_KEYS:
        np.testing.assert_allclose(converted[key], homework[key], rtol=1e-12, atol=1e-14, err_msg=key)
    back = notation.gradients_to_course(cell, *homework.values())
    assert back.keys() == course.keys()
    for key in course:
        np.testing.assert_allclose(back[key], course[key], rtol=1e-12, atol=1e-14, err_msg=key)


@settings(max_examples=25, deadline=None)
@given(cell=st.sampled_from(CELLS), n_x=st.integers(1, 4), n_a=st.integers(1, 4), m=st.integers(1, 3),
       T_x=st.integers(1, 4), seed=st.integers(0, 1000))
def test_both_notations_agree_on_any_small_shape(cell, n_x, n_a, m, T_x, seed):
    x, a0, parameters, da = random_case(cell, n_x, n_a, m, T_x, seed)
    forward, backward = {"rnn": (rnn_forward, rnn_backward), "lstm": (lstm_forward, lstm_backward),
                         "gru": (gru_forward, gru_backward)}[cell]
    course = notation.gradients_to_cs231n(cell, backward(da, forward(x, a0, parameters)[-1]))
    homework = homework_backward(vars(cs231n), cell, x, a0, parameters, da)
    for key in notation.CS231N_KEYS:
        np.testing.assert_allclose(homework[key], course[key], rtol=1e-11, atol=1e-13, err_msg=key)


def test_inputs_convert_to_the_homeworks_batch_first_layout_and_back():
    x, a0, _, da = random_case("rnn", N_X, N_A, M, T_X)
    X, h0, dh = notation.inputs_to_cs231n(x, a0, da)
    assert (X.shape, h0.shape, dh.shape) == ((M, T_X, N_X), (M, N_A), (M, T_X, N_A))
    np.testing.assert_array_equal(X[:, 2, :], x[:, :, 2].T)  # x[:, t, :] is the course's xt, transposed
    for got, want in zip(notation.inputs_to_course(X, h0, dh), (x, a0, da)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_every_catalog_bug_has_cs231n_lines_whose_right_lines_are_in_the_cs231n_listing(bug):
    lines = notation.bug_lines(bug.id)
    source = notation.listing(lines.function)
    for right in lines.right.split("\n"):
        assert source.count(right) == 1, f"{bug.id}: {right!r} is not once in {lines.function}"
    assert lines.function == notation.FUNCTIONS[bug.function]
    assert lines.wrong == "" or len(lines.wrong.split("\n")) == len(lines.right.split("\n"))
    assert lines.wrong != lines.right and lines.title
    assert lines.match in ("exact", "raises", "keys", "analogue")
    for text in (lines.wrong, lines.right, lines.title):
        assert not COURSE_WORDS.search(text), f"{bug.id} speaks course notation: {text!r}"


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
@pytest.mark.parametrize("seed", [0, 1])
def test_cs231n_wrong_lines_executed_go_wrong_as_the_course_variant_does(bug, seed):
    lines = notation.bug_lines(bug.id)
    x, a0, parameters, da, trace, correct = course_run(bug, seed)
    namespace = spliced(lines)
    if lines.match == "raises":
        with pytest.raises(Exception) as raised:
            homework_backward(namespace, bug.cell, x, a0, parameters, da)
        assert type(raised.value).__name__ == trace.error.kind == bug.raises
        return
    got = homework_backward(namespace, bug.cell, x, a0, parameters, da)
    right = homework_backward(vars(cs231n), bug.cell, x, a0, parameters, da)
    wrong_keys = tuple(key for key in notation.CS231N_KEYS if differs(got[key], right[key]))
    for key in notation.CS231N_KEYS:
        assert got[key].shape == right[key].shape, f"{bug.id} changes the shape of {key}"
    if lines.match == "exact":
        course = notation.gradients_to_cs231n(bug.cell, trace.gradients())
        for key in notation.CS231N_KEYS:
            np.testing.assert_allclose(got[key], course[key], rtol=1e-11, atol=1e-12, err_msg=key)
    if lines.match in ("exact", "keys"):
        assert wrong_keys == notation.keys_to_cs231n(bug.cell, bug.wrong_keys)
    else:
        assert wrong_keys, f"{bug.id}'s analogue changes nothing"


def test_the_aliased_first_cell_state_leaves_the_forward_right():
    lines = notation.bug_lines("lstm-c-view")
    x, a0, parameters, _ = random_case("lstm", N_X, N_A, M, T_X)
    X, h0, _ = notation.inputs_to_cs231n(x, a0, x)
    weights = notation.parameters_to_cs231n("lstm", parameters)
    h_bug, cache_bug = spliced(lines)["lstm_forward"](X, h0, *weights)
    h, cache = cs231n.lstm_forward(X, h0, *weights)
    np.testing.assert_array_equal(h_bug, h)
    np.testing.assert_array_equal(cache_bug[0][2], h[:, 0, :])  # step 0's cached prev_c became h[:, 0, :]
    assert not np.any(cache[0][2])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_heatmap_of_the_stepper_has_a_cs231n_title_without_course_names(cell):
    for _, _, panels in rows_for(cell):
        for scope, key, *_ in panels:
            text = notation.cs231n_title(scope, key, 2, 3, 1, 3, cell)
            assert "t = 2" in text or "t = 3" in text or "[:, 2, :]" in text, text
            assert not COURSE_WORDS.search(text), text


@pytest.mark.parametrize("cell", CELLS)
def test_everything_a_trace_holds_has_a_cs231n_title_naming_its_step(cell):
    trace = course_run(next(b for b in BUGS if b.cell == cell), 0)[5]
    step = trace.step(1)
    scoped = [("inputs", k) for k in step.inputs] + [("outputs", k) for k in step.outputs]
    for scope, key in scoped + [("totals", k) for k in trace.gradients() if k != "da0"]:
        text = notation.cs231n_title(scope, key, 1, 2, 0, 3, cell)
        assert "1" in text and not COURSE_WORDS.search(text), (key, text)


@pytest.mark.parametrize("key, cell, t, expected", [
    ("da_t", "rnn", 2, "dh[:, 2, :]"), ("da_prevt", "rnn", None, "dprev_h"), ("da_next", "lstm", None, "dnext_h"),
    ("dWax", "rnn", None, "dWx"), ("dWaa", "rnn", None, "dWh"), ("dba", "rnn", None, "db"),
    ("dc_prevt", "lstm", None, "dprev_c"), ("dcct", "lstm", None, "dg"), ("dWc", "lstm", None, "dWx, dWh: g block"),
    ("da0", "gru", None, "dh0"),
])
def test_names_read_as_the_homework_writes_them(key, cell, t, expected):
    assert notation.name(key, cell, t=t) == expected


@pytest.mark.parametrize("cell", CELLS)
def test_every_quantity_a_trace_holds_has_a_cs231n_name(cell):
    bug = next(b for b in BUGS if b.cell == cell)
    trace = course_run(bug, 0)[5]
    step = trace.step(0)
    for key in [*step.inputs, *step.outputs, *trace.gradients()]:
        assert notation.name(key, cell), key


def test_course_notation_keeps_the_course_names_and_bad_names_say_what_there_is():
    assert notation.name("da_t", "rnn", "course", t=1) == "da[:,:,1]"
    assert notation.bug_lines("missing-da-t", "course").right == get_bug("missing-da-t").right
    with pytest.raises(ValueError, match="'course' or 'cs231n'"):
        notation.check_notation("pytorch")
    with pytest.raises(ValueError, match="'rnn', 'lstm' or 'gru'"):
        notation.name("dx", "transformer")
    with pytest.raises(KeyError, match="known"):
        notation.name("dW_nothing", "rnn")


def test_conversions_say_what_is_missing_or_misshapen():
    _, _, parameters, _ = random_case("lstm", N_X, N_A, M, T_X)
    with pytest.raises(ValueError, match="missing Wo, bo"):
        notation.parameters_to_cs231n("lstm", {k: v for k, v in parameters.items() if k not in ("Wo", "bo")})
    with pytest.raises(ValueError, match="missing dba"):
        notation.gradients_to_cs231n("rnn", {"dx": 0, "da0": 0, "dWax": 0, "dWaa": 0})
    Wx, Wh, b = notation.parameters_to_cs231n("lstm", parameters)
    with pytest.raises(ValueError, match=r"\(D, 3H\), \(H, 3H\), \(3H,\); got \(3, 20\)"):
        notation.parameters_to_course("gru", Wx, Wh, b)


@pytest.mark.parametrize("function", sorted(notation.FUNCTIONS))
def test_every_function_is_listed_in_both_notations_under_its_own_name(function):
    assert notation.listing(function, "course").startswith(f"def {function}(")
    assert notation.listing(function, "cs231n").startswith(f"def {notation.FUNCTIONS[function]}(")



@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_every_bugs_sentences_in_cs231n_notation_use_only_the_homeworks_names(bug):
    lines = notation.bug_lines(bug.id)
    for text in (lines.title, lines.why, lines.symptom, lines.hint):
        assert text and not COURSE_WORDS.search(text), f"{bug.id}: {COURSE_WORDS.search(text)} in {text!r}"
    course = notation.bug_lines(bug.id, "course")
    assert (course.why, course.symptom, course.hint) == (bug.why, bug.symptom, bug.hint)


def test_translate_swaps_whole_names_only():
    assert notation.translate("da_prevt reaches a_prev, and dxt is it.", "rnn") == "dprev_h reaches prev_h, and dx is it."
    assert notation.translate("np.tanh(c_next) times ot", "lstm") == "np.tanh(next_c) times o"
    assert notation.translate("a basket of data", "rnn") == "a basket of data"


@pytest.mark.parametrize("bug_id, message", [
    ("no-transpose-wax", f"shapes ({M},{N_A}) and ({N_X},{N_A}) not aligned"),  # the symptom's (N,H) and (D,H)
    ("lstm-full-weights", f"from shape ({M},{N_A}) into shape ({M},{N_X})"),  # an (N, H) array into an (N, D) slot
    ("dba-no-keepdims", f"shape ({N_A},) doesn't match the broadcast shape (1,{N_A})"),  # db (1, H) into (H,)
])
def test_raising_bugs_raise_the_message_their_cs231n_symptom_describes(bug_id, message):
    bug = get_bug(bug_id)
    x, a0, parameters, da = random_case(bug.cell, N_X, N_A, M, T_X)
    with pytest.raises(ValueError, match=re.escape(message)):
        homework_backward(spliced(notation.bug_lines(bug_id)), bug.cell, x, a0, parameters, da)


def test_the_aliased_first_cell_state_is_wrong_only_at_t_0_and_in_the_forget_blocks():
    x, a0, parameters, da = random_case("lstm", N_X, N_A, M, T_X)
    got = homework_backward(spliced(notation.bug_lines("lstm-c-view")), "lstm", x, a0, parameters, da)
    right = homework_backward(vars(cs231n), "lstm", x, a0, parameters, da)
    np.testing.assert_array_equal(got["dx"][:, 1:, :], right["dx"][:, 1:, :])
    assert differs(got["dx"][:, 0, :], right["dx"][:, 0, :]) and differs(got["dh0"], right["dh0"])
    f_block = np.zeros(4 * N_A, dtype=bool)
    f_block[N_A:2 * N_A] = True  # the homework's i, f, o, g: f is the second block
    for key in ("dWx", "dWh", "db"):
        np.testing.assert_array_equal(got[key][..., ~f_block], right[key][..., ~f_block], err_msg=key)
        assert differs(got[key][..., f_block], right[key][..., f_block]), key
