"""Truncated BPTT against full BPTT: the carried gradient's norm over t, the cuts, and where an explosion stops.

    fig = truncation_chart(compare(truncated.trace, full.trace), "rnn")
    fig.layout.meta["cut"]  # the steps whose carried gradient was cut, latest first
"""

import numpy as np
import plotly.graph_objects as go

from ..truncation import Comparison
from .notation_view import label

FULL, TRUNCATED, CUT, STOPPED = "#999999", "#4C78A8", "#E45756", "#F58518"


def carried_label(cell: str, notation: str) -> str:
    """What the loop carries back, in the notation: 'da_prevt' (LSTM: 'da_prevt and dc_prevt')."""
    keys = ("da_prevt", "dc_prevt") if cell == "lstm" else ("da_prevt",)
    return " and ".join(label(k, cell, notation) for k in keys)


def truncation_chart(comparison: Comparison, cell: str, *, notation: str = "course", title: str | None = None,
                     height: int = 360) -> go.Figure:
    """Carried-gradient norms of full and truncated BPTT on a log axis, a red line at every cut, orange
    markers where the full run's gradient grew past anything the truncated run carries (the explosion it stops).

    A cut step carries exactly zero, which a log axis cannot draw: its point is left out, its line says so.
    """
    T_x = len(comparison.full_norms)
    t = np.arange(T_x)
    carried = carried_label(cell, notation)
    fig = go.Figure()
    for name, values, color, dash in ((f"‖{carried}‖ full", comparison.full_norms, FULL, "dot"),
                                      (f"‖{carried}‖ truncated", comparison.truncated_norms, TRUNCATED, "solid")):
        y = np.asarray(values, dtype=np.float64)  # (T_x,)
        fig.add_trace(go.Scatter(
            x=t, y=np.where(np.isfinite(y) & (y > 0), y, np.nan), name=name,
            mode="lines+markers" if T_x <= 60 else "lines",
            line=dict(color=color, dash=dash, width=3 if dash == "solid" else 2), marker=dict(size=5),
            hovertemplate=f"t=%{{x}}<br>%{{y:.4g}}<extra>{name}</extra>",
        ))
    stopped = list(comparison.stopped)
    if stopped:
        fig.add_trace(go.Scatter(
            x=stopped, y=[comparison.full_norms[s] for s in stopped], name="full outgrows truncated",
            mode="markers", marker=dict(color=STOPPED, size=9, symbol="diamond-open", line=dict(width=2)),
            hovertemplate="t=%{x}: the explosion truncation stops<extra></extra>",
        ))
    for s in comparison.cut:
        fig.add_vline(x=s + 0.5, line=dict(color=CUT, width=2, dash="dash"))
    if comparison.cut:  # one legend entry for every cut line
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=CUT, width=2, dash="dash"),
                                 name="cut into t"))
    fig.update_layout(
        title=dict(text=title or f"{cell.upper()}, truncated", x=0, xanchor="left"),
        height=height, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(title=dict(text="t (the gradient flows ←)"), range=[-0.5, T_x - 0.5]),
        yaxis=dict(title=dict(text="norm (log scale)"), type="log", exponentformat="power"),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
        meta=dict(cell=cell, kind="truncation", cut=list(comparison.cut), stopped=stopped,
                  recurrent_bias=comparison.recurrent_bias),
    )
    return fig
