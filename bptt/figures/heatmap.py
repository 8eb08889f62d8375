"""A matrix as a heatmap centred on zero, readable at any size.

    fig = heatmap(step.inputs["da_next"], title="da_next", quantity="da_next", t=3, zmax=2.5)
    fig.layout.meta["quantity"]  # 'da_next'; fig.data[0].z is the float32 matrix drawn
"""

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

MAX_SIDE = 64  # beyond this many rows or columns, blocks are pooled so each cell stays readable
TEXT_COLS, TEXT_ROWS = 6, 16  # matrices up to this size print their values inside the cells
COLORSCALE = "RdBu_r"  # blue negative, white zero, red positive
# plotly's default template adds ~7 kB to every figure's JSON; the page restyles charts anyway
TEMPLATE = "none"


def browser_dtype(values: np.ndarray) -> type:
    """float32, half the bytes of float64, unless a finite value would overflow it (|x| > 3.4e38)."""
    finite = np.abs(values[np.isfinite(values)])
    return np.float32 if finite.size == 0 or finite.max() < np.finfo(np.float32).max else np.float64


def pooled(values: np.ndarray, max_side: int = MAX_SIDE) -> tuple:
    """(z, row_block, col_block): each block of the matrix replaced by its entry of largest |value|.

    Keeping the signed extreme rather than a mean means a lone large gradient, or a NaN/Inf,
    never averages away. pooled(np.arange(6.0).reshape(1, 6), 3)[0] -> [[1., 3., 5.]]
    """
    rows, cols = values.shape
    br, bc = math.ceil(rows / max_side), math.ceil(cols / max_side)
    if br == bc == 1:
        return values, 1, 1
    R, C = math.ceil(rows / br), math.ceil(cols / bc)
    padded = np.zeros((R * br, C * bc))
    padded[:rows, :cols] = values
    padding = np.ones(padded.shape, dtype=bool)
    padding[:rows, :cols] = False

    def blocks(a):
        return a.reshape(R, br, C, bc).transpose(0, 2, 1, 3).reshape(R, C, br * bc)  # (R, C, block)

    b = blocks(padded)
    size = np.where(np.isnan(b), np.inf, np.abs(b))  # a NaN must survive pooling, like an Inf
    size = np.where(blocks(padding), -1.0, size)  # padding loses to every real entry
    pick = np.argmax(size, axis=2)  # (R, C)
    return np.take_along_axis(b, pick[..., None], axis=2)[..., 0], br, bc


@dataclass(frozen=True)
class Panel:
    """One matrix to draw, with what it is and how to label it."""

    values: np.ndarray  # 2-D (a 1-D array is drawn as one column)
    title: str
    quantity: str
    scope: str = ""
    t: int | None = None
    zmax: float | None = None  # the colour range is [-zmax, zmax]; None autoscales the panel around zero
    rows: str = "unit"
    cols: str = "example"
    split: int | None = None  # draw a divider before this column (the LSTM's [a_prev; xt] columns)


def _draw(panel: Panel, max_side: int) -> tuple:
    """(heatmap trace kwargs, meta dict, title, rows drawn, divider x or None) for one panel."""
    values = np.asarray(panel.values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    z, br, bc = pooled(values, max_side)
    z = z.astype(browser_dtype(z))
    R, C = z.shape
    x, y = np.arange(C) * bc, np.arange(R) * br  # the index of each block's first row and column
    rows, cols, quantity = panel.rows, panel.cols, panel.quantity
    trace = dict(
        z=z, x=x, y=y, colorscale=COLORSCALE, colorbar=dict(thickness=8),
        hovertemplate=f"{rows} %{{y}}<br>{cols} %{{x}}<br>value %{{z:.8g}}<extra>{quantity}</extra>",
        xgap=1 if C <= 32 else 0, ygap=1 if R <= 32 else 0,
    )
    fixed = panel.zmax is not None
    if fixed:
        zmax = panel.zmax if math.isfinite(panel.zmax) and panel.zmax > 0 else 1.0  # all zeros: any range is white
        trace |= dict(zmin=-zmax, zmax=zmax)
    else:
        trace |= dict(zmid=0)
    if br == bc == 1 and C <= TEXT_COLS and R <= TEXT_ROWS:
        trace |= dict(text=np.vectorize(lambda v: f"{v:.3g}")(z), texttemplate="%{text}", textfont=dict(size=10))
    title = panel.title
    if br * bc > 1:
        title = f"{title}<br><span style='font-size:11px'>pooled: each cell is the largest |value| of a {br}×{bc} block</span>"
    meta = dict(
        quantity=quantity, scope=panel.scope, t=panel.t, shape=list(values.shape), block=[br, bc], fixed_scale=fixed,
        nonfinite=int(np.size(values) - np.count_nonzero(np.isfinite(values))),
    )
    divider = panel.split - bc / 2 if panel.split is not None and 0 < panel.split < values.shape[1] else None
    axes = dict(x=dict(title=dict(text=cols, standoff=2), tickfont=dict(size=10), tickvals=x if C <= 16 else None),
                y=dict(title=dict(text=rows, standoff=2), autorange="reversed", tickfont=dict(size=10),
                       tickvals=y if R <= 16 else None))
    return trace, meta, title, R, divider, axes


def _height(rows_drawn: int) -> int:
    return int(min(420, max(170, 70 + 24 * rows_drawn)))


def heatmap(values: np.ndarray, *, title: str, quantity: str, scope: str = "", t: int | None = None,
            zmax: float | None = None, rows: str = "unit", cols: str = "example", split: int | None = None,
            max_side: int = MAX_SIDE) -> go.Figure:
    """A diverging heatmap of a 2-D array, zero in white; layout.meta names what is drawn.

    zmax fixes the colour range to [-zmax, zmax] (the same across steps); None autoscales the panel.
    split draws a divider before that column. Rows and columns are labelled `rows i` and `cols j`.
    """
    trace, meta, title, R, divider, axes = _draw(Panel(values, title, quantity, scope, t, zmax, rows, cols, split),
                                                 max_side)
    fig = go.Figure(go.Heatmap(**trace))
    pooled_note = "<br>" in title
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=_height(R), margin=dict(l=10, r=10, t=52 if pooled_note else 36, b=10),
        xaxis=axes["x"], yaxis=axes["y"], meta=meta,
    )
    if divider is not None:
        fig.add_vline(x=divider, line=dict(color="black", width=2))
    return fig


def _range_note(trace: dict, z: np.ndarray) -> str:
    """'colour ±2.47': the colour range a panel is drawn with, said in its title instead of a colour bar."""
    if "zmax" in trace:
        return f"colour ±{trace['zmax']:.3g}"
    finite = np.abs(z[np.isfinite(z)])
    return f"colour ±{float(finite.max()) if finite.size and finite.max() > 0 else 1.0:.3g} (this panel)"


def heatmap_grid(panels: list, columns: int = 3, max_side: int = MAX_SIDE) -> go.Figure:
    """Several heatmaps in one figure, `columns` to a row: grouped_heatmaps() with one untitled group."""
    return grouped_heatmaps([("", panels)], columns, max_side)


def grouped_heatmaps(groups: list, columns: int = 3, max_side: int = MAX_SIDE) -> go.Figure:
    """Groups of heatmaps in one figure: each (heading, [Panel, ...]) starts a row under its heading.

    A browser redraws one figure much faster than one per group (the stepper redraws it at every
    step), and colour bars were half of plotly's drawing time, so each title states its panel's
    colour range (±zmax: white is zero, full blue/red the range's ends) and one line says so for all.
    layout.meta["panels"][i] describes data[i], as heatmap()'s meta does.
    """
    TITLE, NOTE, HEADING, BELOW = 22, 16, 30, 44  # pixels: panel title, pooled note, group heading, x ticks
    legend = 24
    xgap = 0.07  # of the width, between columns: the next panel's row ticks and title
    width = (1 - xgap * (columns - 1)) / columns
    fig = go.Figure()
    annotations, shapes, metas, axes = [], [], [], {}
    rows = []  # (heading, [drawn panels]) per row of the figure, a heading only on a group's first row
    for heading, panels in groups:
        drawn = [_draw(panel, max_side) for panel in panels]
        for r in range(0, len(drawn), columns):
            rows.append((heading if r == 0 else "", drawn[r:r + columns]))
    tops, y = [], legend
    for heading, drawn in rows:
        y += HEADING if heading else 0
        top_title = y
        y += TITLE + (NOTE if any("<br>" in d[2] for d in drawn) else 0)
        height = max(_height(d[3]) for d in drawn) - 70
        tops.append((heading, top_title, y, y + height))
        y += height + BELOW
    total = y
    n = 0
    for (heading, top_title, top, bottom), (_, drawn) in zip(tops, rows):
        if heading:
            annotations.append(dict(text=f"<b>{heading}</b>", x=0, y=1 - (top_title - HEADING + 6) / total,
                                    xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                                    font=dict(size=15)))
        for c, (trace, meta, title, R, divider, panel_axes) in enumerate(drawn):
            n += 1
            suffix = "" if n == 1 else str(n)
            left = c * (width + xgap)
            fig.add_trace(go.Heatmap(**trace, showscale=False, xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
            axes[f"xaxis{suffix}"] = panel_axes["x"] | dict(domain=[left, left + width], anchor=f"y{suffix}")
            axes[f"yaxis{suffix}"] = panel_axes["y"] | dict(domain=[1 - bottom / total, 1 - top / total],
                                                            anchor=f"x{suffix}")
            text = title.replace("<br>", f" · <span style='color:#666'>{_range_note(trace, trace['z'])}</span><br>", 1) \
                if "<br>" in title else f"{title} · <span style='color:#666'>{_range_note(trace, trace['z'])}</span>"
            annotations.append(dict(text=text, x=left, y=1 - top_title / total, xref="paper", yref="paper",
                                    xanchor="left", yanchor="top", showarrow=False, font=dict(size=13), align="left"))
            if divider is not None:
                shapes.append(dict(type="line", xref=f"x{suffix}", yref=f"y{suffix} domain", x0=divider, x1=divider,
                                   y0=0, y1=1, line=dict(color="black", width=2)))
            metas.append(meta)
    annotations.append(dict(text="Colour: blue negative, white zero, red positive; each title gives the range that "
                                 "reaches full colour (the same at every step unless autoscaled). Hover for values.",
                            x=0, y=1, xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                            font=dict(size=12, color="#555")))
    fig.update_layout(template=TEMPLATE, height=int(total) + 20, margin=dict(l=10, r=10, t=10, b=10),
                      annotations=annotations, shapes=shapes, meta=dict(panels=metas), **axes)
    return fig
