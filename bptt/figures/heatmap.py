"""A matrix as a heatmap centred on zero, readable at any size.

    fig = heatmap(step.inputs["da_next"], title="da_next", quantity="da_next", t=3, zmax=2.5)
    fig.layout.meta["quantity"]  # 'da_next'; fig.data[0].z is the float32 matrix drawn
"""

import math

import numpy as np
import plotly.graph_objects as go

MAX_SIDE = 64  # beyond this many rows or columns, blocks are pooled so each cell stays readable
TEXT_COLS, TEXT_ROWS = 6, 16  # matrices up to this size print their values inside the cells
COLORSCALE = "RdBu_r"  # blue negative, white zero, red positive


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


def heatmap(
    values: np.ndarray,
    *,
    title: str,
    quantity: str,
    scope: str = "",
    t: int | None = None,
    zmax: float | None = None,
    rows: str = "unit",
    cols: str = "example",
    split: int | None = None,
    max_side: int = MAX_SIDE,
) -> go.Figure:
    """A diverging heatmap of a 2-D array, zero in white.

    zmax fixes the colour range to [-zmax, zmax] (the same across steps); None autoscales this panel.
    split draws a divider before that column (the LSTM's [a_prev; xt] columns). Rows and columns are
    labelled `rows i` and `cols j`; the figure's layout.meta names what is drawn, for tests and export.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    z, br, bc = pooled(values, max_side)
    z = z.astype(browser_dtype(z))
    R, C = z.shape
    x, y = np.arange(C) * bc, np.arange(R) * br  # the index of each block's first row and column
    trace = dict(
        z=z, x=x, y=y, colorscale=COLORSCALE, colorbar=dict(thickness=10, len=0.9),
        hovertemplate=f"{rows} %{{y}}<br>{cols} %{{x}}<br>value %{{z:.8g}}<extra>{quantity}</extra>",
        xgap=1 if C <= 32 else 0, ygap=1 if R <= 32 else 0,
    )
    fixed = zmax is not None
    if fixed:
        zmax = zmax if math.isfinite(zmax) and zmax > 0 else 1.0  # all zeros: any symmetric range shows white
        trace |= dict(zmin=-zmax, zmax=zmax)
    else:
        trace |= dict(zmid=0)
    if br == bc == 1 and C <= TEXT_COLS and R <= TEXT_ROWS:
        trace |= dict(text=np.vectorize(lambda v: f"{v:.3g}")(z), texttemplate="%{text}", textfont=dict(size=10))
    if br * bc > 1:
        title = f"{title} <span style='font-size:11px'>(pooled: each cell is the largest |value| of a {br}×{bc} block)</span>"
    fig = go.Figure(go.Heatmap(**trace))
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
        height=int(min(420, max(170, 70 + 24 * R))),
        margin=dict(l=10, r=10, t=36, b=10),
        xaxis=dict(title=dict(text=cols, standoff=2), side="bottom", tickfont=dict(size=10), constrain="domain"),
        yaxis=dict(title=dict(text=rows, standoff=2), autorange="reversed", tickfont=dict(size=10)),
        meta=dict(
            quantity=quantity, scope=scope, t=t, shape=list(values.shape), block=[br, bc], fixed_scale=fixed,
            nonfinite=int(np.size(values) - np.count_nonzero(np.isfinite(values))),
        ),
    )
    if split is not None and 0 < split < values.shape[1]:
        fig.add_vline(x=split - bc / 2, line=dict(color="black", width=2))
    return fig
