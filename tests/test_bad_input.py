"""Bad input from the URL or the sidebar: the page renders or says what was wrong, never a traceback or a hang.

Hypothesis draws query strings mixing good values with negative, huge, non-numeric and unknown
ones (T_x = 1 included) and sidebar values beyond their bounds, as a hand-edited link or a
crafted client can send them. Every run must finish within the AppTest timeout with no
exception element; every value drawn as bad must be named in a warning; every size drawn as
good must be the one the sidebar shows.
"""

import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from bptt import BUGS, SCENARIOS
from bptt.scenarios import LIMITS
from bptt.ui.state import SCALE_RANGE

APP = str(Path(__file__).resolve().parent.parent / "app.py")
P = "stepper:"
TIMEOUT_S = 60  # a page run past this is a hang
SIZES = ("n_x", "n_a", "m", "T_x")
TITLE = "Step through backprop through time"
SMALL = {"n_x": 6, "n_a": 8, "m": 5, "T_x": 12}  # good sizes stay small so a hundred page runs stay fast
EXAMPLES = int(os.environ.get("BAD_INPUT_EXAMPLES", "12"))  # CI keeps it modest; raise it for a deeper search
FEW = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

not_a_number = st.one_of(
    st.sampled_from(["", " ", "abc", "1.5", "1e3", "nan", "inf", "-inf", "0x10", "3,4", "½", "None", "[]", "%00",
                     "1_000_000_000_000", "9" * 40, "<script>", "😀"]),
    st.text(min_size=1, max_size=12).filter(lambda s: not _whole(s)),
)
unknown_id = st.sampled_from(["tree", "RNN ", "lstm2", "none-such", "../../etc", "missing_da_t", "ÿ", "%20", "0"])


def _whole(text: str) -> bool:
    try:
        int(text.strip())
        return True
    except ValueError:
        return False


def good(name: str) -> st.SearchStrategy:
    low = LIMITS[name][0]
    return st.integers(low, SMALL[name]).map(str) if name in SMALL else st.integers(*LIMITS[name]).map(str)


def bad(name: str) -> st.SearchStrategy:
    low, high = LIMITS[name]
    return st.one_of(st.integers(max_value=low - 1).map(str), st.integers(min_value=high + 1).map(str), not_a_number)


@st.composite
def queries(draw) -> tuple:
    """(query params, names drawn as bad): a link as a student might mangle it."""
    params, wrong = {}, set()
    scenario = draw(st.sampled_from(sorted(SCENARIOS)) | unknown_id)
    if draw(st.booleans()):
        params["scenario"] = scenario
        if scenario not in SCENARIOS:
            wrong.add("scenario")
    cell = draw(st.sampled_from(["rnn", "lstm"]) | unknown_id)
    if draw(st.booleans()):
        params["cell"] = cell
        if cell.strip().lower() not in ("rnn", "lstm"):
            wrong.add("cell")
    for name in ("seed", *SIZES):
        choice = draw(st.sampled_from(["absent", "good", "bad"]))
        if choice != "absent":
            params[name] = draw(good(name) if choice == "good" else bad(name))
            wrong |= {name} if choice == "bad" else set()
    if draw(st.booleans()):
        scale = draw(st.floats(*SCALE_RANGE).map(repr) | st.sampled_from(["0", "-1", "11", "nan", "inf", "x", ""]))
        params["scale"] = scale
        if not _in_scale(scale):
            wrong.add("scale")
    if draw(st.booleans()):
        bug = draw(st.sampled_from([b.id for b in BUGS]) | unknown_id)
        params["bug"] = bug
        if bug not in {b.id for b in BUGS}:
            wrong.add("bug")
    if draw(st.booleans()):
        t = draw(st.integers(-5, 15).map(str) | st.integers(301, 10**12).map(str) | not_a_number)
        params["t"] = t
        if not _whole(t) or not 0 <= int(t) <= 300:
            wrong.add("t")
    if draw(st.booleans()):
        params[draw(st.sampled_from(["foo", "tx", "N_A", "debug"]))] = draw(st.text(max_size=5))
    if draw(st.booleans()):
        params["present"] = draw(st.sampled_from(["1", "0", "yes", "maybe", "2"]))
    return params, wrong


def _in_scale(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and SCALE_RANGE[0] <= value <= SCALE_RANGE[1]


def open_page(params: dict, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    if page is not None:
        at.switch_page(page)
    at.query_params.update(params)
    at.run()  # raises if the run goes past TIMEOUT_S
    return at


def said(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "warning", "error", "info", "subheader", "title")
                     for e in at.get(kind))


def stepped(at: AppTest) -> bool:
    """The step panel is there: the server's heading, or the browser stepper holding every step."""
    server = any("Step " in s.value and "t = " in s.value for s in at.subheader)
    return server or any(e.proto.component_name == "bptt_browser_stepper" for e in at.get("bidi_component"))


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert "Traceback (most recent call last)" not in said(at)


@FEW
@given(queries())
@example(({"scenario": "classroom", "T_x": "1"}, set()))
@example(({"scenario": "classroom", "T_x": "1", "t": "0", "bug": "missing-da-t"}, set()))
@example(({"cell": "lstm", "scenario": "vanishing", "T_x": "1", "n_a": "1", "m": "1", "n_x": "1"}, set()))
@example(({"scenario": "classroom", "n_a": "-3", "m": "0", "T_x": "10000000000000", "n_x": "abc"},
          {"n_a", "m", "T_x", "n_x"}))
@example(({"cell": "tree", "scenario": "none-such", "bug": "../../etc", "t": "-1"}, {"cell", "scenario", "bug", "t"}))
def test_any_link_renders_or_names_what_was_wrong(case):
    params, wrong = case
    at = open_page(params)
    no_traceback(at)
    assert at.title and at.title[0].value == TITLE
    warnings = "\n".join(w.value for w in at.warning)
    for name in wrong:
        assert f"`{name}`" in warnings or f"{name}=" in warnings, (name, params, warnings)
    assert stepped(at) or at.error, "neither the step panel nor a message explaining why not"
    scenario = params.get("scenario")
    if scenario in SCENARIOS and not SCENARIOS[scenario].fixed:
        for name in SIZES:
            if name in params and name not in wrong:
                assert at.number_input(key=P + name).value == int(params[name]), (name, params)


@st.composite
def sidebar_values(draw) -> dict:
    """Values for the sidebar's number inputs, inside and far outside their bounds."""
    values = {}
    for name in SIZES:
        if draw(st.booleans()):
            low, high = LIMITS[name]
            values[name] = draw(st.integers(low, SMALL[name]) | st.integers(-10**6, low - 1)
                                | st.integers(high + 1, 10**9))
    if draw(st.booleans()):
        values["scale"] = draw(st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, -0.0, 1e-9, 10.5]))
    return values


@FEW
@given(sidebar_values())
@example({"T_x": 1})
@example({"n_a": -5, "T_x": 10**9, "scale": -3.0})
def test_any_sidebar_values_render_or_are_refused(values):
    at = open_page({"scenario": "classroom"})
    for name, value in values.items():
        at.number_input(key=P + name).set_value(value)
    at.run()
    no_traceback(at)
    assert at.title[0].value == TITLE
    for name, value in values.items():
        shown = at.number_input(key=P + name).value
        low, high = LIMITS.get(name, SCALE_RANGE)
        assert low <= shown <= high, (name, value, shown)  # never a run outside the limits
        if low <= value <= high:
            assert shown == value, (name, value, shown)
    assert stepped(at) or at.error


@settings(max_examples=max(4, EXAMPLES // 3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries(), st.sampled_from(["pages/gradient_flow.py", "pages/itemized.py", "pages/gallery.py",
                                   "pages/lesson.py"]),
       st.sampled_from([{}, {"lesson": "0"}, {"lesson": "99"}, {"lesson": "x"}, {"grad": "dWzz"}, {"grad": ""}]))
def test_the_other_pages_take_the_same_bad_links(case, page, own):
    params, wrong = case
    at = open_page({**params, **own}, page)
    no_traceback(at)
    warnings = "\n".join(w.value for w in at.warning)
    for name in wrong:
        assert f"{name}=" in warnings or f"`{name}`" in warnings, (name, params, warnings)


# ---- widget values no browser would send: a websocket client can put any value in any widget's message ---------

ODD_VALUES = ("../../etc", 99, -1, 10**12, float("nan"), float("inf"), "", [7, 8])
PAGES = (None, "pages/gradient_flow.py", "pages/itemized.py", "pages/gallery.py", "pages/lesson.py")


def send_odd(at: AppTest, value, only: str | None = None) -> AppTest:
    """Rerun with every widget's value (or only those whose id ends with `only`) replaced by `value`."""
    honest = at._tree.get_widget_states

    def odd():
        states = honest()
        for state in states.widgets:
            if only is not None and not state.id.endswith(only):
                continue
            if isinstance(value, str):
                state.string_value = value
            elif isinstance(value, float):
                state.double_value = value
            elif isinstance(value, list):
                state.int_array_value.data[:] = value
            else:
                state.int_value = value
        return states

    at._tree.get_widget_states = odd
    at.run()
    at._tree.get_widget_states = honest
    return at


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize("page", PAGES)
def test_odd_widget_values_from_a_non_browser_client_get_words_not_exceptions(page, value):
    at = open_page({"scenario": "classroom"} if page is None else {}, page)
    send_odd(at, value)
    no_traceback(at)
    assert at.title or at.error, "the page drew nothing and said nothing"


@pytest.mark.parametrize("value", [99, -1, "../../etc", float("nan")])
@pytest.mark.parametrize("widget", ["stepper:cell", "stepper:scenario", "stepper:n_a", "stepper:scale", "stepper:bug"])
def test_an_odd_value_for_one_stepper_control_is_named_and_the_page_keeps_its_run(widget, value):
    at = open_page({"scenario": "classroom"})
    send_odd(at, value, only=widget)
    no_traceback(at)
    assert at.title[0].value == TITLE
    assert stepped(at)
    name = widget.split(":")[1]
    if name in ("n_a", "scale") and not isinstance(value, str):  # streamlit clamps any number (NaN too) into range
        low, high = LIMITS.get(name, SCALE_RANGE)
        assert low <= at.number_input(key=widget).value <= high
    else:
        assert "could not read" in said(at) or "cannot hold" in said(at), said(at)
