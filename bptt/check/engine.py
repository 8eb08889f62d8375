"""One check from start to verdict: run the submission in the sandbox, compare, diagnose.

    report = check(from_file("hw.py", data)); report.exit_code, report.to_json()
"""

import ast
import threading
from functools import lru_cache
from typing import Callable

import numpy as np

from ..catalog import bugs_for
from ..variants import lstm_forward_with
from . import compare, diagnose, sandbox
from .compare import Finding
from .probes import Probe, probes_for
from .report import MatchedBug, Report
from .source import Source

SHAPE_WORDS = ("shape", "broadcast", "align", "dimension", "mismatch")
FUNCTION_ORDER = ("rnn_backward", "lstm_backward", "rnn_cell_backward", "lstm_cell_backward",
                  "lstm_forward", "rnn_forward", "lstm_cell_forward", "rnn_cell_forward")


# Checks running at once in this process; the rest wait their turn. A class submitting together
# otherwise ran ten children on two cores and ten analyses under one GIL, and every stepping
# session stalled for seconds (benchmarks/load.py).
AT_ONCE = threading.BoundedSemaphore(2)


def check(source: Source, limits: sandbox.Limits = sandbox.Limits(), progress: Callable | None = None) -> Report:
    """Run the student's functions on every probe in a separate process and say where and why they differ.

    check(from_text(code)).to_json()["first_divergence"]  # {"function": "rnn_backward", "t": 3, ...}
    """
    progress = progress or (lambda message, fraction: None)
    if not AT_ONCE.acquire(blocking=False):
        progress("Waiting for a free checker: other students' code is being checked…", 0.05)
        AT_ONCE.acquire()
    try:
        return _check(source, limits, progress)
    finally:
        AT_ONCE.release()


def _check(source: Source, limits: sandbox.Limits, progress: Callable) -> Report:
    if source.error is not None:
        e = source.error
        return Report(source, error={"kind": e.kind, "message": e.message, "line": e.line})
    cells = [c for c in ("rnn", "lstm") if any(f.startswith(c) for f in source.functions)]
    probes = [p for cell in cells for p in probes_for(cell)]
    arrays = {}
    for i, probe in enumerate(probes):
        arrays.update(probe.arrays(f"p{i}."))
    job = {"probes": [{"prefix": f"p{i}.", "cell": p.cell} for i, p in enumerate(probes)]}
    progress(f"Running your code on {len(probes)} inputs in a separate, limited process…", 0.1)
    outcome = sandbox.run(source.code, arrays, job, limits)
    report = Report(source, stdout=outcome.meta.get("stdout", "") if outcome.meta else "", seconds=outcome.seconds)
    if outcome.error is not None:
        report.error = outcome.error
        return report
    progress("Comparing every step with the reference…", 0.6)
    try:
        _analyse(report, outcome, probes, limits)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as e:
        report.error = {"kind": "output", "message": "the results that came back from your code's process were "
                        f"malformed ({type(e).__name__}); was the checker's own output tampered with?", "line": None}
    progress("Done.", 1.0)
    return report


def _analyse(report: Report, outcome: sandbox.Outcome, probes: list, limits: sandbox.Limits) -> None:
    meta, arrays, source = outcome.meta, outcome.arrays, report.source
    skipped = [str(name) for name in meta.get("skipped_imports", [])]
    if skipped:
        report.notes.append(f"Skipped imports the checker does not have ({', '.join(skipped)}); it supplies the "
                            "course's helpers (sigmoid, softmax, np and any course function you did not define).")
    if meta.get("error"):
        report.error = _error_of(meta["error"], source, None, "loading your file")
        return
    if int(meta.get("stdout_chars", 0)) > limits.output_limit:
        report.error = {"kind": "output", "message": f"your code printed {int(meta['stdout_chars']):,} characters; "
                        f"the checker allows {limits.output_limit:,}. Remove the prints inside your loops.",
                        "line": None}
        return
    defined = [f for f in FUNCTION_ORDER if f in meta.get("defined", ())]
    lines = source.code.split("\n")
    line_text = lambda n: lines[n - 1] if isinstance(n, int) and 0 < n <= len(lines) else ""  # noqa: E731
    quantity_of = lambda error: _quantity(line_text(error.get("line")))  # noqa: E731
    records = meta["probes"]
    findings, errors = {}, []
    runs = {"whole": {}, "loop": {}, "cell": {}, "forward": {}}
    tables = {f: {} for f in defined}
    for i, (probe, record) in enumerate(zip(probes, records)):
        cell = probe.cell
        reference = _reference(probe)
        if "whole" in record:
            name = f"{cell}_backward"
            run = compare.loop_run(arrays, record["whole"], f"p{i}.whole.", probe)
            runs["whole"][i] = run
            report.runs.setdefault(name, []).append((probe, run, reference))
            if run.error:
                errors.append((name, probe, run.error))
            else:
                compare.compare_outputs(run.returned, reference.gradients(), tables[name])
            findings.setdefault(name, compare.first_divergence(run, reference, name, probe, quantity_of))
        if "loop" in record:
            runs["loop"][i] = compare.loop_run(arrays, record["loop"], f"p{i}.loop.", probe)
        if "cell_backward" in record:
            name = f"{cell}_cell_backward"
            student = compare.student_cell_outputs(arrays, record["cell_backward"], f"p{i}.cb.")
            runs["cell"][i] = student
            findings.setdefault(name, _cell_finding(student, compare.reference_cell_outputs(probe), name, probe,
                                                    reference.step_keys, tables[name], errors, quantity_of))
        if "forward" in record:
            name = f"{cell}_forward"
            runs["forward"][i] = _forward(arrays, record["forward"], i, probe)
            findings.setdefault(name, _forward_finding(runs["forward"][i], probe, name, reference, tables[name],
                                                       errors, quantity_of))
        if "cell_forward" in record:
            name = f"{cell}_cell_forward"
            findings.setdefault(name, _cell_forward_finding(arrays, record["cell_forward"], i, probe, name,
                                                            tables[name], errors))
        for name, finding in list(findings.items()):
            if finding is None:
                del findings[name]  # no difference on this probe: the next probe may still find one
    report.functions = {f: {"ok": f not in findings and all(r["ok"] for r in tables[f].values()),
                            "outputs": tables[f]} for f in defined}
    report.divergence = next((findings[f] for f in FUNCTION_ORDER if f in findings), None)
    if errors:
        name, probe, error = errors[0]
        report.error = _error_of(error, source, probe, name)
    report.bugs = _bugs(source, probes, runs, defined, findings, line_text)


def _reference(probe: Probe):
    return _cached_trace(probe, None)


@lru_cache(maxsize=256)
def _cached_trace(probe: Probe, code):
    return compare.reference_trace(probe, code)


def _cell_finding(student, reference, name, probe, keys, table, errors, quantity_of) -> Finding | None:
    """The student's cell alone against the course's, over every t: the first key that differs."""
    finding = None
    for t in reversed(range(len(student))):
        got = student[t]
        if "message" in got and "type" in got:
            errors.append((name, probe, got))
            return finding or Finding(name, probe, None, quantity_of(got), "error")
        compare.compare_outputs(got, {k: reference[t][k] for k in keys}, table)
        if finding is None:
            for key in keys:
                if key not in got or compare.differs(got[key], reference[t][key]):
                    error = None if key not in got else compare.max_abs_error(got[key], reference[t][key])
                    finding = Finding(name, probe, None, key, "step", error if error != float("inf") else None)
                    break
    return finding


def _forward(arrays: dict, record: dict, i: int, probe: Probe) -> dict:
    if "error" in record:
        return {"error": record["error"]}
    prefix = f"p{i}.fw."
    caches = compare.student_caches(arrays, prefix, int(record["caches"]), probe)
    return {"outputs": compare.arrays_under(arrays, prefix + "out."), "caches": caches,
            "cache_arrays": [compare.arrays_under(arrays, f"{prefix}cache{t}.") for t in range(int(record["caches"]))]}


def _forward_finding(student, probe, name, reference, table, errors, quantity_of) -> Finding | None:
    """A forward: its outputs first (earliest t), then the reference backward run on its caches."""
    if "error" in student:
        errors.append((name, probe, student["error"]))
        return Finding(name, probe, student["error"].get("t"), quantity_of(student["error"]), "error")
    want, want_caches = compare.reference_forward(probe, name)
    compare.compare_outputs(student["outputs"], want, table)
    for t in range(probe.x.shape[2]):
        for key in want:
            got = student["outputs"].get(key)
            if got is None or got.shape != want[key].shape or compare.differs(got[..., t], want[key][..., t]):
                return Finding(name, probe, t, key, "step")
    got_caches = student["cache_arrays"]
    ok = len(got_caches) == len(want_caches) and all(diagnose.same_arrays(g, w) for g, w in zip(got_caches, want_caches))
    errors_per_entry = [compare.max_abs_error(g[k], w[k]) if k in g else float("inf")
                        for g, w in zip(got_caches, want_caches) for k in w]
    worst = max(errors_per_entry, default=0.0) if len(got_caches) == len(want_caches) else float("inf")
    previous = table.get("caches", {"ok": True, "max_abs_error": 0.0})
    table["caches"] = {"ok": ok and previous["ok"], "max_abs_error": None if previous["max_abs_error"] is None
                       or not np.isfinite(worst) else max(worst, previous["max_abs_error"])}
    if ok:
        return None
    try:
        on_theirs = compare.reference_trace(probe, caches=student["caches"])
    except (ValueError, IndexError, TypeError, KeyError):
        return Finding(name, probe, None, "caches", "final")
    finding = on_theirs.first_divergence(reference)
    if finding is None:
        return None
    return Finding(name, probe, finding.t, finding.quantity, finding.scope,
                   finding.max_abs_error if np.isfinite(finding.max_abs_error) else None, {"via_caches": True})


def _cell_forward_finding(arrays, record, i, probe, name, table, errors) -> Finding | None:
    want = compare.reference_forward(probe, name)[0]
    for step in record["steps"]:
        if "error" in step:
            errors.append((name, probe, step["error"]))
            return Finding(name, probe, None, "cell", "error")
    finding = None
    for t, expected in enumerate(want):
        got = compare.arrays_under(arrays, f"p{i}.cf.t{t}.")
        compare.compare_outputs(got, expected, table)
        bad = [k for k in expected if k not in got or compare.differs(got[k], expected[k])]
        if bad and finding is None:
            finding = Finding(name, probe, None, bad[0], "step")
    return finding


def _bugs(source: Source, probes: list, runs: dict, defined: list, findings: dict, line_text) -> list:
    """Catalog bugs the submission behaves exactly like: whole-run matches first, then per part."""
    matched = {}
    for cell in ("rnn", "lstm"):
        indices = [i for i, p in enumerate(probes) if p.cell == cell]
        if not indices:
            continue
        for bug in bugs_for(cell):
            evidence = _evidence(bug, cell, indices, probes, runs, defined, findings, line_text)
            if evidence:
                line, missing = diagnose.locate(bug, source.code)
                matched[bug.id] = MatchedBug(bug, line, missing, evidence)
    order = {"whole": 0, "cell": 1, "loop": 1, "forward": 1}
    return sorted(matched.values(), key=lambda m: order[m.evidence])


def _evidence(bug, cell, indices, probes, runs, defined, findings, line_text) -> str | None:
    """How the submission shows this bug, or None when it does not behave like it."""
    variant = lambda i: _cached_trace(probes[i], bug.variant)  # noqa: E731
    allow_final = bool(bug.first) and bug.first[0] != "final"
    whole, loop = runs["whole"], runs["loop"]
    if f"{cell}_backward" in findings and all(i in whole for i in indices):
        if all(diagnose.same_run(whole[i], variant(i), probes[i], line_text, allow_final) for i in indices):
            return "whole"
    if bug.function == f"{cell}_cell_backward" and f"{cell}_cell_backward" in findings:
        cells = runs["cell"]
        if all(i in cells and diagnose.same_cell(cells[i], compare.variant_cell_outputs(probes[i], bug.variant),
                                                 _reference(probes[i]).step_keys) for i in indices):
            return "cell"
    if bug.function == f"{cell}_backward" and all(i in loop for i in indices):
        differ = any(not diagnose.same_run(loop[i], _reference(probes[i]), probes[i], line_text) for i in indices)
        if differ and all(diagnose.same_run(loop[i], variant(i), probes[i], line_text, allow_final) for i in indices):
            return "loop"
    if bug.function == f"{cell}_forward" and cell == "lstm" and f"{cell}_forward" in findings:
        forwards = runs["forward"]
        if all(i in forwards and "error" not in forwards[i] and _same_forward(forwards[i], probes[i], bug.variant)
               for i in indices):
            return "forward"
    return None


def _same_forward(student: dict, probe: Probe, code) -> bool:
    a, y, c, caches = lstm_forward_with(code, probe.x, probe.a0, probe.parameters)
    want = compare.cache_arrays("lstm", caches[0])
    got = student["cache_arrays"]
    return len(got) == len(want) and all(diagnose.same_arrays(g, w) for g, w in zip(got, want)) and \
        diagnose.same_arrays(student["outputs"], {"a": a, "y": y, "c": c})


def _quantity(line: str) -> str:
    """The name a line assigns to ('dxt = np.dot(...)' -> 'dxt', 'dx[:,:,t] = ...' -> 'dx')."""
    try:
        node = ast.parse(line.strip()).body[0]
    except (SyntaxError, IndexError, ValueError):
        return "line"
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    for target in targets:
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
            return target.elts[0].id
    return "line"


def _error_of(error: dict, source: Source, probe: Probe | None, function: str) -> dict:
    """The harness's failure facts as the report's error: kind, a message in plain words, the line."""
    kind_name, message, line = error.get("type", "Exception"), str(error.get("message", "")), error.get("line")
    if kind_name == "output":
        kind = "output"
    elif kind_name == "MemoryError":
        kind = "memory"
    elif kind_name in ("ValueError", "IndexError") and any(w in message for w in SHAPE_WORDS):
        kind = "shape"
    elif kind_name == "NameError":
        kind = "missing-function"
        message += ". Your code uses a name it does not define, and the checker could not supply it."
    else:
        kind = "runtime"
    if kind_name == "exit":
        text = f"your code called {message}; remove it from your functions"
    else:
        text = f"{kind_name}: {message}" if kind != "output" else message
    where = []
    if error.get("function"):
        where.append(f"in {error['function']}")
    if line:
        where.append(source.where(line))
    if error.get("t") is not None:
        where.append(f"at t = {error['t']}")
    if probe is not None:
        where.append(f"on the {probe.name} input ({probe.sizes})")
    if where:
        text += " (" + ", ".join(where) + ")"
    if function != "loading your file" and kind not in ("output",) and not error.get("function"):
        text += f", while running {function}"
    return {"kind": kind, "message": text, "line": line}
