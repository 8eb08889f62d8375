"""What the checker's child does with a CS231n-style file (rnn_layers.py): every probe run, every step recorded.

Imported only inside the child (probe_runs.run_probes hands it the probes marked "cs231n"),
after the limits are set. The homework's functions pass bare arrays and tuples, and the student
chooses what a cache holds, so a step backward is always handed the cache of the student's own
step forward when the file has one (else the reference's), and a backward the cache of the
student's own forward. What is recorded, per probe:
- a step forward alone at every t, from the reference's previous state ("step_forward");
- a step backward alone at every t, on dh[:, t, :] (and dc[:, t, :]) and that step's cache ("step_backward");
- a forward's h ("forward");
- a backward with the student's step backward ("whole") and, when the file has its own step
  backward, with the reference's ("loop"). Each call of the step backward records what it was
  handed, which step's cache (by identity with the forward's list, else by the values it holds),
  what it returned and the running totals dWx, dWh, db as they stood.
Results are float arrays under flat names and JSON-able facts; the parent judges.
"""

import sys

import numpy as np

from bptt import cs231n
from bptt.check.probe_runs import OutputError, failure

STEP_OUTPUTS = {"rnn": ("dx", "dprev_h", "dWx", "dWh", "db"),
                "lstm": ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")}
STEP_INPUTS = {"rnn": ("dnext_h",), "lstm": ("dnext_h", "dnext_c")}
FINAL_OUTPUTS = ("dx", "dh0", "dWx", "dWh", "db")
TOTALS = ("dWx", "dWh", "db")
FUNCTIONS = tuple(f"{c}_{f}" for c in ("rnn", "lstm") for f in ("step_forward", "step_backward", "forward", "backward"))
MAX_LEAVES = 16  # arrays looked at in one cache when its step is told by the values it holds


def record_tuple(results, name: str, value, keys: tuple, function: str) -> None:
    """A tuple of arrays returned by the homework's function, stored under the homework's names."""
    if not isinstance(value, (tuple, list)) or len(value) != len(keys):
        got = f"a {type(value).__name__} of {len(value)}" if isinstance(value, (tuple, list)) else \
            f"a {type(value).__name__}"
        raise OutputError(f"{function} returned {got}; the homework's {function} returns the tuple "
                          f"({', '.join(keys)})")
    for key, array in zip(keys, value):
        results.array(name + key, array, f"{function}'s {key}")


def _leaves(cache, depth: int = 0) -> list:
    """The arrays a cache holds (tuple, list or dict, one level of nesting), at most MAX_LEAVES."""
    if isinstance(cache, np.ndarray):
        return [cache]
    values = cache.values() if isinstance(cache, dict) else cache if isinstance(cache, (tuple, list)) else ()
    out = []
    for value in values:
        if depth < 1 or isinstance(value, np.ndarray):
            out += _leaves(value, depth + 1) if not isinstance(value, np.ndarray) else [value]
        if len(out) >= MAX_LEAVES:
            break
    return out[:MAX_LEAVES]


class StepRecorder:
    """Stands in for rnn_step_backward / lstm_step_backward inside the student's backward and records every call."""

    def __init__(self, cell, function, caches, signatures, loop_code, results, prefix, max_calls):
        self.cell, self.function, self.caches, self.signatures = cell, function, caches, signatures
        self.loop_code, self.results, self.prefix, self.max_calls = loop_code, results, prefix, max_calls
        self.calls, self.extra_calls = [], 0

    def current(self) -> dict | None:
        return {"cache": self.calls[-1]["cache"], "index": len(self.calls) - 1} if self.calls else None

    def __call__(self, *args, **kwargs):
        if len(self.calls) >= self.max_calls:
            self.extra_calls += 1
            return self.function(*args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and frame.f_code is not self.loop_code:
            frame = frame.f_back
        scope = dict(frame.f_locals) if frame is not None else {}
        name = f"{self.prefix}call{len(self.calls)}."
        names = (*STEP_INPUTS[self.cell], "cache")
        bound = dict(zip(names, args))
        bound.update({k: v for k, v in kwargs.items() if k in names})
        call = {"cache": self._step_of(bound.get("cache")), "totals": []}
        for key in STEP_INPUTS[self.cell]:
            if key in bound:
                try:
                    self.results.array(name + "in." + key, bound[key], key)
                except OutputError:
                    pass
        for key in TOTALS:
            value = scope.get(key)
            if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 10_000_000:
                self.results.arrays[name + "tot." + key] = np.array(value, dtype=np.float64)
                call["totals"].append(key)
        self.calls.append(call)
        result = self.function(*args, **kwargs)
        try:
            record_tuple(self.results, name + "out.", result, STEP_OUTPUTS[self.cell], f"{self.cell}_step_backward")
        except OutputError as e:
            call["bad"] = str(e)
        return result

    def _step_of(self, cache) -> int | None:
        """The step a cache belongs to: by identity with the forward's list, else by the arrays it holds."""
        for k, candidate in enumerate(self.caches):
            if cache is candidate:
                return k
        votes = {}
        for leaf in _leaves(cache):
            for k, signature in enumerate(self.signatures):
                if any(_equal(leaf, s) for s in signature):
                    votes[k] = votes.get(k, 0) + 1
        best = max(votes.values(), default=0)
        winners = [k for k, n in votes.items() if n == best]
        return winners[0] if best and len(winners) == 1 else None


def _equal(a, b) -> bool:
    try:
        return isinstance(a, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return False


def _copy(probe: dict, *keys) -> list:
    return [probe[k].copy() for k in keys]


def run_probe(ns: dict, probe: dict, results, prefix: str, own: set, max_calls: int) -> dict:
    """One probe through the student's homework functions; the record the parent reads."""
    cell, record = probe["cell"], {}
    lstm = cell == "lstm"
    names = {f: f"{cell}_{f}" for f in ("step_forward", "step_backward", "forward", "backward")}
    for function in names.values():
        if function not in own:
            ns[function] = getattr(cs231n, function)  # as the notebook's earlier cells would
    ref_h, ref_caches = getattr(cs231n, names["forward"])(*_copy(probe, "x", "h0", "Wx", "Wh", "b"))
    T = probe["dh"].shape[1]
    signatures = [(c[0], c[1], ref_h[:, t, :]) for t, c in enumerate(ref_caches)]  # x_t, prev_h, next_h
    step_caches = list(ref_caches)
    if names["step_forward"] in own:
        record["step_forward"], own_caches = run_step_forward(ns[names["step_forward"]], cell, probe, ref_caches,
                                                              results, prefix + "sf.")
        if own_caches is not None:
            step_caches = own_caches
    if names["step_backward"] in own:
        record["step_backward"] = run_step_backward(ns[names["step_backward"]], cell, probe, step_caches, results,
                                                    prefix + "sb.")
    forward_cache = step_caches
    if names["forward"] in own:
        record["forward"], own_cache = run_forward(ns[names["forward"]], cell, probe, results, prefix + "fw.")
        forward_cache = own_cache if own_cache is not None else None
    if names["backward"] in own:
        own_step = ns[names["step_backward"]]
        runs = [("whole", own_step)] + ([("loop", getattr(cs231n, names["step_backward"]))]
                                        if names["step_backward"] in own else [])
        for key, step in runs:
            if forward_cache is None:
                record[key] = {"calls": [], "error": {"type": "forward", "message": "the forward raised, so the "
                                                      "backward had no cache to run on", "line": None,
                                                      "function": names["forward"], "t": None, "call": None}}
                continue
            record[key] = run_backward(ns, cell, probe, forward_cache, step, signatures, results,
                                       f"{prefix}{key}.", max_calls, lstm)
        ns[names["step_backward"]] = own_step
    record["T"] = T
    return record


def run_step_forward(function, cell, probe, ref_caches, results, prefix) -> tuple:
    """The student's step forward at every t from the reference's previous state: (record, their caches or None)."""
    steps, caches = [], []
    keys = ("next_h", "next_c") if cell == "lstm" else ("next_h",)
    for t, ref in enumerate(ref_caches):
        args = [ref[0].copy(), ref[1].copy()] + ([ref[2].copy()] if cell == "lstm" else [])
        try:
            out = function(*args, *_copy(probe, "Wx", "Wh", "b"))
            if not isinstance(out, tuple) or len(out) != len(keys) + 1:
                raise OutputError(f"{cell}_step_forward returned {type(out).__name__}; the homework's returns "
                                  f"({', '.join(keys)}, cache)")
            record_tuple(results, f"{prefix}t{t}.", out[:-1], keys, f"{cell}_step_forward")
            caches.append(out[-1])
            steps.append({"t": t})
        except BaseException as e:  # the student's exception, whatever it is, is a finding
            steps.append({"t": t, "error": failure(e, {"cache": t})})
    return {"steps": steps}, caches if len(caches) == len(ref_caches) else None


def run_step_backward(function, cell, probe, caches, results, prefix) -> dict:
    """The student's step backward alone at every t, on dh[:, t, :] (and dc[:, t, :]) and that step's cache."""
    steps = []
    for t, cache in enumerate(caches):
        args = [probe["dh"][:, t, :].copy()] + ([probe["dc"][:, t, :].copy()] if cell == "lstm" else [])
        try:
            out = function(*args, cache)
            record_tuple(results, f"{prefix}t{t}.", out, STEP_OUTPUTS[cell], f"{cell}_step_backward")
            steps.append({"t": t})
        except BaseException as e:
            steps.append({"t": t, "error": failure(e, {"cache": t})})
    return {"steps": steps}


def run_forward(function, cell, probe, results, prefix) -> tuple:
    """The student's forward: (record with h, their cache or None)."""
    name = f"{cell}_forward"
    try:
        out = function(*_copy(probe, "x", "h0", "Wx", "Wh", "b"))
        if not isinstance(out, tuple) or len(out) != 2:
            raise OutputError(f"{name} returned {type(out).__name__}; the homework's {name} returns (h, cache)")
        results.array(prefix + "out.h", out[0], f"{name}'s h")
        return {"ok": True}, out[1]
    except BaseException as e:
        return {"error": failure(e)}, None


def run_backward(ns, cell, probe, cache, step, signatures, results, prefix, max_calls, lstm) -> dict:
    """The student's backward on their forward's cache, `step` recorded in place of the step backward."""
    name = f"{cell}_step_backward"
    backward = ns[f"{cell}_backward"]
    listed = list(cache) if isinstance(cache, (list, tuple)) else []
    recorder = StepRecorder(cell, step, listed, signatures, getattr(backward, "__code__", None), results, prefix,
                            max_calls)
    ns[name] = recorder
    record = {"calls": recorder.calls}
    try:
        out = backward(probe["dh"].copy(), cache)
    except BaseException as e:
        record["error"] = failure(e, recorder.current())
    else:
        try:
            record_tuple(results, prefix + "ret.", out, FINAL_OUTPUTS, f"{cell}_backward")
            record["returned"] = list(FINAL_OUTPUTS)
        except BaseException as e:
            record["error"] = failure(e)
    record["extra_calls"] = recorder.extra_calls
    return record


def fatal(record: dict) -> bool:
    """True when a run ran out of memory or asked to exit: the other probes would do the same."""
    runs = [record.get(k, {}) for k in ("whole", "loop", "forward")]
    runs += [step for k in ("step_forward", "step_backward") for step in record.get(k, {}).get("steps", [])]
    return any(isinstance(run, dict) and (run.get("error") or {}).get("type") in ("MemoryError", "exit")
               for run in runs)
