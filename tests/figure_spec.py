"""Read the figures a page sent to the browser: the plotly JSON inside AppTest's chart elements.

Plotly sends numpy arrays as base64 typed arrays ({"dtype": "f4", "bdata": ..., "shape": "5, 10"});
decode() turns them (or plain lists) back into numpy arrays, so a test compares what the browser got.
"""

import base64
import json
import re

import numpy as np


def decode(value) -> np.ndarray:
    """A plotly data array as numpy: typed arrays keep their dtype (float32 for the heatmaps)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
        shape = value.get("shape")
        if shape:
            dims = shape if isinstance(shape, list) else [int(d) for d in str(shape).split(",")]
            array = array.reshape(dims)
        return array
    return np.array(value, dtype=float)


def specs(at) -> list:
    """Every plotly figure on the page, as parsed JSON, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def heatmaps(at) -> dict:
    """(scope, quantity) -> (meta, z as numpy) for every heatmap on the page, alone or in a grid figure.

    meta is the panel's layout.meta plus the colour range the trace was sent with (zmin, zmax, zmid).
    """
    out = {}
    for spec in specs(at):
        meta = spec["layout"].get("meta") or {}
        panels = meta.get("panels", [meta] if "quantity" in meta else [])
        for panel, trace in zip(panels, spec["data"]):
            colour = {k: trace.get(k) for k in ("zmin", "zmax", "zmid")}
            out[panel["scope"], panel["quantity"]] = (panel | colour, decode(trace["z"]))
    return out


def by_meta(at, key: str) -> dict:
    """The first figure whose layout.meta has `key` (the timeline has current_t and flow, the norms log)."""
    for spec in specs(at):
        if key in (spec["layout"].get("meta") or {}):
            return spec
    raise AssertionError(f"no figure with meta {key!r} on the page")


def marked_t(at) -> int:
    """The step the page marks on its timeline and norm chart: the t its step_marks stylesheet lights up."""
    found = [int(m.group(1)) for html in at.get("html") for m in [re.search(r"/\* current_t: (\d+) \*/", html.proto.body)] if m]
    assert len(found) == 1, f"expected one step_marks stylesheet, found {found}"
    return found[0]
