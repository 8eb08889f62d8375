"""The teaching pages through the real app (AppTest): each page, each URL parameter, the values drawn."""

import base64
import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bptt import BUGS, RunConfig, run
from bptt.flow import side_by_side, telling_step
from bptt.itemize import LSTM_KEYS, RNN_KEYS, itemize
from bptt.lessons import LESSON
from bptt.symptoms import measure
from bptt.ui.state import parse

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(page: str, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(f"pages/{page}.py")
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def array(value) -> np.ndarray:
    """A plotly spec array: a list, or a typed array {dtype, bdata, shape} as plotly ≥ 6 writes numpy."""
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).astype(np.float64)
        shape = value.get("shape")
        return a.reshape([int(n) for n in str(shape).split(",")]) if shape else a
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def figures(at: AppTest) -> list:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def figure(at: AppTest, **meta) -> dict:
    """The one figure whose layout.meta has these entries."""
    found = [f for f in figures(at) if all(f["layout"].get("meta", {}).get(k) == v for k, v in meta.items())]
    assert len(found) == 1, (meta, len(found))
    return found[0]


def links(at: AppTest) -> list:
    """(label, page url path, {param: value}) of every st.page_link."""
    return [(p.proto.label, p.proto.page, {k: v[-1] for k, v in parse_qs(p.proto.query_string).items()})
            for p in at.get("page_link")]


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def presenting(at: AppTest) -> bool:
    return any("stSidebar" in h.proto.body and "display: none" in h.proto.body for h in at.get("html"))


def assert_same(drawn: np.ndarray, expected: np.ndarray) -> None:
    """Equal where the chart can draw a value (positive and finite on a log axis), NaN elsewhere."""
    expected = np.where(np.isfinite(expected) & (expected > 0), expected, np.nan)
    np.testing.assert_allclose(drawn, expected, rtol=1e-12, equal_nan=True)


# ---- gradient flow ---------------------------------------------------------------------------------------------


def test_gradient_flow_opens_on_vanishing_and_draws_the_computed_norms():
    at = open_page("gradient_flow")
    config = RunConfig(scenario="vanishing", seed=0, n_x=2, n_a=8, m=4, T_x=25, scale=0.5)
    flows = side_by_side(config)
    assert [s.value for s in at.slider] == [0.5, 25, 0] and at.radio(key="flow_scenario").value == "vanishing"
    rnn, lstm = figure(at, cell="rnn"), figure(at, cell="lstm")
    assert rnn["layout"]["yaxis"]["type"] == "log"
    assert_same(array(rnn["data"][0]["y"]), flows["rnn"].da_prevt)
    assert_same(array(rnn["data"][1]["y"]), flows["rnn"].path)
    assert_same(array(lstm["data"][0]["y"]), flows["lstm"].da_prevt)
    assert_same(array(lstm["data"][1]["y"]), flows["lstm"].dc_prevt)
    assert_same(array(lstm["data"][2]["y"]), flows["lstm"].path)
    assert at.metric[0].value == f"{flows['rnn'].radius:.3f}" == "0.500"
    assert at.query_params["scale"] == "0.5" and at.query_params["T_x"] == "25"


def test_gradient_flow_links_into_the_stepper_at_the_telling_step():
    at = open_page("gradient_flow", {"scenario": "exploding", "scale": "1.5", "T_x": "30"})
    flows = side_by_side(RunConfig(scenario="exploding", seed=0, n_x=2, n_a=8, m=4, T_x=30, scale=1.5))
    t = telling_step(flows["rnn"])
    found = [(label, page, params) for label, page, params in links(at) if label.startswith("Step through")]
    assert [params["cell"] for *_, params in found] == ["rnn", "lstm", "gru"]
    for label, page, params in found:
        assert page == "" and f"t = {t}" in label  # the stepper is app.py's default page, at /
        state, messages = parse(params)
        assert messages == []
        assert state.t == t and state.config.scenario == "exploding"
        assert state.config.T_x == 30 and state.config.scale == 1.5


def test_moving_the_sliders_rewrites_the_url_and_the_chart():
    at = open_page("gradient_flow")
    at.slider(key="flow_scale").set_value(0.9).run()
    at.slider(key="flow_T_x").set_value(40).run()
    assert not at.exception
    assert at.query_params["scale"] == "0.9" and at.query_params["T_x"] == "40"
    flows = side_by_side(RunConfig(scenario="vanishing", seed=0, n_x=2, n_a=8, m=4, T_x=40, scale=0.9))
    assert_same(array(figure(at, cell="rnn")["data"][0]["y"]), flows["rnn"].da_prevt)


def test_the_exploding_preset_sets_its_radius():
    at = open_page("gradient_flow")
    at.radio(key="flow_scenario").set_value("exploding").run()
    assert at.slider(key="flow_scale").value == 1.5
    assert at.query_params["scenario"] == "exploding"
    assert figure(at, cell="rnn")["layout"]["meta"]["radius"] == pytest.approx(1.5)


@pytest.mark.parametrize("params, warning", [
    ({"scenario": "echo"}, "does not apply here"),
    ({"scale": "abc"}, "scale='abc' is not a number"),
    ({"T_x": "0"}, "T_x=0 is out of range"),
    ({"colour": "red"}, "colour= is not a parameter"),
])
def test_gradient_flow_explains_bad_parameters(params, warning):
    at = open_page("gradient_flow", params)
    assert any(warning in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(figures(at)) == 3


def test_a_teacher_can_lock_or_hide_the_flow_controls():
    locked = open_page("gradient_flow", {"lock": "scale", "scale": "0.8"})
    assert locked.slider(key="flow_scale").disabled and locked.slider(key="flow_scale").value == 0.8
    assert not locked.slider(key="flow_T_x").disabled
    hidden = open_page("gradient_flow", {"hide": "scale,sizes,scenario,truncate,notation", "scale": "1.2"})
    assert len(hidden.slider) == 0 and len(hidden.radio) == 0 and len(hidden.toggle) == 0
    assert figure(hidden, cell="rnn")["layout"]["meta"]["radius"] == pytest.approx(1.2)


# ---- bug gallery -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gallery() -> AppTest:
    return open_page("gallery")


def test_the_gallery_has_a_card_for_every_catalog_bug(gallery):
    assert [s.value for s in gallery.subheader] == [bug.title for bug in BUGS]
    captions = [c.value for c in gallery.caption]
    for bug in BUGS:
        assert any(f"`{bug.id}`" in c for c in captions), bug.id
    assert [code.value for code in gallery.code if code.language == "diff"] == [
        "\n".join(([f"- {w}" for w in bug.wrong.splitlines()] or ["- (line missing)"])
                  + [f"+ {r}" for r in bug.right.splitlines()]) for bug in BUGS
    ]


def test_the_gallery_opens_with_an_index_linking_to_every_card(gallery):
    index = next(m.value for m in gallery.markdown if "[" in m.value and "](#" in m.value)
    targets = re.findall(r"\[(.+?)\]\(#([\w-]+)\)", "\n".join(m.value for m in gallery.markdown if "](#" in m.value))
    assert [title for title, _ in targets] == [bug.title for bug in BUGS] and index
    anchors = [s.proto.anchor for s in gallery.subheader]
    assert [anchor for _, anchor in targets] == anchors == [bug.id for bug in BUGS]


def measured_lines(gallery: AppTest) -> list:
    return [m.value for m in gallery.markdown if m.value.startswith("**Measured on this input:**")]


def test_each_card_measures_what_the_catalog_documents(gallery):
    config = RunConfig()
    lines = measured_lines(gallery)
    assert len(lines) == len(BUGS)
    for bug, line in zip(BUGS, lines):
        if bug.raises:
            assert f"Raises `{bug.raises}` at t = {range(config.T_x)[bug.first[2]]}" in line, bug.id
            continue
        wrong = set(re.findall(r"`(\w+)` \([^)]*off\)", line))
        assert wrong == set(bug.wrong_keys), bug.id
        scope, quantity, index = bug.first
        where = "after the loop" if index is None else f"at t = {range(config.T_x)[index]}"
        assert f"First departs from the correct run {where}, in `{quantity}`" in line, bug.id
    assert not any("differs from the catalog" in w.value for w in gallery.warning)


def test_each_card_draws_the_difference_from_the_correct_run(gallery):
    heatmaps = figures(gallery)
    silent = [bug for bug in BUGS if not bug.raises]
    assert len(heatmaps) == len(silent)
    for bug, fig in zip(silent, heatmaps):
        label, difference = measure(bug, RunConfig()).difference
        assert fig["layout"]["meta"]["quantity"] == label
        np.testing.assert_allclose(array(fig["data"][0]["z"]), difference.astype(np.float32))
    raised = [code.value for code in gallery.code if code.language == "text"]  # a raising bug shows its error instead
    assert raised == [f"{s.error.kind}: {s.error.message}" for s in map(lambda b: measure(b, RunConfig()), BUGS) if s.error]


def test_each_card_opens_the_stepper_on_its_bug_where_it_first_diverges(gallery):
    found = [params for label, _, params in links(gallery) if label == "Open in the step-through debugger"]
    assert len(found) == len(BUGS)
    for bug, params in zip(BUGS, found):
        state, messages = parse(params)
        assert messages == [] and state.config.bug == bug.id and state.config.cell == bug.cell
        first = measure(bug, RunConfig()).first
        assert state.t == (first.t if first.t is not None else 0)


def test_a_bug_added_to_the_catalog_appears_with_no_page_change(monkeypatch):
    import bptt.catalog
    import bptt.ui.teaching
    extra = replace(BUGS[0], id="missing-da-t-again", title="The same bug, added to the catalog")
    monkeypatch.setattr(bptt.ui.teaching, "BUGS", BUGS + (extra,))
    monkeypatch.setitem(bptt.catalog.BY_ID, extra.id, extra)
    bptt.ui.teaching.cached_symptoms.clear()
    try:
        at = open_page("gallery", {"scenario": "classroom"})
        assert at.subheader[-1].value == extra.title
    finally:
        bptt.ui.teaching.cached_symptoms.clear()


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_the_gallery_can_show_one_cell(cell):
    at = open_page("gallery", {"cell": cell, "scenario": "classroom"})
    assert [s.value for s in at.subheader] == [bug.title for bug in BUGS if bug.cell == cell]
    assert "scenario **classroom**" in texts(at)


def test_the_gallery_warns_about_sizes_the_catalog_does_not_document():
    at = open_page("gallery", {"scenario": "classroom", "n_x": "3", "n_a": "3", "cell": "rnn"})
    assert any("T_x ≥ 2, n_a ≥ 2, n_x ≠ n_a" in i.value for i in at.info)


def test_the_gallery_measures_every_bug_even_at_t_x_1():
    """A bug documented as departing at step T_x-2 has no such step here: the card says so, nothing raises."""
    at = open_page("gallery", {"scenario": "classroom", "T_x": "1"})
    assert len(at.get("plotly_chart")) + len(at.code) >= len(BUGS)
    assert any("T_x ≥ 2" in i.value for i in at.info)


def test_the_gallery_refuses_sizes_that_would_run_every_bug_for_minutes():
    at = open_page("gallery", {"scenario": "classroom", "n_a": "256", "m": "64", "T_x": "200"})
    assert any("too large to run every bug" in e.value for e in at.error)
    assert not at.get("plotly_chart")


def test_gradient_flow_explains_sizes_too_large_for_its_jacobians():
    at = open_page("gradient_flow", {"scenario": "vanishing", "n_a": "256", "m": "64"})
    assert any("Lower n_a or m" in e.value for e in at.error)


# ---- itemized gradients ----------------------------------------------------------------------------------------


def test_itemized_draws_each_sources_fraction_of_every_gradient():
    at = open_page("itemized", {"scenario": "classroom"})
    shown = run(RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5))
    itemized = itemize(shown.da, shown.caches, "rnn")
    fig = figure(at, keys=list(RNN_KEYS))
    assert len(fig["data"]) == 5  # one bar series per source timestep
    drawn = np.array([array(series["x"]) for series in fig["data"]])  # (source, key)
    for j, key in enumerate(RNN_KEYS):
        np.testing.assert_allclose(drawn[:, j], itemized.fractions(key))
        assert drawn[:, j].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(array(figure(at, chart="shares", key="dWaa")["data"][0]["y"]),
                               itemized.norms("dWaa").astype(np.float32))
    total = [f for f in figures(at) if f["layout"]["meta"].get("scope") == "total"][0]
    np.testing.assert_allclose(array(total["data"][0]["z"]), shown.trace.gradients()["dWaa"].astype(np.float32))


def test_the_stepper_links_here_with_its_run():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["scenario"] = "classroom"
    at.query_params["bug"] = "missing-da-prev"
    at.run()
    found = [params for label, page, params in links(at) if page == "itemized"]
    assert len(found) == 1
    state, messages = parse(found[0])
    assert messages == [] and state.config == RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5,
                                                        bug="missing-da-prev")


def test_itemized_shows_the_gradient_named_in_the_url():
    at = open_page("itemized", {"scenario": "classroom", "grad": "dWax"})
    assert at.selectbox(key="itemized_grad").value == "dWax"
    assert figure(at, chart="shares", key="dWax") and figure(at, chart="reach", key="dWax")


@pytest.mark.parametrize("params, message", [
    ({"grad": "dWzz"}, "grad=dWzz is not a weight gradient"),
    ({"scenario": "classroom", "T_x": "150"}, "use T_x ≤ 100"),
    ({"bug": "no-transpose-wax"}, "this code raises at t = 3"),
])
def test_itemized_explains_what_it_cannot_show(params, message):
    at = open_page("itemized", params)
    shown = [w.value for w in at.warning] + [e.value for e in at.error]
    assert any(message in text for text in shown), shown


def test_itemized_lstm_and_a_bug():
    at = open_page("itemized", {"cell": "lstm", "scenario": "classroom"})
    assert figure(at, keys=list(LSTM_KEYS))
    buggy = open_page("itemized", {"scenario": "classroom", "bug": "missing-da-prev"})
    z = array(figure(buggy, chart="reach", key="dWaa")["data"][0]["z"])
    assert np.all(np.isnan(z[~np.eye(len(z), dtype=bool)]))  # each loss reaches only its own step
    assert "Forgot to carry da_prevt" in texts(buggy)


# ---- lesson ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", range(1, len(LESSON) + 1))
def test_every_lesson_step_narrates_and_links_its_state(number):
    step = LESSON[number - 1]
    at = open_page("lesson", {"lesson": str(number)})
    assert at.title[0].value == step.title
    assert step.narration in texts(at)
    opened = [(page, params) for label, page, params in links(at) if label.startswith("Open this in the")]
    url_path = "" if step.page == "stepper" else step.page  # the stepper is app.py's default page, at /
    assert opened == [(url_path, step.params)]
    index = [params for label, page, params in links(at) if page == "lesson"]
    assert index == [{"lesson": str(k)} for k in range(1, len(LESSON) + 1)]
    assert len(figures(at)) >= 1


def test_a_stepper_lesson_draws_the_state_it_narrates():
    at = open_page("lesson", {"lesson": "4"})  # missing da[:,:,t], at t = 4
    shown = run(RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5, bug="missing-da-t"))
    step = shown.trace.step(4)
    for key in ("da_t", "da_prevt", "da_next"):
        fig = figure(at, quantity=key)
        np.testing.assert_allclose(array(fig["data"][0]["z"]), step.inputs[key].astype(np.float32))
    assert not np.any(step.inputs["da_next"]) and np.any(step.inputs["da_t"])


def test_the_lstm_lesson_draws_dc_next_on_its_own_scale_so_it_is_visibly_far_from_zero():
    number = next(k for k, step in enumerate(LESSON, start=1) if "dc_next is still far from zero" in step.look)
    at = open_page("lesson", {"lesson": str(number)})
    fig = figure(at, quantity="dc_next")
    z, zmax = array(fig["data"][0]["z"]), fig["data"][0]["zmax"]
    assert np.max(np.abs(z)) / zmax > 0.5  # past half the colour range: clearly coloured, not near-white
    carried = figure(at, quantity="da_prevt")
    assert carried["data"][0]["zmax"] == figure(at, quantity="da_next")["data"][0]["zmax"]  # a's path: one range


def test_next_and_back_walk_the_lesson_in_the_url():
    at = open_page("lesson", {"lesson": "1"})
    assert at.button(key="lesson_back").disabled
    at.button(key="lesson_next").click().run()
    assert at.query_params["lesson"] == "2" and at.title[0].value == LESSON[1].title
    at.button(key="lesson_back").click().run()
    assert at.query_params["lesson"] == "1" and at.title[0].value == LESSON[0].title
    last = open_page("lesson", {"lesson": str(len(LESSON))})
    assert last.button(key="lesson_next").disabled


@pytest.mark.parametrize("raw", ["0", "abc", str(len(LESSON) + 1)])
def test_a_lesson_number_outside_the_lesson_says_so(raw):
    at = open_page("lesson", {"lesson": raw})
    assert any(f"lesson={raw} is not a step" in w.value for w in at.warning)
    assert at.title[0].value == LESSON[0].title


# ---- presenter layout, on every teaching page ------------------------------------------------------------------


@pytest.mark.parametrize("page, params", [
    ("gradient_flow", {}), ("gallery", {"cell": "rnn"}), ("itemized", {"scenario": "classroom"}), ("lesson", {}),
])
def test_present_1_switches_every_page_to_the_presenter_layout(page, params):
    plain = open_page(page, params)
    assert not presenting(plain)
    at = open_page(page, {**params, "present": "1"})
    assert presenting(at)
    assert all(f["layout"]["font"]["size"] == 18 for f in figures(at))
    assert all(params.get("present") == "1" for label, _, params in links(at)), links(at)
