"""Plotly figures for the pages: pure functions, arrays in, a plotly Figure (or HTML) out.

No streamlit here, so the same figures serve the app, the tests (which decode them) and the docs.
"""

from .heatmap import MAX_SIDE, Panel, heatmap, heatmap_grid, pooled
from .norms import norm_chart
from .timeline import timeline

__all__ = ["MAX_SIDE", "Panel", "heatmap", "heatmap_grid", "pooled", "norm_chart", "timeline", "chart_config"]


def chart_config(name: str) -> dict:
    """Plotly's toolbar options for st.plotly_chart: a PNG download named after the figure.

    Keep the name the same from step to step: a changed config makes plotly rebuild the chart
    from scratch (newPlot) instead of updating it in place, which costs most of a click's redraw.
    """
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }
