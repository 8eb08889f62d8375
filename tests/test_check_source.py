"""bptt.check.source: pasted, uploaded and notebook code made runnable, or a clear reason why not."""

import ast
import json
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from bptt.check.source import (
    MAX_CHARS, Source, from_file, from_notebook, from_text, keep_definitions, lost_indentation, normalise, parse,
    prose_lines, reindent,
)

SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"
PASTES = SUBMISSIONS / "pastes"
ROOT = Path(__file__).resolve().parent.parent
PRINT = "SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?"


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
        'gradients["dx"][1][2] = -2.07\n'  # a pasted expected output
    ))
    namespace = {"__skipped_imports__": []}
    exec(compile(tree, "submission.py", "exec"), namespace)
    assert dropped == 5  # the seed, x = np.zeros(3), the print, the __main__ block, the expected output
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


# fixture: (functions defined, a line the kept code must hold, error kind, error line, lines left out)
PASTED = {
    "famous_forum_post.txt": (("rnn_backward",), "        gradients = rnn_cell_backward(da_prevt, caches[t])", None,
                              None, ((1, 2, "text"),)),
    "stackoverflow_fenced.md": (("rnn_cell_backward",), "    dxt = np.dot(Wax, dtanh)", None, None,
                                ((1, 1, "text"), (3, 3, "text"), (22, 22, "text"), (25, 28, "traceback"),
                                 (31, 31, "text"), (33, 33, "text"))),
    "stackoverflow_indented_block.md": (("rnn_cell_backward",), "    dxt = np.dot(Wax, dtanh)", None, None,
                                        ((3, 3, "text"), (20, 20, "text"), (22, 25, "traceback"), (27, 27, "text"),
                                         (29, 29, "text"))),
    "coursera_reply.txt": (("rnn_cell_backward", "rnn_backward"), '        dWax += gradients["dWax"]', None, None,
                           ((1, 2, "text"), (15, 15, "text"), (36, 37, "text"), (39, 40, "text"), (42, 42, "text"))),
    "discord_inline_fence.txt": (("lstm_cell_backward",), "    dc_prev = dc_next * ft + ot * (1 - np.square(np.tanh("
                                 "c_next))) * ft * da_next", None, None, ((1, 1, "text"), (39, 39, "text"))),
    "slack_smart_quotes.txt": (("rnn_cell_backward",), '    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, '
                               '"dWaa": dWaa, "dba": dba}', None, None, ((1, 1, "text"), (21, 21, "text"))),
    "forum_one_line_docstring.txt": (("rnn_cell_backward", "rnn_backward"),
                                     '    """Implement the backward pass for a RNN over an entire sequence of input '
                                     'data."""', None, None, ((1, 1, "text"),)),
    "email_quoted.txt": (("rnn_cell_backward",), "    dba = np.sum(dtanh, axis=1)", None, None,
                         ((1, 1, "text"), (3, 3, "text"), (5, 5, "text"), (21, 22, "text"))),
    "notebook_copy_in_markers.txt": (("rnn_cell_backward",), "from rnn_utils import *", None, None,
                                     ((20, 27, "cell"), (28, 29, "output"))),
    "ipython_terminal.txt": (("rnn_cell_backward",), "    return gradients", None, None,
                             ((17, 17, "cell"), (19, 19, "cell"), (20, 20, "output"))),
    "repl_prompts.txt": (("rnn_backward",), "    for t in reversed(range(T_x)):", None, None,
                         ((25, 25, "output"), (27, 27, "output"))),
    "tabs_8_columns.py": (("rnn_backward",), "        dx[:, :, t] = dxt", None, None, ()),
    "tabs_4_columns.py": (("rnn_backward",), "        dx[:, :, t] = dxt", None, None, ()),
    "line_numbers.txt": (("rnn_cell_backward",), "    dtanh = (1 - a_next ** 2) * da_next", None, None, ()),
    "unclosed_fence.txt": (("rnn_backward",), "    da0 = da_prevt", None, None, ((1, 1, "text"),)),
    "jupyter_traceback.txt": (("rnn_backward",), "        gradients = rnn_cell_backward(da + da_prevt, caches[t])",
                              None, None, ((1, 1, "text"), (24, 24, "text"), (26, 26, "text"), (27, 38, "traceback"),
                                           (40, 40, "text"))),
    "python2_print.md": ((), "    print dxt.shape", "syntax", 10, ((1, 1, "text"),)),
    "python2_print_flat.txt": ((), '        print "step", t, da_prevt.shape', "syntax", 15, ((1, 1, "text"),)),
    "real_syntax_error.md": ((), "    for t in reversed(range(T_x))", "syntax", 14, ((1, 1, "text"),)),
}


def test_every_paste_fixture_is_in_the_table():
    assert sorted(p.name for p in PASTES.iterdir()) == sorted(PASTED)


@pytest.mark.parametrize("name", sorted(PASTED))
def test_a_paste_keeps_its_code_and_only_its_code(name):
    functions, line, kind, at, left_out = PASTED[name]
    source = from_file(name, (PASTES / name).read_bytes())
    if kind is None:
        assert source.error is None, source.error
    else:
        assert (source.error.kind, source.error.line) == (kind, at), source.error
    assert source.functions == functions
    assert line in source.code.split("\n")
    assert source.left_out == left_out
    rows, pasted = source.code.split("\n"), (PASTES / name).read_text().split("\n")
    assert len(rows) == len(pasted)  # line N of the code is line N of the paste
    for first, last, _ in left_out:
        assert not any(row.strip() for row in rows[first - 1 : last])
        assert all(pasted[n].strip() for n in range(first - 1, last) if n + 1 in (first, last))
    for why in {why for _, _, why in left_out}:  # the student is told which lines were not read as code
        first = next(f"{a}-{b}" if b > a else f"{a}" for a, b, w in left_out if w == why)
        assert any(note.startswith("Left out line") and first in note for note in source.notes), source.notes


def test_python_that_parses_is_left_as_it_is():
    code = ('def rnn_backward(da, caches):\n    """Prints\n```\n>>> x\n> quoted\n```"""\n'
            '    print("\u201chi\u201d")\n    return {}\n')
    source = from_text(code)
    assert source.error is None and source.code == code and source.notes == ()


def test_the_famous_post_as_posted_is_the_clean_file_with_its_prose_left_out():
    source = from_text((PASTES / "famous_forum_post.txt").read_text())
    clean = (SUBMISSIONS / "missing_da_t.py").read_text()
    assert source.error is None and source.reindented
    assert _statements(source.code) == _statements(clean)
    assert "Left out lines 1-2 as text, not code." in source.notes


@pytest.mark.parametrize("name", ["python2_print.md", "python2_print_flat.txt"])
def test_a_python_2_print_is_a_syntax_error_with_pythons_message_not_lost_indentation(name):
    error = from_text((PASTES / name).read_text()).error
    assert error.kind == "syntax" and error.message == PRINT


@pytest.mark.parametrize("opening, closing", [
    ("\u201c\u201d\"", '"""'), ('"\u201c\u201d', "\u201d\u201d\u201d"), ("\u201d\u201d\u201d", "\u201c\u201d"),
    ("\u201c\u201d", '"\u201c\u201d"'), ('"""', "\u201d"), ("''", "'''"), ('""""', '""'),
])
def test_a_mangled_docstring_becomes_a_docstring(opening, closing):
    text = (f"def rnn_backward(da, caches):\n    {opening}\n    Arguments:\n    da -- it's the gradient\n"
            f"    {closing}\n    return {{}}")
    source = from_text(text)
    assert source.error is None, source.error
    assert ast.get_docstring(parse(source.code).body[0]) == "Arguments:\nda -- it's the gradient"


@pytest.mark.parametrize("lines, prose", [
    (["Here's my code:", "def f(x):", "return x"], [0]),
    (["Hi,", "def f(x):", "return x", "Thanks"], [0, 3]),
    (["def f(x):", "y = x", "Edit: solved", "It's fine now."], [2, 3]),
    (["def f(x):", "y", "return y"], []),  # a bare name between code lines is code
    (["for example:", "x = [", "1,", "2]"], [0]),
    (["dx = [[ 0.1  0.2]]", "x = 1"], [0]),  # a printed numpy array is not code
    (["def f(x)", "return x"], []),  # broken code stays code, so that Python's message about it is shown
    (["print x"], []),
    (["if anyone knows why (it's weird", "x = 1", "y = 2"], [0]),
])
def test_prose_lines_are_the_words_around_the_code(lines, prose):
    assert prose_lines(lines) == prose


@pytest.mark.parametrize("code", [
    "y = " + "(" * 150 + "x" + ")" * 150,
    "def f():\n" + "".join(" " * i + "if x:\n" for i in range(1, 90)) + " " * 90 + "pass\n",
    "y = [\n" + "[1, 2],\n" * 3000 + "]",
], ids=["brackets-150", "blocks-90", "wide"])
def test_deep_but_legal_code_parses(code):
    assert isinstance(parse(code), ast.Module)


@pytest.mark.parametrize("code, words", [
    ("y = " + "(" * 300 + "x" + ")" * 300, "line 1 nests brackets more than 200 deep"),
    ("def f():\n" + "".join(" " * i + "if x:\n" for i in range(1, 150)), "nested more than 100 blocks deep"),
    ("y = (\n" + "a +\n" * 5_000 + "a)", "nests expressions too deeply"),
    ("y = (x\n" + ".a\n" * 5_000 + ")", "nests expressions too deeply"),
    ("y = " + "-" * 3_900 + "x", "nests expressions too deeply"),
    ("y = 1\nz = '\0'", "null character"),
    ("x = 1\n" * 20_001, "at most 20,000"),
    ("y = '" + "a" * 4_001 + "'", "lines of at most 4,000"),
    ("y = [\n" + ("x, " * 300 + "\n") * 170 + "]", "the checker reads at most 50,000"),
], ids=["brackets", "blocks", "plus-chain", "attribute-chain", "unary-chain", "null", "lines", "long-line", "words"])
def test_absurd_code_is_a_syntax_error_in_plain_words(code, words):
    with pytest.raises(SyntaxError) as caught:
        parse(code)
    assert words in caught.value.msg
    source = from_text(code)
    assert source.error.kind == "syntax" and words in source.error.message


ROUNDS = 5  # enough for the unguarded parser to fail on every run tried


def test_parsing_in_threads_at_once_gives_only_sources_and_clear_errors():
    """CPython 3.11 raised SystemError ('AST constructor recursion depth mismatch') when threads parsed deep code at
    once; the page parses in one thread per student. Finalizers run mid-parse make the threads interleave."""
    legal = ["def rnn_backward(da, caches):\n    y = " + "(" * 150 + "x" + ")" * 150,
             "def rnn_backward(da, caches):\n    y = [\n" + "[1, 2],\n" * 3000 + "]"]
    absurd = ["def rnn_backward(da, caches):\n    y = (\n" + "a +\n" * 5_000 + "a)", "y = " + "(" * 5000,
              "y = " + "-" * 3_900 + "x"]
    seen, escaped = [], []

    class Churn:  # garbage whose finalizer runs Python code, so the interpreter switches threads inside ast.parse
        def __del__(self):
            sum(range(20))

    def student():
        try:
            for _ in range(ROUNDS):
                for code in legal + absurd:
                    for _ in range(300):
                        a, b = Churn(), Churn()
                        a.b, b.a = b, a
                    seen.append(from_text(code))
        except BaseException as e:  # the test is that nothing escapes from_text
            escaped.append(repr(e))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=student) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert escaped == []
    assert len(seen) == 8 * ROUNDS * 5 and all(isinstance(s, Source) for s in seen)
    assert sum(s.error is None for s in seen) == 8 * ROUNDS * len(legal)  # the legal ones parsed every time
    messages = {s.error.message for s in seen if s.error}
    assert all(s.error.kind == "syntax" for s in seen if s.error)
    assert not [m for m in messages if "SystemError" in m or "Recursion" in m or "MemoryError" in m], messages


ADVERSARIAL = {  # each repeated up to the 200,000-character cap (and under the line cap)
    "colon-lines": "for t in range(3):\n",
    "short-colon-lines": "if xxxxx:\n",
    "bracket-lines": "(" * 199 + "\n",
    "one-bracket-line": "(",
    "short-lines": "x\n",
    "prose": "Here's what I don't get, why is it zero?\n",
    "prose-and-flat-code": "It's wrong:\nfor t in range(T_x):\ngradients = rnn_cell_backward(da_prevt, caches[t])\n",
    "flat-functions": "def rnn_backward(da, caches):\nfor t in range(3):\nif t:\nx = t\n",
    "f-strings": "y = f'" + "{x}" * 1300 + "'\n",
    "tabs": "\t" * 10 + "if x:\n",
    "triple-quotes": '"""\n',
    "fences": "```\n",
    "names": "y = [" + "x," * 1990 + "]\n",
    "swaps": "a,b=b,a\n",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_reading_an_adversarial_paste_at_the_cap_stays_small(name):
    """Re-indenting once built strings quadratic in the paste (1.75 GB for 40 KB of ':' lines); now any input under
    the cap costs the app's process little. Measured as the peak resident size of a fresh process."""
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bptt.check.source import MAX_CHARS, MAX_LINES, from_text\n"
        "unit = sys.stdin.read()\n"
        "text = (unit * (MAX_CHARS // len(unit) + 1))[:MAX_CHARS]\n"
        "text = '\\n'.join(text.split('\\n')[: MAX_LINES - 1])\n"
        "source = from_text(text)\n"
        "assert source.error is not None or source.functions\n"
        # VmHWM, not ru_maxrss: after a vfork and exec, ru_maxrss keeps the forking pytest process's peak
        "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) // 1024)\n"
    )
    unit = ADVERSARIAL[name]
    done = subprocess.run([sys.executable, "-c", script], input=unit, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) < 200  # MB, the interpreter included
    assert 2 * len(unit) < MAX_CHARS  # the unit really is repeated


@pytest.mark.parametrize("cells, words", [
    (8_500, "no course function found"),  # a notebook just under the size cap, with thousands of cells
    (20_000, "at most 1,000,000"),
])
def test_a_notebook_of_many_cells_is_read_within_the_cap(cells, words):
    cell = {"cell_type": "code", "source": "x = 1\n", "metadata": {}, "outputs": [], "execution_count": None}
    raw = json.dumps({"cells": [{**cell, "id": f"c{i}"} for i in range(cells)], "metadata": {}, "nbformat": 4,
                      "nbformat_minor": 5}).encode()
    assert words in from_notebook(raw).error.message


@pytest.mark.parametrize("metadata, code, words", [
    ({"a": json.loads("[" * 900 + "]" * 900)}, "def rnn_backward(da, caches):\n    return {}\n", "nested too deeply"),
    ({}, "def rnn_backward(da, caches):\n    y = " + "(" * 300 + ")" * 300 + "\n", "nests brackets more than 200"),
    ({}, "def rnn_backward(da, caches):\n    y = (\n" + "a +\n" * 5_000 + "a)\n", "nests expressions too deeply"),
], ids=["deep-metadata", "deep-brackets", "deep-expression"])
def test_a_notebook_nested_too_deeply_is_a_clear_error(metadata, code, words):
    cell = {"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None, "id": "a"}
    raw = json.dumps({"cells": [cell], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}).encode()
    source = from_notebook(raw)
    assert source.error.kind == "syntax" and words in source.error.message, source.error
