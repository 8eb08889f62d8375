"""The stepper that redraws in the browser: no server round trip per click, for a run of any size.

A Streamlit v2 component (no iframe) holds a classroom-sized run's every step's matrices
(bptt/figures/stepper_data.py), sent once, and redraws the heading, the step marks and the heatmaps
on a click, an arrow key or play. Each heatmap is drawn on a canvas in the colour scale the plotly
figures use (COLORSCALE, sent along); the timeline and the norm chart are SVG from a second small
component (charts.js), drawn once per run and marked by the step's stylesheet. The page loads no
plotting script: nothing to download in a new tab, nothing from another host. The step goes into
the URL at once and to the server a moment later, so a shared link and the export always name the
step on the screen.
A larger run (n_a = 256, T_x = 200: about 0.6 MB a step) is too big to send whole: the browser gets
every step's titles and labels once, and the matrices of a small window of steps around the one shown
(WINDOW). A click on a step already there redraws at once; the browser then says which step it shows
and which it holds, and the server sends the steps that came into the window (a prefetch, off the
click's path). A step that is not there yet is drawn, heading and all, when it arrives.
stepping=server keeps the server's stepping (stepping.py).

    browser_step_panel(run, ranges, state, t)
"""

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v2 as components_v2

from ..figures.heatmap import COLORSCALE
from ..figures.marks import step_marks
from ..figures.norms import norms_data
from ..figures.stepper_data import matrices, rows_for, step_data
from ..figures.timeline import strip_data
from ..runs import Run
from ..scenarios import RunConfig
from ..truncation import carry_factors
from .state import PageState
from .stepping import P, label, steps_of
from .summary import Summary

HERE = Path(__file__).parent / "stepper_component"
# classroom size: every step of the largest such LSTM run is under 1 MB on the wire
LIMITS = {"n_a": 16, "T_x": 20, "m": 16, "n_x": 16}
SHARED_PAYLOADS = 64
WINDOW = (2, 4)  # a large run's steps kept in the browser: this many before the one shown and after it, in loop order


def browser_sized(config: RunConfig) -> bool:
    """Whether the whole run goes to the browser (n_a ≤ 16, T_x ≤ 20, m ≤ 16, n_x ≤ 16)."""
    return all(getattr(config, name) <= most for name, most in LIMITS.items())


@cache
def _component():
    return components_v2.component("bptt_browser_stepper", js=(HERE / "stepper.js").read_text(),
                                   css=(HERE / "stepper.css").read_text(), isolate_styles=False)


@cache
def _chart_component():
    return components_v2.component("bptt_step_chart", js=(HERE / "charts.js").read_text(),
                                   css=(HERE / "charts.css").read_text(), isolate_styles=False)


def factors_of(config: RunConfig) -> list | None:
    """Truncated BPTT's factor on what is carried into each step t, as the run applied it; None for full BPTT."""
    if not config.truncate:
        return None
    return [float(f) for f in carry_factors(config.T_x, config.truncate, config.randomized, config.seed)]


def _chart(kind: str, chart: dict, present: bool) -> None:
    data = json.dumps({"kind": kind, "present": present, "chart": chart}, separators=(",", ":"), allow_nan=False)
    _chart_component()(key=f"{P}chart-{kind}", data=data.encode())  # bytes: see browser_step_panel


def timeline_panel(run: Run, summary: Summary, present: bool = False) -> None:
    """The unrolled network, drawn once per run in the browser (charts.js); the step's stylesheet marks the step."""
    trace = run.trace
    nothing = np.full(trace.T_x, np.nan)
    flow = summary.norms.get("da_prevt", nothing)
    out = float(np.linalg.norm(trace.da0)) if trace.error is None else None
    loss, enters = summary.norms.get("da_t", nothing), summary.norms.get("da_next", nothing)
    hover = [f"cell t={s}\n‖da[:,:,t]‖ = {loss[s]:.4g}\n‖da_next‖ = {enters[s]:.4g}" for s in range(trace.T_x)]
    error_t = trace.error.t if trace.error is not None else None
    _chart("timeline", strip_data(trace.T_x, trace.order, flow, out, error_t=error_t, cell_hover=hover,
                                  factors=factors_of(run.config)), present)


def norms_panel(run: Run, summary: Summary, log: bool, present: bool = False) -> None:
    """The gradient norms over t, drawn once per run and scale in the browser; the step's stylesheet lights t."""
    names = {"da_prevt": "‖da_prevt‖ (carried in)", "da_next": "‖da_next‖ (enters the cell)",
             "da_t": "‖da[:,:,t]‖ (from the loss)"}
    if run.config.cell == "lstm":
        names["dc_prevt"] = "‖dc_prevt‖ (carried in, cell state)"
    norms = {text: summary.norms[key] for key, text in names.items() if key in summary.norms}
    _chart("norms", norms_data(norms, log=log), present)


@st.cache_resource(max_entries=SHARED_PAYLOADS, show_spinner=False)
def _payload(key: tuple, _run: Run, _ranges: dict | None, _reference: Run | None, notation: str) -> str:
    """Every step as one JSON string, once per key (run config and options), shared by every session.

    A run beyond classroom size goes without its matrices (_window sends them a few steps at a time).
    """
    trace = _run.trace
    error_t = trace.error.t if trace.error is not None else None
    labels = [label(trace, t) for t in trace.order]
    marks = [step_marks(trace.T_x, trace.order, t, error_t, text) for t, text in zip(trace.order, labels)]
    data = step_data(trace, rows_for(_run.config.cell), _ranges, labels=labels, marks=marks,
                     reference=_reference.trace if _reference is not None else None,
                     n_a=_run.config.n_a if _run.config.cell != "rnn" else None,
                     matrices_too=browser_sized(_run.config), notation=notation, cell=_run.config.cell,
                     factors=factors_of(_run.config))
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _window(steps: list, t: int, have: list) -> list:
    """The steps around t that the browser should hold (WINDOW), minus those it says it has.

    _window([9, 8, 7, 6, 5, 4], 7, [8, 7])  # [9, 6, 5, 4]
    """
    k = steps.index(t) if t in steps else 0
    behind, ahead = WINDOW
    return [s for s in steps[max(0, k - behind):k + ahead + 1] if s not in have]


def _on_step() -> None:
    """The browser says which step it shows (and, for a large run, which it holds): the server's state follows."""
    value = st.session_state.get(P + "browser")
    view = value.get("view") if hasattr(value, "get") else None
    t = view.get("t") if isinstance(view, dict) else None
    if isinstance(t, int) and not isinstance(t, bool):
        st.session_state[P + "browser-t"] = t
        have = view.get("have")
        st.session_state[P + "browser-have"] = (view.get("run"), [s for s in have if isinstance(s, int)]
                                               if isinstance(have, list) else [])


def asked_t() -> int | None:
    """The step the browser last reported, or None; the page snaps it to a step the loop reached."""
    return st.session_state.get(P + "browser-t")


def browser_step_panel(run: Run, ranges: dict | None, state: PageState, t: int, *,
                       reference: Run | None = None, note: str = "") -> None:
    """Mount the browser stepper on `run`, starting at step t (the URL's or the session's)."""
    config = run.config
    key = (config, ranges is None, reference is not None, state.notation)
    payload = _payload(key, run, ranges, reference, state.notation)
    run_id = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    start = st.session_state.get(P + "browser-start")
    if start is None or start[0] != key:
        start = (key, t)  # the step this payload opens on stays put across reruns: the browser owns it from here
        st.session_state[P + "browser-start"] = start
    whole = browser_sized(config)
    name = f"bptt_{config.cell}_{config.scenario}" + (f"_{config.bug}" if config.bug else "")  # as export_panel names files
    header = {"run": run_id, "name": name, "start": start[1] if whole else t, "present": state.present,
              "locked": state.locked("step"), "colorscale": COLORSCALE, "note": note,
              "steps": steps_of(run.trace), "whole": whole, "window": list(WINDOW)}
    chunks = {}
    if not whole:
        held, have = st.session_state.get(P + "browser-have", (None, []))
        rows = rows_for(config.cell)
        other = reference.trace if reference is not None else None
        chunks = {str(s): matrices(run.trace, rows, s, other, state.notation)
                  for s in _window(list(run.trace.order), t, have if held == run_id else [])}
    # the trace as one UTF-8 JSON document the browser parses once. Bytes, not a str: streamlit sends bytes as they
    # are, while a str is first offered to its dataframe detection, which imports pandas (tests/test_no_pandas.py)
    data = ('{"header":' + json.dumps(header, default=list) + ',"payload":' + payload
            + ',"chunks":' + json.dumps(chunks, separators=(",", ":")) + "}").encode()
    _component()(key=P + "browser", data=data, default={"view": {"t": t}}, on_view_change=_on_step)
