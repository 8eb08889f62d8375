"""A check in its own trusted process: the web server hands it the source and reads back the report as JSON.

The web process serves every session's page script under one interpreter lock; the student's
code runs in the sandbox anyway, but the analysis of what it returned (compare, blame, mutants)
is CPU-bound Python, and ten of those in the web process stall every stepping session. So the
web process only waits in line (queue.py) and starts `python -m bptt.check.worker`, which runs
the whole check (and starts the sandbox as before) and writes one JSON object per line on its
standard output: {"progress": [message, fraction]} as it goes, then {"report": ..., "pid": ...}.

    report = decode_report(encode_report(check(source)), source)  # what crosses the pipe, both ways

Arrays cross as base64 of their float64 bytes with their shape: JSON and numbers, never pickles.
Anything that does not have exactly this form is Garbled, and the web process says the check
failed; nothing garbled can pass.
"""

import base64
import dataclasses
import json
import os
import sys

import numpy as np

from ..catalog import BY_ID, Bug
from .compare import Finding, LoopRun, StudentStep, cached_trace
from .cs231n_probes import to_cs231n
from .cs231n_verdict import in_homework_names
from .probes import Probe
from .report import MatchedBug, Report
from .source import Problem, Source

PLAIN = ("functions", "error", "stdout", "seconds", "notes", "summary", "blame")  # Report fields that are JSON already
BUG_TEXT = ("id", "cell", "title", "function", "wrong", "right", "why", "symptom", "hint")


class Garbled(ValueError):
    """What came back from the worker is not a report this module wrote."""


def encode_source(source: Source) -> dict:
    """The Source as JSON, for the worker's job. encode_source(from_text("x = 1"))["code"] -> 'x = 1'"""
    fields = dataclasses.asdict(source)
    fields["error"] = None if source.error is None else dataclasses.asdict(source.error)
    return fields


def decode_source(fields: dict) -> Source:
    """The Source encode_source wrote, with its tuples back. decode_source(encode_source(s)) == s"""
    error = fields.get("error")
    return Source(code=fields["code"], original=fields["original"], notes=tuple(fields["notes"]),
                  reindented=bool(fields["reindented"]), error=None if error is None else Problem(**error),
                  functions=tuple(fields["functions"]), cells=tuple(tuple(c) for c in fields["cells"]),
                  left_out=tuple(tuple(s) for s in fields["left_out"]))


def _array(value: np.ndarray) -> dict:
    data = np.ascontiguousarray(value, dtype="<f8")
    return {"shape": list(data.shape), "f8": base64.b64encode(data.tobytes()).decode("ascii")}


def _unarray(value) -> np.ndarray:
    if not isinstance(value, dict) or set(value) != {"shape", "f8"}:
        raise Garbled("an array is not a shape and its numbers")
    shape = value["shape"]
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise Garbled("an array's shape is not a list of sizes")
    data = base64.b64decode(value["f8"], validate=True)
    if len(data) != 8 * int(np.prod(shape, dtype=np.int64)):
        raise Garbled("an array holds another number of values than its shape says")
    return np.frombuffer(data, "<f8").astype(np.float64).reshape(shape)


def _arrays(values: dict) -> dict:
    return {key: _array(value) for key, value in values.items()}


def _unarrays(values) -> dict:
    if not isinstance(values, dict):
        raise Garbled("a set of arrays is not a dict")
    return {str(key): _unarray(value) for key, value in values.items()}


def _probe(probe) -> dict:
    if getattr(probe, "notation", "course") == "cs231n":  # a homework-shaped probe: its course twin rebuilds it
        return {"notation": "cs231n", **_probe(probe.course)}
    return {"name": probe.name, "cell": probe.cell, "parameters": _arrays(probe.parameters),
            **_arrays({"x": probe.x, "a0": probe.a0, "da": probe.da, "dc": probe.dc})}


def _unprobe(d: dict):
    probe = Probe(str(d["name"]), str(d["cell"]), _unarray(d["x"]), _unarray(d["a0"]), _unarrays(d["parameters"]),
                  _unarray(d["da"]), _unarray(d["dc"]))
    return to_cs231n(probe) if d.get("notation") == "cs231n" else probe


def _run(run: LoopRun) -> dict:
    return {"steps": [{"t": s.t, "index": s.index, "inputs": _arrays(s.inputs), "outputs": _arrays(s.outputs),
                       "totals": _arrays(s.totals)} for s in run.steps],
            "returned": None if run.returned is None else _arrays(run.returned),
            "error": run.error, "extra_calls": run.extra_calls}


def _unrun(d: dict) -> LoopRun:
    steps = [StudentStep(t=s["t"], index=int(s["index"]), inputs=_unarrays(s["inputs"]),
                         outputs=_unarrays(s["outputs"]), totals=_unarrays(s["totals"])) for s in d["steps"]]
    returned = None if d["returned"] is None else _unarrays(d["returned"])
    return LoopRun(steps, returned, d["error"], int(d["extra_calls"]))


def _bug(bug: Bug) -> dict:
    return {key: getattr(bug, key) for key in BUG_TEXT}


def _unbug(d: dict) -> Bug:
    known = BY_ID.get(d["id"])
    for bug in (known, in_homework_names(known)) if known is not None else ():  # the course's words, or CS231n's
        if all(getattr(bug, key) == d[key] for key in BUG_TEXT):
            return bug  # a catalog bug: the page's one, variant included
    return Bug(**{key: str(d[key]) for key in BUG_TEXT}, variant=None, wrong_keys=(), first=None)


def encode_report(report: Report) -> dict:
    """The report as JSON: every field the page reads, the probes it was judged on, and each run's steps."""
    probes = []  # each probe once, by identity: the divergence and the runs point into this list

    def index(probe: Probe) -> int:
        for i, seen in enumerate(probes):
            if seen is probe:
                return i
        probes.append(probe)
        return len(probes) - 1

    d = report.divergence
    out = {key: getattr(report, key) for key in PLAIN}
    out["divergence"] = None if d is None else {
        "function": d.function, "probe": index(d.probe), "t": d.t, "quantity": d.quantity, "scope": d.scope,
        "max_abs_error": d.max_abs_error, "detail": d.detail}
    out["bugs"] = [{"bug": _bug(m.bug), "line": m.line, "missing": m.missing, "evidence": m.evidence}
                   for m in report.bugs]
    out["runs"] = {function: [{"probe": index(probe), "run": _run(run)} for probe, run, _ in runs]
                   for function, runs in report.runs.items()}
    out["probes"] = [_probe(p) for p in probes]
    return out


def decode_report(d: dict, source: Source) -> Report:
    """The Report encode_report wrote, for `source` (the web process' own reading of the code); Garbled otherwise.

    Each run's reference trace is the course's code traced again here on the probe, for the page's side-by-side.
    """
    try:
        report = _decode(d, source)
    except Garbled:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise Garbled(f"the report is not in the worker's form ({type(e).__name__}: {e})") from None
    if report.error is None and not report.functions:
        raise Garbled("the report judges no function and names no error")
    return report


def _decode(d: dict, source: Source) -> Report:
    if not isinstance(d, dict):
        raise Garbled("the report is not a JSON object")
    probes = [_unprobe(p) for p in d["probes"]]
    functions = d["functions"]
    if not isinstance(functions, dict) or not all(
            isinstance(f, dict) and isinstance(f["ok"], bool) and isinstance(f["outputs"], dict)
            for f in functions.values()):
        raise Garbled("the functions' verdicts are not each a yes or no with their outputs")
    if d["error"] is not None and not (isinstance(d["error"], dict) and isinstance(d["error"].get("kind"), str)):
        raise Garbled("the report's error is not a record with a kind")
    if not all(isinstance(d[key], list) and all(isinstance(s, str) for s in d[key]) for key in ("notes", "summary")):
        raise Garbled("the report's notes and summary are not lists of sentences")
    v = d["divergence"]
    divergence = None if v is None else Finding(str(v["function"]), probes[v["probe"]], v["t"], str(v["quantity"]),
                                                str(v["scope"]), v["max_abs_error"], dict(v["detail"]))
    bugs = [MatchedBug(_unbug(m["bug"]), m["line"], bool(m["missing"]), str(m["evidence"])) for m in d["bugs"]]
    runs = {str(function): [(probes[r["probe"]], _unrun(r["run"]), cached_trace(probes[r["probe"]], None))
                            for r in rows] for function, rows in d["runs"].items()}
    return Report(source, **{key: d[key] for key in PLAIN}, divergence=divergence, bugs=bugs, runs=runs)


def _say(line: dict) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main() -> int:
    """Read {"source": ...} on standard input, check it, write the progress and the report as JSON lines."""
    from .engine import check  # the analysis loads here, in this process, never in the web server's

    job = json.loads(sys.stdin.read())
    with np.errstate(all="ignore"):
        report = check(decode_source(job["source"]), progress=lambda message, fraction: _say(
            {"progress": [str(message), float(fraction)]}))
    _say({"report": encode_report(report), "pid": os.getpid()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
