"""python -m bptt check FILE [--json]: the exit status and exactly one JSON object."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"


def bptt_check(*args):
    return subprocess.run([sys.executable, "-m", "bptt", "check", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("path, status", [
    (SUBMISSIONS / "correct" / "lstm_course_style.py", 0),
    (SUBMISSIONS / "missing_da_t_forum.txt", 1),
    (SUBMISSIONS / "missing_da_t_notebook.ipynb", 1),
    (SUBMISSIONS / "bugs" / "no-transpose-wax.py", 2),
    (SUBMISSIONS / "bugs" / "dtanh-a-prev.py", 1),
    (SUBMISSIONS / "hostile" / "sys_exit.py", 2),
])
def test_json_is_one_object_and_the_status_follows_the_verdict(path, status):
    out = bptt_check(path, "--json")
    assert out.returncode == status, out.stderr
    result = json.loads(out.stdout)  # raises if anything but one JSON document was printed
    assert list(result) == ["ok", "functions", "first_divergence", "bugs", "error", "notes", "summary", "blame"]
    assert result["ok"] is (status == 0)
    assert result["summary"] and all(isinstance(sentence, str) for sentence in result["summary"])
    d = result["first_divergence"]
    assert d is None or (d["scope"] in ("input", "step", "total", "final") and d["quantity"] != "line")
    b = result["blame"]
    assert b is None or (set(b) == {"part", "function", "t", "term"} and b["part"] in ("cell", "loop", "forward"))
    assert (b is None) is (status == 0 or result["error"] is not None and result["functions"] == {})
    assert (result["error"] is not None) is (status == 2)
    if result["error"]:
        assert result["error"]["kind"] in ("syntax", "indentation", "missing-function", "runtime", "shape",
                                           "timeout", "memory", "output")


def test_the_text_report_names_the_bug_the_line_and_the_hint():
    out = bptt_check(SUBMISSIONS / "missing_da_t.py")
    assert out.returncode == 1
    assert "Forgot to add da[:,:,t] [missing-da-t] in rnn_backward, at line 41" in out.stdout
    assert "At t = 3 (T_x = 4" in out.stdout and "da_next" in out.stdout and "Hint:" in out.stdout


def test_a_syntax_error_is_status_2_with_its_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def rnn_backward(da, caches)\n    return {}\n")
    out = bptt_check(path, "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["error"] == {"kind": "syntax", "message": "SyntaxError: expected ':'", "line": 1}


@pytest.mark.parametrize("content, words", [
    (b"{}", "JSON but not a Jupyter notebook"),
    (b"[" * 100_000, "nested too deeply"),
], ids=["not-a-notebook", "nested"])
def test_an_unreadable_notebook_is_one_json_object_and_status_2(content, words, tmp_path):
    path = tmp_path / "homework.ipynb"
    path.write_bytes(content)
    out = bptt_check(path, "--json")
    assert out.returncode == 2, out.stderr
    error = json.loads(out.stdout)["error"]  # raises if anything but one JSON document was printed
    assert error["kind"] == "syntax" and words in error["message"]


def test_a_missing_file_is_status_2():
    out = bptt_check(ROOT / "no-such-file.py")
    assert out.returncode == 2 and "cannot read" in out.stdout


def test_a_missing_file_in_json_is_kind_file_not_a_missing_function():
    out = bptt_check(ROOT / "no-such-file.py", "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 2 and report["error"]["kind"] == "file" and "no-such-file.py" in report["error"]["message"]


def test_the_text_report_says_first_what_keeps_the_check_apart():
    out = bptt_check(SUBMISSIONS / "correct" / "rnn_course_style.py")
    assert out.returncode == 0 and out.stderr.startswith("Isolation: Each check runs")
    assert "Isolation" not in bptt_check(SUBMISSIONS / "correct" / "rnn_course_style.py", "--json").stderr


def test_the_text_report_says_the_obvious_and_the_part_to_blame():
    out = bptt_check(SUBMISSIONS / "bugs" / "missing-da-t.py")
    assert out.returncode == 1
    assert "* Every gradient you return is exactly 0" in out.stdout
    assert "The mistake is in your loop in rnn_backward, not in rnn_cell_backward" in out.stdout


def test_a_name_error_is_a_runtime_error_naming_the_name(tmp_path):
    path = tmp_path / "name_error.py"
    path.write_text("import numpy as np\n\ndef rnn_cell_backward(da_next, cache):\n    a_next, a_prev, xt, parameters = cache\n"
                    "    dz = da_next * (1 - a_next ** 2)\n    return {'dxt': np.dot(Wax.T, dz)}\n")
    out = bptt_check(path, "--json")
    assert out.returncode == 2
    error = json.loads(out.stdout)["error"]
    assert error["kind"] == "runtime" and "Wax" in error["message"] and error["line"] == 6
