"""The script the checker's child process runs: the student's functions on every probe, every step recorded.

Started only by bptt/check/sandbox.py as `python -I -B harness.py WORKDIR MEMORY_MB CPU_S FILE_MB`.
It limits itself, imports what it needs, reads WORKDIR/submission.py, job.json and probes.npz,
drops root, installs the guard, then runs the student's code. Results go to results.npz
(plain float arrays, read back with allow_pickle=False) and results.json; nothing is pickled.

What is recorded, per probe, for each course function the file defines:
- a cell backward alone, at every t, on the reference's cache and the probe's da (and dc);
- a backward twice: with the student's own cell ("whole") and with the reference cell ("loop"),
  so the report can tell a bug in the cell from a bug in the loop. For each call of the cell:
  the loop's t, which cache was passed, what was passed in, what came back, and the loop's
  running totals as they stood (= after the previous step);
- a forward's outputs and caches; a cell forward's outputs at every t.
"""

import os
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def limit_self(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    """Memory, CPU time, file size and core dumps, before anything else runs."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))


def drop_privileges(uid: int, gid: int) -> None:
    """Root gives up its rights (the folder was handed to uid); then no process can be started at all.

    RLIMIT_NPROC does not bind root, so it is set after the switch; for any other user it binds
    as it is. 0 means even one fork or thread fails: a fork bomb ends at its first fork.
    """
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


if __name__ == "__main__":
    WORKDIR = sys.argv[1]
    limit_self(*(int(v) for v in sys.argv[2:5]))
    sys.path[:] = [ROOT] + [p for p in sys.path if os.path.realpath(p or ".") != HERE]

import ast  # noqa: E402  (the limits come first, on purpose)
import builtins  # noqa: E402
import faulthandler  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402

import bptt  # noqa: E402
from bptt.check import guard  # noqa: E402
from bptt.check.source import SKIPPED, keep_definitions  # noqa: E402

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
PRELOAD = ("math", "copy", "random", "itertools", "functools", "collections", "operator", "time", "string", "re",
           "typing", "dataclasses", "warnings", "socket", "ctypes", "encodings.idna")
HELPERS = {"np": np, "sigmoid": bptt.sigmoid, "softmax": bptt.softmax}


class OutputError(Exception):
    """A function returned something that is not what the course's API returns."""


class CappedText:
    """A stdout that keeps the first `keep` characters and only counts the rest."""

    def __init__(self, keep: int):
        self.keep, self.parts, self.kept, self.total = keep, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        self.total += len(text)
        if self.kept < self.keep:
            self.parts.append(text[: self.keep - self.kept])
            self.kept += len(self.parts[-1])
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "".join(self.parts)


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
    return {
        "type": kind,
        "message": str(error)[:2000] if not isinstance(error, SystemExit) else f"sys.exit({error.code!r})",
        "line": frame.lineno if frame else None,
        "function": frame.name if frame else None,
        "t": step.get("t") if step else None,
    }


class Recorder:
    """Stands in for the cell backward inside the student's loop and records every call."""

    def __init__(self, cell: str, function, caches: list, loop_code, results: Results, prefix: str, max_calls: int):
        self.cell, self.function, self.caches, self.loop_code = cell, function, caches, loop_code
        self.results, self.prefix, self.max_calls = results, prefix, max_calls
        self.calls, self.returned, self.extra_calls = [], set(), 0
        self.signature = inspect.signature(getattr(bptt, f"{cell}_cell_backward"))

    def current(self) -> dict | None:
        return self.calls[-1] if self.calls else None

    def __call__(self, *args, **kwargs):
        if len(self.calls) >= self.max_calls:
            self.extra_calls += 1
            return self.function(*args, **kwargs)
        frame = self._loop_frame()
        scope = dict(frame.f_locals) if frame is not None else {}
        t = scope.get("t")
        call = {"t": int(t) if isinstance(t, (int, np.integer)) else None, "cache": None, "totals": []}
        k = len(self.calls)
        name = f"{self.prefix}call{k}."
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
        for k, candidate in enumerate(self.caches):
            if cache is candidate:
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
            steps.append({"t": t, "error": failure(e, {"t": t})})
    return {"steps": steps}


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
        record["returned"] = record_returned(results, prefix + "ret.", out, f"{cell}_backward")
    except BaseException as e:
        record["error"] = failure(e, recorder.current())
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
            steps.append({"t": t, "error": failure(e, {"t": t})})
    return {"steps": steps}


def _fatal(record: dict) -> bool:
    """True when a run ran out of memory or asked to exit: the other probes would do the same."""
    runs = [record.get(k, {}) for k in ("whole", "loop", "forward")]
    runs += [step for k in ("cell_backward", "cell_forward") for step in record.get(k, {}).get("steps", [])]
    return any(run.get("error", {}).get("type") in ("MemoryError", "exit") for run in runs)


def load_probes(workdir: str, job: dict) -> list:
    with np.load(os.path.join(workdir, "probes.npz"), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    probes = []
    for spec in job["probes"]:
        prefix = spec["prefix"]
        probe = {key: arrays[prefix + key] for key in ("x", "a0", "da", "dc")}
        probe["parameters"] = {n[len(prefix) + 2:]: v for n, v in arrays.items() if n.startswith(prefix + "p.")}
        probe["cell"] = spec["cell"]
        probes.append(probe)
    return probes


def readable_roots() -> tuple:
    """Where the student's code may still read: Python's own files and the bptt package, not the app's folder."""
    return tuple(p for p in sys.path[1:] if p and os.path.isdir(p)) + (os.path.join(ROOT, "bptt"),)


def run_submission(workdir: str, job: dict, code: str, probes: list, stdout: CappedText) -> Results:
    results = Results()
    meta = results.meta
    tree, meta["dropped"] = keep_definitions(ast.parse(code, FILENAME))
    ns = {"__name__": "submission", "__builtins__": builtins, SKIPPED: [], **HELPERS}
    try:
        exec(compile(tree, FILENAME, "exec"), ns)
    except BaseException as e:
        meta["error"] = failure(e)
        return results
    meta["skipped_imports"] = [str(name) for name in ns[SKIPPED]][:50]
    own = {name for name, value in ns.items() if getattr(getattr(value, "__code__", None), "co_filename", "") == FILENAME}
    meta["defined"] = sorted(own)
    for name in ("rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
                 "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward"):
        ns.setdefault(name, getattr(bptt, name))
    meta["probes"] = []
    for i, probe in enumerate(probes):
        cell, prefix, record = probe["cell"], f"p{i}.", {}
        own_cell = ns[f"{cell}_cell_backward"]
        max_calls = 3 * probe["da"].shape[2] + 3
        if f"{cell}_cell_backward" in own:
            record["cell_backward"] = run_cell_backward(ns, cell, probe, results, prefix + "cb.")
        if f"{cell}_backward" in own:
            record["whole"] = run_backward(ns, cell, probe, results, prefix + "whole.", own_cell, max_calls)
            if f"{cell}_cell_backward" in own:
                reference_cell = getattr(bptt, f"{cell}_cell_backward")
                record["loop"] = run_backward(ns, cell, probe, results, prefix + "loop.", reference_cell, max_calls)
            ns[f"{cell}_cell_backward"] = own_cell
        if f"{cell}_forward" in own:
            record["forward"] = run_forward(ns, cell, probe, results, prefix + "fw.")
        if f"{cell}_cell_forward" in own:
            record["cell_forward"] = run_cell_forward(ns, cell, probe, results, prefix + "cf.")
        meta["probes"].append(record)
        if stdout.total > job["output_limit"] or _fatal(record):
            break  # the verdict is already clear; more probes would only burn the time limit
    return results


def main() -> None:
    workdir = WORKDIR
    with open(os.path.join(workdir, "job.json")) as f:
        job = json.load(f)
    with open(os.path.join(workdir, FILENAME), encoding="utf-8") as f:
        code = f.read()
    probes = load_probes(workdir, job)
    for module in PRELOAD:  # once the process is `nobody`, Python's own folder may be out of reach
        importlib.import_module(module)
    faulthandler.enable(file=sys.__stderr__)  # a segfault still names the student's line on stderr
    drop_privileges(job["uid"], job["gid"])
    guard.install(workdir, readable_roots())
    stdout = CappedText(job["output_keep"])
    sys.stdout = sys.stderr = stdout
    with np.errstate(all="ignore"):
        results = run_submission(workdir, job, code, probes, stdout)
    results.meta["stdout"] = stdout.text()
    results.meta["stdout_chars"] = stdout.total
    np.savez(os.path.join(workdir, "results.npz"), **results.arrays)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results.meta, f)
    os._exit(0)  # the student's atexit handlers and threads get no turn after the results


if __name__ == "__main__":
    main()
