"""The unrolled network as a strip: one box per timestep, arrows pointing left for the gradient.

Time flows to the right (t = 0 … T_x-1), the backward flows to the left, and the arrow between
cell t+1 and cell t is as large as the gradient it carries (‖da_prevt‖). "Nothing flows" is an
open circle, so a bug that stops the flow is visible before reading any number.

    fig = timeline(T_x=4, order=(3, 2, 1, 0), current_t=2, flow=trace.norms("da_prevt"), out=1.3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # plotly is imported by the function that draws with it: strip_data's callers never load it
    import plotly.graph_objects as go

DONE, NOW, TODO, ERROR = "#4C78A8", "#F58518", "#D9D9D9", "#E45756"


def _sizes(values: np.ndarray, small: float, large: float) -> np.ndarray:
    """Marker sizes on a log scale between small and large, over the positive finite values."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return np.full(values.shape, small)
    lo, hi = np.log10(positive.min()), np.log10(positive.max())
    with np.errstate(all="ignore"):
        frac = (np.log10(values) - lo) / (hi - lo) if hi > lo else np.ones(values.shape)
    return np.where(np.isfinite(frac), small + (large - small) * np.clip(frac, 0, 1), large)


def timeline(
    T_x: int, order: tuple, current_t: int | None, flow: np.ndarray, out: float | None = None,
    error_t: int | None = None, cell_hover: list | None = None,
) -> go.Figure:
    """The strip of cells; flow[t] is the norm of the gradient carried from cell t+1 into cell t.

    out is ‖da0‖, the gradient leaving cell 0 for a0. Cells already stepped are blue, the current
    one orange, the ones still to come grey, the one that raised red.
    """
    from .spec import figure

    flow = np.asarray(flow, dtype=np.float64)
    position = {t: k for k, t in enumerate(order)}
    now = position.get(current_t, len(order)) if current_t is not None else -1
    colors = []
    for t in range(T_x):
        if t == error_t:
            colors.append(ERROR)
        elif t == current_t:
            colors.append(NOW)
        elif t in position and position[t] < now:
            colors.append(DONE)
        else:
            colors.append(TODO)
    box = float(np.clip(640 / max(T_x, 1), 6, 40))
    labels = [f"t={t}" if T_x <= 24 or t in (0, T_x - 1) or t == current_t else "" for t in range(T_x)]
    cells = dict(
        type="scatter", x=np.arange(T_x), y=np.zeros(T_x), mode="markers+text", text=labels,
        textposition="bottom center", marker=dict(symbol="square", size=box, color=colors, line=dict(color="#555", width=1)),
        customdata=cell_hover or [f"cell t={t}" for t in range(T_x)], hovertemplate="%{customdata}<extra></extra>",
        name="cells", showlegend=False,
    )
    # link t sits between cell t and cell t+1 and carries da_prevt of step t; link -1 carries da0 to a0
    link_x = np.arange(-1, T_x) + 0.5
    link_v = np.concatenate([[np.nan if out is None else out], flow])
    run = np.isfinite(link_v)
    flowing = run & (link_v > 0)
    sizes = _sizes(link_v, max(3.0, 0.3 * box), max(5.0, min(24.0, 0.9 * box)))
    arrows = dict(
        type="scatter", x=link_x[flowing], y=np.zeros(int(flowing.sum())), mode="markers",
        marker=dict(symbol="triangle-left", size=sizes[flowing], color="#2F5597"),
        customdata=link_v[flowing], name="gradient flowing", showlegend=False,
        hovertemplate="gradient carried left: ‖·‖ = %{customdata:.4g}<extra></extra>",
    )
    stopped = run & (link_v == 0)
    circles = dict(
        type="scatter", x=link_x[stopped], y=np.zeros(int(stopped.sum())), mode="markers",
        marker=dict(symbol="circle-open", size=9, color="#999", line=dict(width=2)),
        name="nothing flows", showlegend=False, hovertemplate="nothing flows here (exactly 0)<extra></extra>",
    )
    annotations = [
        dict(x=0, y=1.0, xref="paper", yref="paper", showarrow=False, xanchor="left",
             text="time flows →  (t = 0 … T_x-1)", font=dict(size=12, color="#555")),
        dict(x=1.0, y=1.0, xref="paper", yref="paper", showarrow=False, xanchor="right",
             text="<b>◀ the gradient flows backward: step 1 is t = T_x-1, at the right</b>",
             font=dict(size=12, color="#2F5597")),
        dict(x=-0.5, y=0, text="to a0", showarrow=False, yshift=-18, font=dict(size=10, color="#555")),
    ]
    return figure([cells, arrows, circles], dict(
        height=150, margin=dict(l=10, r=10, t=28, b=6), annotations=annotations,
        xaxis=dict(range=[-1, T_x], showgrid=False, zeroline=False, showticklabels=False, fixedrange=True),
        yaxis=dict(range=[-1, 0.8], showgrid=False, zeroline=False, showticklabels=False, fixedrange=True),
        plot_bgcolor="white",
        meta=dict(current_t=current_t, flow=[None if not np.isfinite(v) else float(v) for v in link_v],
                  colors=colors),
    ))


def strip_data(T_x: int, order: tuple, flow: np.ndarray, out: float | None = None, error_t: int | None = None,
               cell_hover: list | None = None, factors: np.ndarray | None = None) -> dict:
    """The same strip as timeline(), as a JSON-ready dict the browser draws (stepper.js: no plotting script).

    links[0] carries da0 out of cell 0 to a0; links[t + 1] carries da_prevt of step t into cell t. Each has
    its norm (None where the loop never got there), and a size between 0 and 1 on a log scale over the
    norms that flow (0 where nothing flows: an open circle). Cells are drawn grey; the step's stylesheet
    (marks.step_marks) lights the current one and the ones already stepped, the one that raised stays red.
    factors: truncated BPTT's factor on what is carried into each step (bptt/truncation.py); a link
    into step t gets "cut" (factor 0: drawn with scissors) or its factor, when it is not 1.

        strip_data(4, (3, 2, 1, 0), np.array([1.0, 2.0, 4.0, 0.0]), out=0.5)["links"][4]  # {'norm': 0.0, 'size': 0.0}
    """
    flow = np.asarray(flow, dtype=np.float64)
    norms = np.concatenate([[np.nan if out is None else out], flow])
    sizes = _sizes(norms, 0.0, 1.0)
    links = [{"norm": float(v), "size": float(sizes[i]) if v > 0 else 0.0} if np.isfinite(v)
             else {"norm": None, "size": None} for i, v in enumerate(norms)]
    for t, factor in enumerate(factors if factors is not None else []):
        if factor != 1:
            links[t + 1] |= {"cut": True} if factor == 0 else {"factor": float(factor)}
    shown = [T_x <= 24 or t in (0, T_x - 1) for t in range(T_x)]
    hover = cell_hover or [f"cell t={t}" for t in range(T_x)]
    return {"T_x": T_x, "order": list(order), "error_t": error_t, "links": links, "labels": shown,
            "hover": [text.replace("<br>", "\n") for text in hover],
            "colours": {"done": DONE, "now": NOW, "todo": TODO, "error": ERROR}}
