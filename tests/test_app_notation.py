"""Every page through the real app (AppTest) in both notations and for all three cells, and what the notation
changes: CS231n's names, code and batch-first arrays, checked against the core's own numbers transposed."""

import json
from dataclasses import replace

import numpy as np
import pytest
from test_app_teaching import array, figure, figures, open_page, texts

from bptt import BUGS, RunConfig, run
from bptt.cs231n import rnn_backward as cs231n_rnn_backward
from bptt.cs231n import rnn_forward as cs231n_rnn_forward
from bptt.figures.gallery import diff_text
from bptt.figures.notation_view import words
from bptt.gru import gru_backward, gru_forward
from bptt.lessons import LESSON
from bptt.notation import bug_lines
from bptt.scenarios import CELLS, make_inputs
from bptt.symptoms import measure

PAGES = {  # each page with a URL that puts it where it has the most to draw
    "stepper": {"stepping": "server"},
    "gradient_flow": {"truncate": "5"},
    "gallery": {"scenario": "classroom"},
    "itemized": {"scenario": "classroom"},
    "lesson": {},
    "check": {},
}


@pytest.mark.parametrize("notation", ["course", "cs231n"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_in_both_notations_for_every_cell(page, cell, notation):
    at = open_page(page, {**PAGES[page], "cell": cell, "notation": notation})  # open_page asserts no exception
    assert not at.error, [e.value for e in at.error]
    assert not [w.value for w in at.warning if "URL parameter" in w.value or "is not known" in w.value]
    if page != "check":  # the check page has no run to set: it reads the notation from the code it is given
        assert at.query_params.get("notation", "course") == notation


def test_the_stepper_keeps_the_notation_in_its_sidebar_and_its_link():
    at = open_page("stepper", {"notation": "cs231n", "cell": "gru", "stepping": "server"})
    assert at.radio(key="stepper:notation").value == "cs231n" and at.radio(key="stepper:cell").value == "gru"
    assert at.query_params["notation"] == "cs231n" and at.query_params["cell"] == "gru"
    at.radio(key="stepper:notation").set_value("course").run()
    assert not at.exception and "notation" not in at.query_params


@pytest.mark.parametrize("page", ["gallery", "gradient_flow", "itemized", "lesson"])
def test_an_unknown_notation_is_named_and_the_course_is_used(page):
    at = open_page(page, {"notation": "pytorch"})
    assert any("notation='pytorch' is not known" in w.value and "using notation=course" in w.value for w in at.warning)
    assert at.radio(key="notation").value == "course" and "notation" not in at.query_params


def test_the_sidebar_switch_writes_the_notation_into_the_url_and_the_cards():
    at = open_page("gallery", {"cell": "rnn", "scenario": "classroom"})
    course = [c.value for c in at.code if c.language == "diff"]
    at.radio(key="notation").set_value("cs231n").run()
    assert not at.exception and at.query_params["notation"] == "cs231n"
    cs231n = [c.value for c in at.code if c.language == "diff"]
    rnn_bugs = [b for b in BUGS if b.cell == "rnn"]
    assert course == [diff_text(b) for b in rnn_bugs]
    assert cs231n == [diff_text(bug_lines(b.id, "cs231n")) for b in rnn_bugs] != course


@pytest.fixture(scope="module")
def cs231n_gallery():
    return open_page("gallery", {"scenario": "classroom", "notation": "cs231n"})


def test_the_cs231n_gallery_writes_every_bug_in_the_homeworks_code(cs231n_gallery):
    shown = [c.value for c in cs231n_gallery.code if c.language == "diff"]
    assert shown == [diff_text(bug_lines(b.id, "cs231n")) for b in BUGS]
    assert "- dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dprev_h, cache[t])" in shown[0]
    headings = texts(cs231n_gallery)
    for cs231n_name in ("rnn_step_backward", "lstm_step_backward", "gru_step_backward"):
        assert cs231n_name in headings
    assert "rnn_cell_backward" not in headings


def test_the_cs231n_gallery_draws_each_difference_batch_first(cs231n_gallery):
    """Each card's heatmap is the course's buggy − right transposed (rows examples or inputs, columns units)."""
    config = RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5)
    expected = []
    for bug in BUGS:
        symptom = measure(bug, replace(config, cell=bug.cell))
        if symptom.error is None and symptom.difference is not None:
            expected.append(symptom.difference)
    drawn = [f for f in figures(cs231n_gallery) if f["layout"]["meta"].get("scope") == "difference"]
    assert len(drawn) == len(expected)
    for fig, (key, difference) in zip(drawn, expected):
        want = difference.T  # a bias gradient (n_a, 1) too: the homework's db is a row
        np.testing.assert_allclose(array(fig["data"][0]["z"]).reshape(want.shape), want, rtol=1e-6, atol=1e-6)
    quantities = {f["layout"]["meta"]["quantity"] for f in drawn}
    assert "dWh" in quantities and not quantities & {"dWaa", "dWax", "dba"}


def test_the_cs231n_itemized_page_shows_dwh_as_rnn_backward_returns_it():
    """The total drawn is what CS231n's own rnn_backward returns for the course's weights, batch first."""
    at = open_page("itemized", {"scenario": "classroom", "notation": "cs231n"})
    config = RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5)
    inputs = make_inputs(config)
    p = inputs.parameters
    x, h0, dh = inputs.x.transpose(1, 2, 0), inputs.a0.T, inputs.da.transpose(1, 2, 0)  # batch first
    _, cache = cs231n_rnn_forward(x, h0, p["Wax"].T, p["Waa"].T, p["ba"][:, 0])
    dWh = cs231n_rnn_backward(dh, cache)[3]  # (H, H)
    total = figure(at, scope="total")
    assert total["layout"]["meta"]["quantity"] == "dWh"
    np.testing.assert_allclose(array(total["data"][0]["z"]).reshape(dWh.shape), dWh, rtol=1e-6, atol=1e-7)
    # the title wraps to its column
    assert "dWh, as rnn_backward returns it" in json.dumps(total["layout"]).replace("<br>", " ")


def test_the_cs231n_lesson_names_and_lays_out_the_homeworks_arrays():
    at = open_page("lesson", {"lesson": "2", "notation": "cs231n"})  # t = 3 of the classroom RNN
    step = run(RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5)).trace.step(3)
    for key, name in (("da_t", "dh[:, t, :]"), ("da_prevt", "dprev_h"), ("da_next", "dnext_h")):
        fig = figure(at, quantity=name)
        np.testing.assert_allclose(array(fig["data"][0]["z"]).reshape(step.inputs[key].T.shape),
                                   step.inputs[key].T.astype(np.float32))
    assert "dprev_h" in texts(at) and "da_prevt" not in texts(at)


def test_the_gru_itemized_page_adds_up_to_what_gru_backward_returns():
    at = open_page("itemized", {"scenario": "classroom", "cell": "gru", "grad": "dWz"})
    inputs = make_inputs(RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5, cell="gru"))
    _, _, caches = gru_forward(inputs.x, inputs.a0, inputs.parameters)
    dWz = gru_backward(inputs.da, caches)["dWz"]  # the course-style function, not the trace the page reads
    total = figure(at, scope="total")
    np.testing.assert_allclose(array(total["data"][0]["z"]).reshape(dWz.shape), dWz, rtol=1e-6, atol=1e-7)



@pytest.mark.parametrize("notation", ["course", "cs231n"])
@pytest.mark.parametrize("number", range(1, len(LESSON) + 1))
def test_every_lesson_step_renders_in_both_notations(number, notation):
    at = open_page("lesson", {"lesson": str(number), "notation": notation})
    assert not at.error and at.title[0].value == words(LESSON[number - 1].title,
                                                       LESSON[number - 1].params.get("cell", "rnn"), notation)
    link = next(p for p in at.get("page_link") if p.proto.label.startswith("Open this in"))
    assert (f"notation={notation}" in link.proto.query_string) == (notation == "cs231n")


@pytest.mark.parametrize("page, key", [("gallery", "notation"), ("stepper", "stepper:notation")])
def test_a_teacher_can_lock_or_hide_the_notation_switch(page, key):
    locked = open_page(page, {"notation": "cs231n", "lock": "notation", "scenario": "classroom", "cell": "rnn"})
    assert locked.radio(key=key).disabled and locked.radio(key=key).value == "cs231n"
    hidden = open_page(page, {"notation": "cs231n", "hide": "notation", "scenario": "classroom", "cell": "rnn"})
    assert key not in [r.key for r in hidden.radio] and hidden.query_params["notation"] == "cs231n"
