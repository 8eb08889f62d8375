"""The check on CS231n's rnn_layers.py: told by its signatures, run on the course's probes transposed,
judged in the parent from evidence it checked, in the homework's names (issue 15, item 2)."""

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bptt import cs231n
from bptt.check import engine, from_text, sandbox
from bptt.check.compare import Finding, cached_trace
from bptt.check.cs231n_probes import FINAL_OUTPUTS, gradients_to_course, gradients_to_cs231n, probes_for, reference
from bptt.check.report import explain
from bptt.check.source import notation
from bptt.check.texts import blame_sentence

CORPUS = Path(__file__).resolve().parent / "corpus_cs231n"
OK = (CORPUS / "ok_rnn_skeleton.py").read_text()


@pytest.mark.parametrize("code, expected", [
    ("def rnn_step_backward(dnext_h, cache):\n    pass", "cs231n"),
    ("def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):\n    pass", "cs231n"),
    ("def rnn_backward(dh, cache):\n    pass", "cs231n"),
    ("def rnn_backward(dout, cache):\n    pass", "cs231n"),
    ("def rnn_forward(x, h0, Wx, Wh, b):\n    pass", "cs231n"),
    ("def rnn_backward(da, caches):\n    pass", "course"),
    ("def lstm_forward(x, a0, parameters):\n    pass", "course"),
    ("def rnn_cell_backward(da_next, cache):\n    pass", "course"),
])
def test_the_notation_is_told_by_the_signatures(code, expected):
    assert notation(code) == expected


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_each_probe_is_the_course_probe_in_batch_first_shapes(cell):
    """The homework's reference on a converted probe returns the course's gradients, transposed and regrouped."""
    for probe in probes_for(cell):
        course = cached_trace(probe.course, None).gradients()
        mine = reference(probe).final
        converted = gradients_to_cs231n(cell, course)
        for key in FINAL_OUTPUTS:
            np.testing.assert_allclose(mine[key], converted[key], rtol=1e-10, atol=1e-12)
        back = gradients_to_course(cell, mine)
        for key, value in course.items():
            np.testing.assert_allclose(back[key], value, rtol=1e-10, atol=1e-12)


def test_the_reference_steps_add_up_to_what_it_returns():
    """Every recorded step of the reference's walk is the homework's own rnn_backward, step for step."""
    probe = probes_for("rnn")[3]
    ref = reference(probe)
    h, cache = cs231n.rnn_forward(probe.x, probe.h0, probe.Wx, probe.Wh, probe.b)
    dx, dh0, dWx, dWh, db = cs231n.rnn_backward(probe.dh, cache)
    np.testing.assert_allclose(ref.h, h)
    np.testing.assert_allclose(ref.totals[0]["dWx"], dWx)
    np.testing.assert_allclose(ref.final["dh0"], dh0)
    np.testing.assert_allclose(ref.inputs[probe.T_x - 1]["dnext_h"], probe.dh[:, -1, :])


@pytest.fixture(scope="module")
def outcome():
    """One real run of a correct file in the sandbox, to be mutilated below."""
    captured = {}
    real = sandbox.run

    def keep(*args, **kwargs):
        captured["outcome"] = real(*args, **kwargs)
        return captured["outcome"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.sandbox, "run", keep)
        report = engine.check(from_text(OK))
    assert report.exit_code == 0, report.to_json()
    return captured["outcome"]


def _drop_record_key(meta, arrays, key):
    meta["probes"][0].pop(key)


def _drop_array(meta, arrays, ending):
    for name in [n for n in arrays if n.endswith(ending)][:1]:
        del arrays[name]


def _drop_last_probe(meta, arrays, _):
    meta["probes"].pop()


def _forge_returned(meta, arrays, _):
    meta["probes"][0]["whole"]["returned"] = ["dx"]


def _steps_short(meta, arrays, _):
    meta["probes"][1]["step_backward"]["steps"].pop()


def _no_defined(meta, arrays, _):
    meta.pop("defined")


@pytest.mark.parametrize("mutilate, what", [
    (_drop_record_key, "whole"), (_drop_record_key, "loop"), (_drop_record_key, "step_backward"),
    (_drop_record_key, "forward"), (_drop_array, "whole.ret.dWx"), (_drop_array, "sb.t0.db"),
    (_drop_array, "fw.out.h"), (_drop_array, "call1.out.dprev_h"), (_drop_last_probe, None),
    (_forge_returned, None), (_steps_short, None), (_no_defined, None),
])
def test_missing_evidence_is_a_failure_never_a_pass(outcome, mutilate, what, monkeypatch):
    meta, arrays = copy.deepcopy(outcome.meta), dict(outcome.arrays)
    mutilate(meta, arrays, what)
    monkeypatch.setattr(engine.sandbox, "run", lambda *args, **kwargs: replace(outcome, meta=meta, arrays=arrays))
    report = engine.check(from_text(OK))
    assert report.exit_code == 2 and not report.ok, report.to_json()
    assert report.error["kind"] == "output", report.error


@pytest.mark.parametrize("body, kind", [
    ("    import os\n    os._exit(0)", "runtime"),
    ("    raise SystemExit(3)", "runtime"),
    ("    return None", "output"),
])
def test_a_hostile_or_broken_step_cannot_pass(body, kind):
    code = OK.replace("    x, prev_h, Wx, Wh, next_h = cache\n    dtanh", f"{body}\n    x, prev_h, Wx, Wh, next_h = cache\n"
                                                                     "    dtanh", 1)
    report = engine.check(from_text(code))
    assert report.exit_code == 2 and report.error["kind"] == kind, report.to_json()


def test_a_function_replaced_after_its_def_is_not_judged_as_theirs():
    code = OK + "\n\nrnn_backward = cs231n_reference = None\n"
    report = engine.check(from_text(code.replace("rnn_backward = cs231n_reference = None",
                                                 "from bptt.cs231n import rnn_backward")))
    assert report.exit_code == 2 and "no longer your function" in report.error["message"], report.to_json()


def test_the_words_are_the_homeworks():
    probe = probes_for("rnn")[0]
    finding = Finding("rnn_backward", probe, 2, "dnext_h", "input", 0.5, {"notation": "cs231n"})
    said = explain(finding)
    assert "rnn_step_backward" in said and "T = 4" in said and "dnext_h" in said and "cell" not in said, said
    alone = Finding("rnn_step_backward", probe, 3, "dx", "step", 0.5, {"notation": "cs231n", "at": 3})
    assert "dh[:, 3, :]" in explain(alone)
    blame = {"part": "loop", "function": "lstm_backward", "t": 2, "term": "dnext_c"}
    assert blame_sentence(blame, "cs231n") == ("The mistake is in your loop in lstm_backward, not in lstm_step_backward: "
                                              "what it hands the step backward as dnext_c (the carried cell-state "
                                              "gradient) goes wrong at t = 2.")
