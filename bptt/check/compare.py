"""The student's recorded runs, read back into the course's names and compared with the reference.

A backward's run is a list of `StudentStep`s, one per call of the cell, in the order the loop
made them: what the loop handed in, what the cell returned, and the loop's running totals
after the step. `first_divergence` walks it against the reference trace in backward order,
exactly as `Trace.first_divergence` walks two traces.
"""

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from ..lstm import lstm_cell_backward, lstm_cell_forward, lstm_forward
from ..lstm_trace import lstm_cell_gradients, trace_lstm
from ..rnn import rnn_cell_backward, rnn_cell_forward, rnn_forward
from ..rnn_trace import trace_rnn
from ..trace import differs, max_abs_error
from .probe_runs import max_calls
from .probes import Probe

CACHE_NAMES = {
    "rnn": ("a_next", "a_prev", "xt"),
    "lstm": ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt"),
}


@dataclass(frozen=True)
class StudentStep:
    """One call of the cell backward inside the student's loop."""

    t: int | None  # the step it belongs to: the index of the forward cache it was handed; None when none matched
    index: int  # its place among the loop's calls, 0 for the first
    inputs: dict  # da_next (and dc_next), as passed
    outputs: dict  # what the cell returned, by key
    totals: dict  # the loop's running totals after this step, where they could be found

    @property
    def cache(self) -> int | None:
        return self.t


@dataclass(frozen=True)
class LoopRun:
    """A student's backward on one probe."""

    steps: list
    returned: dict | None  # the dict it returned, by key; None when it raised
    error: dict | None  # the harness's failure facts: type, message, line, function, t, call
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
    scope: str  # input, step, total or final (detail["raised"] when the student's code raised there)
    max_abs_error: float | None = None
    detail: dict = field(default_factory=dict)


class Malformed(ValueError):
    """The results that came back do not have the form the harness writes: missing evidence, never a pass."""


def arrays_under(arrays: dict, prefix: str) -> dict:
    """Members whose name starts with prefix, the prefix removed."""
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}


def loop_run(arrays: dict, record: dict, prefix: str, probe: Probe) -> LoopRun:
    """A backward's recording, with each step's totals taken from the next call.

    A running total is kept only where it was found by name at every call; it is compared only
    for a gradient the loop returns wrong (see first_divergence), so a loop that sums in a second
    loop is never called wrong for totals that stand still during the calls. The arrays are
    read in one pass, whatever the record claims: the work is linear in what came back.
    """
    calls = record.get("calls", [])
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise Malformed("a backward's record of its calls is not a list of calls")
    if len(calls) > max_calls(probe.T_x):
        raise Malformed(f"a backward's record lists {len(calls):,} calls of the cell; the checker records at most "
                        f"{max_calls(probe.T_x)}")
    arrays = arrays_under(arrays, prefix)  # one pass over every array, then only this run's
    returned = returned_arrays(arrays, record, "ret.")
    by_call = _by_call(arrays, len(calls))
    snapshots = [by_call[k]["tot"] for k in range(len(calls))]
    trusted = {key for key in (snapshots[0] if snapshots else {}) if all(key in snap for snap in snapshots)}
    steps = []
    for k, call in enumerate(calls):
        cache = call.get("cache")
        if cache is not None and not (isinstance(cache, int) and 0 <= cache < probe.T_x):
            raise Malformed("a recorded call names a cache that does not exist")
        # after the last step the loop's totals are never seen: what it returns may come from a later line
        totals = snapshots[k + 1] if k + 1 < len(calls) else {}
        steps.append(StudentStep(
            t=cache, index=k, inputs=by_call[k]["in"], outputs=by_call[k]["out"],
            totals={key: value for key, value in totals.items() if key in trusted},
        ))
    error = record.get("error")
    if error is not None and not isinstance(error, dict):
        raise Malformed("a backward's error is not a record of an error")
    return LoopRun(steps, returned, error, int(record.get("extra_calls", 0)))


def _by_call(arrays: dict, count: int) -> list:
    """[{"in": {...}, "out": {...}, "tot": {...}}] per call, from names "call{k}.{part}.{key}", in one pass."""
    out = [{"in": {}, "out": {}, "tot": {}} for _ in range(count)]
    for name, value in arrays.items():
        head, _, rest = name.partition(".")
        part, _, key = rest.partition(".")
        k = head[4:]
        if head.startswith("call") and k.isdigit() and int(k) < count and part in ("in", "out", "tot") and key:
            out[int(k)][part][key] = value
    return out


def returned_arrays(arrays: dict, record: dict, prefix: str) -> dict | None:
    """The dict a function returned, every key it listed present as an array; None when it raised."""
    if "returned" not in record:
        if not isinstance(record.get("error"), dict):
            raise Malformed("a run came back with neither what it returned nor the error it raised")
        return None
    keys = record["returned"]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise Malformed("a run's list of returned keys is not a list of names")
    out = {}
    for key in keys:
        if prefix + key not in arrays:
            raise Malformed(f"the returned {key} is listed but its values never came back")
        out[key] = arrays[prefix + key]
    return out


def course_caches(probe: Probe) -> tuple:
    """The reference forward's caches on the probe."""
    if probe.cell == "rnn":
        return rnn_forward(probe.x, probe.a0, probe.parameters)[2]
    return lstm_forward(probe.x, probe.a0, probe.parameters)[3]


@lru_cache(maxsize=256)
def cached_trace(probe: Probe, code):
    """The reference (code None) or a catalog variant traced on a probe, computed once per probe."""
    return reference_trace(probe, code)


def reference_trace(probe: Probe, code=None, caches: tuple | None = None):
    caches = course_caches(probe) if caches is None else caches
    if probe.cell == "rnn":
        return trace_rnn(probe.da, caches) if code is None else trace_rnn(probe.da, caches, code)
    return trace_lstm(probe.da, caches) if code is None else trace_lstm(probe.da, caches, code)


def first_divergence(run: LoopRun, reference, function: str, probe: Probe, place_of_error) -> Finding | None:
    """The earliest departure of the student's loop from the reference trace, in backward order.

    The student's calls are paired with the reference's steps by the cache each was handed; a
    call at the right place in the loop with the right input but another step's cache is
    paired by its place, so the difference shows in what the cell returned. Running totals are
    compared only for the gradients the loop returns wrong: they localize, they never accuse.
    place_of_error(error) -> (quantity, scope) or None, for a run that raised.
    """
    want = reference.gradients() if reference.error is None else {}
    got = run.returned or {}
    wrong = {key for key in want if key not in got or differs(got[key], want[key])}
    used = set()
    if not run.steps:  # the loop computes the cell itself: only what it returns can be compared
        if run.error is not None:
            return _raised(run, function, probe, place_of_error)
        key = next((key for key in reference.final_keys if key in wrong), None)
        return None if key is None else Finding(function, probe, None, key, "final", _error(got[key], want[key])
                                                if key in got else None, {"no_calls": True, "missing": key not in got})
    for k, ref_step in enumerate(reference.steps()):
        t = ref_step.t
        step = _paired(run, k, t, ref_step.inputs, reference.input_keys, used)
        if step is None:
            if run.error is not None:
                return _raised(run, function, probe, place_of_error)
            return Finding(function, probe, t, reference.input_keys[0], "input", None, {"missing_step": True})
        used.add(step.index)
        detail = {} if step.t == t else {"cache": step.t}
        for scope, keys, got_values, want_values in (
            ("input", reference.input_keys, step.inputs, ref_step.inputs),
            ("step", reference.step_keys, step.outputs, ref_step.outputs),
            # dx is stored column by column, not summed: a wrong dx shows in what the loop returns
            ("total", [key for key in reference.total_keys if key in wrong and key != "dx"], step.totals,
             ref_step.totals),
        ):
            for key in keys:
                if key in got_values and differs(got_values[key], want_values[key]):
                    return Finding(function, probe, t, key, scope, _error(got_values[key], want_values[key]), detail)
        if run.error is not None and run.error.get("call") == step.index:
            return _raised(run, function, probe, place_of_error, t)
    if run.error is not None:
        return _raised(run, function, probe, place_of_error)
    for key in reference.final_keys:
        if key not in got:
            return Finding(function, probe, None, key, "final", None, {"missing": True})
        if key in wrong:
            return Finding(function, probe, None, key, "final", _error(got[key], want[key]))
    return None


def _paired(run: LoopRun, k: int, t: int, ref_inputs: dict, input_keys: tuple, used: set) -> StudentStep | None:
    """The student's call that stands for the reference's k-th step (at t)."""
    at_place = run.steps[k] if k < len(run.steps) else None
    if at_place is not None and at_place.t == t:
        return at_place
    if at_place is not None and all(key in at_place.inputs and not differs(at_place.inputs[key], ref_inputs[key])
                                    for key in input_keys):
        return at_place  # the right input at the right place, but another step's cache
    return next((step for step in run.steps if step.t == t and step.index not in used), None)


def _raised(run: LoopRun, function: str, probe: Probe, place_of_error, t: int | None = None) -> Finding | None:
    """Where the student's code raised, in the contract's scopes; None when the line is no course quantity."""
    place = place_of_error(run.error)
    t = run.error.get("t") if t is None else t
    if place is None or t is None:
        return None
    quantity, scope = place
    return Finding(function, probe, t if isinstance(t, int) else None, quantity, scope, None, {"raised": True})


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


class Raised(dict):
    """The failure facts of a call that raised (type, message, line, ...), told apart from a dict it returned."""


def student_cell_outputs(arrays: dict, record: dict, prefix: str, T_x: int) -> list:
    """The student's cell backward at every t: a dict of outputs or Raised facts; Malformed when evidence is missing."""
    steps = record.get("steps") if isinstance(record, dict) else None
    if not isinstance(steps, list) or len(steps) != T_x or not all(isinstance(step, dict) for step in steps):
        raise Malformed("the record of your cell does not hold one result per step")
    out = []
    for t, step in enumerate(steps):
        if isinstance(step.get("error"), dict):
            out.append(Raised(step["error"]))
            continue
        keys = step.get("keys")
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise Malformed(f"the record of your cell at t = {t} lists no outputs")
        if any(f"{prefix}t{t}.{key}" not in arrays for key in keys):
            raise Malformed(f"the values your cell returned at t = {t} never came back")
        out.append({key: arrays[f"{prefix}t{t}.{key}"] for key in keys})
    return out


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


def student_caches(steps: list, probe: Probe) -> tuple:
    """The student's forward caches (a dict of arrays each) in the course's layout, with the probe's parameters."""
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
