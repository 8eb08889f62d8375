"""What came back from the child for a CS231n-style file, read, checked, and walked against the reference.

Every run the parent asked for must be in the record, with every array its facts promise;
anything missing is Malformed (a failure, never a pass). `first_divergence` walks the
student's backward in the order its loop called the step backward: at the k-th call the
reference runs step p = T-1-k; the running totals as they stood (after step p+1), then what
the loop hands the step (dnext_h, dnext_c) and which step's cache, then what the step returned.

    first_divergence(run, reference(probe), "rnn_backward", probe)  # Finding(t=8, quantity='dnext_h', scope='input')
"""

from dataclasses import dataclass

import numpy as np

from ..trace import differs, max_abs_error
from .compare import Finding, Malformed, Raised, arrays_under
from .cs231n_probes import FINAL_OUTPUTS, FORWARD_OUTPUTS, STEP_INPUTS, STEP_OUTPUTS, TOTALS, Probe231, Reference

NOTATION = {"notation": "cs231n"}


@dataclass(frozen=True)
class Call:
    """One call of the step backward inside the student's backward."""

    t: int | None  # the step whose cache it was handed; None when no step's values matched
    index: int
    inputs: dict  # dnext_h (and dnext_c), as handed in
    outputs: dict  # what it returned, under the homework's names
    totals: dict  # dWx, dWh, db as they stood before the call, where found by those names
    bad: str | None = None  # why what it returned could not be read


@dataclass(frozen=True)
class Run:
    """A student's backward on one probe."""

    calls: list
    returned: dict | None
    error: dict | None
    extra_calls: int = 0


@dataclass
class Evidence:
    """Everything one probe brought back, read into the homework's names."""

    probe: Probe231
    whole: Run | None = None  # the student's backward with their own step backward (or ours, when they have none)
    loop: Run | None = None  # the student's backward with the reference's step backward
    step_backward: list | None = None  # t -> dict of outputs, or Raised
    step_forward: list | None = None  # t -> dict of outputs, or Raised
    forward: dict | None = None  # {"h": ...}, or Raised


def read(i: int, probe: Probe231, record: dict, arrays: dict, defined: list) -> Evidence:
    """Probe i's record with its arrays (names under "p{i}."); Malformed when a run asked for is missing."""
    cell, ev = probe.cell, Evidence(probe)
    wants = {f"{cell}_backward": ["whole"] + (["loop"] if f"{cell}_step_backward" in defined else []),
             f"{cell}_step_backward": ["step_backward"], f"{cell}_forward": ["forward"],
             f"{cell}_step_forward": ["step_forward"]}
    for function, keys in wants.items():
        if function in defined and any(not isinstance(record.get(key), dict) for key in keys):
            raise Malformed(f"your code returned nothing for probe {i + 1} ({function})")
    prefix = f"p{i}."
    if f"{cell}_backward" in defined:
        ev.whole = _run(arrays, record["whole"], prefix + "whole.", cell, probe.T_x)
        if f"{cell}_step_backward" in defined:
            ev.loop = _run(arrays, record["loop"], prefix + "loop.", cell, probe.T_x)
    if f"{cell}_step_backward" in defined:
        ev.step_backward = _steps(arrays, record["step_backward"], prefix + "sb.", STEP_OUTPUTS[cell], probe.T_x)
    if f"{cell}_step_forward" in defined:
        ev.step_forward = _steps(arrays, record["step_forward"], prefix + "sf.",
                                 FORWARD_OUTPUTS[f"{cell}_step_forward"], probe.T_x)
    if f"{cell}_forward" in defined:
        facts = record["forward"]
        if isinstance(facts.get("error"), dict):
            ev.forward = Raised(facts["error"])
        elif prefix + "fw.out.h" in arrays:
            ev.forward = {"h": arrays[prefix + "fw.out.h"]}
        else:
            raise Malformed(f"the h of your {cell}_forward never came back for probe {i + 1}")
    return ev


def _steps(arrays: dict, record: dict, prefix: str, keys: tuple, T: int) -> list:
    steps = record.get("steps")
    if not isinstance(steps, list) or len(steps) != T or not all(isinstance(s, dict) for s in steps):
        raise Malformed("the record of a step function does not hold one result per step")
    out = []
    for t, step in enumerate(steps):
        if isinstance(step.get("error"), dict):
            out.append(Raised(step["error"]))
            continue
        got = arrays_under(arrays, f"{prefix}t{t}.")
        if any(key not in got for key in keys):
            raise Malformed(f"what a step function returned at t = {t} did not all come back")
        out.append({key: got[key] for key in keys})
    return out


def _run(arrays: dict, record: dict, prefix: str, cell: str, T: int) -> Run:
    calls = record.get("calls")
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls) or len(calls) > 3 * T + 3:
        raise Malformed("the record of your backward's calls is not a list of calls")
    steps = []
    for k, facts in enumerate(calls):
        name = f"{prefix}call{k}."
        t = facts.get("cache")
        t = t if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < T else None
        totals = facts.get("totals", [])
        if not isinstance(totals, list) or any(f"{name}tot.{key}" not in arrays for key in totals if key in TOTALS):
            raise Malformed("the running totals of a call did not come back")
        bad = facts.get("bad")
        outputs = {key: arrays[f"{name}out.{key}"] for key in STEP_OUTPUTS[cell] if f"{name}out.{key}" in arrays}
        if bad is None and len(outputs) != len(STEP_OUTPUTS[cell]) and k < len(calls) - 1:
            raise Malformed("what the step backward returned inside your loop did not come back")
        steps.append(Call(t, k, {key: arrays[f"{name}in.{key}"] for key in STEP_INPUTS[cell]
                                 if f"{name}in.{key}" in arrays},
                          outputs, {key: arrays[f"{name}tot.{key}"] for key in totals if key in TOTALS},
                          str(bad) if bad is not None else None))
    error = record.get("error")
    if error is not None and not isinstance(error, dict):
        raise Malformed("an error of your backward did not come back as a record")
    returned = None
    if error is None:
        if record.get("returned") != list(FINAL_OUTPUTS):
            raise Malformed("what your backward returned never came back")
        returned = {key: arrays[f"{prefix}ret.{key}"] for key in FINAL_OUTPUTS if f"{prefix}ret.{key}" in arrays}
        if len(returned) != len(FINAL_OUTPUTS):
            raise Malformed("what your backward returned did not all come back")
    extra = record.get("extra_calls", 0)
    return Run(steps, returned, error, extra if isinstance(extra, int) else 0)


def same(got: dict, want: dict) -> bool:
    return all(key in got and not differs(got[key], want[key]) for key in want)


def first_wrong(got: dict, want: dict, keys: tuple) -> str | None:
    return next((key for key in keys if key not in got or differs(got[key], want[key])), None)


def _error(got, want) -> float | None:
    error = max_abs_error(got, want)
    return error if np.isfinite(error) else None


def first_divergence(run: Run, ref: Reference, function: str, probe: Probe231, own_step: bool = True) -> Finding | None:
    """Where the student's backward first departs from the reference, in the order its loop ran; None for nowhere."""
    cell, T = probe.cell, probe.T_x
    found = lambda t, q, scope, got=None, want=None, **detail: Finding(  # noqa: E731
        function, probe, t, q, scope, None if got is None else _error(got, want), {**NOTATION, **detail})
    if run.error is not None and not run.calls:
        return found(None, "dh0", "final", raised=True) if run.error.get("line") else None
    if not run.calls:
        key = first_wrong(run.returned or {}, ref.final, FINAL_OUTPUTS)
        return None if key is None else found(None, key, "final", (run.returned or {}).get(key), ref.final[key],
                                              no_calls=True)
    for k, call in enumerate(run.calls):
        p = T - 1 - k
        if p < 0:
            return found(None, "dnext_h", "input", extra_call=True)
        if k > 0:
            for key in TOTALS:
                if key in call.totals and differs(call.totals[key], ref.totals[p + 1][key]):
                    return found(p + 1, key, "total", call.totals[key], ref.totals[p + 1][key])
        moved = {} if call.t in (p, None) else {"cache": call.t}
        for key in STEP_INPUTS[cell]:
            if key not in call.inputs:
                return found(p, key, "input", missing=True, **moved)
            if differs(call.inputs[key], ref.inputs[p][key]):
                return found(p, key, "input", call.inputs[key], ref.inputs[p][key], **moved)
        if call.bad is not None or (k == len(run.calls) - 1 and run.error is not None and not call.outputs):
            return found(p, STEP_OUTPUTS[cell][0], "step", raised=True, **moved)
        key = first_wrong(call.outputs, ref.outputs[p], STEP_OUTPUTS[cell])
        if key is not None:
            return found(p, key, "step", call.outputs.get(key), ref.outputs[p][key], **moved)
        if moved:
            return found(p, STEP_OUTPUTS[cell][0], "step", **moved)
    if run.error is not None:
        return found(run.error.get("t"), "dh0", "final", raised=True)
    if len(run.calls) < T:
        return found(T - 1 - len(run.calls), "dnext_h", "input", missing_step=True)
    key = first_wrong(run.returned, ref.final, FINAL_OUTPUTS)
    return None if key is None else found(None, key, "final", run.returned[key], ref.final[key])


def first_wrong_step(steps: list, want: list, keys: tuple, backward: bool) -> tuple | None:
    """(t, key or None for a raise) of the first step alone that differs, in backward or forward order."""
    order = reversed(range(len(steps))) if backward else range(len(steps))
    for t in order:
        if isinstance(steps[t], Raised):
            return t, None
        key = first_wrong(steps[t], want[t], keys)
        if key is not None:
            return t, key
    return None


def first_wrong_h(h: np.ndarray, want: np.ndarray) -> int | None:
    """The first t at which a forward's h differs; 0 when its shape does."""
    if h.shape != want.shape:
        return 0
    return next((t for t in range(want.shape[1]) if differs(h[:, t], want[:, t])), None)
