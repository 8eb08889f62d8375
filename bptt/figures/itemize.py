"""Itemized gradients as charts: which timestep's loss each part of dWaa (dWax, dba, ...) came from.

    fig = fractions_chart(itemize(da, caches, "rnn"), ("dWaa", "dWax", "dba"))
    fig.data[s].x  # source s's fraction of each gradient; the stack of every source is 1
"""

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from ..itemize import Itemized

SOURCES = "Viridis"  # one colour per source timestep, dark early, light late


def _source_color(s: int, T_x: int) -> str:
    return plotly.colors.sample_colorscale(SOURCES, [s / max(T_x - 1, 1)])[0]


def fractions_chart(itemized: Itemized, keys: tuple, names: dict | None = None) -> go.Figure:
    """Stacked bars, one per gradient: each segment is one source's share projected on the total.

    names: what to call each key on the chart (another notation's names); the keys themselves by default.

    The segments of a bar add up to exactly 1 (the whole gradient). A negative segment is a
    source that pulls against the total; plotly stacks it to the left of zero.
    """
    T_x = itemized.T_x
    fig = go.Figure()
    fractions = {key: itemized.fractions(key) for key in keys}
    for s in range(T_x):
        fig.add_trace(go.Bar(
            y=[(names or {}).get(key, key) for key in keys], x=[float(fractions[key][s]) for key in keys],
            orientation="h", name=f"loss at t={s}",
            marker=dict(color=_source_color(s, T_x)),
            hovertemplate=f"loss at t={s}<br>%{{y}}: %{{x:.1%}} of the total<extra></extra>",
        ))
    fig.update_layout(
        barmode="relative", height=120 + 50 * len(keys), margin=dict(l=10, r=10, t=40, b=10),
        title=dict(text="Share of each gradient, by the timestep whose loss produced it", x=0, xanchor="left"),
        xaxis=dict(title=dict(text="fraction of the total (the segments of a bar add up to 1)"), tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
        legend=dict(title=dict(text="source"), traceorder="normal"),
        meta=dict(chart="fractions", keys=list(keys), T_x=T_x),
    )
    return fig


def shares_chart(itemized: Itemized, key: str, name: str | None = None) -> go.Figure:
    """One bar per source timestep: the norm of that loss's share of `key` (called `name`), its fraction on hover."""
    T_x = itemized.T_x
    name = name or key
    norms, fractions = itemized.norms(key), itemized.fractions(key)
    fig = go.Figure(go.Bar(
        x=np.arange(T_x), y=norms.astype(np.float32), customdata=fractions,
        marker=dict(color=[_source_color(s, T_x) for s in range(T_x)]),
        hovertemplate=f"loss at t=%{{x}}<br>‖share of {name}‖ = %{{y:.4g}}<br>%{{customdata:.1%}} of the total"
                      "<extra></extra>",
    ))
    fig.update_layout(
        height=300, margin=dict(l=10, r=10, t=40, b=10),
        title=dict(text=f"‖{name} from the loss at t‖, per source timestep", x=0, xanchor="left"),
        xaxis=dict(title=dict(text="source: the timestep whose loss the share comes from"), dtick=1 if T_x <= 30 else None),
        yaxis=dict(title=dict(text="Frobenius norm")),
        meta=dict(chart="shares", key=key),
    )
    return fig


def reach_chart(itemized: Itemized, key: str, name: str | None = None) -> go.Figure:
    """Heatmap [source s, step t]: how much step t added to source s's share of `key` (called `name`), log colour scale.

    Only t ≤ s can be reached (a loss flows backward), so the upper right is empty; a fading
    row is a vanishing gradient.
    """
    reach = itemized.by_step[key]  # (T_x, T_x) norms
    with np.errstate(divide="ignore"):
        z = np.where(reach > 0, np.log10(reach), np.nan).astype(np.float32)
    fig = go.Figure(go.Heatmap(
        z=z, customdata=reach, colorscale="Magma", colorbar=dict(title=dict(text="log₁₀"), thickness=10),
        hovertemplate="loss at t=%{y}, used at step t=%{x}<br>‖contribution‖ = %{customdata:.3g}<extra></extra>",
    ))
    fig.update_layout(
        height=int(min(480, 140 + 18 * itemized.T_x)), margin=dict(l=10, r=10, t=40, b=10),
        title=dict(text=f"Where each loss's part of {name or key} is added (blank: nothing)", x=0, xanchor="left"),
        xaxis=dict(title=dict(text="step t where the shared weights get the gradient")),
        yaxis=dict(title=dict(text="source: loss at t"), autorange="reversed"),
        meta=dict(chart="reach", key=key),
    )
    return fig
