"""A bug gallery card's pieces: the wrong line against the right one, and the measured damage.

    diff_text(get_bug("missing-da-t"))  # '- gradients = rnn_cell_backward(da_prevt, ...)\\n+ ...'
    difference_chart(measure(bug, config)).data[0].z  # buggy - right, for the most telling gradient
"""

import plotly.graph_objects as go

from ..catalog import Bug
from ..notation import BugLines
from ..symptoms import Symptom
from .heatmap import heatmap
from .notation_view import axes, label, shown, split


def diff_text(bug: Bug | BugLines) -> str:
    """A unified-diff style listing: '-' the wrong line(s), '+' the right line(s); a missing line shows only '+'.

    Takes a catalog bug or its lines in a notation (bptt.notation.bug_lines).
    """
    wrong = [f"- {line}" for line in bug.wrong.splitlines()] if bug.wrong else ["- (line missing)"]
    return "\n".join(wrong + [f"+ {line}" for line in bug.right.splitlines()])


def difference_chart(symptom: Symptom, notation: str = "course") -> go.Figure | None:
    """A heatmap of buggy - right for the most telling wrong gradient, in the notation's names and layout;
    None when it raised or nothing differs."""
    if symptom.difference is None:
        return None
    key, difference = symptom.difference
    cell = symptom.bug.cell
    rows, cols, n_a = "unit", "example", None
    if key.startswith("dW"):  # weights: columns are what the gate or cell reads
        cols = {"dWax": "input", "dWaa": "unit of a_prev"}.get(key, "[a_prev; xt] column")
        n_a = symptom.config.n_a if cell != "rnn" else None
    elif key.startswith("dx"):
        rows = "input"
    rows, cols = axes(difference, rows, cols, notation)
    quantity = label(key, cell, notation)
    fig = heatmap(shown(difference, notation), title=f"{quantity}: buggy − right", quantity=quantity,
                  scope="difference", rows=rows, cols=cols, **split(difference, n_a, notation))
    fig.update_layout(height=min(fig.layout.height, 260))
    return fig
