"""Moving through the backward loop: which steps exist, their labels, the buttons, slider and play.

Steps are counted in the order the loop runs them (step 1 is t = T_x-1 in the course's code); the
buttons read First, Previous, Next, Last in that order, each naming the t it goes to.
"""

import time

import streamlit as st

from ..trace import Trace
from .state import PageState

P = "stepper:"
SPEEDS = (0.5, 1.0, 2.0, 4.0)  # steps per second


def steps_of(trace: Trace) -> list:
    """Forward time indices in the order the loop visited them; the step that raised comes last."""
    return list(trace.order) + ([trace.error.t] if trace.error is not None else [])


def label(trace: Trace, t: int) -> str:
    """'Step 2 of 4 — t = 2'"""
    return f"Step {steps_of(trace).index(t) + 1} of {trace.T_x} — t = {t}"


def snap(trace: Trace, t: int | None) -> int:
    """t when the loop got there; otherwise the nearest step it did reach (the first one for None)."""
    steps = steps_of(trace)
    if t is None or not steps:
        return steps[0] if steps else trace.T_x - 1
    return t if t in steps else min(steps, key=lambda s: (abs(s - t), s))


def _go(t: int) -> None:
    st.session_state[P + "t"] = t


def advance(trace: Trace) -> bool:
    """One step on while playing; False when the loop has no step left (play stops there)."""
    steps = steps_of(trace)
    k = steps.index(snap(trace, st.session_state.get(P + "t")))
    if k + 1 >= len(steps):
        return False
    _go(steps[k + 1])
    st.session_state[P + "tick"] = time.monotonic()
    return True


def due(speed: float) -> bool:
    """Whether a play tick is due (a click while playing reruns the panel too, and must not skip)."""
    return time.monotonic() - st.session_state.get(P + "tick", 0.0) >= 0.9 / speed


def current(trace: Trace) -> int:
    """The t to show: what the buttons or the slider asked for, snapped to a step the loop reached."""
    ss = st.session_state
    asked = ss.get(P + "t")
    t = snap(trace, asked)
    ss[P + "t"] = t
    if asked is not None and asked != t and trace.error is not None:
        st.caption(f"t = {asked} was never reached: the loop raised at t = {trace.error.t}. Showing t = {t}.")
    return t


def buttons(trace: Trace, t: int) -> list:
    """[(name, label, target t or None, keyboard shortcut, help)] for First, Previous, Next, Last, in that order.

    Read left to right, the buttons follow the loop: First is where the backward starts (t = T_x-1 in the
    course's code), Next is the step the loop runs next. Each label names the t it goes to, since in a
    backward pass "next" is one step back in time; the arrows (and the → ← keys) point the way the loop runs.
    """
    steps = steps_of(trace)
    k = steps.index(t)
    nxt = steps[k + 1] if k + 1 < len(steps) else None
    prev = steps[k - 1] if k > 0 else None
    backward = len(steps) < 2 or steps[1] < steps[0]
    way = "one step back in time" if backward else "one step forward in time, which is the bug"

    def at(target):
        return f" (t = {target})" if target is not None else ""

    return [
        ("First step", f"⇤ First step{at(steps[0])}", steps[0], "Home", "Where the backward starts"),
        ("Previous step", f"◀ Previous step{at(prev)}", prev, "Left", "Back to the step the loop ran before this one"),
        ("Next step", f"Next step{at(nxt)} ▶", nxt, "Right", f"The step the loop runs next: {way}"),
        ("Last step", f"Last step{at(steps[-1])} ⇥", steps[-1], "End", "The step the loop runs last"),
    ]


def navigation(trace: Trace, state: PageState, t: int) -> None:
    """The step buttons (First, Previous, Next, Last) and the slider over t, for the step t shown now."""
    locked = state.locked("step")
    if not state.hidden("step"):
        for column, (name, text, target, key, help_text) in zip(st.columns(4), buttons(trace, t)):
            column.button(text, key=P + "btn-" + name, on_click=_go, args=(target,),
                          disabled=locked or target is None or target == t, shortcut=key, help=help_text,
                          width="stretch")
        if trace.T_x > 1:
            st.slider("t (forward time index), on the timeline's axis", 0, trace.T_x - 1, key=P + "t",
                      disabled=locked, help="Drag along time; the loop's step number is shown above.")


def _on_play(first: int, last: int) -> None:
    """Play from the current step; from the first one when the loop is already at its end."""
    ss = st.session_state
    if ss[P + "play"] and ss.get(P + "t") == last:
        ss[P + "t"] = first
    ss[P + "tick"] = time.monotonic()


def play_controls(state: PageState, trace: Trace) -> None:
    """Play and its speed; changing them reruns the page so the panel's timer matches."""
    if state.hidden("play") or state.hidden("step"):
        return
    steps = steps_of(trace)
    st.session_state.setdefault(P + "speed", 1.0)
    left, right = st.columns([1, 3])
    left.toggle("▶ Play", key=P + "play", disabled=state.locked("step") or state.locked("play"),
                on_change=_on_play, args=(steps[0], steps[-1]),
                help="Walk through the loop one step at a time, from the current step to the last.")
    right.select_slider("Speed (steps per second)", SPEEDS, key=P + "speed", label_visibility="collapsed",
                        format_func=lambda s: f"{s:g} steps/s")
