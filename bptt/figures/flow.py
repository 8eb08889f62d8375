"""Gradient norms against t on a log scale, drawn with what explains them.

    fig = flow_chart(side_by_side(RunConfig(scenario="vanishing"))["rnn"])
    fig.layout.meta["series"]  # names of the lines, in order; fig.data[i].y their values
"""

import numpy as np
import plotly.graph_objects as go

from ..flow import Flow
from .notation_view import words

GRADIENT, CELL, PATH, RADIUS = "#4C78A8", "#54A24B", "#E45756", "#999999"


def flow_chart(flow: Flow, *, title: str | None = None, height: int = 380, notation: str = "course") -> go.Figure:
    """The carried gradients' norms (RNN, GRU: da_prevt; LSTM: da_prevt and dc_prevt) and the product that drives them.

    RNN: ‖∏ diag(1 - a²)·Waa‖ back from T_x-1, and ρ(Waa)^(T_x-1-t), the linear-range prediction.
    LSTM: ∏ f, the cell state's own path. GRU: ∏ z, the hidden state's own path (a_next = z * a_prev + …).
    Zeros and infinities cannot sit on a log axis: they are left out and counted in layout.meta. In cs231n
    notation the lines are named as the homework names them.
    """
    T_x = flow.T_x
    t = np.arange(T_x)
    lines = [("‖da_prevt‖ carried into t", flow.da_prevt, GRADIENT, "solid")]
    if flow.cell == "lstm":
        lines.append(("‖dc_prevt‖ (cell state)", flow.dc_prevt, CELL, "solid"))
        lines.append(("∏ f back to t (c's own path)", flow.path, PATH, "dash"))
    elif flow.cell == "gru":
        lines.append(("∏ z back to t (a's direct path)", flow.path, PATH, "dash"))
    else:
        lines.append(("‖∏ diag(1 - a²)·Waaᵀ‖ back to t", flow.path, PATH, "dash"))
        with np.errstate(all="ignore"):
            lines.append((f"ρ^(T_x-1-t), ρ(Waa) = {flow.radius:.3g}", flow.radius ** (T_x - 1 - t), RADIUS, "dot"))
    if notation == "cs231n":  # the homework's dprev_h, Wh, ...; its h @ Wh needs no transpose sign
        lines = [(words(name.replace("Waaᵀ", "Waa"), flow.cell, notation), *rest) for name, *rest in lines]
    fig = go.Figure()
    left_out = {}
    for name, values, color, dash in lines:
        y = np.asarray(values, dtype=np.float64)
        drawable = np.isfinite(y) & (y > 0)
        left_out[name] = int(np.count_nonzero(~drawable))
        fig.add_trace(go.Scatter(
            x=t, y=np.where(drawable, y, np.nan), name=name, mode="lines+markers" if T_x <= 60 else "lines",
            line=dict(color=color, dash=dash, width=3 if dash == "solid" else 2), marker=dict(size=5),
            hovertemplate=f"t=%{{x}}<br>%{{y:.4g}}<extra>{name}</extra>",
        ))
    fig.update_layout(
        title=dict(text=title or f"{flow.cell.upper()}: gradient norm over time", x=0, xanchor="left"),
        height=height, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(title=dict(text="t (gradient ←)"),
                   range=[-0.5, T_x - 0.5]),
        yaxis=dict(title=dict(text="norm (log scale)"), type="log", exponentformat="power"),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
        meta=dict(cell=flow.cell, radius=flow.radius, series=[name for name, *_ in lines], left_out=left_out),
    )
    return fig
