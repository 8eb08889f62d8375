"""Figures assembled as plain dicts and wrapped once: plotly's per-call validation was most of their cost.

Adding traces and updating the layout one call at a time validates every property at every call
(~130 ms for the stepper's twelve-panel figure); the same figure as one dict, wrapped without
validation, takes ~4 ms to build and serialises four times faster at every rerun that draws it.
tests/test_figures.py builds every figure again with validation on, so a misspelt property
still fails a test.

    fig = figure([dict(type="heatmap", z=z)], dict(height=200))
"""

import copy
import re
import textwrap

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


CHAR_EM = 0.66  # a character's width in plotly's sans-serif, as a share of its font size (digits included)
LINE_EM = 1.3  # a wrapped line's height, as a share of its font size
COLORBAR_PX = 70  # a heatmap's colour bar and its tick labels, beside the plot


def _lines(text: str, width: float, size: float) -> list:
    """text cut at spaces into lines of at most `width` px at `size` px; an existing <br> is kept, and so is a line
    with its own markup (a smaller <span>), whole."""
    budget = max(8, int(width / (CHAR_EM * size)))
    return [line for part in re.split(r"<br\s*/?>", text)
            for line in ([part] if "<" in part else
                         textwrap.wrap(part, budget, break_long_words=False, break_on_hyphens=False) or [""])]


def fit_titles(spec: dict, width: float) -> dict:
    """A copy of a figure dict whose title, axis titles and legend entries wrap with <br> to a chart `width` px wide.

    A title wider than its chart is cut by the SVG (plotly never wraps); the figure grows by each extra line of its
    title, which plotly's automargin places above the plot, so the plot keeps its size.
    fit_titles({"layout": {"title": {"text": "a " * 60}}}, 300)["layout"]["title"]["text"].count("<br>")  # 4
    """
    spec = copy.deepcopy(spec)
    layout = spec.setdefault("layout", {})
    base = (layout.get("font") or {}).get("size", 12)
    title = layout.get("title")
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        size = (title.get("font") or {}).get("size", base * 17 / 12)
        lines = _lines(title["text"], width - 12, size)
        extra = int((len(lines) - 1 - title["text"].count("<br")) * LINE_EM * size)
        title["text"] = "<br>".join(lines)
        if extra > 0:  # plotly's automargin makes room above the plot for every line; the height grows by as much
            layout["height"] = layout.get("height", 450) + extra
            title |= dict(automargin=True, yref="paper", y=1, yanchor="bottom", pad=dict(b=8))
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict) and isinstance(axis.get("title"), dict):
            text, size = axis["title"].get("text"), (axis["title"].get("font") or {}).get("size", base * 14 / 12)
            if isinstance(text, str):
                span = width - 30 if name.startswith("xaxis") else layout.get("height", 450) * 0.8
                axis["title"]["text"] = "<br>".join(_lines(text, span, size))
    below = layout.get("legend") or {}
    if below.get("orientation") == "h" and below.get("y", 1) < 0:  # a legend under the plot, at a guessed distance:
        # the figure's own bottom instead, where plotly's automargin keeps it clear of a wrapped axis title
        layout["legend"] = below | dict(yref="container", y=0, yanchor="bottom")
    legend = (layout.get("legend") or {}).get("font", {}).get("size", base)
    for trace in spec.get("data", []):  # a legend entry wider than the chart is cut too
        if isinstance(trace.get("name"), str):
            trace["name"] = "<br>".join(_lines(trace["name"], width - 50, legend))
    return spec


def fit_values(spec: dict, width: float) -> dict:
    """A copy of a figure dict whose heatmaps print their cell values only where each value fits its cell.

    plotly writes a heatmap's text at one size whatever the cell's size, so narrow cells print on top of each other;
    where the longest value is wider than a cell of a chart `width` px wide (or a line taller), the values are left
    to the hover.
    fit_values({"data": [{"type": "heatmap", "z": [[1.0] * 40], "text": [["1"] * 40]}]}, 300)["data"][0].get("text")  # None
    """
    spec = copy.deepcopy(spec)
    layout = spec.get("layout", {})
    margin = layout.get("margin") or {}
    plot_w = width - margin.get("l", 80) - margin.get("r", 80)
    plot_h = layout.get("height", 450) - margin.get("t", 100) - margin.get("b", 80)
    base = (layout.get("font") or {}).get("size", 12)
    for trace in spec.get("data", []):
        if trace.get("type") != "heatmap" or trace.get("text") is None:
            continue
        text = trace["text"]
        rows, cols = len(text), max(len(row) for row in text)
        x_span = _span(layout, "xaxis" + str(trace.get("xaxis", "x"))[1:])
        y_span = _span(layout, "yaxis" + str(trace.get("yaxis", "y"))[1:])
        size = (trace.get("textfont") or {}).get("size", base)
        scale = COLORBAR_PX if trace.get("showscale", True) else 0  # the colour bar takes its width from the plot
        longest = max(len(str(v)) for row in text for v in row)
        if longest * CHAR_EM * size + 4 > (plot_w - scale) * x_span / cols or size * LINE_EM > plot_h * y_span / rows:
            trace.pop("text")
            trace.pop("texttemplate", None)
    return spec


def _span(layout: dict, axis: str) -> float:
    """The share of the plot area an axis's domain takes (1 for a single chart)."""
    low, high = (layout.get(axis) or {}).get("domain", (0, 1))
    return high - low
