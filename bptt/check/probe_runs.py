"""What the checker's child does with the student's functions: every probe run, every step recorded.

Imported only by harness.py, inside the child, after its limits are set. Results are plain
float arrays under flat names plus JSON-able facts (`Results`); nothing here is pickled.

What is recorded, per probe, for each course function the file defines:
- a cell backward alone, at every t, on the reference's cache and the probe's da (and dc);
- a backward twice: with the student's own cell ("whole") and with the reference cell ("loop"),
  so the report can tell a bug in the cell from a bug in the loop. For each call of the cell:
  which cache it was handed (the step it belongs to: by identity with caches[t], else by equal
  values; never from a variable called t), what was passed in, what came back, and the loop's
  running totals as they stood (= after the previous step), where they can be found by name;
- the course's own loop with the student's cell ("refloop"): what the cell does in context;
- a forward's outputs and caches; a cell forward's outputs at every t.
"""

import ast
import builtins
import inspect
import sys
import traceback

import numpy as np

import bptt
from bptt import cs231n
from bptt.check.source import COURSE_FUNCTIONS, CS231N_STEPS, SKIPPED, keep_definitions

FILENAME = "submission.py"
CELL_ARGS = {"rnn": ("da_next", "cache"), "lstm": ("da_next", "dc_next", "cache")}
TOTAL_KEYS = {
    "rnn": ("dx", "dWax", "dWaa", "dba"),
    "lstm": ("dx", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"),
}
CACHE_NAMES = {
    "rnn": ("a_next", "a_prev", "xt"),
    "lstm": ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt"),
}
FORWARD_OUTPUTS = {
    "rnn_forward": ("a", "y_pred"), "lstm_forward": ("a", "y", "c"),
    "rnn_cell_forward": ("a_next", "yt_pred"), "lstm_cell_forward": ("a_next", "c_next", "yt_pred"),
}
HELPERS = {"np": np, "sigmoid": bptt.sigmoid, "softmax": bptt.softmax}


class OutputError(Exception):
    """A function returned something that is not what the course's API returns."""


class Results:
    """Arrays under flat names, and JSON-able facts beside them."""

    def __init__(self):
        self.arrays, self.meta = {}, {}

    def array(self, name: str, value, what: str) -> None:
        """Store a copy as float64; refuse anything that is not numbers."""
        self.arrays[name] = as_numbers(value, what)


def as_numbers(value, what: str) -> np.ndarray:
    """value as a float64 array, or OutputError saying what it was instead."""
    if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
        raise OutputError(f"{what} is an array of dtype {value.dtype}, not numbers")
    if not isinstance(value, (np.ndarray, np.generic, int, float, list, tuple)):
        raise OutputError(f"{what} is a {type(value).__name__}, not a numpy array")
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise OutputError(f"{what} cannot be read as an array of numbers ({e})") from None
    if array.size > 10_000_000:
        raise OutputError(f"{what} has {array.size:,} numbers, far more than the course's shapes")
    return array


def failure(error: BaseException, step: dict | None = None) -> dict:
    """The exception as facts: type, message, the student's innermost line, the step it happened at."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == FILENAME]
    frame = frames[-1] if frames else None
    if isinstance(error, OutputError):
        kind = "output"
    elif isinstance(error, SystemExit):
        kind = "exit"
    else:
        kind = type(error).__name__
    facts = {
        "type": kind,
        "message": str(error)[:2000] if not isinstance(error, SystemExit) else f"sys.exit({error.code!r})",
        "line": frame.lineno if frame else None,
        "function": frame.name if frame else None,
        "t": step.get("cache") if step else None,  # the step of the cell call it happened in or after
        "call": step.get("index") if step else None,
    }
    if isinstance(error, NameError) and isinstance(getattr(error, "name", None), str):
        facts["name"] = error.name  # the name the student's code used without defining it
    return facts


class Recorder:
    """Stands in for the cell backward inside the student's loop and records every call."""

    def __init__(self, cell: str, function, caches: list, loop_code, results: Results, prefix: str, max_calls: int):
        self.cell, self.function, self.caches, self.loop_code = cell, function, caches, loop_code
        self.results, self.prefix, self.max_calls = results, prefix, max_calls
        self.calls, self.returned, self.extra_calls = [], set(), 0
        self.signature = inspect.signature(getattr(bptt, f"{cell}_cell_backward"))

    def current(self) -> dict | None:
        return {"cache": self.calls[-1]["cache"], "index": len(self.calls) - 1} if self.calls else None

    def __call__(self, *args, **kwargs):
        if len(self.calls) >= self.max_calls:
            self.extra_calls += 1
            return self.function(*args, **kwargs)
        frame = self._loop_frame()
        scope = dict(frame.f_locals) if frame is not None else {}
        call = {"cache": None, "totals": []}
        name = f"{self.prefix}call{len(self.calls)}."
        try:
            bound = self.signature.bind(*args, **kwargs).arguments
        except TypeError:
            bound = {}
        for arg in CELL_ARGS[self.cell][:-1]:
            if arg in bound:
                try:
                    self.results.array(name + "in." + arg, bound[arg], arg)
                except OutputError:
                    pass
        call["cache"] = self._cache_index(bound.get("cache"))
        for key in TOTAL_KEYS[self.cell]:
            value = self._total(scope, key)
            if value is not None:
                self.results.arrays[name + "tot." + key] = value
                call["totals"].append(key)
        self.calls.append(call)
        result = self.function(*args, **kwargs)
        self.returned.add(id(result))
        if isinstance(result, dict):
            for key, value in result.items():
                if isinstance(key, str):
                    try:
                        self.results.array(name + "out." + key, value, key)
                    except OutputError as e:
                        call.setdefault("bad", {})[key] = str(e)
        else:
            call["returned"] = type(result).__name__
        return result

    def _loop_frame(self):
        frame = sys._getframe(2)
        while frame is not None and frame.f_code is not self.loop_code:
            frame = frame.f_back
        return frame

    def _cache_index(self, cache) -> int | None:
        """The step this call belongs to: the forward cache it was handed, by identity or else by equal values."""
        for k, candidate in enumerate(self.caches):
            if cache is candidate:
                return k
        if not isinstance(cache, (tuple, list)) or len(cache) != len(self.caches[0]):
            return None
        for k, candidate in enumerate(self.caches):
            if all(_same_value(a, b) for a, b in zip(cache[:-1], candidate[:-1])):
                return k
        return None

    def _total(self, scope: dict, key: str):
        value = scope.get(key)
        if not isinstance(value, np.ndarray):  # totals kept in a dict, e.g. grads["dWax"] += ...
            dicts = [v for v in scope.values() if isinstance(v, dict) and id(v) not in self.returned]
            value = next((d[key] for d in dicts if isinstance(d.get(key), np.ndarray)), None)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 10_000_000:
            return np.array(value, dtype=np.float64)
        return None


def _same_value(a, b) -> bool:
    try:
        return isinstance(a, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return False


def max_calls(T_x: int) -> int:
    """How many calls of the cell the recorder keeps for one run of a backward; the rest it only counts."""
    return 3 * T_x + 3


def copy_parameters(parameters: dict) -> dict:
    return {name: value.copy() for name, value in parameters.items()}


def reference_caches(cell: str, probe: dict) -> tuple:
    p = copy_parameters(probe["parameters"])
    if cell == "rnn":
        return bptt.rnn_forward(probe["x"].copy(), probe["a0"].copy(), p)[2]
    return bptt.lstm_forward(probe["x"].copy(), probe["a0"].copy(), p)[3]


def record_returned(results: Results, name: str, value, function: str) -> list:
    """A backward's dict of gradients, key by key."""
    if not isinstance(value, dict):
        raise OutputError(f"{function} returned a {type(value).__name__}; the course's {function} returns a "
                          "dict of gradients (dx, da0, ...)")
    keys = []
    for key, array in value.items():
        if isinstance(key, str):
            results.array(name + key, array, f"{function}'s {key}")
            keys.append(key)
    return keys


def run_cell_backward(ns, cell, probe, results, prefix) -> dict:
    """The student's cell alone at every t, on the reference's caches."""
    caches = reference_caches(cell, probe)[0]
    steps = []
    for t in range(probe["da"].shape[2]):
        args = [probe["da"][:, :, t].copy()] + ([probe["dc"][:, :, t].copy()] if cell == "lstm" else [])
        name = f"{prefix}t{t}."
        try:
            out = ns[f"{cell}_cell_backward"](*args, caches[t])
            steps.append({"t": t, "keys": record_returned(results, name, out, f"{cell}_cell_backward")})
        except BaseException as e:  # the student's exception, whatever it is, is a finding
            steps.append({"t": t, "error": failure(e, {"cache": t})})
    return {"steps": steps}


def course_loop(cell: str, cell_backward, da: np.ndarray, caches: tuple, where: dict) -> dict:
    """The course's rnn_backward / lstm_backward, line for line, calling `cell_backward` for each step.

    where["t"] and where["quantity"] say which step and which of the cell's outputs the loop was
    handling, so an exception in the loop is told at the student's line that made the value.
    """
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    n_w = n_x if cell == "rnn" else n_a + n_x
    shapes = {"dWax": (n_a, n_x), "dWaa": (n_a, n_a), "dba": (n_a, 1)} if cell == "rnn" else \
        {k: (n_a, n_w) if k.startswith("dW") else (n_a, 1) for k in TOTAL_KEYS[cell][1:]}
    grads = {"dx": np.zeros((n_x, m, T_x)), **{k: np.zeros(shape) for k, shape in shapes.items()}}
    da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))  # (n_a, m)
    for t in reversed(range(T_x)):
        where.update(t=t, quantity=None)
        if cell == "rnn":
            g = cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
        else:
            g = cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
            where["quantity"] = "dc_prev"
            dc_prevt = g["dc_prev"]
        where["quantity"] = "da_prev"
        da_prevt = g["da_prev"]
        where["quantity"] = "dxt"
        grads["dx"][:, :, t] = g["dxt"]
        for key in shapes:
            where["quantity"] = key
            grads[key] += g[key]  # in place, as the course's loop: a wrongly shaped share raises here
    grads["da0"] = da_prevt
    return grads


def run_course_loop(ns, cell, probe, results, prefix) -> dict:
    """The student's cell inside the course's loop: what it returns in context, as a whole backward."""
    caches = reference_caches(cell, probe)
    where = {"t": None, "quantity": None}
    try:
        out = course_loop(cell, ns[f"{cell}_cell_backward"], probe["da"].copy(), caches, where)
        return {"returned": record_returned(results, prefix, out, f"{cell}_backward")}
    except BaseException as e:
        facts = failure(e, {"cache": where["t"]})
        if where["quantity"] is not None:
            facts["quantity"] = where["quantity"]  # the loop's line, not the student's: which output it handled
        return {"error": facts}


def run_backward(ns, cell, probe, results, prefix, cell_function, max_calls) -> dict:
    """The student's backward with `cell_function` recorded in place of the cell backward."""
    caches = reference_caches(cell, probe)
    backward = ns[f"{cell}_backward"]
    loop_code = getattr(backward, "__code__", None)
    recorder = Recorder(cell, cell_function, caches[0], loop_code, results, prefix, max_calls)
    ns[f"{cell}_cell_backward"] = recorder
    record = {"calls": recorder.calls}
    try:
        out = backward(probe["da"].copy(), caches)
    except BaseException as e:
        record["error"] = failure(e, recorder.current())
    else:
        try:
            record["returned"] = record_returned(results, prefix + "ret.", out, f"{cell}_backward")
        except BaseException as e:  # what it returned is not the course's dict: no step to blame
            record["error"] = failure(e)
    record["extra_calls"] = recorder.extra_calls
    return record


def run_forward(ns, cell, probe, results, prefix) -> dict:
    """The student's forward: its outputs, and every cache's arrays as the backward would find them."""
    name = f"{cell}_forward"
    outputs = FORWARD_OUTPUTS[name]
    try:
        out = ns[name](probe["x"].copy(), probe["a0"].copy(), copy_parameters(probe["parameters"]))
        if not isinstance(out, tuple) or len(out) != len(outputs) + 1:
            raise OutputError(f"{name} returned {type(out).__name__}; the course's {name} returns "
                              f"({', '.join(outputs)}, caches)")
        for key, value in zip(outputs, out):
            results.array(prefix + "out." + key, value, f"{name}'s {key}")
        caches = out[-1]
        if not (isinstance(caches, tuple) and len(caches) == 2 and isinstance(caches[0], list)):
            raise OutputError(f"{name}'s caches should be the pair (list of caches, x)")
        for t, cache in enumerate(caches[0][:1000]):
            if not isinstance(cache, tuple) or len(cache) != len(CACHE_NAMES[cell]) + 1:
                raise OutputError(f"cache {t} of {name} is not the course's tuple ({', '.join(CACHE_NAMES[cell])}, "
                                  "parameters)")
            for key, value in zip(CACHE_NAMES[cell], cache):
                results.array(f"{prefix}cache{t}.{key}", value, f"cache {t}'s {key}")
        return {"caches": min(len(caches[0]), 1000)}
    except BaseException as e:
        return {"error": failure(e)}


def run_cell_forward(ns, cell, probe, results, prefix) -> dict:
    """The student's cell forward at every t, from the reference's previous state."""
    name = f"{cell}_cell_forward"
    caches = reference_caches(cell, probe)[0]
    steps = []
    for t, cache in enumerate(caches):
        a_prev, xt = (cache[1], cache[2]) if cell == "rnn" else (cache[2], cache[8])
        args = [xt.copy(), a_prev.copy()] + ([cache[3].copy()] if cell == "lstm" else [])
        try:
            out = ns[name](*args, copy_parameters(probe["parameters"]))
            outputs = FORWARD_OUTPUTS[name]
            if not isinstance(out, tuple) or len(out) != len(outputs) + 1:
                raise OutputError(f"{name} returned {type(out).__name__}; the course's {name} returns "
                                  f"({', '.join(outputs)}, cache)")
            for key, value in zip(outputs, out):
                results.array(f"{prefix}t{t}.{key}", value, f"{name}'s {key}")
            steps.append({"t": t})
        except BaseException as e:
            steps.append({"t": t, "error": failure(e, {"cache": t})})
    return {"steps": steps}


def _fatal(record: dict) -> bool:
    """True when a run ran out of memory or asked to exit: the other probes would do the same."""
    runs = [record.get(k, {}) for k in ("whole", "loop", "refloop", "forward")]
    runs += [step for k in ("cell_backward", "cell_forward") for step in record.get(k, {}).get("steps", [])]
    return any(run.get("error", {}).get("type") in ("MemoryError", "exit") for run in runs)


def load_submission(code: str, results: Results) -> dict | None:
    """Run the definitions of the student's file: their namespace, or None when loading raised.

    The course functions the file does not define are supplied from the reference, as the
    notebook's earlier cells would; results.meta["defined"] lists the student's own.
    """
    meta = results.meta
    tree, meta["dropped"] = keep_definitions(ast.parse(code, FILENAME))
    ns = {"__name__": "submission", "__builtins__": builtins, SKIPPED: [], **HELPERS}
    try:
        exec(compile(tree, FILENAME, "exec"), ns)
    except BaseException as e:
        meta["error"] = failure(e)
        return None
    meta["skipped_imports"] = [str(name) for name in ns[SKIPPED]][:50]
    own = {name for name, value in ns.items() if getattr(getattr(value, "__code__", None), "co_filename", "") == FILENAME}
    meta["defined"] = sorted(own)
    for name in COURSE_FUNCTIONS:
        ns.setdefault(name, getattr(bptt, name))
    for name in CS231N_STEPS:  # a CS231n file's own forward and backward call these by name
        ns.setdefault(name, getattr(cs231n, name))
    return ns


def run_probes(ns: dict, probes: list, results: Results, stop) -> None:
    """Every probe through the student's functions, recorded into results; stop() ends early when True.

    A probe's "functions" are the ones the parent's own reading of the file found: only those
    run, so a function the file sneaks into its namespace (a def in a class body made global)
    never does. The parent counts a probe that never ran as a failure.
    """
    meta = results.meta
    meta["probes"] = []
    for i, probe in enumerate(probes):
        if probe.get("notation") == "cs231n":
            record = cs231n_runs.run_probe(ns, probe, results, f"p{i}.", set(probe["functions"]),
                                           max_calls(probe["dh"].shape[1]))
            meta["probes"].append(record)
            if stop() or cs231n_runs.fatal(record):
                break
            continue
        cell, prefix, record = probe["cell"], f"p{i}.", {}
        own, calls = set(probe["functions"]), max_calls(probe["da"].shape[2])
        own_cell = ns[f"{cell}_cell_backward"]
        if f"{cell}_cell_backward" in own:
            record["cell_backward"] = run_cell_backward(ns, cell, probe, results, prefix + "cb.")
            record["refloop"] = run_course_loop(ns, cell, probe, results, prefix + "ref.")
        if f"{cell}_backward" in own:
            record["whole"] = run_backward(ns, cell, probe, results, prefix + "whole.", own_cell, calls)
            if f"{cell}_cell_backward" in own:
                reference_cell = getattr(bptt, f"{cell}_cell_backward")
                record["loop"] = run_backward(ns, cell, probe, results, prefix + "loop.", reference_cell, calls)
            ns[f"{cell}_cell_backward"] = own_cell
        if f"{cell}_forward" in own:
            record["forward"] = run_forward(ns, cell, probe, results, prefix + "fw.")
        if f"{cell}_cell_forward" in own:
            record["cell_forward"] = run_cell_forward(ns, cell, probe, results, prefix + "cf.")
        meta["probes"].append(record)
        if stop() or _fatal(record):
            break  # the other probes would only burn the time limit: the parent reports the error


from bptt.check import cs231n_runs  # noqa: E402  (it builds on failure and OutputError above)
