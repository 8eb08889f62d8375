"""The checker scored on a corpus of student-style files it was not written against (issue 10).

tests/corpus/ holds the files, tests/corpus/expected.py what each must get. Two kinds of test:
- the corpus against plain numpy, in this process (tests/corpus/independent.py): a "correct" file
  matches the reference to 1e-12, a bug file differs where the table says, a broken file raises
  where the table says. This checks the corpus, never the checker.
- `python -m bptt check FILE --json` on every file (a subprocess each, two at a time), scored
  against the table, a score table printed, and the issue's targets asserted.

    .venv/bin/python -m pytest -q -s tests/test_check_corpus.py   # -s shows the score table
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bptt.catalog import BY_ID
from corpus.expected import ROWS
from corpus.independent import PROBES, code_of, run_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
NOT_SUBMISSIONS = {"expected.py", "independent.py", "__init__.py"}
SCOPES = {"input", "step", "total", "final"}
KINDS = {"syntax", "indentation", "missing-function", "runtime", "shape", "output", "timeout", "memory"}
PARTS = {"cell", "loop", "forward"}
TARGETS = {"verdict": 1.0, "localized": 0.95, "named": 0.90}
COURSE_FUNCTIONS = {f"{c}_{f}" for c in ("rnn", "lstm") for f in ("cell_forward", "forward", "cell_backward", "backward")}


def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_SUBMISSIONS
                  and p.suffix in (".py", ".ipynb", ".txt"))


def lines_of(name: str, wanted) -> set[int]:
    """The table's line snippets resolved to line numbers of the file (ints are kept as they are)."""
    text = (CORPUS / name).read_text().splitlines()
    out = set()
    for w in wanted:
        if isinstance(w, int):
            out.add(w)
            continue
        hits = [i + 1 for i, line in enumerate(text) if w in line]
        assert hits, f"{name}: the table's snippet {w!r} is not in the file"
        out.add(hits[0])
    return out


def t_of(expr: str | None, T_x: int):
    return None if expr is None else eval(expr, {"__builtins__": {}}, {"T_x": T_x})  # noqa: S307 - the table's own text


# ---------------------------------------------------------------- the corpus itself

def test_every_file_has_a_row_and_every_row_a_file():
    files = set(corpus_files())
    assert files == set(ROWS), (sorted(files - set(ROWS)), sorted(set(ROWS) - files))


def test_the_corpus_covers_what_issue_10_asks():
    kinds = [r.kind for r in ROWS.values()]
    assert len(ROWS) >= 70
    assert kinds.count("correct") >= 14
    checked = {i for i, b in BY_ID.items() if b.cell in ("rnn", "lstm")}  # the checker reads no GRU code
    assert {r.bug for r in ROWS.values() if r.bug} == checked, "every RNN and LSTM catalog id at least once"
    assert sum(r.bug == "missing-da-t" for r in ROWS.values()) >= 4
    assert {n.rsplit(".", 1)[1] for n, r in ROWS.items() if r.bug == "missing-da-t"} == {"py", "ipynb", "txt"}
    assert kinds.count("outside") >= 15 and kinds.count("broken") >= 10
    assert {r.cell for r in ROWS.values() if r.kind == "correct"} == {"rnn", "lstm"}


def _paste_matches_twin(name: str, twin: str) -> None:
    """Every code line of the twin appears, in order, in the paste (quotes, prompts and indentation aside)."""
    def norm(line: str) -> str:
        for a, b in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):
            line = line.replace(a, b)
        line = line.strip()
        return line[4:].strip() if line.startswith((">>> ", "... ")) else line
    paste = [norm(line) for line in (CORPUS / name).read_text().splitlines()]
    k = 0
    for line in (CORPUS / "twins" / twin).read_text().splitlines():
        if not norm(line) or norm(line).startswith(("import ", "from ")):  # a paste may leave imports out
            continue
        while k < len(paste) and paste[k] != norm(line):
            k += 1
        assert k < len(paste), f"{name}: {line.strip()!r} of twins/{twin} is missing or out of order"
        k += 1


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_file_is_what_the_table_says(name, capsys):
    row = ROWS[name]
    path = CORPUS / name
    if row.twin:
        _paste_matches_twin(name, row.twin)
        path = CORPUS / "twins" / row.twin
    run = run_file(path, row.cell)
    capsys.readouterr()  # the corpus's own prints
    if row.kind == "correct":
        assert not run.raised and set(run.errors) == set(PROBES[row.cell])
        assert max(run.errors.values()) <= 1e-12, run.errors
    elif row.exit == 1:
        assert not run.raised, run.raised
        assert max(run.errors.values()) > 1e-6, "a bug file must differ from the reference"
        if row.first is None:
            return
        functions, t, quantities, scopes = row.first
        scope, quantity, got_t = run.first["course"]
        assert scope in scopes and quantity in quantities, run.first["course"]
        assert scope == "final" or got_t == t_of(t, run.T_x["course"]), run.first["course"]
    else:
        kinds, lines = row.error
        if kinds == ("missing-function",):
            defined = {f for f in COURSE_FUNCTIONS if f"def {f}(" in code_of(path)}
            assert not defined
            return
        assert "course" in run.raised, "a broken file must fail on the course's own example"
        exc, line = run.raised["course"]
        expected_type = {"syntax": ("SyntaxError",), "indentation": ("IndentationError", "TabError"),
                         "output": ("output",), "shape": ("ValueError",)}
        allowed = {e for k in kinds for e in expected_type.get(k, (exc,))}
        assert exc in allowed, (exc, kinds)
        if lines is not None and line is not None and path.suffix == ".py" and not row.twin:
            assert line in lines_of(name, lines), (exc, line)


# ---------------------------------------------------------------- the checker on it

def _check(name: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    try:
        out = subprocess.run([sys.executable, "-m", "bptt", "check", str(CORPUS / name), "--json"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        return {"status": None, "json": None, "problem": "the check did not end in 120 s"}
    try:
        result = json.loads(out.stdout)
    except json.JSONDecodeError:
        return {"status": out.returncode, "json": None,
                "problem": f"stdout is not one JSON object: {out.stdout[:200]!r}, stderr ends {out.stderr[-300:]!r}"}
    return {"status": out.returncode, "json": result, "problem": None}


@pytest.fixture(scope="module")
def checked() -> dict:
    names = sorted(ROWS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(_check, names)))


def contract_problems(status, result: dict) -> list[str]:
    """What in one answer breaks `python -m bptt check`'s documented JSON contract."""
    problems = []
    for key in ("ok", "functions", "first_divergence", "bugs", "error", "notes", "summary", "blame"):
        if key not in result:
            problems.append(f"no key {key!r}")
    if problems:
        return problems
    if status not in (0, 1, 2):
        problems.append(f"exit {status}")
    if (result["error"] is not None) != (status == 2):
        problems.append(f"exit {status} with error {result['error']}")
    if (status == 0) != (result["ok"] is True):
        problems.append(f"exit {status} with ok {result['ok']}")
    if result["error"] is not None and result["error"].get("kind") not in KINDS:
        problems.append(f"error kind {result['error'].get('kind')!r}")
    fd = result["first_divergence"]
    if fd is not None:
        if fd.get("scope") not in SCOPES:
            problems.append(f"scope {fd.get('scope')!r}")
        if not (fd.get("t") is None or isinstance(fd.get("t"), int)) or not isinstance(fd.get("T_x"), int):
            problems.append(f"t {fd.get('t')!r}, T_x {fd.get('T_x')!r}")
    if result["blame"] is not None and result["blame"].get("part") not in PARTS:
        problems.append(f"blame {result['blame']}")
    if not isinstance(result["summary"], list) or not isinstance(result["bugs"], list):
        problems.append("summary or bugs is not a list")
    return problems


def score(name: str, answer: dict) -> dict:
    """One file's marks: None where a mark does not apply to the file."""
    row, result, status = ROWS[name], answer["json"], answer["status"]
    marks = {"verdict": False, "false_alarm": None, "localized": None, "named": None, "false_name": None,
             "bug_line": None, "blame": None, "obvious": None,
             "contract": [answer["problem"]] if answer["problem"] else [], "said": ""}
    if row.kind == "correct":
        marks["false_alarm"] = True
    if row.first is not None or (row.error and row.error[1] is not None):
        marks["localized"] = False
    if row.bug:
        marks["named"] = False
    else:
        marks["false_name"] = True
    if result is None:
        marks["said"] = answer["problem"]
        return marks
    marks["contract"] = contract_problems(status, result)
    bugs = [b.get("id") for b in result.get("bugs") or []]
    fd, err = result.get("first_divergence"), result.get("error")
    marks["said"] = (f"exit {status}; " + (f"{fd['function']} t={fd['t']}/{fd['T_x']} {fd['scope']} {fd['quantity']}"
                                           if fd else "no divergence")
                     + (f"; error {err.get('kind')} line {err.get('line')}" if err else "") + f"; bugs {bugs}")
    marks["verdict"] = status == row.exit and result.get("ok") is row.ok and (
        row.exit != 2 or (err is not None and err.get("kind") in row.error[0]))
    if row.kind == "correct":
        marks["false_alarm"] = status != 0 or bool(bugs)
    if row.first is not None and fd is not None:
        functions, t, quantities, scopes = row.first
        marks["localized"] = (fd.get("function") in functions and fd.get("quantity") in quantities
                              and fd.get("scope") in scopes
                              and (fd.get("scope") == "final" or fd.get("t") == t_of(t, fd.get("T_x"))))
    elif row.first is None and row.error and row.error[1] is not None and err is not None:
        marks["localized"] = err.get("line") in lines_of(name, row.error[1])
    if row.bug:
        marks["named"] = bool(bugs) and bugs[0] == row.bug
    else:
        marks["false_name"] = any(b in BY_ID and b not in row.allow for b in bugs)
    if row.first is not None:
        part = "forward" if "forward" in row.first[0][0] else "cell" if "cell" in row.first[0][0] else "loop"
        marks["blame"] = (result.get("blame") or {}).get("part") == part
    if row.bug == "missing-da-t":
        marks["obvious"] = "exactly 0" in " ".join(result.get("summary") or [])
    if row.bug_line and bugs:
        first_bug = (result.get("bugs") or [{}])[0]
        if row.bug is None and first_bug.get("id") in BY_ID and first_bug.get("id") not in row.allow:
            marks["bug_line"] = False
        else:
            marks["bug_line"] = first_bug.get("line") in lines_of(name, row.bug_line)
    return marks


def score_table(checked: dict) -> tuple[dict, list[str], str]:
    marks = {name: score(name, answer) for name, answer in checked.items()}

    def rate(key, rows=None):
        vals = [m[key] for n, m in marks.items() if m[key] is not None and (rows is None or ROWS[n].kind in rows)]
        return (sum(vals), len(vals))

    totals = {
        "verdict": rate("verdict"),
        "false alarms (bad)": rate("false_alarm"),
        "localized": rate("localized"),
        "named": rate("named"),
        "catalog named, outside (bad)": rate("false_name", ("outside",)),
        "catalog named, no-bug rows (bad)": rate("false_name"),
        "bug_line (not asserted)": rate("bug_line"),
        "blame part (not asserted)": rate("blame"),
        "all-zero said (not asserted)": rate("obvious"),
        "contract broken (bad)": (sum(bool(m["contract"]) for m in marks.values()), len(marks)),
    }
    lines = [f"{'mark':<36}{'count':>6}"]
    for key, (good, n) in totals.items():
        lines.append(f"{key:<36}{good:>5} / {n:<4}")
    by_kind = {}
    for name, row in ROWS.items():
        by_kind.setdefault(row.kind, [0, 0])
        by_kind[row.kind][0] += bool(marks[name]["verdict"])
        by_kind[row.kind][1] += 1
    lines.append("verdict by kind: " + ", ".join(f"{k} {g}/{n}" for k, (g, n) in sorted(by_kind.items())))
    failures = []
    for name, m in sorted(marks.items()):
        wrong = [k for k in ("verdict", "localized", "named") if m[k] is False]
        wrong += [k for k in ("false_alarm", "false_name") if m[k] is True]
        if m["contract"]:
            wrong.append("contract: " + "; ".join(m["contract"]))
        if wrong:
            row = ROWS[name]
            want = (f"exit {row.exit}" + (f"; {row.first[0][0]} t={row.first[1]} {row.first[3]} {row.first[2]}" if row.first else "")
                    + (f"; error {row.error[0]} lines {sorted(lines_of(name, row.error[1])) if row.error[1] else '-'}" if row.error else "")
                    + f"; bug {row.bug or 'none'}")
            failures.append(f"{name}: {', '.join(wrong)}\n    said: {m['said']}\n    want: {want}")
    text = "\n".join(lines + ["", f"{len(failures)} files with a wrong mark:"] + failures)
    return totals, failures, text


def test_the_checker_meets_the_issue_targets_on_the_corpus(checked):
    totals, failures, text = score_table(checked)
    print("\n" + text)
    problems = []
    for key, target in TARGETS.items():
        good, n = totals[key]
        if good < target * n:
            problems.append(f"{key} {good}/{n} below {target:.0%}")
    if totals["false alarms (bad)"][0]:
        problems.append(f"{totals['false alarms (bad)'][0]} false alarms on correct code")
    if totals["catalog named, outside (bad)"][0]:
        problems.append(f"a catalog bug named on {totals['catalog named, outside (bad)'][0]} files outside the catalog")
    if totals["contract broken (bad)"][0]:
        problems.append(f"{totals['contract broken (bad)'][0]} answers outside the JSON contract")
    assert not problems, "; ".join(problems) + "\n" + text


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_checker_on_one_file(checked, name):
    m = score(name, checked[name])
    assert m["verdict"] and not m["false_alarm"] and not m["false_name"] and not m["contract"], m


def _answer(status, ok, fd=None, bugs=(), error=None, blame=None):
    return {"status": status, "problem": None, "json": {
        "ok": ok, "functions": {}, "first_divergence": fd, "bugs": [{"id": b, "line": None} for b in bugs],
        "error": error, "notes": [], "summary": [], "blame": blame}}


@pytest.mark.parametrize("name, answer, bad", [
    ("ok_rnn_range_desc.py", _answer(1, False, {"function": "rnn_backward", "t": 3, "T_x": 4, "quantity": "da_next",
                                                "scope": "input"}), {"verdict", "false_alarm"}),
    ("ok_rnn_two_loops.py", _answer(0, True, bugs=("missing-da-t",)), {"false_alarm", "false_name"}),
    ("paste_famous_post.txt", _answer(1, False, {"function": "rnn_backward", "t": 2, "T_x": 4, "quantity": "da_next",
                                                 "scope": "input"}, bugs=("missing-da-prev",)), {"localized", "named"}),
    ("out_dz_sign.py", _answer(1, False, {"function": "rnn_backward", "t": 3, "T_x": 4, "quantity": "dxt",
                                          "scope": "step"}, bugs=("tanh-twice",)), {"false_name"}),
    ("err_name_wax.py", _answer(2, False, error={"kind": "missing-function", "message": "", "line": None}),
     {"verdict", "localized"}),
    ("err_returns_none.py", _answer(2, False, {"function": "rnn_backward", "t": None, "T_x": 4, "quantity": "line",
                                               "scope": "error"}, error={"kind": "output", "message": "", "line": None}),
     {"contract"}),
    ("bug_da0_not_set.py", _answer(1, True, bugs=("da0-not-set",)), {"verdict", "localized", "contract"}),
])
def test_the_score_takes_marks_off_a_wrong_answer(name, answer, bad):
    m = score(name, answer)
    lost = {k for k in ("verdict", "localized", "named") if m[k] is False}
    lost |= {k for k in ("false_alarm", "false_name") if m[k] is True}
    lost |= {"contract"} if m["contract"] else set()
    assert lost == bad, m
