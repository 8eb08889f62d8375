"""The stepper's panels: each reads a run (and the current step) and draws one part of the page."""

import inspect
import re
from functools import cache

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from .. import gru, lstm, rnn
from ..catalog import get_bug
from ..notation import FUNCTIONS, bug_lines
from ..notation import listing as notation_listing
from ..figures import Panel, chart_config, grouped_heatmaps
from ..figures.codepanel import find, listing, loop_body, with_bug, without_docstring
from ..figures.notation_view import axes, shown, words
from ..figures.marks import step_marks
from ..runs import Run
from ..trace import Divergence, Step
from .export import step_csv, step_json, trace_npz
from .notebook import notebook_lines
from .summary import Summary

P = "stepper:"
SHARED_FIGURES = 256  # step figures kept for every session: a class stepping through one run builds each once


class _Frozen(go.Figure):
    """A figure that is only ever drawn again: its plotly dict is made once, not at every rerun.

    st.plotly_chart asks the figure for to_dict(), a deep copy with every array encoded again as
    base64, at each call; for the stepper's figures that was a third of a click's server time.
    """

    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


@st.cache_resource(max_entries=SHARED_FIGURES, show_spinner=False)
def shared_figure(key: tuple, _build) -> go.Figure:
    """_build(), once per key; `key` must name everything the figure depends on (run config, t, options).

    Building plotly figures was most of a click's server time; under a class stepping through the
    same run, each step's figures are built once for everyone, and serialised once too.
    """
    return _Frozen(_build().to_dict())

# (scope, key, title, rows, cols) per group, in the order the loop computes them
RNN_GROUPS = (
    ("What the loop hands the cell", (
        ("inputs", "da_t", "da[:,:,t]: the loss's gradient at t", "unit", "example"),
        ("inputs", "da_prevt", "da_prevt: carried from step t+1", "unit", "example"),
        ("inputs", "da_next", "da_next = da[:,:,t] + da_prevt", "unit", "example"),
    )),
    ("Inside the cell", (
        ("outputs", "dz", "dz = da_next * (1 - a_next**2)", "unit", "example"),
        ("outputs", "dxt", "dxt = Wax.T · dz", "input", "example"),
        ("outputs", "da_prev", "da_prev = Waa.T · dz: carried to step t-1", "unit", "example"),
    )),
    ("This step's share of the weight gradients", (
        ("outputs", "dWax", "dWaxt = dz · xt.T", "unit", "input"),
        ("outputs", "dWaa", "dWaat = dz · a_prev.T", "unit", "unit of a_prev"),
        ("outputs", "dba", "dbat = Σ over examples of dz", "unit", ""),
    )),
    ("Running totals after this step", (
        ("totals", "dWax", "dWax so far", "unit", "input"),
        ("totals", "dWaa", "dWaa so far", "unit", "unit of a_prev"),
        ("totals", "dba", "dba so far", "unit", ""),
    )),
)
GATE_TITLES = {"dft": "dft: forget gate", "dit": "dit: update gate", "dcct": "dcct: candidate", "dot": "dot: output gate"}
LSTM_GROUPS = (
    ("What the loop hands the cell", (
        ("inputs", "da_t", "da[:,:,t]: the loss's gradient at t", "unit", "example"),
        ("inputs", "da_prevt", "da_prevt: carried from step t+1", "unit", "example"),
        ("inputs", "da_next", "da_next = da[:,:,t] + da_prevt", "unit", "example"),
        ("inputs", "dc_prevt", "dc_prevt: carried from step t+1", "unit", "example"),
        ("inputs", "dc_next", "dc_next = dc_prevt", "unit", "example"),
    )),
    ("Inside the cell: the gates", tuple(("outputs", k, v, "unit", "example") for k, v in GATE_TITLES.items())
     + (("outputs", "dc", "dc: all that reaches c_next", "unit", "example"),)),
    ("What the cell returns", (
        ("outputs", "dxt", "dxt", "input", "example"),
        ("outputs", "da_prev", "da_prev: carried to step t-1", "unit", "example"),
        ("outputs", "dc_prev", "dc_prev = dc * ft: carried to step t-1", "unit", "example"),
    )),
    ("This step's share of the weight gradients", tuple(
        ("outputs", f"dW{g}", f"dW{g}t", "unit", "[a_prev; xt] row") for g in "fico"
    ) + tuple(("outputs", f"db{g}", f"db{g}t", "unit", "") for g in "fico")),
    ("Running totals after this step", tuple(
        ("totals", f"dW{g}", f"dW{g} so far", "unit", "[a_prev; xt] row") for g in "fico"
    ) + tuple(("totals", f"db{g}", f"db{g} so far", "unit", "") for g in "fico")),
)
GRU_GROUPS = (
    ("What the loop hands the cell", RNN_GROUPS[0][1]),
    ("Inside the cell: the gates", (
        ("outputs", "dh_tilde", "dh_tilde: candidate", "unit", "example"),
        ("outputs", "dzt", "dzt: update gate", "unit", "example"),
        ("outputs", "dra", "dra = Wh[:, :n_a].T · dh_tilde", "unit", "example"),
        ("outputs", "drt", "drt: reset gate", "unit", "example"),
    )),
    ("What the cell returns", (
        ("outputs", "dxt", "dxt", "input", "example"),
        ("outputs", "da_prev", "da_prev: carried to step t-1", "unit", "example"),
    )),
    ("This step's share of the weight gradients", tuple(
        ("outputs", f"dW{g}", f"dW{g}t", "unit", "[a_prev; xt] row") for g in "rzh"
    ) + tuple(("outputs", f"db{g}", f"db{g}t", "unit", "") for g in "rzh")),
    ("Running totals after this step", tuple(
        ("totals", f"dW{g}", f"dW{g} so far", "unit", "[a_prev; xt] row") for g in "rzh"
    ) + tuple(("totals", f"db{g}", f"db{g} so far", "unit", "") for g in "rzh")),
)
GROUPS = {"rnn": RNN_GROUPS, "lstm": LSTM_GROUPS, "gru": GRU_GROUPS}
MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}


def groups(cell: str) -> tuple:
    return GROUPS[cell]


def presenter_css() -> None:
    """Large type, no sidebar, no toolbar, the page's full width: readable from the back of a classroom."""
    st.html("""<style>
      section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {display: none;}
      header[data-testid="stHeader"] {display: none;}
      .stMainBlockContainer, .block-container {max-width: 100%; padding: 0.5rem 1.5rem 3rem;}
      .stMarkdown p, .stMarkdown li, .stCaption, label p, .stAlert p {font-size: 1.3rem !important;}
      .bptt-code {font-size: 1.25rem;}
      h1 {font-size: 2.6rem !important;} h2, h3 {font-size: 2rem !important;}
    </style>""")


def layout_css(present: bool) -> None:
    """The projector layout: the step (bar and heatmaps) first, under any URL warning, when presenting or narrow.

    At 1280 px and below (a projector's usual 1024 or 1280) and with present=1, the step moves above the
    title, the notebook's values and the timeline, so one whole step fits on the first screen.
    """
    # a keyed container sits in a layout wrapper of streamlit's: the wrapper is what the page's column orders
    rule = ("div:has(> .st-key-bptt-messages), .st-key-bptt-messages {order: -2;} "
            "div:has(> .st-key-bptt-step), .st-key-bptt-step {order: -1;}")
    st.html(f"<style>{rule if present else '@media (max-width: 1280px) {' + rule + '}'}</style>")


def _cells(run: Run, scope: str, key: str) -> dict:
    """Extra heatmap options for a quantity: a gated cell's weights show where a_prev ends and xt begins."""
    if run.config.cell != "rnn" and key.startswith("dW"):
        return {"split": run.config.n_a}
    return {}


def step_heatmaps(run: Run, step: Step, summary: Summary, *, reference: Step | None = None,
                 diff_ranges: dict | None = None, autoscale: bool = False, columns: int = 3,
                 notation: str = "course") -> None:
    """Every matrix of the step in one figure, grouped as the loop computes them; minus `reference` if given.

    In cs231n notation each matrix is drawn as the homework holds it (transposed) under the homework's name.
    """
    drawn = []
    cell = run.config.cell
    for title, group in groups(cell):
        panels = []
        for scope, key, name, rows, cols in group:
            value = getattr(step, scope)[key]
            zmax = None if autoscale else summary.ranges.get((scope, key))
            if reference is not None:
                with np.errstate(all="ignore"):
                    value = value - getattr(reference, scope)[key]
                zmax = None if autoscale else (diff_ranges or {}).get((scope, key))
                name = f"{name} (bug − correct)"
            options = _cells(run, scope, key)
            if notation == "cs231n":
                rows, cols = axes(value, rows, cols or "sum over examples", notation)
                name = words(name, cell, notation)
                value, options = shown(value, notation), {}
            panels.append(Panel(value, name, key, scope, step.t, zmax, rows, cols or "sum over examples", **options))
        drawn.append((title, panels))
    if run.config.cell == "lstm" and columns == 3:
        columns = 4  # the LSTM's weight groups hold 8 panels: two rows of four
    fig = shared_figure(("heatmaps", run.config, step.t, reference is not None, autoscale, columns, notation),
                        lambda: grouped_heatmaps(drawn, columns=columns))
    st.plotly_chart(fig, key="heatmaps", config=chart_config(f"{run.config.cell}_step_t{step.t}"))


def operand_shapes(run: Run, line: str) -> str:
    """'Wax (5, 3) · dz (5, 10)': the shapes of the course variables a line uses, for an error message."""
    c = run.config
    n_x, n_a, m = c.n_x, c.n_a, c.m
    vector = (n_a, m)
    shapes = {"xt": (n_x, m), "dxt": (n_x, m), "concat": (n_a + n_x, m), "x": (n_x, m, c.T_x), "dx": (n_x, m, c.T_x),
              "da": (n_a, m, c.T_x), "Wax": (n_a, n_x), "Waa": (n_a, n_a), "dWax": (n_a, n_x), "dWaa": (n_a, n_a),
              "ba": (n_a, 1), "dba": (n_a, 1)}
    for name in ("a_next", "a_prev", "c_next", "c_prev", "dz", "da_next", "da_prevt", "dc_next", "dc_prevt",
                 "da_prev", "dc_prev", "dc", "ft", "it", "cct", "ot", "dft", "dit", "dcct", "dot"):
        shapes[name] = vector
    for name in ("rt", "zt", "h_tilde", "dh_tilde", "dzt", "drt", "dra"):
        shapes[name] = vector
    for g in "ficorzh":
        shapes[f"W{g}"] = shapes[f"dW{g}"] = (n_a, n_a + n_x)
        shapes[f"b{g}"] = shapes[f"db{g}"] = (n_a, 1)
    right_side = re.split(r"(?<![=!<>+\-*/])=(?!=)", line, maxsplit=1)[-1]  # what the line computes from
    used = dict.fromkeys(n for n in re.findall(r"(?<![.\w])[A-Za-z_]\w*", right_side) if n in shapes)
    return " · ".join(f"{n} {shapes[n]}" for n in used)


def error_banner(run: Run, steps_label: str) -> None:
    """The backward raised: numpy's own message, where, and the shapes involved; never a traceback."""
    error = run.trace.error
    bug = get_bug(run.config.bug) if run.config.bug else None
    where = f"at t = {error.t} ({steps_label}), computing `{error.quantity}`"
    st.error(f"**The backward raised {error.kind}** {where}:\n\n`{error.message}`", icon=":material/error:")
    if bug is not None and bug.wrong:
        shapes = operand_shapes(run, bug.wrong)
        st.caption(f"The wrong line `{bug.wrong.splitlines()[0]}` works on {shapes}. {bug.why}")


def bug_banners(run: Run, summary: Summary, divergence: Divergence | None, label_of) -> None:
    """What is wrong, in plain words: all zero, NaN/Inf, the first divergence from the correct code."""
    config = run.config
    if summary.all_zero and not np.any(run.da):
        st.info("**Every gradient is exactly zero, and rightly so:** the loss's gradient `da` is zero at every "
                "step, so there is nothing to carry back." + (
                    " With n_x = 1 the echo task has a single symbol, which the softmax predicts with certainty: "
                    "the loss is already 0. Choose n_x ≥ 2 to give it something to learn."
                    if config.scenario == "echo" and config.n_x == 1 else ""), icon=":material/info:")
    elif summary.all_zero:
        st.error(
            "**Every gradient is exactly zero.** Nothing ever enters the cell: the loop hands it `da_prevt` "
            "instead of `da[:,:,t] + da_prevt`, and `da_prevt` starts at zero. Zero in gives zero out "
            "(`dz`, `dxt`, `da_prev` and every weight gradient), so the next step receives zero again, all the "
            "way to t = 0. The loss's gradient `da[:,:,t]` (first heatmap) is there; it is simply never added."
            if config.bug == "missing-da-t" else
            "**Every gradient is exactly zero.** Nothing entered the cells at any step.", icon=":material/block:",
        )
    if summary.nonfinite is not None:
        t, scope, key = summary.nonfinite
        st.error(f"**NaN or Inf first appears at {label_of(t)}, in `{key}`** ({scope}). From there the "
                 "arithmetic can only spread it. A large weight scale makes the carried gradient grow at every "
                 "step (exploding gradients) until float64 overflows.", icon=":material/all_inclusive:")
    if config.bug is None:
        return
    bug = get_bug(config.bug)
    st.warning(f"**Bug on: {bug.title}.** {bug.symptom}", icon=":material/bug_report:")
    if divergence is None:
        st.caption("No difference from the correct code on this input.")
    elif divergence.scope == "error":
        st.caption(f"It departs from the correct code where it raises: t = {divergence.t}, `{divergence.quantity}`.")
    elif divergence.t is None:
        st.caption(f"Every step matches the correct code; only the returned `{divergence.quantity}` differs "
                   f"(max |error| {divergence.max_abs_error:.3g}).")
    else:
        scope = {"input": "what the loop hands the cell", "step": "what the cell computes",
                 "total": "the running total"}[divergence.scope]
        st.caption(f"First difference from the correct code, walking the loop in order: **{label_of(divergence.t)}**, "
                   f"`{divergence.quantity}` ({scope}), max |bug − correct| = {divergence.max_abs_error:.3g}.")


@cache
def _source(function_name: str, cell: str, notation: str = "course") -> tuple:
    """The function's lines without its docstring, the course's or (cs231n) the homework's counterpart; read once
    (inspect.getsource tokenizes the file)."""
    if notation == "cs231n":
        return tuple(without_docstring(notation_listing(function_name, "cs231n").splitlines()))
    return tuple(without_docstring(inspect.getsource(getattr(MODULES[cell], function_name)).splitlines()))


def _bug_in(bug_id: str, notation: str) -> tuple:
    """(function, wrong, right) of a catalog bug in the notation; the course's where the homework has no lines."""
    try:
        lines = bug_lines(bug_id, notation)
    except KeyError:
        return _bug_in(bug_id, "course")[:3] + ("course",)
    return lines.function, lines.wrong, lines.right, notation


def code_panel(run: Run, notation: str = "course") -> None:
    """The backward loop lit; with a bug, its function's right and wrong lines side by side.

    In cs231n notation the listings are bptt/cs231n.py's, the homework's own functions and names.
    The listings are the same at every step (marks_panel's stylesheet says which step is running),
    so stepping never draws them again. A bug that raises shows numpy's message at its wrong line.
    """
    cell = run.config.cell
    named = (lambda f: FUNCTIONS.get(f, f)) if notation == "cs231n" else (lambda f: f)
    whose = "the course's code" if notation == "course" else (
        "CS231n's rnn_layers.py" if cell != "gru" else "in CS231n's style (the homework has no GRU)")
    backward = named(f"{cell}_backward")
    if not run.config.bug:
        lines = _source(backward, cell, notation)
        body = loop_body(lines)
        st.html(listing(lines, marks=dict.fromkeys(body, "now"), running=body[0] if body else None,
                        title=f"{backward}: {whose}"))
        with st.expander(f"{named(f'{cell}_cell_backward')}: what the cell computes"):
            st.html(listing(_source(named(f"{cell}_cell_backward"), cell, notation)))
        return
    function, wrong_line, right_line, used = _bug_in(run.config.bug, notation)
    if used != notation:  # the homework has no counterpart of this line: the course's code, and say so
        st.caption("CS231n's homework has no counterpart of this bug's line: the course's code is shown.")
        named, whose, backward = (lambda f: f), "the course's code", f"{cell}_backward"
    right = _source(function, cell, used)
    wrong, swapped = with_bug(right, right_line, wrong_line)
    marks_right = dict.fromkeys(find(right, right_line), "right")
    raised = run.trace.error is not None
    marks_wrong = dict.fromkeys(swapped, "error" if raised else "wrong")
    notes_wrong = {}
    if function == backward:
        for lines, marks in ((right, marks_right), (wrong, marks_wrong)):
            for i in loop_body(lines):
                marks.setdefault(i, "now")
    if raised and swapped:
        error = run.trace.error
        shapes = operand_shapes(run, get_bug(run.config.bug).wrong)
        notes_wrong[swapped[-1]] = f"# {error.kind}: {error.message}\n# shapes (course names): {shapes}"
    left, right_col = st.columns(2)
    left.html(listing(right, marks=marks_right, title=f"{function}: {whose}"))
    right_col.html(listing(wrong, marks=marks_wrong, notes=notes_wrong, title=f"{function}: with the bug"))
    if function != backward:
        with st.expander(f"{backward}: the loop that calls it"):
            lines = _source(backward, cell, used)
            body = loop_body(lines)
            st.html(listing(lines, marks=dict.fromkeys(body, "now"), running=body[0] if body else None))


def spectral_note(run: Run) -> str:
    """ρ(Waa) and what it predicts for the carried gradient."""
    with np.errstate(all="ignore"):
        radius = float(np.max(np.abs(np.linalg.eigvals(run.Waa)))) if np.all(np.isfinite(run.Waa)) else float("nan")
    matrix = {"rnn": "Waa", "lstm": "Wf[:, :n_a] (the forget gate's weights on a_prev)",
              "gru": "Wh[:, :n_a] (the candidate's weights on a_prev)"}[run.config.cell]
    trend = ("below 1: each step back multiplies the carried gradient by diag(1 − a²)·Waaᵀ, which shrinks it, "
             "so gradients from far-away steps **vanish**." if radius < 1 else
             "above 1: the carried gradient can grow at every step back (**exploding**), as long as tanh stays "
             "in its linear range; saturated units (|a| near 1) damp it again.")
    text = f"Spectral radius of {matrix}: **ρ = {radius:.3g}**, {trend}"
    if run.config.cell == "lstm":
        text += (" In the LSTM the cell state's own path multiplies dc by the forget gate ft instead, "
                 "which is why it can carry gradients much further.")
    if run.config.cell == "gru":
        text += (" In the GRU the hidden state's own path multiplies da_next by the update gate zt "
                 "(a_next = zt * a_prev + (1 − zt) * h̃), with no matrix on it: gradients reach further back.")
    return text


def marks_panel(run: Run, t: int, step_label: str) -> None:
    """The current step on the timeline, the norm chart and the code: a stylesheet, so none is drawn again."""
    trace = run.trace
    st.html(step_marks(trace.T_x, trace.order, t, trace.error.t if trace.error is not None else None, step_label))


def notebook_panel(run: Run, reference: Run | None) -> None:
    """The notebook's printed check values, from this run (and the correct run, when a bug is on)."""
    cell = run.config.cell
    if run.trace.error is not None:
        st.caption("The notebook would stop with the error above; there are no values to print.")
        return
    mine = listing(notebook_lines(cell, run.trace.gradients()), wrap=True)  # a plain <pre>: st.code loads a highlighter
    if reference is None:
        left, right = st.columns([3, 2])
        left.html(mine)
        right.caption(f"Your notebook's test cell for {cell}_backward prints these numbers. They are computed live "
                      "from this run (np.random.seed(1), the notebook's own draws), so yours should match to the "
                      "last printed digit. If they do not, step through below to see where your loop departs.")
        return
    left, right = st.columns(2)
    left.caption("With this bug, the notebook prints")
    left.html(mine)
    right.caption("The notebook expects (correct code)")
    right.html(listing(notebook_lines(cell, reference.trace.gradients()), wrap=True))


def export_panel(run: Run, step: Step | None) -> None:
    """Downloads: the whole trace as .npz, this step's matrices as CSV and JSON (PNG: the stepper's own button)."""
    c = run.config
    name = f"bptt_{c.cell}_{c.scenario}" + (f"_{c.bug}" if c.bug else "")
    cols = st.columns(3)
    cols[0].download_button("Trace (.npz)", data=lambda: trace_npz(run), file_name=f"{name}.npz",
                            mime="application/octet-stream", on_click="ignore", key=P + "dl-npz")
    if step is not None:
        cols[1].download_button(f"Step t={step.t} (.csv)", data=lambda: step_csv(step), mime="text/csv",
                                file_name=f"{name}_t{step.t}.csv", on_click="ignore", key=P + "dl-csv")
        cols[2].download_button(f"Step t={step.t} (.json)", data=lambda: step_json(step), mime="application/json",
                                file_name=f"{name}_t{step.t}.json", on_click="ignore", key=P + "dl-json")
    st.caption("The step's heatmaps save as one PNG from the button below them (with stepping=server, each "
               "chart saves itself from its toolbar's camera). The .npz holds plain arrays "
               "(np.load(…, allow_pickle=False) opens it): every step's vectors over t and the final gradients.")
