"""The verdict on a CS231n-style file (rnn_layers.py): judged, blamed and named as the course's notebook is.

engine.check hands a file here when its signatures are the homework's (source.notation). The
child runs it on the course's probes converted to batch-first shapes (cs231n_probes.py,
cs231n_runs.py); here, in the parent, what came back is compared with the homework's reference
(bptt/cs231n.py): the verdict from the returned values on every probe, the first divergence in
the homework's names (t the time index, quantity dnext_h, dprev_h, dWx, dh0, ...), the blame by
substitution (the student's loop with the reference's step backward, their step alone) and the
catalog bug whose variant, run on the same numbers in the course's notation and converted,
returns what they return.

    report = check(from_text(open("rnn_layers.py").read()))  # via engine.check
    report.to_json()["first_divergence"]  # {"function": "rnn_backward", "t": 8, "quantity": "dnext_h", ...}
"""

import ast
from dataclasses import replace
from functools import cache

from .. import notation
from ..catalog import bugs_for
from ..trace import differs
from . import compare, cs231n_evidence, texts
from .compare import Finding, Malformed, Raised
from .cs231n_evidence import Evidence, first_divergence, first_wrong_h, first_wrong_step, same
from .cs231n_probes import (FINAL_OUTPUTS, FORWARD_OUTPUTS, GATES, STEP_OUTPUTS, TOTALS, fresh, probes_for,
                            reference, variant_gradients, variant_step_outputs)
from .report import MatchedBug, Report
from .source import Source, parse

ORDER = ("rnn_backward", "lstm_backward", "rnn_step_backward", "lstm_step_backward",
         "rnn_forward", "lstm_forward", "rnn_step_forward", "lstm_step_forward")
# a wrong forward makes every backward run on its caches wrong, and a wrong step forward the whole forward
FORWARDS_FIRST = ("rnn_step_forward", "lstm_step_forward", "rnn_forward", "lstm_forward") + ORDER[:4]


def plan(source: Source, seed: int) -> tuple:
    """(probes, arrays, job) for the child: every probe of each cell the file has, and one drawn from seed."""
    cells = [c for c in ("rnn", "lstm") if any(f.startswith(c) for f in source.functions)]
    probes = [p for cell in cells for p in (*probes_for(cell), fresh(cell, seed))]
    arrays = {}
    for i, probe in enumerate(probes):
        arrays.update(probe.arrays(f"p{i}."))
    job = {"probes": [{"prefix": f"p{i}.", "cell": p.cell, "functions": list(source.functions), "notation": "cs231n"}
                      for i, p in enumerate(probes)]}
    return probes, arrays, job


def analyse(report: Report, meta: dict, arrays: dict, probes: list, error_of) -> None:
    """Judge what came back (meta, arrays) into the report; error_of(error, source, probe, function) words an error."""
    source = report.source
    defined = [f for f in ORDER if f in source.functions]
    ran = meta.get("defined")
    if not isinstance(ran, list):
        raise Malformed("the list of your functions never came back")
    for name in defined:
        if name not in ran:
            report.error = {"kind": "output", "message": f"{name} is defined in your file, but when the file ran it "
                            "was no longer your function (a decorator or a later assignment replaced it).",
                            "line": None}
            return
    evidence, stopped = _read(meta, arrays, probes, defined)
    tables = {f: {} for f in defined}
    findings, errors = {}, []
    for ev in evidence:
        _judge(ev, defined, tables, findings, errors)
    report.functions = {f: {"ok": bool(tables[f]) and all(r["ok"] for r in tables[f].values())
                            and not any(e[0] == f for e in errors) and stopped is None, "outputs": tables[f]}
                        for f in defined}
    forwards_wrong = any(not report.functions[f]["ok"] for f in defined if f.endswith("forward"))
    wrong = [f for f in (FORWARDS_FIRST if forwards_wrong else ORDER) if f in defined and not report.functions[f]["ok"]]
    report.divergence = next((findings[f] for f in wrong if f in findings), None)
    if stopped is not None:
        k, function, error = stopped
        facts = error_of(error, source, probes[k - 1], function)
        facts["message"] += (f"; your code stopped on probe {k} of {len(probes)}, so the other "
                             f"{len(probes) - k} never ran and nothing can pass")
        report.error = facts
    elif errors:  # a step function's own error, on the reference's inputs, is the cause of the loop's
        name, probe, error = min(errors, key=lambda e: "_step_" not in e[0])
        report.error = error_of(error, source, probe, name)
    if not wrong:
        report.summary = texts.ok_summary(defined, [ev.probe for ev in evidence])
        return
    proven = _proven(evidence, defined)
    report.blame = _blame(evidence, defined, proven)
    report.bugs = _bugs(source, evidence, defined, proven, findings)
    report.summary = _summary(report, evidence, defined)


def _read(meta: dict, arrays: dict, probes: list, defined: list) -> tuple:
    records = meta.get("probes")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Malformed("the records of the probes never came back")
    if not records:
        raise Malformed("your code returned nothing for probe 1")
    if len(records) > len(probes):
        raise Malformed(f"{len(records)} probes came back; the checker asked for {len(probes)}")
    by_probe = {}
    for name, value in arrays.items():
        by_probe.setdefault(name.partition(".")[0], {})[name] = value
    evidence = [cs231n_evidence.read(i, probe, record, by_probe.get(f"p{i}", {}), defined)
                for i, (probe, record) in enumerate(zip(probes, records))]
    if len(records) == len(probes):
        return evidence, None
    fatal = _fatal(records[-1], probes[len(records) - 1].cell)
    if fatal is None:
        raise Malformed(f"your code returned nothing for probe {len(records) + 1} of {len(probes)}: it stopped "
                        f"after probe {len(records)} without saying why, and the probes after it never ran")
    return evidence, (len(records), *fatal)


def _fatal(record: dict, cell: str) -> tuple | None:
    runs = [(f"{cell}_{name}", s) for name in ("step_forward", "step_backward")
            for s in (record.get(name) or {}).get("steps", [])]
    runs += [(f"{cell}_backward", record.get("whole")), (f"{cell}_backward", record.get("loop")),
             (f"{cell}_forward", record.get("forward"))]
    for function, run in runs:
        if isinstance(run, dict) and isinstance(run.get("error"), dict) and \
                run["error"].get("type") in ("MemoryError", "exit"):
            return function, run["error"]
    return None


def _fail(table: dict, keys) -> None:
    for key in keys:
        table.setdefault(key, {"ok": False, "max_abs_error": None}).update(ok=False, max_abs_error=None)


def _judge(ev: Evidence, defined: list, tables: dict, findings: dict, errors: list) -> None:
    """Compare everything one probe returned; keep the first finding per function."""
    probe, cell = ev.probe, ev.probe.cell
    ref = reference(probe)
    new = {}
    name = f"{cell}_backward"
    if ev.whole is not None:
        run = ev.whole
        if run.error is not None:
            errors.append((name, probe, run.error))
            _fail(tables[name], FINAL_OUTPUTS)
        else:
            compare.compare_outputs(run.returned, ref.final, tables[name])
        if run.error is not None or not same(run.returned, ref.final):
            new[name] = first_divergence(run, ref, name, probe)
    if ev.loop is not None and isinstance(ev.loop.error, dict) and ev.loop.error.get("type") in ("MemoryError", "exit"):
        errors.append((name, probe, ev.loop.error))
    name = f"{cell}_step_backward"
    if ev.step_backward is not None:
        new[name] = _steps_finding(ev.step_backward, ref.alone, STEP_OUTPUTS[cell], name, probe, tables[name], errors,
                                   backward=True)
    name = f"{cell}_step_forward"
    if ev.step_forward is not None:
        new[name] = _steps_finding(ev.step_forward, ref.steps_forward, FORWARD_OUTPUTS[name], name, probe,
                                   tables[name], errors, backward=False)
    name = f"{cell}_forward"
    if ev.forward is not None:
        if isinstance(ev.forward, Raised):
            errors.append((name, probe, ev.forward))
            _fail(tables[name], ("h",))
        else:
            compare.compare_outputs(ev.forward, {"h": ref.h}, tables[name])
            got = ev.forward["h"]
            t = first_wrong_h(got, ref.h)
            if t is not None:
                error = compare.max_abs_error(got[:, t], ref.h[:, t]) if got.shape == ref.h.shape else None
                new[name] = Finding(name, probe, t, "h", "step", error, {"notation": "cs231n"})
    for name, finding in new.items():
        if finding is not None:
            findings.setdefault(name, finding)


def _steps_finding(steps, want, keys, name, probe, table, errors, backward: bool) -> Finding | None:
    """A step function alone at every t against the reference's: fold into table, the first step that differs."""
    for t in reversed(range(len(steps))) if backward else range(len(steps)):  # the first error in the run's order
        got = steps[t]
        if isinstance(got, Raised):
            if not any(e[0] == name for e in errors):
                errors.append((name, probe, got))
            _fail(table, keys)
        else:
            compare.compare_outputs(got, {k: want[t][k] for k in keys}, table)
    found = first_wrong_step(steps, want, keys, backward)
    if found is None:
        return None
    t, key = found
    if key is None:
        return Finding(name, probe, t, keys[0], "step", None, {"notation": "cs231n", "raised": True, "at": t})
    error = compare.max_abs_error(steps[t][key], want[t][key]) if steps[t][key].shape == want[t][key].shape else None
    return Finding(name, probe, t, key, "step", error, {"notation": "cs231n", "at": t})


def _step_right(ev: Evidence) -> bool:
    ref = reference(ev.probe)
    return ev.step_backward is not None and all(not isinstance(got, Raised) and same(got, want)
                                                for got, want in zip(ev.step_backward, ref.alone))


def _run_right(run, ev: Evidence) -> bool:
    return run is not None and run.error is None and same(run.returned, reference(ev.probe).final)


def _proven(evidence: list, defined: list) -> set:
    """The homework functions this run proved right: alone, or paired with the reference's other part."""
    proven = set()
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        step, backward = f"{cell}_step_backward", f"{cell}_backward"
        if step in defined and all(_step_right(ev) for ev in evs):
            proven.add(step)
        if backward in defined and all(_run_right(loop_run(ev, step in defined), ev) for ev in evs):
            proven.add(backward)
        for name in (f"{cell}_forward", f"{cell}_step_forward"):
            if name in defined and all(_forward_right(ev, name) for ev in evs):
                proven.add(name)
    return proven


def loop_run(ev: Evidence, own_step: bool):
    """The student's loop paired with the reference's step backward, when that pairing could run.

    Their loop hands the step their own forward's caches; when the reference's step cannot read
    those (another layout) and raises where theirs did not, the pairing proves nothing, and their
    own run stands in: it says the same of the loop once their step is right alone.
    """
    if not own_step or ev.loop is None:
        return ev.whole
    if ev.loop.error is not None and ev.whole is not None and ev.whole.error is None:
        return ev.whole
    return ev.loop


def _forward_right(ev: Evidence, name: str) -> bool:
    ref = reference(ev.probe)
    if "step" in name:
        keys = FORWARD_OUTPUTS[name]
        return ev.step_forward is not None and all(not isinstance(got, Raised) and same(got, {k: want[k] for k in keys})
                                                   for got, want in zip(ev.step_forward, ref.steps_forward))
    return ev.forward is not None and not isinstance(ev.forward, Raised) and same(ev.forward, {"h": ref.h})


def _blame(evidence: list, defined: list, proven: set) -> dict | None:
    """{"part", "function", "t", "term"}: the first part that is wrong, by substitution; None when none can be told."""
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        for name in (f"{cell}_step_forward", f"{cell}_forward"):
            if name in defined and name not in proven:
                return {"part": "forward", "function": name, "t": _forward_t(evs, name), "term": "next_h" if "step"
                        in name else "h"}
        step, backward = f"{cell}_step_backward", f"{cell}_backward"
        if step in defined and step not in proven:
            for ev in evs:
                found = first_wrong_step(ev.step_backward, reference(ev.probe).alone, STEP_OUTPUTS[cell], True)
                if found is not None:
                    t, key = found
                    if key is None:
                        return {"part": "cell", "function": step, "t": t, "term": None}
                    got, want = ev.step_backward[t], reference(ev.probe).alone[t]
                    return {"part": "cell", "function": step, "t": t, "term": step_term(cell, got, want)}
            return {"part": "cell", "function": step, "t": None, "term": "in context"}
        if backward in defined and backward not in proven:
            for ev in evs:
                run = loop_run(ev, step in defined)
                if _run_right(run, ev):
                    continue
                d = first_divergence(run, reference(ev.probe), backward, ev.probe)
                return {"part": "loop", "function": backward, "t": None if d is None else d.t,
                        "term": None if d is None else loop_term(d)}
            return {"part": "loop", "function": backward, "t": None, "term": None}
    return None


def _forward_t(evs: list, name: str) -> int | None:
    for ev in evs:
        ref = reference(ev.probe)
        if "step" in name:
            found = first_wrong_step(ev.step_forward, ref.steps_forward, FORWARD_OUTPUTS[name], False)
            if found is not None:
                return found[0]
        elif not isinstance(ev.forward, Raised):
            t = first_wrong_h(ev.forward["h"], ref.h)
            if t is not None:
                return t
    return None


def step_term(cell: str, got: dict, want: dict) -> str:
    """The term of the step backward the wrong outputs point at. step_term("rnn", all_wrong, ref) -> 'dtanh'"""
    wrong = {k for k in want if k not in got or differs(got[k], want[k])}
    if cell == "rnn":
        if {"dx", "dprev_h", "db"} <= wrong:
            return "dtanh"
        return next(k for k in STEP_OUTPUTS["rnn"] if k in wrong)
    gates = []
    if "db" in wrong and "db" in got and got["db"].shape == want["db"].shape:
        H = want["db"].shape[0] // 4
        gates = [g for k, g in enumerate(GATES) if differs(got["db"][k * H:(k + 1) * H], want["db"][k * H:(k + 1) * H])]
    if {"i", "f", "g"} <= set(gates):
        return "dc"
    if len(gates) == 1:
        return "d" + gates[0]
    return next(k for k in STEP_OUTPUTS["lstm"] if k in wrong)


def loop_term(d: Finding) -> str:
    """What a loop's first divergence is about: what it hands the step, the cache, a total, after the loop."""
    if d.detail.get("raised") or d.detail.get("no_calls"):
        return d.quantity
    if d.detail.get("missing_step"):
        return "order"
    if "cache" in d.detail or d.scope == "step":
        return "cache"
    if d.scope == "input":
        return d.quantity
    if d.scope == "total":
        return "running total"
    return "after the loop"


def _matches(got: dict | None, want: dict | None, reference_final: dict) -> str | None:
    """"exact" when got is want; "part" when the bug is in some of the running totals only; else None.

    A bug of the running totals (an overwrite) is made once per total: a student who overwrites
    dWx but adds up dWh and db has it too. So dx and dh0 must be want's, and each total either
    want's or the reference's, one of them want's and wrong.
    """
    if got is None or want is None:
        return None
    if same(got, want):
        return "exact"
    if any(differs(got[k], want[k]) for k in FINAL_OUTPUTS if k not in TOTALS):
        return None
    wrong = [k for k in TOTALS if differs(got[k], reference_final[k])]
    return "part" if wrong and all(not differs(got[k], want[k]) for k in wrong) else None


def _bugs(source: Source, evidence: list, defined: list, proven: set, findings: dict) -> list:
    """Catalog bugs the submission behaves like on every probe (exactly first), in the homework's clothes."""
    matched = []
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        if not evs:
            continue
        for bug in bugs_for(cell):
            function = notation.FUNCTIONS.get(bug.function)
            if function is None or function in proven or function not in defined and bug.function != f"{cell}_backward":
                continue
            how = _how(bug, cell, evs, defined, findings)
            if how is not None:
                line, missing = locate(bug, source.code, function, cell)
                matched.append((how[0], MatchedBug(in_homework_names(bug), line, missing, how[1])))
    rank = {"exact": 0, "part": 1}
    return [m for _, m in sorted(matched, key=lambda pair: rank[pair[0]])]


@cache
def in_homework_names(bug):
    """The catalog bug with its function, lines, title and sentences in CS231n's notation (bptt/notation.py).

    One object per bug, so a report that crossed from the worker names the same one.
    """
    try:
        lines = notation.bug_lines(bug.id, "cs231n")
    except KeyError:
        return bug
    return replace(bug, function=lines.function, wrong=lines.wrong, right=lines.right, title=lines.title,
                   why=lines.why, symptom=lines.symptom, hint=lines.hint)


def _how(bug, cell: str, evs: list, defined: list, findings: dict) -> tuple | None:
    """(exact or part, evidence) of how the submission shows this bug; None when it does not behave like it."""
    backward, step = f"{cell}_backward", f"{cell}_step_backward"
    if backward in findings and all(ev.whole is not None and ev.whole.returned is not None for ev in evs):
        kinds = {_matches(ev.whole.returned, variant_gradients(ev.probe, bug.variant), reference(ev.probe).final)
                 for ev in evs}
        if None not in kinds:
            return ("part" if "part" in kinds else "exact"), "whole"
    if bug.function == f"{cell}_cell_backward" and step in findings:
        keys = STEP_OUTPUTS[cell]
        if all(_same_steps(ev.step_backward, variant_step_outputs(ev.probe, bug.variant), keys) for ev in evs):
            return "exact", "cell"
    if bug.function == backward and step in defined and all(ev.loop is not None and ev.loop.returned is not None
                                                            for ev in evs):
        if any(not _run_right(ev.loop, ev) for ev in evs):
            kinds = {_matches(ev.loop.returned, variant_gradients(ev.probe, bug.variant), reference(ev.probe).final)
                     for ev in evs}
            if None not in kinds:
                return ("part" if "part" in kinds else "exact"), "loop"
    return None


def _same_steps(got: list, want: tuple, keys: tuple) -> bool:
    return all(not isinstance(g, Raised) and w is not None and all(k in w for k in keys) and
               same(g, {k: w[k] for k in keys}) for g, w in zip(got, want))


def locate(bug, code: str, function: str, cell: str) -> tuple:
    """(line, missing): the student's line that makes the bug's wrong value, or the one a missing line belongs after.

    Found from what the code does, in the homework's names: the overwrite of a running total,
    the value handed to the step backward, the loop's header, the line after the loop.
    """
    try:
        tree = parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, False
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if fn is None:
        return None, False
    loop = next((n for n in ast.walk(fn) if isinstance(n, (ast.For, ast.While))), None)
    if bug.id in ("overwrite-not-accumulate",):
        for node in ast.walk(loop or fn):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("dWx", "dWh", "db")
                                                    for t in node.targets):
                return node.lineno, False
    if bug.id == "forward-order" and loop is not None:
        return loop.lineno, False
    if bug.id == "da0-not-set":
        assigned = [n for n in fn.body if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "dh0" for t in n.targets)]
        if loop is not None and not any(n.lineno > loop.lineno for n in assigned):
            return loop.end_lineno, True
        return (assigned[-1].lineno if assigned else None), False
    call = next((n for n in ast.walk(loop or fn) if isinstance(n, ast.Call) and getattr(n.func, "id", "") ==
                 f"{cell}_step_backward"), None)
    if bug.function.endswith("_backward") and not bug.function.endswith("cell_backward") and call is not None:
        argument = {"lstm-dc-not-carried": 1}.get(bug.id, 0)
        if bug.id == "wrong-cache":
            argument = len(call.args) - 1
        if argument < len(call.args) and isinstance(call.args[argument], ast.Name):
            name = call.args[argument].id
            made = [n for n in ast.walk(loop) if isinstance(n, ast.Assign) and n.lineno < call.lineno and any(
                isinstance(t, ast.Name) and t.id == name for t in n.targets)] if loop is not None else []
            if made:
                return made[-1].lineno, False
        return call.lineno, False
    return _computing(fn), False


def _computing(fn: ast.FunctionDef) -> int | None:
    """A step backward's first line that computes from the cache's values (not the unpacking of the cache)."""
    for node in fn.body:
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Return)) and not (
                isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)
                and isinstance(node.value, ast.Name)):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                continue
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and all(
                    isinstance(e, ast.Constant) for e in node.value.elts):
                continue
            return node.lineno
    return None


def _summary(report: Report, evidence: list, defined: list) -> list:
    """The obvious facts about the first wrong function's returned values, then where the mistake lives."""
    sentences = []
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        backward, step = f"{cell}_backward", f"{cell}_step_backward"
        if backward in defined and not report.functions[backward]["ok"]:
            pair = next(((ev.whole.returned, reference(ev.probe).final, ev.probe) for ev in evs if ev.whole is not None
                         and ev.whole.returned is not None and not same(ev.whole.returned, reference(ev.probe).final)),
                        None)
            if pair:
                sentences += texts.obvious(*pair, backward)
                break
        if step in defined and not report.functions[step]["ok"]:
            for ev in evs:
                found = first_wrong_step(ev.step_backward, reference(ev.probe).alone, STEP_OUTPUTS[cell], True)
                if found is not None and found[1] is not None:
                    sentences += texts.obvious(ev.step_backward[found[0]], reference(ev.probe).alone[found[0]],
                                               ev.probe, step)
                    break
            break
    if report.blame:
        sentences.append(texts.blame_sentence(report.blame, "cs231n"))
    if report.error is not None:
        sentences += texts.error_summary(report.error)
    return sentences

