"""Plotly figures for the pages: pure functions, arrays in, a plotly Figure (or HTML) out.

No streamlit here, so the same figures serve the app, the tests (which decode them) and the docs.
"""

from .heatmap import MAX_SIDE, Panel, grouped_heatmaps, heatmap, heatmap_grid, pooled
from .norms import norm_chart
from .timeline import timeline

__all__ = ["MAX_SIDE", "Panel", "grouped_heatmaps", "heatmap", "heatmap_grid", "pooled", "norm_chart", "timeline", "chart_config"]


def chart_config(name: str) -> dict:
    """Plotly's toolbar options for st.plotly_chart: a PNG download named after the figure.

    Streamlit draws a chart whose figure (or config) changed from scratch either way, so a figure
    that changes at every step may carry its step in the name.
    """
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }
