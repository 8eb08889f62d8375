"""Figures assembled as plain dicts and wrapped once: plotly's per-call validation was most of their cost.

Adding traces and updating the layout one call at a time validates every property at every call
(~130 ms for the stepper's twelve-panel figure); the same figure as one dict, wrapped without
validation, takes ~4 ms to build and serialises four times faster at every rerun that draws it.
tests/test_figures.py builds every figure again with validation on, so a misspelt property
still fails a test.

    fig = figure([dict(type="heatmap", z=z)], dict(height=200))
"""

import plotly.graph_objects as go
import plotly.io as pio

# plotly's default template adds ~7 kB to every figure's JSON; the pages restyle charts anyway
TEMPLATE = pio.templates["none"].to_plotly_json()


def figure(data: list, layout: dict) -> go.Figure:
    """A plotly Figure of trace dicts (each with its `type`) and a layout dict, on the bare template."""
    return go.Figure(dict(data=data, layout=dict(template=TEMPLATE) | layout), _validate=False)


FONT_KEYS = ("font", "tickfont", "textfont", "title_font", "titlefont", "insidetextfont", "outsidetextfont")


def with_larger_text(spec: dict, size: int) -> dict:
    """A copy of a figure dict in which no text is drawn smaller than `size` px (the presenter layout).

    Every font a figure names is raised to `size` where smaller, and the layout's default font too,
    so a tick label fixed at 10 px cannot stay small on a projector.
    with_larger_text({"layout": {"xaxis": {"tickfont": {"size": 10}}}}, 16)["layout"]["xaxis"]  # size 16
    """
    def walk(node, key=""):
        if isinstance(node, dict):
            out = {k: walk(v, k) for k, v in node.items()}
            if key in FONT_KEYS and isinstance(out.get("size", size), (int, float)) and out.get("size", size) < size:
                out["size"] = size
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    larger = walk(spec)
    layout = larger.setdefault("layout", {})
    # the fonts a figure leaves unset, named too: a chart theme (streamlit's) would set its own, smaller ones
    fonts = [layout.setdefault("font", {}), layout.setdefault("legend", {}).setdefault("font", {})]
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            title = axis.setdefault("title", {})
            if isinstance(title, str):
                title = axis["title"] = {"text": title}
            fonts.append(title.setdefault("font", {}))
            tick = axis.setdefault("tickfont", {})
            if axis.get("type") == "log":  # plotly draws a log axis's in-between digits at 3/4 of the tick size
                tick["size"] = max(tick.get("size", 0), -(-size * 4 // 3))
            fonts.append(tick)
    if isinstance(layout.get("title"), dict):
        fonts.append(layout["title"].setdefault("font", {}))
    fonts += [a.setdefault("font", {}) for a in layout.get("annotations", []) if isinstance(a, dict)]
    for font in fonts:
        font["size"] = max(font.get("size", 0), size)
    return larger
