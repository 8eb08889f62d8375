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
