"""The URL contract as pure functions: every state survives the round trip, every bad value is named."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptt import BUGS, LIMITS, SCENARIOS, RunConfig, validate
from bptt.notation import NOTATIONS
from bptt.scenarios import CELLS
from bptt.ui.state import CONTROLS, PANELS, SCALE_RANGE, PageState, link, parse, to_params


@st.composite
def states(draw):
    cell = draw(st.sampled_from(CELLS))
    scenario = draw(st.sampled_from(sorted(SCENARIOS)))
    bug = draw(st.sampled_from([None] + [b.id for b in BUGS if b.cell == cell]))
    config = validate(RunConfig(
        cell, scenario, *(draw(st.integers(*LIMITS[name])) for name in ("seed", "n_x", "n_a", "m", "T_x")),
        draw(st.floats(*SCALE_RANGE)), bug,
    ))
    truncate = draw(st.integers(0, config.T_x))
    config = replace(config, truncate=truncate, randomized=truncate >= 2 and draw(st.booleans()))
    t = draw(st.none() | st.integers(0, config.T_x - 1))
    return PageState(config, t, draw(st.booleans()), frozenset(draw(st.sets(st.sampled_from(CONTROLS + PANELS)))),
                     frozenset(draw(st.sets(st.sampled_from(CONTROLS)))), notation=draw(st.sampled_from(NOTATIONS)))


@settings(max_examples=200, deadline=None)
@given(states())
def test_every_state_round_trips_through_the_url(state):
    parsed, messages = parse(to_params(state))
    assert messages == []
    assert parsed == state


def test_defaults_and_the_issue_example():
    assert parse({}) == (PageState(), [])
    state, messages = parse({"bug": "missing-da-t", "t": "2"})
    assert messages == [] and state.config.bug == "missing-da-t" and state.t == 2


def test_repeated_parameters_take_the_last_value():
    state, _ = parse({"t": ["1", "2"]})
    assert state.t == 2


@pytest.mark.parametrize("params, param, fallback", [
    ({"scenario": "classroom", "n_a": str(LIMITS["n_a"][1] + 1)}, "n_a", ("config", "n_a", 3)),
    ({"scenario": "classroom", "scale": "0"}, "scale", ("config", "scale", 1.0)),
    ({"cell": "lstm", "bug": "missing-da-t"}, "bug", ("config", "bug", None)),
    ({"t": "4"}, "t", ("t", None, None)),
    ({"cell": "tree"}, "cell", ("config", "cell", "rnn")),
    ({"truncate": "5"}, "truncate", ("config", "truncate", 0)),  # the course's example has T_x = 4
    ({"truncate": "1", "randomized": "1"}, "randomized", ("config", "randomized", False)),
    ({"notation": "pytorch"}, "notation", ("notation", None, "course")),
])
def test_each_bad_value_names_its_parameter_and_falls_back(params, param, fallback):
    state, messages = parse(params)
    assert [m.param for m in messages] == [param]
    assert "using" in messages[0].text or "showing" in messages[0].text
    where, field, value = fallback
    got = getattr(state.config, field) if where == "config" else getattr(state, where)
    assert got == value


def test_link_opens_the_stepper_with_changes():
    assert link(bug="missing-da-t", t=2) == "./?cell=rnn&scenario=course&t=2&bug=missing-da-t"
    url = link(replace(PageState(), present=True), scenario="vanishing", t=3)
    assert parse(dict(p.split("=") for p in url[3:].split("&")))[0].config == SCENARIOS["vanishing"].defaults
    assert "present=1" in url


def test_notation_and_truncation_travel_in_the_link_and_default_to_course_and_full_bptt():
    state, messages = parse({"cell": "gru", "scenario": "exploding", "truncate": "5", "randomized": "1",
                             "notation": "CS231N"})
    assert messages == []
    assert (state.notation, state.config.cell, state.config.truncate, state.config.randomized) == ("cs231n", "gru", 5, True)
    assert "notation" not in to_params(PageState()) and "truncate" not in to_params(PageState())
    assert link(state, scenario="classroom").endswith("truncate=5&randomized=1&notation=cs231n")  # T_x = 5 keeps k = 5
    assert "truncate" not in link(state, scenario="course")  # T_x = 4 cannot cut every 5 steps
