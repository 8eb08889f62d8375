"""A matrix as a heatmap centred on zero, readable at any size.

    fig = heatmap(step.inputs["da_next"], title="da_next", quantity="da_next", t=3, zmax=2.5)
    fig.layout.meta["quantity"]  # 'da_next'; fig.data[0].z is the float32 matrix drawn
"""

import math
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from .spec import figure

MAX_SIDE = 64  # beyond this many rows or columns, blocks are pooled so each cell stays readable
TEXT_COLS, TEXT_ROWS = 6, 16  # matrices up to this size print their values inside the cells
# blue negative, white zero, red positive; spelt out, since "RdBu_r" is a name only plotly's Python side knows.
# RdBu's middle is a light grey (247, 247, 247): zero must be pure white, so a panel of zeros reads as "nothing".
COLORSCALE = [[stop, "rgb(255,255,255)" if stop == 0.5 else colour]
              for stop, colour in plotly.colors.get_colorscale("RdBu_r")]


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


@dataclass(frozen=True)
class _Prepared:
    """A panel made ready for plotly: its heatmap trace, what it shows, and how to label it."""

    trace: dict  # a heatmap trace, without axes or colour bar
    meta: dict  # layout.meta for this panel: quantity, scope, t, shape, block, fixed_scale, nonfinite
    pooled: str | None  # 'each cell is the largest |value| of a 4×1 block', or None when drawn cell for cell
    reading: str  # how to read rows and columns: 'rows: unit 0–2 ↓ · columns: example 0–1 →'
    rows_drawn: int
    divider: float | None  # x of the line between a_prev's and xt's columns, or None
    ticks: tuple  # (x tick values, y tick values) for an axis of its own: None beyond 16


def _span(label: str, n: int, arrow: str) -> str:
    return f"{label} 0–{n - 1} {arrow}" if n > 1 else label


def _draw(panel: Panel, max_side: int) -> _Prepared:
    values = np.asarray(panel.values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    z, br, bc = pooled(values, max_side)
    z = z.astype(browser_dtype(z))
    R, C = z.shape
    x, y = np.arange(C) * bc, np.arange(R) * br  # the index of each block's first row and column
    rows, cols, quantity = panel.rows, panel.cols, panel.quantity
    trace = dict(type="heatmap", z=z, x=x, y=y, colorscale=COLORSCALE,
                 hovertemplate=f"{rows} %{{y}}<br>{cols} %{{x}}<br>value %{{z:.8g}}<extra>{quantity}</extra>")
    fixed = panel.zmax is not None
    if fixed:
        zmax = panel.zmax if math.isfinite(panel.zmax) and panel.zmax > 0 else 1.0  # all zeros: any range is white
        trace |= dict(zmin=-zmax, zmax=zmax)
    else:
        trace |= dict(zmid=0)
    if br == bc == 1 and C <= TEXT_COLS and R <= TEXT_ROWS:
        trace |= dict(text=np.vectorize(lambda v: f"{v:.3g}")(z), texttemplate="%{text}", textfont=dict(size=10))
    meta = dict(
        quantity=quantity, scope=panel.scope, t=panel.t, shape=list(values.shape), block=[br, bc], fixed_scale=fixed,
        nonfinite=int(np.size(values) - np.count_nonzero(np.isfinite(values))),
    )
    n_rows, n_cols = values.shape
    reading = f"rows: {_span(rows, n_rows, '↓')} · columns: {_span(cols, n_cols, '→')}"
    divider = panel.split - bc / 2 if panel.split is not None and 0 < panel.split < n_cols else None
    pooled_note = f"each cell is the largest |value| of a {br}×{bc} block" if br * bc > 1 else None
    return _Prepared(trace, meta, pooled_note, reading, R, divider, (x if C <= 16 else None, y if R <= 16 else None))


def _height(rows_drawn: int) -> int:
    return int(min(420, max(170, 70 + 24 * rows_drawn)))


def _ticks(values: np.ndarray | None) -> dict:
    """A tick at every row or column of a small matrix; plotly's own choice beyond."""
    return {} if values is None else dict(tickvals=values)


def _divider(drawn: _Prepared, suffix: str = "") -> dict:
    return dict(type="line", xref=f"x{suffix}", yref=f"y{suffix} domain", x0=drawn.divider, x1=drawn.divider,
                y0=0, y1=1, line=dict(color="black", width=2))


def heatmap(values: np.ndarray, *, title: str, quantity: str, scope: str = "", t: int | None = None,
            zmax: float | None = None, rows: str = "unit", cols: str = "example", split: int | None = None,
            max_side: int = MAX_SIDE) -> go.Figure:
    """A diverging heatmap of a 2-D array, zero in white; layout.meta names what is drawn.

    zmax fixes the colour range to [-zmax, zmax] (the same across steps); None autoscales the panel.
    split draws a divider before that column. Rows and columns are labelled `rows i` and `cols j`.
    """
    drawn = _draw(Panel(values, title, quantity, scope, t, zmax, rows, cols, split), max_side)
    if drawn.pooled:
        title = f"{title}<br><span style='font-size:11px'>pooled: {drawn.pooled}</span>"
    xticks, yticks = drawn.ticks
    layout = dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=_height(drawn.rows_drawn), margin=dict(l=10, r=10, t=52 if drawn.pooled else 36, b=10),
        xaxis=dict(title=dict(text=cols, standoff=2), tickfont=dict(size=10)) | _ticks(xticks),
        yaxis=dict(title=dict(text=rows, standoff=2), autorange="reversed", tickfont=dict(size=10)) | _ticks(yticks),
        meta=drawn.meta,
    )
    if drawn.divider is not None:
        layout["shapes"] = [_divider(drawn)]
    return figure([drawn.trace | dict(colorbar=dict(thickness=8))], layout)


def _range_note(trace: dict) -> str:
    """'colour ±2.47': the colour range a panel is drawn with, said in its title instead of a colour bar."""
    if "zmax" in trace:
        return f"colour ±{trace['zmax']:.3g}"
    z = trace["z"]
    finite = np.abs(z[np.isfinite(z)])
    return f"colour ±{float(finite.max()) if finite.size and finite.max() > 0 else 1.0:.3g} (this panel)"


def _title(name: str, drawn: _Prepared) -> str:
    """The panel's name and colour range, then in small grey type how to read it (and its pooling)."""
    small = "<br><span style='font-size:11px;color:#666'>{}</span>"
    text = f"{name} · <span style='color:#666'>{_range_note(drawn.trace)}</span>" + small.format(drawn.reading)
    return text + (small.format(f"pooled: {drawn.pooled}") if drawn.pooled else "")


def heatmap_grid(panels: list, columns: int = 3, max_side: int = MAX_SIDE) -> go.Figure:
    """Several heatmaps in one figure, `columns` to a row: grouped_heatmaps() with one untitled group."""
    return grouped_heatmaps([("", panels)], columns, max_side)


def grouped_heatmaps(groups: list, columns: int = 3, max_side: int = MAX_SIDE) -> go.Figure:
    """Groups of heatmaps in one figure: each (heading, [Panel, ...]) starts a row under its heading.

    The stepper draws this figure again at every step, so it is built for the browser's speed: one
    figure instead of one per group, no colour bars (each title states its panel's colour range,
    ±zmax: white is zero, full blue/red the range's ends) and no visible axes (a panel's second
    title line says how to read its rows and columns, and hovering names the cell). Colour bars and
    axes were most of plotly's drawing time. layout.meta["panels"][i] describes data[i], as
    heatmap()'s meta does.
    """
    TITLE, NOTE, HEADING, BELOW = 20, 15, 30, 14  # pixels: panel title, each small line under it, group heading, gap
    legend = 24
    xgap = 0.04  # of the width, between columns
    width = (1 - xgap * (columns - 1)) / columns
    rows = []  # (heading, [(panel, drawn)]) per row of the figure, a heading only on a group's first row
    for heading, panels in groups:
        drawn = [(panel, _draw(panel, max_side)) for panel in panels]
        for r in range(0, len(drawn), columns):
            rows.append((heading if r == 0 else "", drawn[r:r + columns]))
    tops, y = [], legend
    for heading, drawn in rows:
        y += HEADING if heading else 0
        top_title = y
        y += TITLE + NOTE * (1 + any(d.pooled for _, d in drawn))
        height = max(_height(d.rows_drawn) for _, d in drawn) - 70
        tops.append((heading, top_title, y, y + height))
        y += height + BELOW
    total = y
    data, annotations, shapes, metas, axes = [], [], [], [], {}
    for (heading, top_title, top, bottom), (_, drawn) in zip(tops, rows):
        if heading:
            annotations.append(dict(text=f"<b>{heading}</b>", x=0, y=1 - (top_title - HEADING + 6) / total,
                                    xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                                    font=dict(size=15)))
        for c, (panel, d) in enumerate(drawn):
            suffix = "" if not data else str(len(data) + 1)
            left = c * (width + xgap)
            data.append(d.trace | dict(showscale=False, xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
            axes[f"xaxis{suffix}"] = dict(visible=False, domain=[left, left + width], anchor=f"y{suffix}")
            axes[f"yaxis{suffix}"] = dict(visible=False, autorange="reversed", anchor=f"x{suffix}",
                                          domain=[1 - bottom / total, 1 - top / total])
            annotations.append(dict(text=_title(panel.title, d), x=left, y=1 - top_title / total, xref="paper",
                                    yref="paper", xanchor="left", yanchor="top", showarrow=False,
                                    font=dict(size=13), align="left"))
            if d.divider is not None:
                shapes.append(_divider(d, suffix))
            metas.append(d.meta)
    annotations.append(dict(text="Colour: blue negative, white zero, red positive; each title gives the range that "
                                 "reaches full colour (the same at every step unless autoscaled). Hover a cell for "
                                 "its exact value.", x=0, y=1, xref="paper", yref="paper", xanchor="left",
                            yanchor="top", showarrow=False, font=dict(size=12, color="#555")))
    return figure(data, dict(height=int(total) + 20, margin=dict(l=10, r=10, t=10, b=10), annotations=annotations,
                             shapes=shapes, meta=dict(panels=metas), **axes))
