"""The stepper's sidebar and its two-way sync with the URL.

The URL is read once per session (or when a link brings new parameters); from then on the widgets
are the truth and every change is written back to st.query_params, so the address bar can always be
shared. Widget values live in st.session_state under "stepper:*" keys; a canonical PageState under
"stepper:state" restores them when the page is left and entered again (streamlit forgets the
state of widgets that were not drawn).
"""

from dataclasses import replace

import streamlit as st

from ..catalog import BY_ID, bugs_for
from ..notation import NOTATIONS
from ..scenarios import CELLS, LIMITS, SCENARIOS, RunConfig, validate
from ..truncation import truncation_problem
from .state import SCALE_RANGE, SIZES, PageState, parse, to_params

P = "stepper:"
NONE = "none"  # the bug selector's "correct code" entry
FAMOUS = "missing-da-t"
WIDGETS = ("cell", "scenario", "seed", *SIZES, "scale", "bug", "famous", "truncate", "randomized", "notation")
NOTATION_LABELS = {"course": "Course (rnn_cell_backward)", "cs231n": "CS231n (rnn_step_backward)"}


def _widget_values(state: PageState) -> dict:
    c = state.config
    values = {name: getattr(c, name) for name in ("cell", "scenario", "seed", *SIZES)}
    return values | {"scale": float(c.scale), "bug": c.bug or NONE, "famous": c.bug == FAMOUS,
                     "truncate": c.truncate, "randomized": c.randomized, "notation": state.notation}


def resolve() -> tuple:
    """(PageState, [Message]) for this run: from the URL when it brings something new, else the session's."""
    ss = st.session_state
    params = st.query_params.to_dict()
    saved = ss.get(P + "state")
    if saved is None or (params and params != ss.get(P + "written")):
        state, messages = parse(params)
        for name, value in _widget_values(state).items():
            ss[P + name] = value
        ss[P + "state"] = state
        ss[P + "messages"] = (messages, state.config)
        ss.pop(P + "t", None)
        return state, messages
    for name, value in _widget_values(saved).items():
        ss.setdefault(P + name, value)
    messages, parsed = ss.get(P + "messages", ([], None))
    return saved, messages if parsed == saved.config else []


def _readable(name: str, value) -> bool:
    """Whether a widget's value is one its control can hold (a client that is not a browser can send anything)."""
    if name == "cell":
        return isinstance(value, str) and value in CELLS
    if name == "notation":
        return isinstance(value, str) and value in NOTATIONS
    if name == "scenario":
        return isinstance(value, str) and value in SCENARIOS
    if name == "bug":
        return value == NONE or (isinstance(value, str) and value in BY_ID)
    if name in ("famous", "randomized"):
        return isinstance(value, bool)
    if name == "truncate":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= LIMITS["T_x"][1] \
            and value == int(value)
    if name == "scale":
        low, high = SCALE_RANGE
        return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
    low, high = LIMITS[name]  # seed and the sizes: whole numbers within their limits (NaN fails every comparison)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high and value == int(value)


def odd_widgets(state: PageState) -> list:
    """Put back the session's value of every control holding one it cannot hold; the names of those reset."""
    ss = st.session_state
    reset = []
    for name, value in _widget_values(state).items():
        if P + name in ss and not _readable(name, ss[P + name]):
            ss[P + name] = value
            reset.append(name)
    return reset


def _on_cell() -> None:
    ss = st.session_state
    if not _readable("cell", ss.get(P + "cell")) or not _readable("bug", ss.get(P + "bug")):
        return  # odd_widgets() puts the value back before anything reads it
    bug = BY_ID.get(ss[P + "bug"])
    if bug is not None and bug.cell != ss[P + "cell"]:
        ss[P + "bug"], ss[P + "famous"] = NONE, False


def _on_scenario() -> None:
    ss = st.session_state
    if not _readable("scenario", ss.get(P + "scenario")):
        return
    d = SCENARIOS[ss[P + "scenario"]].defaults
    for name in ("seed", *SIZES):
        ss[P + name] = getattr(d, name)
    ss[P + "scale"] = float(d.scale)


def _on_bug() -> None:
    st.session_state[P + "famous"] = st.session_state.get(P + "bug") == FAMOUS


def _on_famous() -> None:
    ss = st.session_state
    if not _readable("famous", ss.get(P + "famous")):
        return
    ss[P + "bug"] = FAMOUS if ss[P + "famous"] else NONE
    if ss[P + "famous"]:
        ss[P + "cell"] = "rnn"


def sidebar(state: PageState) -> RunConfig:
    """Draw the run's controls (hidden or locked as the URL asks) and return the config they describe."""
    ss = st.session_state
    with st.sidebar:
        st.header("The run")
        if not state.hidden("notation"):
            notation_radio(P + "notation", state.locked("notation"))
        if not state.hidden("cell"):
            st.radio("Cell", CELLS, key=P + "cell", format_func=str.upper, horizontal=True,
                     disabled=state.locked("cell"), on_change=_on_cell)
        if not state.hidden("scenario"):
            st.selectbox("Scenario", tuple(SCENARIOS), key=P + "scenario", format_func=lambda s: SCENARIOS[s].title,
                         disabled=state.locked("scenario"), on_change=_on_scenario)
            st.caption(SCENARIOS[ss[P + "scenario"]].description)
        fixed = SCENARIOS[ss[P + "scenario"]].fixed
        if fixed:
            st.info("The course's example fixes the sizes and the seed to the notebook's "
                    "(n_x=3, n_a=5, m=10, T_x=4, np.random.seed(1)). Choose another scenario to change them.")
        shown = [n for n in SIZES if not state.hidden(n)]
        for column, name in zip(st.columns(2) * 2, shown):
            low, high = LIMITS[name]
            column.number_input(name, min_value=low, max_value=high, step=1, key=P + name,
                                disabled=fixed or state.locked(name), help=f"whole number from {low} to {high}")
        if not state.hidden("seed"):
            low, high = LIMITS["seed"]
            st.number_input("Seed", min_value=low, max_value=high, step=1, key=P + "seed",
                            disabled=fixed or state.locked("seed"))
        if not state.hidden("scale"):
            st.number_input("Weight scale", min_value=SCALE_RANGE[0], max_value=SCALE_RANGE[1], step=0.1,
                            format="%.3f", key=P + "scale", disabled=fixed or state.locked("scale"),
                            help="Multiplies the random weights; for the vanishing and exploding scenarios it is "
                                 "the spectral radius of Waa.")
        if not state.hidden("bug"):
            st.header("The code")
            options = (NONE, *(b.id for b in bugs_for(ss[P + "cell"])))
            if ss[P + "bug"] not in options:
                ss[P + "bug"] = NONE
            st.selectbox("Bug", options, key=P + "bug", on_change=_on_bug, disabled=state.locked("bug"),
                         format_func=lambda b: "none: the course's correct code" if b == NONE else BY_ID[b].title)
        T_x = SCENARIOS[ss[P + "scenario"]].defaults.T_x if fixed else int(ss[P + "T_x"])
        truncate, randomized = (state.config.truncate, state.config.randomized) if state.hidden("truncate") else \
            truncation_controls(T_x, state.locked("truncate"))
    bug = ss[P + "bug"]
    return validate(RunConfig(
        ss[P + "cell"], ss[P + "scenario"], int(ss[P + "seed"]), *(int(ss[P + n]) for n in SIZES),
        float(ss[P + "scale"]), None if bug == NONE else bug, truncate=truncate, randomized=randomized,
    ))


def notation_radio(key: str, locked: bool = False) -> str:
    """The notation switch: the course's names and shapes, or CS231n's homework's (a page setting, not the run's).

    notation_radio("stepper:notation")  # 'course' or 'cs231n'
    """
    return st.radio("Notation", NOTATIONS, key=key, format_func=NOTATION_LABELS.get, horizontal=True, disabled=locked,
                    help="Whose names, shapes and code the page writes: the course's (x (n_x, m, T_x), "
                         "rnn_cell_backward) or CS231n's rnn_layers.py (x (N, T, D), rnn_step_backward). "
                         "The numbers are the same, transposed.")


def truncation_controls(T_x: int, locked: bool = False) -> tuple:
    """(truncate, randomized) from the sidebar, brought within what a run of T_x steps can have.

    truncate, randomized = truncation_controls(config.T_x)  # (0, False): full BPTT
    """
    ss = st.session_state
    st.header("Truncated BPTT")
    st.number_input("Cut the carried gradient every k steps (0: full BPTT)", min_value=0,
                    max_value=LIMITS["T_x"][1], step=1, key=P + "truncate", disabled=locked,
                    help="d2l.ai's truncated BPTT: the gradient carried back is detached every k steps.")
    st.toggle("Randomized (Tallec & Ollivier): k is the mean length", key=P + "randomized", disabled=locked,
              help="Each link is cut with probability 1/k and every kept one scaled by 1/(1 - 1/k), so the "
                   "gradient stays unbiased. The draws come from the run's seed.")
    truncate, randomized = min(int(ss[P + "truncate"]), T_x), bool(ss[P + "randomized"])
    if truncate != int(ss[P + "truncate"]):
        st.caption(f"This run has T_x = {T_x} steps: truncate = {truncate} is used.")
    problem = truncation_problem(truncate, randomized, T_x)
    if problem:
        st.caption(f"{problem}. Full-length chunks are used instead of random ones.")
        randomized = False
    return truncate, randomized


def famous_toggle(state: PageState) -> None:
    """The one-click switch for the most common student bug, where a teacher can reach it in class."""
    if state.hidden("bug"):
        return
    st.toggle("Forget to add `da[:,:,t]` (the famous bug)", key=P + "famous", on_change=_on_famous,
              disabled=state.locked("bug"),
              help="rnn_cell_backward(da_prevt, caches[t]) instead of rnn_cell_backward(da[:,:,t] + da_prevt, "
                   "caches[t]). Switches to the RNN.")


def commit(state: PageState, config: RunConfig, t: int | None) -> PageState:
    """Store the page's state in the session and in the URL (only when something changed)."""
    notation = st.session_state.get(P + "notation", state.notation)
    new = replace(state, config=config, t=t, notation=notation if notation in NOTATIONS else state.notation)
    st.session_state[P + "state"] = new
    params = to_params(new)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    st.session_state[P + "written"] = params
    return new
