"""The checker scored on CS231n-style files (issue 15): rnn_layers.py as its students write it.

tests/corpus_cs231n/ holds the files, expected.py what each must get. As tests/test_check_corpus.py:
- the corpus without the checker (independent.py): a correct file's gradients equal central
  differences of the homework's own forward, a bug file's do not, a broken file raises;
- `python -m bptt check FILE --json` on every file (a subprocess each, two at a time), scored
  against the table: verdict 100%, no false alarm, no catalog bug named outside the catalog,
  every first divergence in the homework's names and every named bug the table's.

    .venv/bin/python -m pytest -q -s tests/test_check_cs231n_corpus.py   # -s shows the score table
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bptt.catalog import BY_ID
from bptt.notation import bug_lines
from corpus_cs231n.expected import ROWS
from corpus_cs231n.independent import run_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus_cs231n"
NOT_SUBMISSIONS = {"expected.py", "independent.py", "__init__.py"}
HOMEWORK_NAMES = {"dnext_h", "dnext_c", "dx", "dprev_h", "dprev_c", "dWx", "dWh", "db", "dh0", "h", "next_h", "next_c"}
SCOPES = {"input", "step", "total", "final"}


def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_SUBMISSIONS
                  and p.suffix in (".py", ".ipynb", ".txt"))


def t_of(expr: str | None, T: int):
    return None if expr is None else eval(expr, {"__builtins__": {}}, {"T": T})  # noqa: S307 - the table's own text


def test_every_file_has_a_row_and_every_row_a_file():
    assert set(corpus_files()) == set(ROWS), (sorted(set(corpus_files()) - set(ROWS)), sorted(set(ROWS) - set(corpus_files())))


def test_the_corpus_covers_what_issue_15_asks():
    rows = ROWS.values()
    assert sum(r.kind == "correct" for r in rows) >= 8 and {r.cell for r in rows if r.kind == "correct"} == {"rnn", "lstm"}
    assert sum(r.bug == "missing-da-prev" for r in rows) >= 4, "dprev_h never added to dh[:, t, :]"
    assert sum(r.bug == "overwrite-not-accumulate" for r in rows) >= 4, "= instead of += for dWx"
    assert sum(r.bug == "lstm-dc-not-carried" for r in rows) >= 2, "dnext_c overwritten"
    assert {n.rsplit(".", 1)[1] for n in ROWS} == {"py", "txt", "ipynb"}
    assert sum(r.kind == "outside" for r in rows) >= 3 and sum(r.kind == "broken" for r in rows) >= 3
    texts = {n: (CORPUS / n).read_text() for n in ROWS}
    for spelling in ("range(T - 1, -1, -1)", "reversed(range(T))", "while t >= 0", "START OF YOUR CODE"):
        assert any(spelling in text for text in texts.values()), spelling


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_file_is_what_the_table_says(name, capsys):
    row = ROWS[name]
    if row.error == ("missing-function",):
        text = (CORPUS / name).read_text()
        assert not any(f"def {c}_{f}(" in text for c in ("rnn", "lstm") for f in ("step_backward", "backward"))
        return
    result = run_file(CORPUS / name, row.cell)
    capsys.readouterr()
    if row.kind == "correct":
        assert result.raised is None and result.max_error < 1e-6, result
    elif row.exit == 1:
        assert result.raised is None and result.max_error > 1e-3, result
    else:
        assert result.raised is not None, result


def _check(name: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    try:
        out = subprocess.run([sys.executable, "-m", "bptt", "check", str(CORPUS / name), "--json"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        return {"status": None, "json": None, "problem": "the check did not end in 120 s"}
    try:
        return {"status": out.returncode, "json": json.loads(out.stdout), "problem": None}
    except json.JSONDecodeError:
        return {"status": out.returncode, "json": None,
                "problem": f"stdout is not one JSON object: {out.stdout[:200]!r}, stderr ends {out.stderr[-300:]!r}"}


@pytest.fixture(scope="module")
def checked() -> dict:
    names = sorted(ROWS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(_check, names)))


def score(name: str, answer: dict) -> dict:
    """One file's marks (None where a mark does not apply) and what the checker said."""
    row, result, status = ROWS[name], answer["json"], answer["status"]
    marks = {"verdict": False, "false_alarm": row.kind == "correct" or None, "localized": None if row.first is None
             else False, "named": None if row.bug is None else False, "false_name": None if row.bug else True,
             "blame": None if row.part is None else False, "problem": answer["problem"], "said": ""}
    if result is None:
        return marks
    fd, err, bugs = result["first_divergence"], result["error"], [b["id"] for b in result["bugs"]]
    marks["said"] = (f"exit {status}; {fd and (fd['function'], fd['t'], fd['quantity'], fd['scope'])}; "
                     f"error {err and err['kind']}; bugs {bugs}; blame {result['blame']}")
    marks["verdict"] = status == row.exit and result["ok"] is row.ok and (row.exit != 2 or err["kind"] in row.error)
    if row.kind == "correct":
        marks["false_alarm"] = status != 0 or bool(bugs)
    if row.first is not None and fd is not None:
        functions, t, quantities, scopes = row.first
        marks["localized"] = (fd["function"] in functions and fd["quantity"] in quantities and fd["scope"] in scopes
                              and (fd["scope"] == "final" or fd["t"] == t_of(t, fd["T_x"])))
    if row.bug:
        marks["named"] = bool(bugs) and bugs[0] == row.bug
    else:
        marks["false_name"] = any(b in BY_ID for b in bugs)
    if row.part is not None:
        marks["blame"] = (result["blame"] or {}).get("part") == row.part
    return marks


def test_the_checker_meets_the_issue_targets_on_the_cs231n_corpus(checked):
    marks = {name: score(name, answer) for name, answer in checked.items()}
    lines, failures = [], []
    for key in ("verdict", "false_alarm", "localized", "named", "false_name", "blame"):
        values = [m[key] for m in marks.values() if m[key] is not None]
        lines.append(f"{key:<12}{sum(values):>4} / {len(values)}")
    for name, m in sorted(marks.items()):
        wrong = [k for k in ("verdict", "localized", "named", "blame") if m[k] is False]
        wrong += [k for k in ("false_alarm", "false_name") if m[k] is True]
        if wrong or m["problem"]:
            failures.append(f"{name}: {', '.join(wrong)} {m['problem'] or ''}\n    said: {m['said']}")
    print("\n" + "\n".join(lines + failures))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_answer_keeps_the_contract_in_the_homeworks_names(checked, name):
    answer = checked[name]
    assert answer["problem"] is None, answer["problem"]
    result, status = answer["json"], answer["status"]
    assert list(result) == ["ok", "functions", "first_divergence", "bugs", "error", "notes", "summary", "blame"]
    assert (status == 0) == result["ok"] and (status == 2) == (result["error"] is not None)
    fd = result["first_divergence"]
    if fd is not None:
        assert fd["quantity"] in HOMEWORK_NAMES and fd["scope"] in SCOPES, fd
        assert fd["t"] is None or 0 <= fd["t"] < fd["T_x"], fd
    for output in (o for f in result["functions"].values() for o in f["outputs"]):
        assert output in HOMEWORK_NAMES, output
    said = " ".join(result["summary"]) if ROWS[name].error != ("missing-function",) else ""  # that one lists both
    assert "da_next" not in said and "da_prevt" not in said and "_cell_backward" not in said, said


def test_no_fix_is_given_away(checked):
    """Every sentence says where, never the corrected line: no report holds the reference's line or the bug's fix."""
    fixes = {"dh[:, t, :] + dprev_h", "dWx += dWx_t", "1 - next_h ** 2", "dnext_c = dprev_c", "dh0 = dprev_h"}
    for name, answer in checked.items():
        result = answer["json"]
        right = {line.strip() for b in result["bugs"] for line in bug_lines(b["id"], "cs231n").right.split("\n")}
        said = json.dumps([result["summary"], result["blame"], [[b["title"], b["why"], b["hint"]] for b in result["bugs"]]])
        assert not [fix for fix in fixes | right if fix and fix in said], (name, said)


def test_a_named_bug_is_told_in_the_homeworks_names(checked):
    for name, answer in checked.items():
        for bug in answer["json"]["bugs"]:
            assert bug["function"] in {"rnn_backward", "rnn_step_backward", "lstm_backward", "lstm_step_backward"}, bug
            words = f"{bug['title']} {bug['why']} {bug['hint']}"
            assert not any(course in words for course in ("da_prevt", "dWaa", "dWax", "rnn_cell_backward", "a_next")), \
                (name, words)
