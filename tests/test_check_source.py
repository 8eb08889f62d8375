"""bptt.check.source: pasted, uploaded and notebook code made runnable, or a clear reason why not."""

import ast
import json
from pathlib import Path

import nbformat
import pytest

from bptt.check.source import (
    from_file, from_notebook, from_text, keep_definitions, lost_indentation, normalise, reindent,
)

SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"


def test_curly_quotes_and_nonbreaking_spaces_become_plain():
    code, notes = normalise("x = {\u201cdx\u201d: \u2018a\u2019}\u00a0# \u2212 1")
    assert code == "x = {\"dx\": 'a'} # - 1"
    assert notes and "curly quotes" in notes[0]


def test_forum_post_keeps_only_the_fenced_code():
    code, notes = normalise("Why is this zero?\n```python\ndef f():\n    return 1\n```\nthanks!")
    assert code.strip() == "def f():\n    return 1"
    assert any("fences" in note for note in notes)


def test_the_forum_paste_is_reindented_to_the_clean_file():
    pasted = from_text((SUBMISSIONS / "missing_da_t_forum.txt").read_text())
    clean = (SUBMISSIONS / "missing_da_t.py").read_text()
    assert pasted.reindented and pasted.error is None
    assert pasted.functions == ("rnn_backward",)
    assert _statements(pasted.code) == _statements(clean)  # the same program, docstring aside


def _statements(code: str) -> list:
    function = next(n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef))
    return [ast.dump(s) for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]


@pytest.mark.parametrize("code, lost", [
    ("def f():\nreturn 1", True),
    ("for t in range(3):\nx = t", True),
    ("def f():\n    return 1", False),
    ("x = 1\ny = 2", False),
])
def test_lost_indentation_is_detected(code, lost):
    assert lost_indentation(code) is lost


def test_reindent_closes_the_loop_at_da0_and_keeps_docstrings_as_text():
    code = 'def g(da):\n"""Returns:\nthings\n"""\nfor t in range(3):\nif t:\nx = t\nelse:\nx = 0\nda0 = x\nreturn da0'
    assert reindent(code).split("\n") == [
        "def g(da):", '    """Returns:', "    things", '    """', "    for t in range(3):", "        if t:",
        "            x = t", "        else:", "            x = 0", "    da0 = x", "    return da0",
    ]


def test_indentation_that_cannot_be_rebuilt_is_an_indentation_error():
    source = from_text("def rnn_backward(da, caches):\n  x = 1\n    y = 2\n")
    assert source.error.kind == "indentation" and source.error.line == 3


def test_syntax_error_names_its_line():
    source = from_text("import numpy as np\n\ndef rnn_backward(da, caches)\n    return {}\n")
    assert source.error.kind == "syntax" and source.error.line == 3


def test_a_file_without_course_functions_is_missing_function():
    source = from_text("def my_backward(da):\n    return da\n")
    assert source.error.kind == "missing-function"
    assert "rnn_backward" in source.error.message


def test_too_long_a_file_is_refused_before_parsing():
    assert "at most" in from_text("x = 1\n" * 50_000).error.message


def test_keep_definitions_drops_test_code_and_guards_imports():
    tree, dropped = keep_definitions(ast.parse(
        "import numpy as np\nfrom rnn_utils import *\nnp.random.seed(1)\nEPS = 1e-8\nx = np.zeros(3)\n"
        "print(x)\ndef rnn_backward(da, caches):\n    return {}\nif __name__ == '__main__':\n    rnn_backward(1, 2)\n"
    ))
    namespace = {"__skipped_imports__": []}
    exec(compile(tree, "submission.py", "exec"), namespace)
    assert dropped == 4  # the seed, x = np.zeros(3), the print, the __main__ block
    assert namespace["__skipped_imports__"] == ["rnn_utils"]
    assert namespace["EPS"] == 1e-8 and "x" not in namespace
    assert [n.lineno for n in tree.body][-1] == 7  # line numbers are the student's


def test_notebook_keeps_definition_cells_and_maps_lines_to_cells():
    source = from_file("hw.ipynb", (SUBMISSIONS / "missing_da_t_notebook.ipynb").read_bytes())
    assert source.error is None
    assert source.functions == ("rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward")
    assert "print(xt_tmp)" not in source.code and "%matplotlib" not in source.code
    line = source.code.split("\n").index("def rnn_backward(da, caches):") + 1
    notebook = nbformat.read(str(SUBMISSIONS / "missing_da_t_notebook.ipynb"), as_version=4)
    number, row = source.where(line).replace("cell ", "").split(", line ")
    assert notebook.cells[int(number) - 1].source.split("\n")[int(row) - 1] == "def rnn_backward(da, caches):"


@pytest.mark.parametrize("raw, words", [
    (b"{not json", "not a readable Jupyter notebook (NotJSONError)"),
    (b"{}", "JSON but not a Jupyter notebook"),
    (b"[" * 100_000, "nested too deeply"),
    (b"[" * 10**7, "Clear all outputs"),
], ids=["not-json", "not-a-notebook", "nested", "huge"])
def test_a_broken_notebook_is_a_clear_error(raw, words):
    source = from_notebook(raw)
    assert source.error.kind == "syntax" and words in source.error.message, source.error
    assert source.code == ""


def test_a_notebook_with_too_much_code_is_refused_before_parsing_it():
    cell = {"cell_type": "code", "source": "def rnn_backward(da, caches):\n" + "    x = 1\n" * 30_000,
            "metadata": {}, "outputs": [], "execution_count": None, "id": "a"}
    raw = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    source = from_notebook(raw)
    assert source.error.kind == "syntax" and "at most 200,000" in source.error.message
