"""The stepper that redraws in the browser: a classroom-sized run's every step sent once, no round trip per click.

A Streamlit v2 component (no iframe) holds every step's matrices (bptt/figures/stepper_data.py)
and redraws the heading, the step marks and the heatmaps on a click, an arrow key or play. Each
heatmap is drawn on a canvas in the colour scale the plotly figures use (COLORSCALE, sent along),
so the component loads no plotting script: nothing to download in a new tab, nothing from another
host. The step goes into the URL at once and to the server a moment later, so a shared link and
the export always name the step on the screen.
Large runs keep the server's stepping (stepping.py): their trace is too big to send whole.

    if browser_sized(config):
        browser_step_panel(run, summary, state, t)
"""

import hashlib
import json
from functools import cache
from pathlib import Path

import streamlit as st
import streamlit.components.v2 as components_v2

from ..figures.heatmap import COLORSCALE
from ..figures.marks import step_marks
from ..figures.stepper_data import rows_for, step_data
from ..runs import Run
from ..scenarios import RunConfig
from .state import PageState
from .stepping import P, label, steps_of

HERE = Path(__file__).parent / "stepper_component"
# classroom size: every step of the largest such LSTM run is under 1 MB on the wire
LIMITS = {"n_a": 16, "T_x": 20, "m": 16, "n_x": 16}
SHARED_PAYLOADS = 64


def browser_sized(config: RunConfig) -> bool:
    """Whether the whole run goes to the browser (n_a ≤ 16, T_x ≤ 20, m ≤ 16, n_x ≤ 16)."""
    return all(getattr(config, name) <= most for name, most in LIMITS.items())


@cache
def _component():
    return components_v2.component("bptt_browser_stepper", js=(HERE / "stepper.js").read_text(),
                                   css=(HERE / "stepper.css").read_text(), isolate_styles=False)


@st.cache_resource(max_entries=SHARED_PAYLOADS, show_spinner=False)
def _payload(key: tuple, _run: Run, _ranges: dict | None, _reference: Run | None) -> str:
    """Every step as one JSON string, once per key (run config and options), shared by every session."""
    trace = _run.trace
    error_t = trace.error.t if trace.error is not None else None
    labels = [label(trace, t) for t in trace.order]
    marks = [step_marks(trace.T_x, trace.order, t, error_t, text) for t, text in zip(trace.order, labels)]
    data = step_data(trace, rows_for(_run.config.cell), _ranges, labels=labels, marks=marks,
                     reference=_reference.trace if _reference is not None else None,
                     n_a=_run.config.n_a if _run.config.cell == "lstm" else None)
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _on_step() -> None:
    """The browser says which step it shows: the server's state (and so the URL and export) follows."""
    value = st.session_state.get(P + "browser")
    t = value.get("t") if hasattr(value, "get") else None
    if isinstance(t, int) and not isinstance(t, bool):
        st.session_state[P + "browser-t"] = t


def asked_t() -> int | None:
    """The step the browser last reported, or None; the page snaps it to a step the loop reached."""
    return st.session_state.get(P + "browser-t")


def browser_step_panel(run: Run, ranges: dict | None, state: PageState, t: int, *,
                       reference: Run | None = None, note: str = "") -> None:
    """Mount the browser stepper on `run`, starting at step t (the URL's or the session's)."""
    config = run.config
    key = (config, ranges is None, reference is not None)
    payload = _payload(key, run, ranges, reference)
    run_id = hashlib.sha1(repr(config).encode()).hexdigest()[:12]
    start = st.session_state.get(P + "browser-start")
    if start is None or start[0] != key:
        start = (key, t)  # the step this payload opens on stays put across reruns: the browser owns it from here
        st.session_state[P + "browser-start"] = start
    header = {"run": run_id, "start": start[1], "present": state.present, "locked": state.locked("step"),
              "colorscale": COLORSCALE, "note": note, "steps": steps_of(run.trace)}
    # the trace as one UTF-8 JSON document the browser parses once. Bytes, not a str: streamlit sends bytes as they
    # are, while a str is first offered to its dataframe detection, which imports pandas (tests/test_no_pandas.py)
    data = ('{"header":' + json.dumps(header, default=list) + ',"payload":' + payload + "}").encode()
    _component()(key=P + "browser", data=data, default={"t": t}, on_t_change=_on_step)
