"""A bug gallery card's pieces: the wrong line against the right one, and the measured damage.

    diff_text(get_bug("missing-da-t"))  # '- gradients = rnn_cell_backward(da_prevt, ...)\\n+ ...'
    difference_chart(measure(bug, config)).data[0].z  # buggy - right, for the most telling gradient
"""

import plotly.graph_objects as go

from ..catalog import Bug
from ..symptoms import Symptom
from .heatmap import heatmap


def diff_text(bug: Bug) -> str:
    """A unified-diff style listing: '-' the wrong line(s), '+' the right line(s); a missing line shows only '+'."""
    wrong = [f"- {line}" for line in bug.wrong.splitlines()] if bug.wrong else ["- (line missing)"]
    return "\n".join(wrong + [f"+ {line}" for line in bug.right.splitlines()])


def difference_chart(symptom: Symptom) -> go.Figure | None:
    """A heatmap of buggy - right for the most telling wrong gradient; None when it raised or nothing differs."""
    if symptom.difference is None:
        return None
    label, difference = symptom.difference
    n_a = symptom.config.n_a
    rows, cols, split = "unit", "example", None
    if label.startswith("dW"):  # weights: columns are what the gate or cell reads
        cols = {"dWax": "input", "dWaa": "unit of a_prev"}.get(label, "[a_prev; xt] column")
        split = n_a if symptom.bug.cell == "lstm" else None
    elif label.startswith("dx"):
        rows = "input"
    fig = heatmap(difference, title=f"{label}: buggy − right", quantity=label, scope="difference",
                  rows=rows, cols=cols, split=split)
    fig.update_layout(height=min(fig.layout.height, 260))
    return fig

