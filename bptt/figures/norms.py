"""Gradient norms against time, the current step marked: vanishing and exploding at a glance.

    fig = norm_chart({"‖da_prevt‖": trace.norms("da_prevt")}, current_t=2, log=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # plotly is imported by the function that draws with it: norms_data's callers never load it
    import plotly.graph_objects as go

COLORS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756")


def norm_chart(norms: dict, *, current_t: int | None, log: bool = False, title: str = "Gradient norm over time",
               bands: bool = False) -> go.Figure:
    """One line per named (T_x,) array of norms (NaN where the step did not run), against t.

    On a log axis zeros cannot be drawn: they are left out, and the figure's meta counts them.
    bands draws an invisible full-height band at every t, for a stylesheet to light the current one
    (marks.step_marks), so a page that steps never has to draw the chart again.
    """
    from .heatmap import browser_dtype
    from .spec import figure

    data, zeros = [], {}
    for (name, values), color in zip(norms.items(), COLORS):
        y = np.asarray(values, dtype=np.float64)
        if log:
            zeros[name] = int(np.count_nonzero(y == 0))
            y = np.where(y > 0, y, np.nan)
        data.append(dict(
            type="scatter", x=np.arange(y.size), y=y.astype(browser_dtype(y)), name=name, mode="lines+markers",
            line=dict(color=color), marker=dict(size=6 if y.size <= 60 else 3),
            hovertemplate=f"t=%{{x}}<br>{name} = %{{y:.6g}}<extra></extra>",
        ))
    steps = len(next(iter(norms.values()), []))
    layout = dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=300, margin=dict(l=10, r=10, t=48, b=10),
        xaxis=dict(title=dict(text="t (forward time index): the backward walks from the right to the left"))
        | (dict(dtick=1) if steps <= 30 else {}),
        yaxis=dict(title=dict(text="Frobenius norm" + (" (log scale)" if log else "")), type="log" if log else "linear",
                   exponentformat="power"),
        legend=dict(orientation="h", y=-0.3),
        meta=dict(current_t=current_t, log=log, zeros_left_out=zeros),
    )
    if bands:
        data.append(dict(
            type="bar", x=np.arange(steps), y=np.ones(steps), yaxis="y2", width=0.15 if steps <= 30 else 0.8,
            marker=dict(color="#F58518", opacity=0, line=dict(width=0)), hoverinfo="skip", showlegend=False,
            name="now",
        ))
        layout["yaxis2"] = dict(range=[0, 1], overlaying="y", visible=False, fixedrange=True)
    if current_t is not None:
        layout["shapes"] = [dict(type="line", x0=current_t, x1=current_t, xref="x", y0=0, y1=1, yref="y domain",
                                 line=dict(color="#F58518", width=2, dash="dot"))]
        layout["annotations"] = [dict(x=current_t, y=1.0, yref="paper", text=f"now: t = {current_t}", showarrow=False,
                                      yanchor="bottom", font=dict(color="#F58518"))]
    return figure(data, layout)


def _nice(lo: float, hi: float, count: int = 5) -> list:
    """About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    if not hi > lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = np.ceil(lo / step - 1e-9) * step
    return [float(round(v / step) * step) for v in np.arange(first, hi + step * 1e-9, step)]


def norms_data(norms: dict, *, log: bool = False) -> dict:
    """norm_chart's lines as a JSON-ready dict the browser draws: values, the axis range and its ticks.

    On a log axis zeros cannot be drawn: they become None (as NaN does), and `zeros_left_out` counts them.
    Ticks are powers of ten on a log axis (every other one when they are many), round numbers otherwise.

        norms_data({"‖da‖": np.array([1.0, 10.0, 100.0])}, log=True)["ticks"]  # [1.0, 10.0, 100.0]
    """
    series, zeros, shown = [], {}, []
    for (name, values), colour in zip(norms.items(), COLORS):
        y = np.asarray(values, dtype=np.float64)
        if log:
            zeros[name] = int(np.count_nonzero(y == 0))
        keep = np.isfinite(y) & ((y > 0) if log else True)
        shown.append(y[keep])
        series.append({"name": name, "colour": colour, "y": [float(v) if k else None for v, k in zip(y, keep)]})
    values = np.concatenate(shown) if shown else np.zeros(0)
    T_x = len(next(iter(norms.values()), []))
    if log:
        lo, hi = (np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))) if values.size else (0.0, 1.0)
        hi = max(hi, lo + 1)
        every = int(np.ceil((hi - lo + 1) / 8))
        ticks = [float(10.0 ** p) for p in np.arange(lo, hi + 1, every)]
        low, high = float(10.0 ** lo), float(10.0 ** hi)
    else:
        top = float(values.max()) if values.size else 1.0
        ticks = _nice(0.0, top if top > 0 else 1.0)
        low, high = 0.0, max(ticks[-1], top if top > 0 else 1.0)
    x_every = 1 if T_x <= 30 else int(_nice(0, T_x - 1, 10)[1])
    return {"T_x": T_x, "log": log, "series": series, "zeros_left_out": zeros, "range": [low, high],
            "ticks": ticks, "x_ticks": list(range(0, T_x, x_every)),
            "x_title": "t (forward time index): the backward walks from the right to the left",
            "y_title": "Frobenius norm" + (" (log scale)" if log else "")}
