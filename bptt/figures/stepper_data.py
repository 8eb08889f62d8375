"""Every step of a run as one JSON-ready dict, for the stepper that redraws in the browser.

The browser gets the whole trace of a classroom-sized run once and steps through it without asking the
server again (bptt/ui/browser_stepper.py mounts it); a larger run's matrices go a few steps at a time
(matrices()). Each panel sends its matrix at every step as base64
float32 (float64 where float32 would overflow), its colour range, and a title per step that names
the real t. Rows are laid out as the loop computes them, with the operators between panels that
say how they combine ("da[:,:,t] + da_prevt = da_next").

    data = step_data(trace, rows_for("rnn"), ranges, marks=[...], labels=[...])
    data["rows"][0]["panels"][2]["titles"][0]  # 'da_next = da[:,:,3] + da_prevt'
"""

import base64

import numpy as np

from ..notation import as_cs231n, cs231n_title, name
from ..trace import Trace
from .heatmap import browser_dtype

# (heading, first screen?, ((scope, key, operator before it, rows, cols), ...)) in the order the loop computes them
RNN_ROWS = (
    ("What the loop hands the cell", True, (
        ("inputs", "da_t", "", "unit", "example"),
        ("inputs", "da_prevt", "+", "unit", "example"),
        ("inputs", "da_next", "=", "unit", "example"),
    )),
    ("Inside the cell, and what it returns", True, (
        ("outputs", "dz", "", "unit", "example"),
        ("outputs", "dxt", "→", "input", "example"),
        ("outputs", "da_prev", "", "unit", "example"),
    )),
    ("This step's share of the weight gradients", True, (
        ("outputs", "dWax", "", "unit", "input"),
        ("outputs", "dWaa", "", "unit", "unit of a_prev"),
        ("outputs", "dba", "", "unit", "sum over examples"),
    )),
    ("Running totals after this step", False, (
        ("totals", "dWax", "", "unit", "input"),
        ("totals", "dWaa", "", "unit", "unit of a_prev"),
        ("totals", "dba", "", "unit", "sum over examples"),
    )),
)
LSTM_ROWS = (
    ("What the loop hands the cell", True, (
        ("inputs", "da_t", "", "unit", "example"),
        ("inputs", "da_prevt", "+", "unit", "example"),
        ("inputs", "da_next", "=", "unit", "example"),
        ("inputs", "dc_prevt", "·", "unit", "example"),
        ("inputs", "dc_next", "=", "unit", "example"),
    )),
    ("Inside the cell: the gates", True, tuple(
        ("outputs", k, "", "unit", "example") for k in ("dft", "dit", "dcct", "dot", "dc"))),
    ("What the cell returns", True, (
        ("outputs", "dxt", "", "input", "example"),
        ("outputs", "da_prev", "", "unit", "example"),
        ("outputs", "dc_prev", "", "unit", "example"),
    )),
    ("This step's share of the weight gradients", True, tuple(
        ("outputs", f"dW{g}", "", "unit", "[a_prev; xt] column") for g in "fico"
    ) + tuple(("outputs", f"db{g}", "", "unit", "sum over examples") for g in "fico")),
    ("Running totals after this step", False, tuple(
        ("totals", f"dW{g}", "", "unit", "[a_prev; xt] column") for g in "fico"
    ) + tuple(("totals", f"db{g}", "", "unit", "sum over examples") for g in "fico")),
)
GRU_ROWS = (
    RNN_ROWS[0],
    ("Inside the cell: the gates", True, tuple(
        ("outputs", k, "", "unit", "example") for k in ("dh_tilde", "dzt", "dra", "drt"))),
    ("What the cell returns", True, (
        ("outputs", "dxt", "", "input", "example"),
        ("outputs", "da_prev", "", "unit", "example"),
    )),
    ("This step's share of the weight gradients", True, tuple(
        ("outputs", f"dW{g}", "", "unit", "[a_prev; xt] column") for g in "rzh"
    ) + tuple(("outputs", f"db{g}", "", "unit", "sum over examples") for g in "rzh")),
    ("Running totals after this step", False, tuple(
        ("totals", f"dW{g}", "", "unit", "[a_prev; xt] column") for g in "rzh"
    ) + tuple(("totals", f"db{g}", "", "unit", "sum over examples") for g in "rzh")),
)
GATES = {"dft": "forget gate", "dit": "update gate", "dcct": "candidate", "dot": "output gate",
         "dh_tilde": "candidate", "dzt": "update gate", "drt": "reset gate"}
ROWS = {"rnn": RNN_ROWS, "lstm": LSTM_ROWS, "gru": GRU_ROWS}
# an axis label in CS231n's names, once the matrix is transposed (a column of the course's becomes a row)
CS231N_LABELS = {"[a_prev; xt] column": "[prev_h; x] row", "unit of a_prev": "unit of prev_h"}


def rows_for(cell: str) -> tuple:
    """The panels of a cell's step, row by row: rows_for("gru")[1][0]  # 'Inside the cell: the gates'"""
    return ROWS[cell]


def title(scope: str, key: str, t: int, came_from: int | None, goes_to: int | None, first: int) -> str:
    """A panel's title at step t, short enough for a projector, naming the real t (and where a carried
    gradient came from or goes to).

    title("inputs", "da_prevt", 2, 3, 1, 3)  # 'da_prevt at t = 2: from t = 3'
    """
    if scope == "totals":
        return f"{key} so far: t = {first}" + (f" … t = {t}" if first != t else "")
    came = f"from t = {came_from}" if came_from is not None else "zero, nothing carried yet"
    goes = f"to t = {goes_to}" if goes_to is not None else ("returned as da0" if key == "da_prev" else "returned")
    formulas = {"dWax": " = dz · xt.T", "dWaa": " = dz · a_prev.T"}
    if key.startswith("dW") or key.startswith("db"):
        return f"{key}t, t = {t}" + formulas.get(key, "")
    titles = {
        "da_t": f"da[:,:,{t}]: from the loss at t = {t}",
        "da_prevt": f"da_prevt at t = {t}: {came}",
        "da_next": f"da_next = da[:,:,{t}] + da_prevt",
        "dc_prevt": f"dc_prevt at t = {t}: {came}",
        "dc_next": f"dc_next at t = {t} = dc_prevt",
        "dz": f"dz at t = {t} = da_next · (1 − a_next²)",
        "dxt": f"dxt at t = {t}: for x<{t}>",
        "da_prev": f"da_prev at t = {t}: {goes}",
        "dc_prev": f"dc_prev = dc · ft at t = {t}: {goes}",
        "dc": f"dc at t = {t}: all that reaches c",
        "dra": f"dra at t = {t} = Wh[:, :n_a].T · dh_tilde",
    }
    if key in GATES:
        return f"{key} at t = {t}: {GATES[key]}"
    return titles[key]


def _truncation_note(factor: float) -> str:
    """What truncated BPTT did to the gradient carried into a step: _truncation_note(0.0)  # ' — cut by truncation'"""
    if factor == 0:
        return " — cut by truncation"
    return "" if factor == 1 else f" — ×{factor:.3g} (randomized truncation)"


def _encoded(values: np.ndarray) -> dict:
    """A matrix as {dtype, bdata} (little-endian, row-major): a quarter of the bytes of JSON numbers."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    dtype = browser_dtype(values)
    raw = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return {"dtype": "f4" if dtype == np.float32 else "f8", "bdata": base64.b64encode(raw).decode("ascii")}


def _panels(rows: tuple):
    """(scope, key, op, row label, column label) of every panel, in the order the rows draw them."""
    return [panel for _, _, panels in rows for panel in panels]


def _laid_out(value: np.ndarray, notation: str) -> np.ndarray:
    """A course matrix as the notation lays it out: CS231n's batch first (transposed; a bias (n, 1) a row)."""
    return as_cs231n(value) if notation == "cs231n" else value


def matrices(trace: Trace, rows: tuple, t: int, reference: Trace | None = None, notation: str = "course") -> list:
    """Every panel's matrix at step t (minus `reference`'s), encoded, in the order the rows draw them.

    matrices(trace, rows_for("rnn"), 3)[0]  # da[:,:,3] as {dtype, bdata}
    """
    step = trace.step(t)
    other = reference.step(t) if reference is not None else None
    out = []
    for scope, key, *_ in _panels(rows):
        value = np.asarray(getattr(step, scope)[key], dtype=np.float64)
        if other is not None:
            with np.errstate(all="ignore"):
                value = value - np.asarray(getattr(other, scope)[key], dtype=np.float64)
        out.append(_encoded(_laid_out(value if value.ndim == 2 else value[:, None], notation)))
    return out


def step_data(trace: Trace, rows: tuple, ranges: dict | None, *, labels: list, marks: list,
              reference: Trace | None = None, n_a: int | None = None, matrices_too: bool = True,
              notation: str = "course", cell: str = "rnn", factors: list | None = None) -> dict:
    """Every step of `trace` (minus `reference`'s, when given) as the browser stepper draws them.

    ranges: (scope, key) -> the colour range over all steps, or None to autoscale each panel at each step.
    labels and marks: the heading and the step_marks stylesheet of each step, in loop order.
    n_a: where the LSTM's weight columns switch from a_prev to xt (a divider), or None.
    matrices_too: False leaves every panel's z out (None), for a run too large to send whole: the
    browser then gets a few steps at a time (matrices()).
    notation "cs231n": CS231n's names in the titles and its batch-first layout (each matrix transposed,
    so rows and columns swap their labels, and the LSTM's or GRU's [a_prev; xt] divider runs across).
    factors: truncated BPTT's factor on what is carried into each step t (bptt/truncation.py), or None:
    the carried gradient's title then says where it was cut or rescaled.
    """
    order = list(trace.order)
    encoded = [matrices(trace, rows, t, reference, notation) for t in order] if matrices_too else None
    named = title if notation == "course" else lambda *args: cs231n_title(*args, cell=cell)
    out_rows, index = [], 0
    for heading, first_screen, panels in rows:
        drawn = []
        for scope, key, op, row_label, col_label in panels:
            value = np.asarray(getattr(trace.step(order[0]), scope)[key]) if order else np.zeros((1, 1))
            shape = list(_laid_out(value if value.ndim == 2 else value[:, None], notation).shape)
            if notation == "cs231n":
                row_label, col_label = (CS231N_LABELS.get(col_label, col_label),
                                        CS231N_LABELS.get(row_label, row_label))
            titles = [named(scope, key, t, order[k - 1] if k > 0 else None,
                            order[k + 1] if k + 1 < len(order) else None, order[0]) for k, t in enumerate(order)]
            if factors is not None and scope == "inputs" and key in ("da_prevt", "dc_prevt"):
                titles = [text + _truncation_note(factors[t]) for text, t in zip(titles, order)]
            if reference is not None:
                titles = [f"{text} (bug − correct)" for text in titles]
            zmax = None if ranges is None else ranges.get((scope, key))
            across = 0 if notation == "cs231n" else 1  # the axis of [a_prev; xt]
            split = n_a if n_a is not None and key.startswith("dW") and 0 < n_a < shape[across] else None
            drawn.append(dict(scope=scope, key=key, name=name(key, cell, notation), op=op, rows=row_label,
                              cols=col_label, shape=shape,
                              split_rows=split is not None and across == 0,
                              zmax=None if zmax is None else float(zmax) if np.isfinite(zmax) and zmax > 0 else 1.0,
                              split=split, titles=titles,
                              z=[e[index] for e in encoded] if encoded is not None else None))
            index += 1
        out_rows.append(dict(heading=heading, first_screen=first_screen, panels=drawn))
    return dict(steps=order, labels=list(labels), marks=list(marks), rows=out_rows)
