"""One check from start to verdict: run the submission in the sandbox, read back the evidence, judge, diagnose.

    report = check(from_file("hw.py", data)); report.exit_code, report.to_json()

The verdict comes from what the student's functions returned on every probe, compared here in
the parent; a probe the parent asked for that came back without its evidence is a failure.
The step-by-step recording only says where a difference the outputs prove first appears.
"""

import ast
import secrets
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..catalog import BY_ID, bugs_for
from ..variants import lstm_forward_with
from . import blame, compare, cs231n_verdict, diagnose, sandbox, texts
from .compare import Finding, Malformed, Raised
from .queue import LINE, Full, ordinal
from .probes import Probe, fresh_probe, probes_for
from .report import MatchedBug, Report
from .source import Source, notation

SHAPE_WORDS = ("shape", "broadcast", "align", "dimension", "mismatch")
FUNCTION_ORDER = ("rnn_backward", "lstm_backward", "rnn_cell_backward", "lstm_cell_backward",
                  "lstm_forward", "rnn_forward", "lstm_cell_forward", "rnn_cell_forward")
STEP_QUANTITIES = {"rnn": ("dz", "dtanh", "dxt", "da_prev", "dWax", "dWaa", "dba"),
                   "lstm": ("dxt", "da_prev", "dc_prev", "dc", "dot", "dcct", "dit", "dft", "concat",
                            "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")}
TOTAL_QUANTITIES = {"rnn": ("dx", "dWax", "dWaa", "dba"),
                    "lstm": ("dx", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")}


@dataclass
class Evidence:
    """What came back for one probe, read and checked: each run the parent asked for, or Malformed."""

    probe: Probe
    whole: compare.LoopRun | None = None  # the student's loop with the student's cell (or ours, if they wrote none)
    loop: compare.LoopRun | None = None  # the student's loop with the course's cell
    cell: list | None = None  # the student's cell alone at every t: dicts, or Raised
    refloop: dict | Raised | None = None  # the course's loop with the student's cell: what it returned
    forward: dict | None = None
    cell_forward: dict | None = None


def check(source: Source, limits: sandbox.Limits = sandbox.Limits(), progress: Callable | None = None) -> Report:
    """Run the student's functions on every probe in a separate process and say where and why they differ.

    check(from_text(code)).to_json()["first_divergence"]  # {"function": "rnn_backward", "t": 3, ...}
    """
    progress = progress or (lambda message, fraction: None)
    told = lambda place: progress(f"You are {ordinal(place)} in line: other students' code is being "  # noqa: E731
                                  "checked first…", 0.05)
    try:
        with LINE.turn(told):
            return _check(source, limits, progress)
    except Full:
        report = Report(source, error={"kind": "busy", "message": "the checker is busy: too many students are "
                                       "waiting already. Try again in a minute.", "line": None})
        report.summary = texts.error_summary(report.error)
        return report


def _check(source: Source, limits: sandbox.Limits, progress: Callable) -> Report:
    if source.error is not None:
        e = source.error
        report = Report(source, error={"kind": e.kind, "message": e.message, "line": e.line})
        report.summary = texts.error_summary(report.error)
        return report
    seed = secrets.randbelow(2**31)  # the parent's own draw: the child learns the values only when it runs
    homework = notation(source.code) == "cs231n"  # CS231n's rnn_layers.py, told by its signatures
    if homework:
        probes, arrays, job = cs231n_verdict.plan(source, seed)
    else:
        cells = [c for c in ("rnn", "lstm") if any(f.startswith(c) for f in source.functions)]
        probes = [p for cell in cells for p in (*probes_for(cell), fresh_probe(cell, seed))]
        arrays = {}
        for i, probe in enumerate(probes):
            arrays.update(probe.arrays(f"p{i}."))
        # only what the parent's reading of the file found is run, whatever else the file puts in its namespace
        job = {"probes": [{"prefix": f"p{i}.", "cell": p.cell, "functions": list(source.functions)}
                          for i, p in enumerate(probes)]}
    progress(f"Running your code on {len(probes)} inputs in a separate, limited process…", 0.1)
    outcome = sandbox.run(source.code, arrays, job, limits)
    stdout = outcome.meta.get("stdout", "") if isinstance(outcome.meta, dict) else ""
    stdout = stdout[: limits.output_keep] if isinstance(stdout, str) else ""  # the child's cap is the student's to edit
    report = Report(source, stdout=stdout, seconds=outcome.seconds)
    if outcome.error is not None:
        report.error = outcome.error
        report.summary = texts.error_summary(report.error)
        return report
    progress("Comparing every step with the reference…", 0.6)
    try:
        if _loaded(report, outcome.meta, limits):
            if homework:
                cs231n_verdict.analyse(report, outcome.meta, outcome.arrays, probes, _error_of)
            else:
                _analyse(report, outcome, probes)
    except (Malformed, KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as e:
        detail = str(e) if isinstance(e, Malformed) else f"malformed ({type(e).__name__})"
        report.error = {"kind": "output", "message": f"the results that came back from your code's process were "
                        f"not complete: {detail}. Nothing can pass without them.", "line": None}
        report.functions, report.divergence, report.bugs, report.blame = {}, None, [], None
    if report.error is not None and not report.summary:
        report.summary = texts.error_summary(report.error)
    progress("Done.", 1.0)
    return report


def _loaded(report: Report, meta: dict, limits: sandbox.Limits) -> bool:
    """True when the file loaded and printed within bounds; else the report's error says why not."""
    source = report.source
    skipped = [str(name) for name in meta.get("skipped_imports", [])][:50]
    if skipped:
        report.notes.append(f"Skipped imports the checker does not have ({', '.join(skipped)}); it supplies the "
                            "course's helpers (sigmoid, softmax, np and any course function you did not define).")
    if meta.get("error"):
        if not isinstance(meta["error"], dict):
            raise Malformed("the error your file raised while loading did not come back as a record")
        report.error = _error_of(meta["error"], source, None, "loading your file")
        return False
    if int(meta.get("stdout_chars", 0)) > limits.output_limit:
        report.error = {"kind": "output", "message": f"your code printed {int(meta['stdout_chars']):,} characters; "
                        f"the checker allows {limits.output_limit:,}. Remove the prints inside your loops.",
                        "line": None}
        return False
    return True


def _analyse(report: Report, outcome: sandbox.Outcome, probes: list) -> None:
    meta, arrays, source = outcome.meta, outcome.arrays, report.source
    defined = [f for f in FUNCTION_ORDER if f in source.functions]  # the parent's reading of the file, not the child's
    ran = meta.get("defined")
    if not isinstance(ran, list):
        raise Malformed("the list of your functions never came back")
    for name in defined:
        if name not in ran:
            report.error = {"kind": "output", "message": f"{name} is defined in your file, but when the file ran it "
                            "was no longer your function (a decorator or a later assignment replaced it).",
                            "line": None}
            return
    lines = source.code.split("\n")
    line_text = lambda n: lines[n - 1] if isinstance(n, int) and 0 < n <= len(lines) else ""  # noqa: E731
    line_of = lambda function, quantity: diagnose.line_computing(source.code, function, quantity)  # noqa: E731
    evidence, stopped = _read_evidence(meta, arrays, probes, defined)
    tables = {f: {} for f in defined}
    findings, errors = {}, []
    for ev in evidence:
        if ev.whole is not None:  # for the page's step-by-step view
            report.runs.setdefault(f"{ev.probe.cell}_backward", []).append((ev.probe, ev.whole, _reference(ev.probe)))
        _judge_probe(ev, defined, tables, findings, errors, line_text, line_of)
    report.functions = {f: {"ok": all(r["ok"] for r in tables[f].values()) and bool(tables[f])
                            and not any(e[0] == f for e in errors) and stopped is None, "outputs": tables[f]}
                        for f in defined}
    wrong = [f for f in FUNCTION_ORDER if f in defined and not report.functions[f]["ok"]]
    report.divergence = next((findings[f] for f in wrong if f in findings), None)
    if stopped is not None:  # the probes that came back prove nothing about those that never ran
        report.error = _stopped(*stopped, source, probes)
    elif errors:
        name, probe, error = errors[0]
        report.error = _error_of(error, source, probe, name)
    if not wrong:
        report.summary = texts.ok_summary(defined, [ev.probe for ev in evidence])
        return
    proven = blame.proven_right(evidence, defined)
    report.blame = blame.blame(evidence, defined, proven, report.divergence, lambda e: _place(e, line_text))
    report.bugs = _bugs(source, probes, evidence, defined, proven, findings, line_text)
    report.summary = texts.summary(report, evidence, defined)


def _read_evidence(meta: dict, arrays: dict, probes: list, defined: list) -> tuple:
    """(evidence, stopped): every probe's records read into the course's names, and why the run stopped early.

    stopped is None when every probe asked for came back, else (k, function, error): the child
    stops after a fatal error (out of memory, sys.exit) on probe k, which its record must show;
    a probe missing for any other reason is Malformed.
    """
    records = meta.get("probes")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Malformed("the records of the probes never came back")
    if not records:
        raise Malformed("your code returned nothing for probe 1")
    if len(records) > len(probes):
        raise Malformed(f"{len(records)} probes came back; the checker asked for {len(probes)}")
    by_probe = {}  # one pass over every array, however many probes
    for name, value in arrays.items():
        by_probe.setdefault(name.partition(".")[0], {})[name] = value
    evidence = [_probe_evidence(i, probe, record, by_probe.get(f"p{i}", {}), defined)
                for i, (probe, record) in enumerate(zip(probes, records))]
    if len(records) == len(probes):
        return evidence, None
    fatal = _fatal(records[-1], probes[len(records) - 1].cell)
    if fatal is None:
        raise Malformed(f"your code returned nothing for probe {len(records) + 1} of {len(probes)}: it stopped "
                        f"after probe {len(records)} without saying why, and the probes after it never ran")
    return evidence, (len(records), *fatal)


def _fatal(record: dict, cell: str) -> tuple | None:
    """(function, error) of the first run in the record that ran out of memory or asked to exit; None for none."""
    runs = [(f"{cell}_cell_backward", s) for s in (record.get("cell_backward") or {}).get("steps", [])]
    runs += [(f"{cell}_cell_backward", record.get("refloop")), (f"{cell}_backward", record.get("whole")),
             (f"{cell}_backward", record.get("loop")), (f"{cell}_forward", record.get("forward"))]
    runs += [(f"{cell}_cell_forward", s) for s in (record.get("cell_forward") or {}).get("steps", [])]
    for function, run in runs:
        if isinstance(run, dict) and _is_fatal(run.get("error")):
            return function, run["error"]
    return None


def _is_fatal(error) -> bool:
    return isinstance(error, dict) and error.get("type") in ("MemoryError", "exit")


def _stopped(k: int, function: str, error: dict, source: Source, probes: list) -> dict:
    """The report's error for a run cut short on probe k by its fatal error: the other probes prove nothing."""
    facts = _error_of(error, source, probes[k - 1], function)
    facts["message"] = (f"{facts['message']}; your code stopped on probe {k} of {len(probes)}, so the other "
                        f"{len(probes) - k} never ran and nothing can pass")
    return facts


def _probe_evidence(i: int, probe: Probe, record: dict, arrays: dict, defined: list) -> Evidence:
    """Probe i's record read with its arrays (those under "p{i}.", full names); Malformed for a run missing."""
    cell, ev = probe.cell, Evidence(probe)
    wants = {f"{cell}_backward": ["whole"] + (["loop"] if f"{cell}_cell_backward" in defined else []),
             f"{cell}_cell_backward": ["cell_backward", "refloop"],
             f"{cell}_forward": ["forward"], f"{cell}_cell_forward": ["cell_forward"]}
    for function, keys in wants.items():
        if function not in defined:
            continue
        for key in keys:
            if not isinstance(record.get(key), dict):
                raise Malformed(f"your code returned nothing for probe {i + 1} ({function})")
    if "whole" in record and f"{cell}_backward" in defined:
        ev.whole = compare.loop_run(arrays, record["whole"], f"p{i}.whole.", probe)
    if "loop" in record and f"{cell}_backward" in defined:
        ev.loop = compare.loop_run(arrays, record["loop"], f"p{i}.loop.", probe)
    if f"{cell}_cell_backward" in defined:
        ev.cell = compare.student_cell_outputs(arrays, record["cell_backward"], f"p{i}.cb.", probe.T_x)
        returned = compare.returned_arrays(arrays, record["refloop"], f"p{i}.ref.")
        ev.refloop = returned if returned is not None else Raised(record["refloop"]["error"])
    if f"{cell}_forward" in defined:
        ev.forward = _forward(arrays, record["forward"], i, probe)
    if f"{cell}_cell_forward" in defined:
        ev.cell_forward = {"record": record["cell_forward"], "arrays": compare.arrays_under(arrays, f"p{i}.cf.")}
    return ev


def _no_key(name: str, missing: list, keys: tuple) -> dict:
    return {"type": "output", "message": f"the dict your {name} returns has no {', '.join(missing)}; the course's "
            f"{name} returns {', '.join(keys)}"}


def _in_course_loop(error: dict, name: str, line_of) -> dict:
    """The course's loop raised on what the student's cell returned: the error, at the student's line that made it."""
    facts = dict(error)
    if not facts.get("line") and facts.get("quantity"):
        facts["line"] = line_of(name, facts["quantity"])
        facts["function"] = name
        facts["message"] = (f"{facts.get('message', '')}; the course's loop raised this on the "
                            f"{facts['quantity']} your {name} returns")
    return facts


def _judge_probe(ev: Evidence, defined, tables, findings, errors, line_text, line_of) -> None:
    """Compare everything one probe returned; keep the first finding per function."""
    probe, cell = ev.probe, ev.probe.cell
    reference = _reference(probe)
    place = lambda error: _place(error, line_text)  # noqa: E731
    new = {}
    name = f"{cell}_backward"
    if ev.whole is not None:
        run = ev.whole
        if run.error:
            errors.append((name, probe, run.error))
        else:
            compare.compare_outputs(run.returned, reference.gradients(), tables[name])
            missing = [key for key in reference.final_keys if key not in run.returned]
            if missing:
                errors.append((name, probe, _no_key(name, missing, reference.final_keys)))
        if run.error or not diagnose.same_arrays(run.returned, reference.gradients()):
            new[name] = compare.first_divergence(run, reference, name, probe, place)
    if ev.loop is not None and _is_fatal(ev.loop.error):  # out of memory or an exit is the submission's, in any run
        errors.append((name, probe, ev.loop.error))
    name = f"{cell}_cell_backward"
    if isinstance(ev.refloop, Raised) and _is_fatal(ev.refloop) and f"{cell}_backward" in defined:
        errors.append((name, probe, ev.refloop))
    if ev.cell is not None and f"{cell}_backward" not in defined and isinstance(ev.refloop, Raised):
        errors.append((name, probe, _in_course_loop(ev.refloop, name, line_of)))  # theirs is the only code there
    if ev.cell is not None:
        new[name] = _cell_finding(ev.cell, compare.reference_cell_outputs(probe), name, probe, reference.step_keys,
                                  tables[name], errors, place)
    name = f"{cell}_forward"
    if ev.forward is not None:
        new[name] = _forward_finding(ev.forward, probe, name, reference, tables[name], errors, place)
    name = f"{cell}_cell_forward"
    if ev.cell_forward is not None:
        new[name] = _cell_forward_finding(ev.cell_forward, probe, name, tables[name], errors)
    for name, finding in new.items():
        if finding is not None:
            findings.setdefault(name, finding)


def _reference(probe: Probe):
    return compare.cached_trace(probe, None)


def _place(error: dict, line_text) -> tuple | None:
    """(quantity, scope) of the line that raised, in the contract's terms; None when it computes no course quantity."""
    if not isinstance(error, dict) or error.get("type") in ("output", "exit", "MemoryError"):
        return None
    function = str(error.get("function") or "")
    cell = "lstm" if function.startswith("lstm") else "rnn"
    text = line_text(error.get("line"))
    if function.endswith("_cell_backward"):
        target = _quantity(text)
        if target in ("dtanh",):
            return "dz", "step"
        return (target, "step") if target in STEP_QUANTITIES[cell] else None
    if "_cell_backward(" in text:
        return "da_next", "input"
    target = _quantity(text)
    if target in TOTAL_QUANTITIES[cell]:
        return target, "total"
    if target == "da0":
        return "da0", "final"
    return None


def _cell_finding(student, reference, name, probe, keys, table, errors, place) -> Finding | None:
    """The student's cell alone against the course's, over every t (backward order): the first key that differs."""
    finding = None
    for t in reversed(range(len(student))):
        got = student[t]
        if isinstance(got, Raised):
            errors.append((name, probe, got))
            for key in keys:  # a cell that raises has matched nothing
                table.setdefault(key, {"ok": False, "max_abs_error": None}).update(ok=False, max_abs_error=None)
            raised = place({**got, "function": got.get("function") or name})
            return finding or (Finding(name, probe, t, raised[0], raised[1], None, {"raised": True, "at": t})
                               if raised else None)
        compare.compare_outputs(got, {k: reference[t][k] for k in keys}, table)
        missing = [key for key in keys if key not in got]
        if missing and not any(e[0] == name for e in errors):
            errors.append((name, probe, _no_key(name, missing, keys)))
        if finding is None:
            for key in keys:
                if key not in got or compare.differs(got[key], reference[t][key]):
                    error = None if key not in got else compare.max_abs_error(got[key], reference[t][key])
                    finding = Finding(name, probe, t, key, "step", error if error != float("inf") else None,
                                      {"at": t})
                    break
    return finding


def _forward(arrays: dict, record: dict, i: int, probe: Probe) -> dict:
    if "error" in record:
        if not isinstance(record["error"], dict):
            raise Malformed("a forward's error is not a record of an error")
        return {"error": record["error"]}
    prefix = f"p{i}.fw."
    count = record.get("caches")
    if not isinstance(count, int) or count < 0 or count > 1000:
        raise Malformed("the forward's record does not say how many caches it built")
    caches_arrays = [{} for _ in range(count)]
    for name, value in compare.arrays_under(arrays, prefix).items():  # one pass, however many caches
        head, _, key = name.partition(".")
        if head.startswith("cache") and head[5:].isdigit() and int(head[5:]) < count:
            caches_arrays[int(head[5:])][key] = value
    if any(set(c) != set(compare.CACHE_NAMES[probe.cell]) for c in caches_arrays):
        raise Malformed("the forward's caches did not all come back")
    return {"outputs": compare.arrays_under(arrays, prefix + "out."),
            "caches": compare.student_caches(caches_arrays, probe), "cache_arrays": caches_arrays}


def _forward_finding(student, probe, name, reference, table, errors, place) -> Finding | None:
    """A forward: its outputs first (earliest t), then the reference backward run on its caches."""
    want, want_caches = compare.reference_forward(probe, name)
    if "error" in student:
        errors.append((name, probe, student["error"]))
        for key in want:
            table.setdefault(key, {"ok": False, "max_abs_error": None}).update(ok=False, max_abs_error=None)
        return None
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
    if finding is None or finding.scope == "error":
        return Finding(name, probe, None, "caches", "final")
    return Finding(name, probe, finding.t, finding.quantity, finding.scope,
                   finding.max_abs_error if np.isfinite(finding.max_abs_error) else None, {"via_caches": True})


def _cell_forward_finding(student: dict, probe, name, table, errors) -> Finding | None:
    want = compare.reference_forward(probe, name)[0]
    steps = student["record"].get("steps")
    if not isinstance(steps, list) or len(steps) != len(want) or not all(isinstance(s, dict) for s in steps):
        raise Malformed(f"the record of {name} does not hold one result per step")
    for step in steps:
        if "error" in step:
            errors.append((name, probe, step["error"]))
            for key in want[0]:
                table.setdefault(key, {"ok": False, "max_abs_error": None}).update(ok=False, max_abs_error=None)
            return None
    finding = None
    for t, expected in enumerate(want):
        got = compare.arrays_under(student["arrays"], f"t{t}.")
        compare.compare_outputs(got, expected, table)
        bad = [k for k in expected if k not in got or compare.differs(got[k], expected[k])]
        if bad and finding is None:
            finding = Finding(name, probe, t, bad[0], "step")
    return finding


def _bugs(source: Source, probes: list, evidence: list, defined: list, proven: set, findings: dict,
          line_text) -> list:
    """Catalog bugs the submission behaves exactly like on every probe, then a generated mutant if none does.

    A bug in a function the same run proved right (its cell alone, or its loop with the course's
    cell, matched everywhere) is never named.
    """
    matched = {}
    for cell in ("rnn", "lstm"):
        indices = [i for i, ev in enumerate(evidence) if ev.probe.cell == cell]
        if not indices:
            continue
        for bug in bugs_for(cell):
            if bug.function in proven:
                continue
            found = _evidence(bug, cell, indices, evidence, defined, findings, line_text)
            if found:
                line, missing = diagnose.locate(bug, source.code)
                matched[bug.id] = MatchedBug(bug, line, missing, found)
    order = {"whole": 0, "cell": 1, "loop": 1, "forward": 1}
    bugs = sorted(matched.values(), key=lambda m: order[m.evidence])
    return bugs or _mutant(source, evidence, defined, proven)


def _mutant(source: Source, evidence: list, defined: list, proven: set) -> list:
    """The generated mutant the submission behaves exactly like, on every probe; [] rather than a guess."""
    try:
        from . import mutants
    except ImportError:
        return []
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        if f"{cell}_backward" in defined and all(ev.whole is not None for ev in evs):
            returned = [ev.whole.returned for ev in evs]
        elif f"{cell}_cell_backward" in defined:
            returned = [None if isinstance(ev.refloop, Raised) else ev.refloop for ev in evs]
        else:
            continue
        if all(r is None for r in returned):
            continue
        found = mutants.matches(cell, returned, [ev.probe for ev in evs], exclude=tuple(proven))
        for mutant in found:
            if mutant.catalog_id in BY_ID and BY_ID[mutant.catalog_id].function not in proven:
                # it behaves like a catalog bug whose function this run did not prove right: the catalog names it
                bug = BY_ID[mutant.catalog_id]
                return [MatchedBug(bug, *diagnose.locate(bug, source.code), "whole")]
        # of the mutants that behave alike, the first whose mistake the code has, and whose line is found
        fitting = [(m, diagnose.locate_mutant(m, source.code)) for m in found if not diagnose.contradicts(m, source.code)]
        for mutant, (line, missing) in sorted(fitting, key=lambda pair: pair[1][0] is None):
            return [MatchedBug(diagnose.as_bug(mutant), line, missing, "mutant")]
    return []


def _evidence(bug, cell, indices, evidence, defined, findings, line_text) -> str | None:
    """How the submission shows this bug, or None when it does not behave like it on every probe."""
    evs = [evidence[i] for i in indices]
    variant = lambda ev: compare.cached_trace(ev.probe, bug.variant)  # noqa: E731
    allow_final = bool(bug.first) and bug.first[0] != "final"
    if bug.function != f"{cell}_forward" and f"{cell}_backward" in findings and all(ev.whole is not None for ev in evs):
        if all(diagnose.same_run(ev.whole, variant(ev), ev.probe, line_text, allow_final) for ev in evs):
            return "whole"
    if bug.function == f"{cell}_cell_backward" and f"{cell}_cell_backward" in findings:
        if all(ev.cell is not None and diagnose.same_cell(ev.cell, compare.variant_cell_outputs(ev.probe, bug.variant),
                                                          _reference(ev.probe).step_keys) for ev in evs):
            return "cell"
    if bug.function == f"{cell}_backward" and all(ev.loop is not None for ev in evs):
        differ = any(not diagnose.same_run(ev.loop, _reference(ev.probe), ev.probe, line_text) for ev in evs)
        if differ and all(diagnose.same_run(ev.loop, variant(ev), ev.probe, line_text, allow_final)
                          for ev in evs):
            return "loop"
    if bug.function == f"{cell}_forward" and cell == "lstm" and f"{cell}_forward" in findings:
        if all(ev.forward is not None and "error" not in ev.forward and _same_forward(ev.forward, ev.probe, bug.variant)
               for ev in evs):
            return "forward"
    return None


def _same_forward(student: dict, probe: Probe, code) -> bool:
    a, y, c, caches = lstm_forward_with(code, probe.x, probe.a0, probe.parameters)
    want = compare.cache_arrays("lstm", caches[0])
    got = student["cache_arrays"]
    return len(got) == len(want) and all(diagnose.same_arrays(g, w) for g, w in zip(got, want)) and \
        diagnose.same_arrays(student["outputs"], {"a": a, "y": y, "c": c})


def _quantity(line: str) -> str:
    """The name a line assigns to ('dxt = np.dot(...)' -> 'dxt', 'dx[:,:,t] = ...' -> 'dx'); "" for none."""
    try:
        node = diagnose.parse(line.strip()).body[0]
    except (SyntaxError, IndexError, ValueError, RecursionError, MemoryError):
        return ""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    for target in targets:
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
            return target.elts[0].id
    return ""


def _error_of(error: dict, source: Source, probe: Probe | None, function: str) -> dict:
    """The harness's failure facts as the report's error: kind, a message in plain words, the line."""
    kind_name, message, line = str(error.get("type", "Exception")), str(error.get("message", "")), error.get("line")
    line = line if isinstance(line, int) else None
    if kind_name == "output":
        kind = "output"
    elif kind_name == "MemoryError":
        kind = "memory"
    elif kind_name in ("ValueError", "IndexError") and any(w in message for w in SHAPE_WORDS):
        kind = "shape"
    else:
        kind = "runtime"  # NameError included: a name is missing, not a function
    if kind_name == "exit":
        text = f"your code called {message}; remove it from your functions"
    elif kind_name == "NameError" and isinstance(error.get("name"), str):
        text = (f"NameError: {message}. Your code uses the name {error['name']} but never gives it a value "
                "there (a typo, or a variable defined in another function?)")
    else:
        text = message if kind == "output" else f"{kind_name}: {message}" if message else kind_name
    where = []
    if error.get("function"):
        where.append(f"in {error['function']}")
    if line:
        where.append(source.where(line))
    if isinstance(error.get("t"), int) and not str(error.get("function") or "").endswith("cell_backward"):
        where.append(f"at the step of t = {error['t']}")
    if probe is not None:
        where.append(f"on the {probe.name} input ({probe.sizes})")
    if where:
        text += " (" + ", ".join(where) + ")"
    if function != "loading your file" and kind != "output" and not error.get("function"):
        text += f", while running {function}"
    return {"kind": kind, "message": text, "line": line}
