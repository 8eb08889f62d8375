"""One pass over a trace for what every step's drawing needs: fixed colour ranges, norms, NaN/Inf.

Pure numpy. The page caches a Summary per run, so stepping never walks the trace again.
"""

from dataclasses import dataclass

import numpy as np

from ..trace import Trace

SCOPES = ("inputs", "outputs", "totals")


@dataclass(frozen=True)
class Summary:
    """What a run looks like over all its steps."""

    ranges: dict  # (scope, key) -> largest finite |value| over every step: the fixed colour scale
    norms: dict  # key -> (T_x,) Frobenius norm of a step's input/output at each t, NaN where not run
    nonfinite: tuple | None  # (t, scope, key) of the first NaN/Inf in loop order, or None
    all_zero: bool  # every gradient the loop computed is exactly zero (the loop ran without raising)


def _abs_max(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else 0.0


def summarize(trace: Trace) -> Summary:
    """Walk the trace once.

    summarize(run(RunConfig(bug="missing-da-t")).trace).all_zero  # True
    """
    ranges, norms, nonfinite, all_zero = {}, {}, None, trace.error is None
    for step in trace.steps():
        for scope in SCOPES:
            for key, value in getattr(step, scope).items():
                if scope == "totals" and key == "dx":
                    continue  # (n_x, m, T_x): its columns are the steps' dxt, summarized under outputs
                ranges[scope, key] = max(ranges.get((scope, key), 0.0), _abs_max(value))
                if nonfinite is None and not np.all(np.isfinite(value)):
                    nonfinite = (step.t, scope, key)
                if scope != "totals":
                    norms.setdefault(key, np.full(trace.T_x, np.nan))[step.t] = np.linalg.norm(value)
        if all_zero and any(np.any(v != 0) for v in step.outputs.values()):
            all_zero = False
    if not trace.order:
        all_zero = False
    return Summary(ranges, norms, nonfinite, all_zero)


def difference_ranges(trace: Trace, reference: Trace) -> dict:
    """(scope, key) -> largest finite |trace - reference| over the steps both ran: the diff colour scale.

    difference_ranges(buggy, correct)[("inputs", "da_next")]
    """
    ranges = {}
    steps = trace.steps() if reference.order[: len(trace.order)] == trace.order else None
    for ref in reference.steps():
        if ref.t not in trace.position:
            break
        step = next(steps) if steps is not None else trace.step(ref.t)
        for scope in SCOPES:
            mine, theirs = getattr(step, scope), getattr(ref, scope)
            for key in mine.keys() & theirs.keys():
                if (scope == "totals" and key == "dx") or np.shape(mine[key]) != np.shape(theirs[key]):
                    continue
                with np.errstate(all="ignore"):
                    diff = _abs_max(mine[key] - theirs[key])
                ranges[scope, key] = max(ranges.get((scope, key), 0.0), diff)
    return ranges
