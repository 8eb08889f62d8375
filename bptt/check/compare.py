"""The student's recorded runs, read back into the course's names and compared with the reference.

A backward's run is a list of `StudentStep`s, one per call of the cell, in the order the loop
made them: what the loop handed in, what the cell returned, and the loop's running totals
after the step. `first_divergence` walks it against the reference trace in backward order,
exactly as `Trace.first_divergence` walks two traces.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from ..lstm import lstm_cell_backward, lstm_cell_forward, lstm_forward
from ..lstm_trace import lstm_cell_gradients, trace_lstm
from ..rnn import rnn_cell_backward, rnn_cell_forward, rnn_forward
from ..rnn_trace import trace_rnn
from ..trace import differs, max_abs_error
from .probes import Probe

CACHE_NAMES = {
    "rnn": ("a_next", "a_prev", "xt"),
    "lstm": ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt"),
}


@dataclass(frozen=True)
class StudentStep:
    """One call of the cell backward inside the student's loop."""

    t: int  # the loop's t (or, when the loop names it otherwise, the cache's index)
    cache: int | None  # index of the cache the loop passed; None when it was not one of the forward's
    inputs: dict  # da_next (and dc_next), as passed
    outputs: dict  # what the cell returned, by key
    totals: dict  # the loop's running totals after this step, where they could be found


@dataclass(frozen=True)
class LoopRun:
    """A student's backward on one probe."""

    steps: list
    returned: dict | None  # the dict it returned, by key; None when it raised
    error: dict | None  # the harness's failure facts: type, message, line, function, t
    extra_calls: int = 0  # calls of the cell beyond what was recorded

    @property
    def order(self) -> tuple:
        return tuple(step.t for step in self.steps)


@dataclass(frozen=True)
class Finding:
    """Where a run first departs from the reference, in the report's terms."""

    function: str
    probe: Probe
    t: int | None
    quantity: str
    scope: str  # input, step, total, final, or error when the student's code raised there
    max_abs_error: float | None = None
    detail: dict = field(default_factory=dict)


def arrays_under(arrays: dict, prefix: str) -> dict:
    """Members whose name starts with prefix, the prefix removed."""
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}


def loop_run(arrays: dict, record: dict, prefix: str, probe: Probe) -> LoopRun:
    """A backward's recording, with each step's totals taken from the next call (or the returned dict)."""
    calls = record.get("calls", [])
    returned = arrays_under(arrays, prefix + "ret.") if "returned" in record else None
    snapshots = [arrays_under(arrays, f"{prefix}call{k}.tot.") for k in range(len(calls))]
    steps = []
    for k, call in enumerate(calls):
        t = call.get("t")
        if t is None:
            t = call.get("cache") if call.get("cache") is not None else probe.T_x - 1 - k
        if k + 1 < len(calls):
            totals = snapshots[k + 1]
        elif returned is not None:
            totals = returned
        else:
            totals = {}
        steps.append(StudentStep(
            t=int(t), cache=call.get("cache"), inputs=arrays_under(arrays, f"{prefix}call{k}.in."),
            outputs=arrays_under(arrays, f"{prefix}call{k}.out."), totals=totals,
        ))
    return LoopRun(steps, returned, record.get("error"), record.get("extra_calls", 0))


def course_caches(probe: Probe) -> tuple:
    """The reference forward's caches on the probe."""
    if probe.cell == "rnn":
        return rnn_forward(probe.x, probe.a0, probe.parameters)[2]
    return lstm_forward(probe.x, probe.a0, probe.parameters)[3]


def reference_trace(probe: Probe, code=None, caches: tuple | None = None):
    caches = course_caches(probe) if caches is None else caches
    if probe.cell == "rnn":
        return trace_rnn(probe.da, caches) if code is None else trace_rnn(probe.da, caches, code)
    return trace_lstm(probe.da, caches) if code is None else trace_lstm(probe.da, caches, code)


def first_divergence(run: LoopRun, reference, function: str, probe: Probe, quantity_of_error) -> Finding | None:
    """The earliest departure of the student's loop from the reference trace, in backward order."""
    by_t = {step.t: step for step in run.steps}
    paired = iter(run.steps) if run.order[: len(reference.order)] == reference.order[: len(run.order)] else None
    for ref_step in reference.steps():
        t = ref_step.t
        step = next(paired, None) if paired is not None else by_t.get(t)
        if step is None or step.t != t:
            if run.error is not None:
                return Finding(function, probe, run.error.get("t"), quantity_of_error(run.error), "error")
            return Finding(function, probe, t, reference.input_keys[0], "input", None, {"missing_step": True})
        for scope, keys, got, want in (
            ("input", reference.input_keys, step.inputs, ref_step.inputs),
            ("step", reference.step_keys, step.outputs, ref_step.outputs),
            ("total", reference.total_keys, step.totals, ref_step.totals),
        ):
            for key in keys:
                if key in got and differs(got[key], want[key]):
                    return Finding(function, probe, t, key, scope, _error(got[key], want[key]))
        if run.error is not None and run.error.get("t") == t:
            return Finding(function, probe, t, quantity_of_error(run.error), "error")
    if run.error is not None:
        return Finding(function, probe, run.error.get("t"), quantity_of_error(run.error), "error")
    want = reference.gradients()
    for key in reference.final_keys:
        if key not in run.returned:
            return Finding(function, probe, None, key, "final", None, {"missing": True})
        if differs(run.returned[key], want[key]):
            return Finding(function, probe, None, key, "final", _error(run.returned[key], want[key]))
    return None


def _error(got: np.ndarray, want: np.ndarray) -> float | None:
    error = max_abs_error(got, want)
    return error if np.isfinite(error) else None


def reference_cell_outputs(probe: Probe) -> list:
    """The course's cell backward at every t of the probe, on the inputs the harness used."""
    caches = course_caches(probe)[0]
    if probe.cell == "rnn":
        return [rnn_cell_backward(probe.da[:, :, t], caches[t]) for t in range(probe.T_x)]
    return [lstm_cell_backward(probe.da[:, :, t], probe.dc[:, :, t], caches[t]) for t in range(probe.T_x)]


def variant_cell_outputs(probe: Probe, code) -> list:
    """A catalog variant's cell backward at every t: a dict of outputs, or the exception's type name.

    The RNN's cell is traced as a one-step loop that assigns instead of adding, so a cell that
    returns a wrongly shaped dba still returns it, as the student's cell would.
    """
    caches = course_caches(probe)[0]
    out = []
    for t in range(probe.T_x):
        if probe.cell == "rnn":
            one = trace_rnn(probe.da[:, :, t : t + 1], ([caches[t]], None), replace(code, accumulate=False))
            out.append(one.error.kind if one.error else one.step(0).outputs)
            continue
        try:
            with np.errstate(all="ignore"):
                g = lstm_cell_gradients(code, probe.da[:, :, t], probe.dc[:, :, t], caches[t])
            g.update({"dW" + gate: np.dot(dg, g["concat"].T) for gate, dg in zip("fico", g["gates"])})
            out.append(g)
        except (ValueError, IndexError, TypeError) as e:
            out.append(type(e).__name__)
    return out


def student_cell_outputs(arrays: dict, record: dict, prefix: str) -> list:
    """The student's cell backward at every t: a dict of outputs, or the failure facts."""
    return [step["error"] if "error" in step else arrays_under(arrays, f"{prefix}t{step['t']}.")
            for step in record.get("steps", [])]


def reference_forward(probe: Probe, function: str) -> tuple:
    """The course forward's outputs (by name) and its caches' arrays (by step and name)."""
    if function.endswith("cell_forward"):
        caches = course_caches(probe)[0]
        outs = []
        for cache in caches:
            if probe.cell == "rnn":
                a_next, yt, _ = rnn_cell_forward(cache[2], cache[1], probe.parameters)
                outs.append({"a_next": a_next, "yt_pred": yt})
            else:
                a_next, c_next, yt, _ = lstm_cell_forward(cache[8], cache[2], cache[3], probe.parameters)
                outs.append({"a_next": a_next, "c_next": c_next, "yt_pred": yt})
        return outs, None
    if probe.cell == "rnn":
        a, y, caches = rnn_forward(probe.x, probe.a0, probe.parameters)
        outputs = {"a": a, "y_pred": y}
    else:
        a, y, c, caches = lstm_forward(probe.x, probe.a0, probe.parameters)
        outputs = {"a": a, "y": y, "c": c}
    return outputs, cache_arrays(probe.cell, caches[0])


def cache_arrays(cell: str, caches: list) -> list:
    return [dict(zip(CACHE_NAMES[cell], cache)) for cache in caches]


def student_caches(arrays: dict, prefix: str, count: int, probe: Probe) -> tuple:
    """The student's forward caches rebuilt in the course's layout, with the probe's parameters."""
    steps = [arrays_under(arrays, f"{prefix}cache{t}.") for t in range(count)]
    caches = [tuple(step[name] for name in CACHE_NAMES[probe.cell]) + (probe.parameters,) for step in steps]
    return caches, probe.x


def compare_outputs(got: dict, want: dict, table: dict) -> None:
    """Fold one comparison into table: key -> {"ok", "max_abs_error"}, the worst over all comparisons.

    max_abs_error is None when a shape differed, the key was missing, or NaN/Inf sat elsewhere.
    """
    for key, value in want.items():
        row = table.setdefault(key, {"ok": True, "max_abs_error": 0.0})
        if key not in got:
            row.update(ok=False, max_abs_error=None)
            continue
        error = max_abs_error(got[key], value)
        row["ok"] = row["ok"] and not differs(got[key], value)
        if row["max_abs_error"] is not None:
            row["max_abs_error"] = max(row["max_abs_error"], error) if np.isfinite(error) else None
