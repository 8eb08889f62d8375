"""bptt.check: a student's own functions, run step by step, compared, and matched to the catalog."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from bptt import BUGS as ALL_BUGS
from bptt import get_bug, trace_rnn
from bptt.check import check, from_file, from_text
from bptt.check.compare import Malformed, course_caches, loop_run
from bptt.check.probe_runs import max_calls
from bptt.check.probes import probes_for

SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"
CORRECT = sorted((SUBMISSIONS / "correct").glob("*.py"))

BUGS = [b for b in ALL_BUGS if b.cell in ("rnn", "lstm")]  # the checker reads RNN and LSTM code, no GRU


@lru_cache(maxsize=None)
def report_for(path: Path):
    return check(from_file(path.name, path.read_bytes()))


@pytest.mark.parametrize("name", ["missing_da_t.py", "missing_da_t_forum.txt", "missing_da_t_notebook.ipynb"])
def test_forum_famous_missing_da_t_is_diagnosed(name):
    report = report_for(SUBMISSIONS / name)
    result = report.to_json()
    assert report.exit_code == 1 and result["error"] is None
    assert [b["id"] for b in result["bugs"]] == ["missing-da-t"]
    assert result["first_divergence"] == {
        "function": "rnn_backward", "t": 3, "T_x": 4, "quantity": "da_next", "scope": "input",
        "probe": "course example", "max_abs_error": pytest.approx(np.abs(report.runs["rnn_backward"][0][2].da[:, :, 3]).max()),
    }
    # every output is zero and every shape is right: what the student sees
    probe, run, reference = report.runs["rnn_backward"][0]
    want = reference.gradients()
    assert all(run.returned[k].shape == want[k].shape and not run.returned[k].any() for k in want)
    assert all(not step.inputs["da_next"].any() for step in run.steps)
    line = report.source.code.split("\n")[result["bugs"][0]["line"] - 1]
    assert "rnn_cell_backward(da_prevt, caches[t])" in line
    assert "loss's own gradient" in result["bugs"][0]["why"]


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_every_catalog_bug_written_student_style_is_named_at_its_line(bug):
    path = SUBMISSIONS / "bugs" / f"{bug.id}.py"
    assert path.exists(), f"add a student-style submission with this bug: {path}"
    result = report_for(path).to_json()
    assert result["bugs"] and result["bugs"][0]["id"] == bug.id
    assert result["first_divergence"] is not None and result["ok"] is False
    line = result["bugs"][0]["line"]
    assert line is not None
    text = report_for(path).source.code.split("\n")[line - 1]
    if bug.wrong and not result["bugs"][0]["missing_line"]:
        wrong_names = {w.split("=")[0].strip() for w in bug.wrong.split("\n")} | {"for", "rnn_cell_backward"}
        assert any(name.split("[")[0] in text for name in wrong_names) or "dtanh" in text, text


@pytest.mark.parametrize("bug", [b for b in BUGS if b.first and b.first[0] in ("input", "total", "final")],
                         ids=lambda b: b.id)
def test_loop_bugs_first_diverge_where_the_catalog_says(bug):
    scope, quantity, t = bug.first
    d = report_for(SUBMISSIONS / "bugs" / f"{bug.id}.py").to_json()["first_divergence"]
    assert (d["scope"], d["quantity"]) == (scope, quantity)
    assert d["t"] == (None if t is None else range(d["T_x"])[t])


@pytest.mark.parametrize("path", CORRECT, ids=[p.stem for p in CORRECT])
def test_correct_solutions_in_different_styles_pass_without_false_alarm(path):
    report = report_for(path)
    assert report.exit_code == 0, report.to_text()
    result = report.to_json()
    assert result["ok"] and result["bugs"] == [] and result["first_divergence"] is None and result["error"] is None
    assert all(f["ok"] for f in result["functions"].values())


def test_the_recorded_steps_are_the_reference_steps_for_a_correct_loop():
    probe, run, reference = report_for(SUBMISSIONS / "correct" / "rnn_course_style.py").runs["rnn_backward"][1]
    assert run.order == reference.order == tuple(range(probe.T_x - 1, -1, -1))
    for step, ref in zip(run.steps, reference.steps()):
        np.testing.assert_allclose(step.inputs["da_next"], ref.inputs["da_next"], atol=1e-12)
        for key in ("dxt", "da_prev", "dWax", "dWaa", "dba"):
            np.testing.assert_allclose(step.outputs[key], ref.outputs[key], atol=1e-12)
        for key in ("dx", "dWax", "dWaa", "dba") if step is not run.steps[-1] else ():
            np.testing.assert_allclose(step.totals[key], ref.totals[key], atol=1e-12)
    assert run.steps[-1].totals == {}  # after the last call the loop's totals are never seen, so never guessed


def test_wrong_cache_is_seen_as_the_cache_the_loop_passed():
    report = report_for(SUBMISSIONS / "bugs" / "wrong-cache.py")
    _, run, _ = report.runs["rnn_backward"][0]
    assert [s.cache for s in run.steps] == [2, 1, 0, 3]  # caches[t-1]: caches[-1] wraps to the last
    d = report.to_json()["first_divergence"]
    assert (d["t"], d["scope"], d["quantity"]) == (3, "step", "dxt")  # the loop's first step, handed caches[2]


def test_a_bug_outside_the_catalog_is_localised_without_a_name():
    code = (SUBMISSIONS / "correct" / "rnn_course_style.py").read_text().replace(
        "da_prev = np.dot(Waa.T, dtanh)", "da_prev = 0.5 * np.dot(Waa.T, dtanh)")
    result = check(from_text(code)).to_json()
    assert not any(b["id"] in {bug.id for bug in BUGS} for b in result["bugs"])  # a generated mutant at most
    assert all("0.5 * np.dot(Waa.T, dtanh)" in code.split("\n")[b["line"] - 1] for b in result["bugs"])
    assert {k: result["first_divergence"][k] for k in ("function", "t", "quantity", "scope")} == {
        "function": "rnn_backward", "t": 3, "quantity": "da_prev", "scope": "step"}
    assert result["functions"]["rnn_cell_backward"]["outputs"]["da_prev"]["ok"] is False
    assert result["functions"]["rnn_cell_backward"]["outputs"]["dxt"]["ok"] is True


def test_two_bugs_at_once_are_both_named_from_the_cell_and_the_loop_alone():
    code = (SUBMISSIONS / "bugs" / "tanh-twice.py").read_text().replace(
        "rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])", "rnn_cell_backward(da[:, :, t], caches[t])")
    report = check(from_text(code))
    assert {m.bug.id: m.evidence for m in report.bugs} == {"tanh-twice": "cell", "missing-da-prev": "loop"}


def test_a_cell_only_file_reports_the_cell_at_the_step_whose_cache_it_was_handed():
    code = (SUBMISSIONS / "bugs" / "dwaa-transposed.py").read_text()
    code = code[: code.index("# GRADED FUNCTION: rnn_backward")]
    result = check(from_text(code)).to_json()
    assert list(result["functions"]) == ["rnn_cell_backward"]
    assert result["first_divergence"]["function"] == "rnn_cell_backward"
    assert (result["first_divergence"]["t"], result["first_divergence"]["scope"]) == (3, "step")  # t = T_x-1 first
    assert result["first_divergence"]["quantity"] == "dWaa"
    assert [b["id"] for b in result["bugs"]] == ["dwaa-transposed"]


def test_the_student_cell_values_are_what_the_variant_computes():
    """The diagnosis compares numbers: the student's dWaa on the course probe is the variant's, the transpose."""
    report = report_for(SUBMISSIONS / "bugs" / "dwaa-transposed.py")
    probe, run, _ = report.runs["rnn_backward"][0]
    variant = trace_rnn(probe.da, course_caches(probe), get_bug("dwaa-transposed").variant)
    np.testing.assert_allclose(run.returned["dWaa"], variant.gradients()["dWaa"], atol=1e-12)
    np.testing.assert_allclose(run.steps[0].outputs["dWaa"], variant.step(3).outputs["dWaa"], atol=1e-12)


def test_a_raising_bug_reports_the_shapes_and_the_students_line():
    report = report_for(SUBMISSIONS / "bugs" / "no-transpose-wax.py")
    error = report.to_json()["error"]
    assert error["kind"] == "shape" and "(5,3)" in error["message"] and "(5,10)" in error["message"]
    assert report.source.code.split("\n")[error["line"] - 1].strip() == "dxt = np.dot(Wax, dtanh)"
    assert report.exit_code == 2


# --- Correct loops in the spellings students really use: every one must pass, exit 0 -----------------------------

RNN_CELL = '''
import numpy as np

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
'''
RNN_SETUP = '''
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
'''
RNN_RETURN = '''
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
'''
RNN_LOOPS = {
    "range-down-t-minus-1": '''
    for t in range(T_x, 0, -1):
        gradients = rnn_cell_backward(da[:, :, t - 1] + da_prevt, caches[t - 1])
        dx[:, :, t - 1] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
''',
    "while": '''
    t = T_x - 1
    while t >= 0:
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax = dWax + gradients["dWax"]
        dWaa = dWaa + gradients["dWaa"]
        dba = dba + gradients["dba"]
        t -= 1
''',
    "enumerate-reversed": '''
    for i, cache in enumerate(reversed(caches)):
        g = rnn_cell_backward(da[:, :, T_x - 1 - i] + da_prevt, cache)
        dx[:, :, -1 - i] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax += g["dWax"]; dWaa += g["dWaa"]; dba += g["dba"]
''',
    "carry-then-accumulate": '''
    steps = [None] * T_x
    for t in reversed(range(T_x)):
        steps[t] = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        da_prevt = steps[t]["da_prev"]
    for t in range(T_x):
        dx[:, :, t] = steps[t]["dxt"]
        dWax += steps[t]["dWax"]
        dWaa += steps[t]["dWaa"]
        dba += steps[t]["dba"]
''',
    "loop-variable-k-and-a-t-that-lies": '''
    t = 0
    for k in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, k] + da_prevt, caches[k])
        dx[:, :, k] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
        t += 7
''',
    "helpers-and-prints": '''
    def one_step(da_t, carried, cache):
        return rnn_cell_backward(da_t + carried, cache)

    for t in range(T_x)[::-1]:
        print("step", t, "norm", np.linalg.norm(da_prevt))
        gradients = one_step(da[:, :, t], da_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax, dWaa, dba = add(dWax, gradients["dWax"]), add(dWaa, gradients["dWaa"]), add(dba, gradients["dba"])
''',
    "np-add-out": '''
    for t in sorted(range(T_x), reverse=True):
        gradients = rnn_cell_backward(np.add(da[:, :, t], da_prevt), caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        np.add(dWax, gradients["dWax"], out=dWax)
        np.add(dWaa, gradients["dWaa"], out=dWaa)
        np.add(dba, gradients["dba"], out=dba)
''',
}
RNN_SPECIAL = {
    "global-totals": RNN_CELL + '''
dWax = dWaa = dba = None

def rnn_backward(da, caches):
    global dWax, dWaa, dba
''' + RNN_SETUP + '''
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
''' + RNN_RETURN,
    "grads-in-a-dict": RNN_CELL + '''
def rnn_backward(da, caches):
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    grads = {"dx": np.zeros((n_x, m, T_x)), "dWax": np.zeros((n_a, n_x)), "dWaa": np.zeros((n_a, n_a)),
             "dba": np.zeros((n_a, 1)), "da0": np.zeros((n_a, m))}
    carried = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        g = rnn_cell_backward(da[:, :, t] + carried, cell_caches[t])
        carried = g["da_prev"]
        grads["dx"][:, :, t] = g["dxt"]
        for key in ("dWax", "dWaa", "dba"):
            grads[key] += g[key]
    grads["da0"] = carried
    return grads
''',
    "cell-with-matmul-multiply-square": '''
import numpy as np

def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dz = np.multiply(da_next, 1 - np.square(a_next))
    return {"dxt": parameters["Wax"].T @ dz, "da_prev": parameters["Waa"].T @ dz, "dWax": dz @ xt.T,
            "dWaa": dz @ a_prev.T, "dba": dz.sum(axis=1, keepdims=True)}

def rnn_backward(da, caches):
''' + RNN_SETUP + RNN_LOOPS["while"] + RNN_RETURN,
}


def rnn_file(loop: str) -> str:
    return RNN_CELL + "\ndef add(total, part):\n    return total + part\n\n\ndef rnn_backward(da, caches):" + RNN_SETUP + \
        loop + RNN_RETURN


CORRECT_SPELLINGS = {**{name: rnn_file(loop) for name, loop in RNN_LOOPS.items()}, **RNN_SPECIAL}


def lstm_file(loop: str) -> str:
    code = (SUBMISSIONS / "correct" / "lstm_compact_style.py").read_text()
    head = code[: code.index("    for t in reversed(range(T_x)):")]
    return head + loop + '    return {"dx": dx, "da0": da_prevt, **totals}\n'


LSTM_LOOPS = {
    "lstm-while-and-t-minus-1": '''
    t = T_x
    while t > 0:
        gradients = lstm_cell_backward(da[:, :, t - 1] + da_prevt, dc_prevt, caches[t - 1])
        da_prevt, dc_prevt = gradients["da_prev"], gradients["dc_prev"]
        dx[:, :, t - 1] = gradients["dxt"]
        for k in totals:
            totals[k] += gradients[k]
        t = t - 1
''',
    "lstm-carry-then-accumulate": '''
    kept = {}
    for t in reversed(range(T_x)):
        kept[t] = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        da_prevt, dc_prevt = kept[t]["da_prev"], kept[t]["dc_prev"]
    for t in kept:
        dx[:, :, t] = kept[t]["dxt"]
        for k in totals:
            totals[k] = totals[k] + kept[t][k]
''',
}
CORRECT_SPELLINGS.update({name: lstm_file(loop) for name, loop in LSTM_LOOPS.items()})


@lru_cache(maxsize=None)
def report_of(code: str):
    return check(from_text(code))


@pytest.mark.parametrize("name", sorted(CORRECT_SPELLINGS))
def test_every_correct_spelling_of_the_loop_passes(name):
    report = report_of(CORRECT_SPELLINGS[name])
    result = report.to_json()
    assert report.exit_code == 0, report.to_text()
    assert result["ok"] and result["first_divergence"] is None and result["bugs"] == [] and result["blame"] is None
    assert result["summary"] and "matches the reference" in result["summary"][0]


# --- Bugs in new disguises: named, at the line that makes the wrong value ----------------------------------------

def disguise(name: str, old: str, new: str) -> str:
    code = CORRECT_SPELLINGS[name]
    assert old in code, (name, old)
    return code.replace(old, new, 1)


DISGUISED = {  # name: (code, catalog id, text of the line it must point at, missing_line)
    "missing-da-t in a while loop": (
        disguise("while", "rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])", "rnn_cell_backward(da_prevt, caches[t])"),
        "missing-da-t", "rnn_cell_backward(da_prevt, caches[t])", False),
    "dtanh-a-prev with np.multiply and np.square": (
        disguise("cell-with-matmul-multiply-square", "1 - np.square(a_next)", "1 - np.square(a_prev)"),
        "dtanh-a-prev", "dz = np.multiply(da_next, 1 - np.square(a_prev))", False),
    "tanh-twice with np.square": (
        disguise("while", "dtanh = (1 - a_next ** 2) * da_next", "dtanh = da_next * (1 - np.square(np.tanh(a_next)))"),
        "tanh-twice", "np.square(np.tanh(a_next))", False),
    "dc_prevt reset at the top of the loop": (
        disguise("lstm-while-and-t-minus-1", "    while t > 0:\n", "    while t > 0:\n        dc_prevt = np.zeros((n_a, m))\n"),
        "lstm-dc-not-carried", "dc_prevt = np.zeros((n_a, m))", False),
    "overwrite in a dict of totals": (
        disguise("grads-in-a-dict", "grads[key] += g[key]", "grads[key] = g[key]"),
        "overwrite-not-accumulate", "grads[key] = g[key]", False),
    "wrong cache with range(T_x, 0, -1)": (
        disguise("range-down-t-minus-1", "caches[t - 1])", "caches[t - 2])"),
        "wrong-cache", "caches[t - 2]", False),
    "forward order in a while loop": (
        disguise("while", "    t = T_x - 1\n    while t >= 0:", "    t = 0\n    while t < T_x:").replace("        t -= 1", "        t += 1"),
        "forward-order", "while t < T_x:", False),
    "missing-da-prev through a helper": (
        disguise("helpers-and-prints", "one_step(da[:, :, t], da_prevt, caches[t])", "one_step(da[:, :, t], 0, caches[t])"),
        "missing-da-prev", "one_step(da[:, :, t], 0, caches[t])", False),  # the call that hands in 0, not the helper's
    "lstm-tanh-c with the gates in a dict": (
        disguise("lstm-carry-then-accumulate", "(1 - tanh_c ** 2)", "(1 - c_next ** 2)"),
        "lstm-tanh-c", "dc = dc_next + da_next * ot * (1 - c_next ** 2)", False),
    "lstm-no-carry in a while loop": (
        disguise("lstm-while-and-t-minus-1", '        da_prevt, dc_prevt = gradients["da_prev"], gradients["dc_prev"]\n', ""),
        "lstm-no-carry", "lstm_cell_backward(da[:, :, t - 1] + da_prevt, dc_prevt, caches[t - 1])", True),
    "dWaa transposed with the operands swapped": (
        disguise("while", "dWaa = np.dot(dtanh, a_prev.T)", "dWaa = np.dot(a_prev, dtanh.T)"),
        "dwaa-transposed", "dWaa = np.dot(a_prev, dtanh.T)", False),
}


@pytest.mark.parametrize("name", sorted(DISGUISED))
def test_a_catalog_bug_in_a_new_disguise_is_named_at_its_line(name):
    code, bug_id, text, missing = DISGUISED[name]
    report = report_of(code)
    result = report.to_json()
    assert report.exit_code == 1, report.to_text()
    assert result["bugs"] and result["bugs"][0]["id"] == bug_id, report.to_text()
    line = result["bugs"][0]["line"]
    assert line is not None and text in code.split("\n")[line - 1], (line, report.to_text())
    assert result["bugs"][0]["missing_line"] is missing
    assert result["first_divergence"]["scope"] in ("input", "step", "total", "final")


def test_the_part_to_blame_is_found_by_substitution():
    loop_bug = report_of(DISGUISED["missing-da-t in a while loop"][0]).to_json()
    assert loop_bug["blame"] == {"part": "loop", "function": "rnn_backward", "t": 3, "term": "da_next"}
    assert "rnn_cell_backward" in loop_bug["functions"] and loop_bug["functions"]["rnn_cell_backward"]["ok"]
    cell_bug = report_of(DISGUISED["dtanh-a-prev with np.multiply and np.square"][0]).to_json()
    assert cell_bug["blame"] == {"part": "cell", "function": "rnn_cell_backward", "t": 3, "term": "dz"}
    reset = report_of(DISGUISED["dc_prevt reset at the top of the loop"][0]).to_json()
    assert reset["blame"]["part"] == "loop" and reset["blame"]["term"] == "dc_next"


def test_a_clip_after_the_loop_is_after_the_loop_not_its_last_step():
    code = disguise("while", '    return {"dx"', '    np.clip(dWax, -0.5, 0.5, out=dWax)\n    return {"dx"')
    result = report_of(code).to_json()
    d = result["first_divergence"]
    assert (d["t"], d["quantity"], d["scope"]) == (None, "dWax", "final")
    assert result["blame"]["term"] == "after the loop"
    assert not any(b["id"] in {bug.id for bug in BUGS} for b in result["bugs"])  # not a catalog bug


def test_a_wrong_dx_shape_in_the_loop_names_no_cell_bug():
    """The cell matched alone, so no bug of the cell may be named (today's no-transpose-wax was one)."""
    code = disguise("while", "dx = np.zeros((n_x, m, T_x))", "dx = np.zeros(da.shape)")
    report = report_of(code)
    result = report.to_json()
    assert report.exit_code == 2 and result["error"]["kind"] == "shape"
    assert "dx = np.zeros(da.shape)" in code.split("\n")[result["error"]["line"] - 2] or \
        "dx[:, :, t]" in code.split("\n")[result["error"]["line"] - 1]
    assert result["functions"]["rnn_cell_backward"]["ok"] is True
    assert result["bugs"] == []


# --- Error kinds follow what happened ------------------------------------------------------------------------------

def test_a_name_error_on_a_variable_is_runtime_and_names_the_name_and_its_line():
    code = disguise("while", '    Wax = parameters["Wax"]\n', "")
    report = report_of(code)
    error = report.to_json()["error"]
    assert error["kind"] == "runtime" and "Wax" in error["message"]
    assert "Wax.T" in code.split("\n")[error["line"] - 1]
    text = report.to_text()
    assert "function is missing" not in text.lower() and "t = None" not in text
    assert "After every step matched" not in text


@pytest.mark.parametrize("returned, words", [("None", "NoneType"), ("dx, da_prevt", "tuple")])
def test_a_wrong_return_type_is_an_output_error_with_no_step_blamed(returned, words):
    code = disguise("while", '    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}',
                    f"    return {returned}")
    report = report_of(code)
    result = report.to_json()
    assert report.exit_code == 2 and result["error"]["kind"] == "output" and words in result["error"]["message"]
    d = result["first_divergence"]
    assert d is None or (d["scope"] in ("input", "step", "total", "final") and d["quantity"] != "line")
    assert "raised an exception" not in report.to_text() and "t = None" not in report.to_text()


def test_a_missing_key_is_an_output_error():
    code = disguise("while", '"da0": da_prevt, ', "")
    result = report_of(code).to_json()
    assert result["error"]["kind"] == "output" and "da0" in result["error"]["message"] and result["ok"] is False


# --- The obvious first ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, words", [
    ("dtanh = (1 - a_next ** 2) * da_next", "dtanh = (1 - a_next ** 2) * da_next * 0",
     "Every gradient you return is exactly 0"),
    ("dba = np.sum(dtanh, axis=1, keepdims=True)", "dba = np.sum(dtanh, axis=1, keepdims=True) + np.zeros((1, Waa.shape[0]))",
     "Your dba has shape (5, 5); the reference's has shape (5, 1)."),
    ("dWaa = np.dot(dtanh, a_prev.T)", "dWaa = np.dot(a_prev, dtanh.T)", "Your dWaa is the reference's transposed."),
    ("dWax = np.dot(dtanh, xt.T)", "dWax = np.dot(dtanh, xt.T) / xt.shape[1]", "(divided by m)"),
    ("dxt = np.dot(Wax.T, dtanh)", "dxt = -np.dot(Wax.T, dtanh)", "Your dx is the reference's with its sign flipped."),
], ids=["all-zero", "dba-shape", "dwaa-transposed", "divided-by-m", "sign"])
def test_the_summary_says_the_obvious_first(old, new, words):
    result = report_of(disguise("while", old, new)).to_json()
    assert result["ok"] is False
    assert words in result["summary"][0], result["summary"]


# --- Missing evidence is a failure, never a pass -------------------------------------------------------------------

def forged(monkeypatch, meta_of, code: str = DISGUISED["missing-da-t in a while loop"][0]):
    """Run the real child on code, then hand the parent what a forger would: the meta changed by meta_of."""
    from bptt.check import sandbox

    real = sandbox.run

    def run(code, arrays, job, limits=sandbox.Limits()):
        outcome = real(code, arrays, job, limits)
        return sandbox.Outcome(outcome.arrays, meta_of(outcome.meta, outcome.arrays), outcome.error)

    monkeypatch.setattr(sandbox, "run", run)
    return check(from_text(code))


@pytest.mark.parametrize("forge, words", [
    (lambda meta, arrays: {**meta, "probes": []}, "probe 1"),
    (lambda meta, arrays: {**meta, "probes": meta["probes"][:2]}, "probe 3"),
    (lambda meta, arrays: {**meta, "probes": [{} for _ in meta["probes"]]}, "probe 1"),
    (lambda meta, arrays: {**meta, "probes": ["ok"] * len(meta["probes"])}, "records"),
    (lambda meta, arrays: [arrays.clear(), meta][1], "never came back"),
    (lambda meta, arrays: {**meta, "probes": meta["probes"] * 2}, "asked for"),
], ids=["no-records", "records-stop-early", "empty-records", "records-of-another-type", "no-arrays", "extra-records"])
def test_a_probe_without_its_evidence_is_an_output_error_never_a_pass(monkeypatch, forge, words):
    report = forged(monkeypatch, forge)
    result = report.to_json()
    assert report.exit_code == 2 and result["ok"] is False
    assert result["error"]["kind"] == "output" and words in result["error"]["message"], result["error"]


def memory_error_in(run: str, keep: int):
    """meta_of: the first `keep` records, the last with a MemoryError in its `run`, as the child sends after one."""
    def meta_of(meta, arrays):
        records = [dict(record) for record in meta["probes"][:keep]]
        records[-1][run] = {"calls": [], "error": {"type": "MemoryError", "message": "", "line": None,
                                                   "function": "rnn_backward", "t": None, "call": None}}
        return {**meta, "probes": records}
    return meta_of


@pytest.mark.parametrize("run", ["whole", "loop", "refloop"])
@pytest.mark.parametrize("keep", [1, 3, 5])
def test_a_fatal_error_in_any_run_fails_the_check_and_the_probes_it_cut_off_never_pass(monkeypatch, run, keep):
    """A correct file: the probes that came back match, but the run that ran out of memory is the submission's."""
    report = forged(monkeypatch, memory_error_in(run, keep), CORRECT_SPELLINGS["while"])
    assert report.exit_code == 2 and not report.ok
    assert report.error["kind"] == "memory", report.error
    if keep < 5:
        assert f"stopped on probe {keep} of 5" in report.error["message"] and "never ran" in report.error["message"]
        assert not any(f["ok"] for f in report.functions.values())
    else:  # every probe came back: the function whose run raised fails
        assert not report.functions["rnn_cell_backward" if run == "refloop" else "rnn_backward"]["ok"]


def test_a_function_hidden_from_the_parents_reading_never_runs():
    """A def in a class body made global is in the module but not in the file's top level: the child must skip it."""
    code = CORRECT_SPELLINGS["while"] + '''

class _Hidden:
    global rnn_forward

    def rnn_forward(x, a0, parameters):
        raise MemoryError("pretend the machine is full")
'''
    report = check(from_text(code))
    assert report.exit_code == 0, report.to_text()
    assert sorted(report.functions) == ["rnn_backward", "rnn_cell_backward"]
    assert "on all 5 inputs" in report.summary[0]


def test_more_calls_than_the_recorder_keeps_are_malformed_and_read_in_one_pass():
    probe = probes_for("rnn")[0]
    calls = [{"cache": None, "totals": []}] * (max_calls(probe.T_x) + 1)
    with pytest.raises(Malformed, match="calls"):
        loop_run({}, {"calls": calls, "returned": []}, "p0.whole.", probe)
    arrays = {"p0.whole.call1.out.dxt": np.ones(1), "p0.whole.call12.out.dxt": np.zeros(1),
              "p0.whole.call1x.out.dxt": np.zeros(1), "p0.loop.call0.out.dxt": np.zeros(1)}
    run = loop_run(arrays, {"calls": calls[:2], "returned": []}, "p0.whole.", probe)
    assert [step.outputs for step in run.steps] == [{}, {"dxt": np.ones(1)}]


def test_one_probe_is_drawn_fresh_for_every_check():
    first, second = (check(from_text(CORRECT_SPELLINGS["while"])) for _ in range(2))
    fresh = [next(p for p, _, _ in r.runs["rnn_backward"] if p.name == "drawn for this check") for r in (first, second)]
    assert not np.array_equal(fresh[0].da, fresh[1].da)
    assert first.ok and second.ok


def test_a_bug_outside_the_catalog_is_named_only_by_a_mutant_that_behaves_exactly_alike():
    code = disguise("while", "dxt = np.dot(Wax.T, dtanh)", "dxt = np.dot(Wax.T, da_next)")
    report = report_of(code)
    result = report.to_json()
    assert [b["id"] for b in result["bugs"] if b["id"] in {bug.id for bug in BUGS}] == []
    assert len(result["bugs"]) == 1 and "/" in result["bugs"][0]["id"]  # a generated mutant, not a catalog bug
    assert "dxt = np.dot(Wax.T, da_next)" in code.split("\n")[result["bugs"][0]["line"] - 1]
    assert "np.dot(Wax.T, dz)" not in result["bugs"][0]["why"] + result["bugs"][0]["hint"]  # no fix given away
    assert "Behaves exactly like this mistake" in report.to_text()


def test_a_mutant_is_not_named_when_the_code_plainly_lacks_its_mistake():
    """dx stored after the loop behaves like 'dx reset at every step', but there is no reset to point at."""
    code = rnn_file('''
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    dx[:, :, t] = gradients["dxt"]
''')
    result = report_of(code).to_json()
    assert result["bugs"] == []
    assert {k: result["first_divergence"][k] for k in ("t", "quantity", "scope")} == {"t": None, "quantity": "dx",
                                                                                   "scope": "final"}
