"""A trace and a step as files: .npz (plain arrays, no pickles), CSV and JSON.

    data = trace_npz(run)  # bytes; np.load(io.BytesIO(data))["dz"] is (T_x, n_a, m)
"""

import io
import json
from dataclasses import asdict

import numpy as np

from ..runs import Run
from ..trace import Step


def trace_npz(run: Run) -> bytes:
    """Every step's vectors stacked over t (NaN where the loop did not get to), and the final gradients.

    Keys: config (JSON text), order, da, one (T_x, rows, m) array per step vector, `final_<key>`
    for what the backward returns, and `error` (text, empty when the loop ran to the end).
    """
    trace = run.trace
    arrays = {"config": np.array(json.dumps(asdict(run.config))), "order": np.array(trace.order, dtype=np.int64),
              "da": trace.da}
    for step in trace.steps():
        for key, value in {**step.inputs, **step.outputs}.items():
            if key.startswith("dW"):
                continue  # store vectors, derive matrices: a step's dWaa is dz @ a_prev.T from these
            if key not in arrays:
                arrays[key] = np.full((trace.T_x, *np.shape(value)), np.nan)
            if np.shape(value) == arrays[key].shape[1:]:
                arrays[key][step.t] = value
    if trace.error is None:
        arrays |= {f"final_{key}": value for key, value in trace.gradients().items()}
    error = trace.error
    arrays["error"] = np.array("" if error is None else f"t={error.t} {error.quantity}: {error.kind}: {error.message}")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _matrices(step: Step) -> list:
    """(scope, key, 2-D array) for every matrix of the step, dx's running total left out."""
    out = []
    for scope in ("inputs", "outputs", "totals"):
        for key, value in getattr(step, scope).items():
            value = np.asarray(value)
            if value.ndim == 2:
                out.append((scope, key, value))
    return out


def step_csv(step: Step) -> str:
    """Long format, one value a row: scope,quantity,row,col,value (t in every row)."""
    rows = ["t,scope,quantity,row,col,value"]
    for scope, key, value in _matrices(step):
        for (i, j), v in np.ndenumerate(value):
            rows.append(f"{step.t},{scope},{key},{i},{j},{float(v)!r}")
    return "\n".join(rows) + "\n"


def step_json(step: Step) -> str:
    """{"t", "position", "inputs": {key: rows}, "outputs": …, "totals": …}; NaN and ±Inf become null."""
    doc = {"t": step.t, "position": step.position}
    for scope, key, value in _matrices(step):
        clean = np.where(np.isfinite(value), value, np.nan).astype(object)
        clean[~np.isfinite(value)] = None
        doc.setdefault(scope, {})[key] = clean.tolist()
    return json.dumps(doc)
