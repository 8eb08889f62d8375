"""Cell or loop: which part of the student's code makes the difference, found by substitution.

The child runs the student's loop with the course's cell ("loop"), the student's cell alone on
the course's inputs ("cell") and inside the course's loop ("refloop"). A part that matches
everywhere when paired with the course's other part is proven right; the blame goes to the
part that is not, at the first step it goes wrong, and to the term the wrong outputs point at.

    blame(evidence, defined, proven, divergence, place)
    # {"part": "cell", "function": "rnn_cell_backward", "t": 3, "term": "dz"}
"""

from ..trace import differs
from . import compare, diagnose
from .compare import Raised

RNN_CELL_KEYS = ("dxt", "da_prev", "dWax", "dWaa", "dba")
GATE_TERMS = {"f": "dft", "i": "dit", "c": "dcct", "o": "dot"}


def proven_right(evidence: list, defined: list) -> set:
    """The course functions the same run proved right: alone, or paired with the course's other part."""
    proven = set()
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        name = f"{cell}_cell_backward"
        if name in defined and all(_cell_right(ev) for ev in evs):
            proven.add(name)
        name = f"{cell}_backward"
        runs = [ev.loop if f"{cell}_cell_backward" in defined else ev.whole for ev in evs]
        if name in defined and all(run is not None and _run_right(run, ev.probe) for run, ev in zip(runs, evs)):
            proven.add(name)
        name = f"{cell}_forward"
        if name in defined and all(ev.forward is not None and _forward_right(ev) for ev in evs):
            proven.add(name)
    return proven


def _cell_right(ev) -> bool:
    reference = compare.reference_cell_outputs(ev.probe)
    keys = compare.cached_trace(ev.probe, None).step_keys
    if ev.cell is None or isinstance(ev.refloop, Raised) or ev.refloop is None:
        return False
    alone = all(not isinstance(got, Raised) and diagnose.same_arrays(got, {k: want[k] for k in keys})
                for got, want in zip(ev.cell, reference))
    return alone and diagnose.same_arrays(ev.refloop, compare.cached_trace(ev.probe, None).gradients())


def _run_right(run, probe) -> bool:
    want = compare.cached_trace(probe, None).gradients()
    return run.error is None and run.returned is not None and diagnose.same_arrays(run.returned, want)


def _forward_right(ev) -> bool:
    if "error" in ev.forward:
        return False
    want, want_caches = compare.reference_forward(ev.probe, f"{ev.probe.cell}_forward")
    got = ev.forward["cache_arrays"]
    return diagnose.same_arrays(ev.forward["outputs"], want) and len(got) == len(want_caches) and \
        all(diagnose.same_arrays(g, w) for g, w in zip(got, want_caches))


def blame(evidence: list, defined: list, proven: set, divergence, place) -> dict | None:
    """{"part", "function", "t", "term"} for the first wrong part, or None when no part can be told."""
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        name = f"{cell}_cell_backward"
        if name in defined and name not in proven:
            return _cell_blame(evs, name)
        name = f"{cell}_backward"
        if name in defined and name not in proven:
            return _loop_blame(evs, name, f"{cell}_cell_backward" in defined, place)
        name = f"{cell}_forward"
        if name in defined and name not in proven:
            where = divergence if divergence is not None and divergence.function == name else None
            return {"part": "forward", "function": name, "t": where.t if where else None,
                    "term": where.quantity if where else None}
    return None


def first_wrong_cell_step(evs: list) -> tuple | None:
    """(evidence, t, what the cell returned or Raised, the reference's outputs) at the first probe and step, in
    backward order, where the student's cell alone goes wrong; None when it is right alone everywhere."""
    for ev in evs:
        reference = compare.reference_cell_outputs(ev.probe)
        keys = compare.cached_trace(ev.probe, None).step_keys
        for t in reversed(range(len(ev.cell))):
            got, want = ev.cell[t], {k: reference[t][k] for k in keys}
            if isinstance(got, Raised) or any(k not in got or differs(got[k], want[k]) for k in keys):
                return ev, t, got, want
    return None


def _cell_blame(evs: list, name: str) -> dict:
    """The first probe and step (backward order) where the cell alone goes wrong, and the term it points at."""
    found = first_wrong_cell_step(evs)
    if found is None:
        return {"part": "cell", "function": name, "t": None, "term": "in context"}  # right alone, wrong in context
    ev, t, got, want = found
    if isinstance(got, Raised):
        return {"part": "cell", "function": name, "t": t, "term": None}
    wrong = [k for k in want if k not in got or differs(got[k], want[k])]
    return {"part": "cell", "function": name, "t": t, "term": cell_term(ev.probe.cell, wrong)}


def cell_term(cell: str, wrong: list) -> str:
    """The term of the cell's backward that the wrong outputs point at: the one they all depend on.

    cell_term("rnn", ["dxt", "da_prev", "dWax", "dWaa", "dba"]) -> 'dz'
    """
    wrong = set(wrong)
    if cell == "rnn":
        if {"dxt", "da_prev", "dba"} <= wrong:
            return "dz"
        return next(k for k in RNN_CELL_KEYS if k in wrong)
    gates = [g for g in "fico" if "db" + g in wrong]
    if {"f", "i", "c"} <= set(gates):
        return "dc"
    if len(gates) == 1:
        return GATE_TERMS[gates[0]]
    weights = [g for g in "fico" if "dW" + g in wrong]
    if not gates and len(weights) == 4:
        return "concat"
    for key in ("da_prev", "dxt", "dc_prev"):
        if key in wrong and not gates and not weights:
            return key
    return sorted(wrong)[0] if not gates else GATE_TERMS[gates[0]]


def _loop_blame(evs: list, name: str, with_course_cell: bool, place) -> dict:
    """The student's loop run with the course's cell: where it first departs, as a term of the loop."""
    for ev in evs:
        run = ev.loop if with_course_cell else ev.whole
        if run is None or _run_right(run, ev.probe):
            continue
        d = compare.first_divergence(run, compare.cached_trace(ev.probe, None), name, ev.probe, place)
        if d is None:
            return {"part": "loop", "function": name, "t": None, "term": None}
        return {"part": "loop", "function": name, "t": d.t, "term": loop_term(d)}
    return {"part": "loop", "function": name, "t": None, "term": None}


def loop_term(d) -> str:
    """What a loop's first divergence is about: the input it hands the cell, the cache, a total, after the loop."""
    if d.detail.get("raised") or d.detail.get("no_calls"):
        return d.quantity  # the line that raised, or a loop that computes the cell itself: only the quantity is known
    if d.detail.get("missing_step"):
        return "order"
    if "cache" in d.detail or d.scope == "step":
        return "cache"
    if d.scope == "input":
        return d.quantity  # da_next, or dc_next for the carried cell state
    if d.scope == "total":
        return "running total"
    return "after the loop"
