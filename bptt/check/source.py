"""A student's submission as text the checker can run: from a .py file, a notebook or a forum paste.

Pasted code arrives damaged in predictable ways: curly quotes, non-breaking spaces, Markdown
fences, `>>>` prompts, and indentation flattened to nothing. The fixes here are shown to the
student (`Source.notes`, and the re-indented text itself), never applied silently.

    source = from_text(open("homework.txt").read())
    source.code, source.notes, source.error  # code to run, what was fixed, or why it cannot run
"""

import ast
import json
import re
from dataclasses import dataclass, field

COURSE_FUNCTIONS = (
    "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward",
)
SKIPPED = "__skipped_imports__"  # the list, in the namespace the code runs in, of imports that failed
MAX_CHARS = 200_000  # a whole course notebook's code is ~30 000 characters
MAX_NOTEBOOK_BYTES = 5 * MAX_CHARS  # the course notebook with its outputs is ~100 kB; parsing more is wasted work

TYPOGRAPHY = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u3000": " ",
    "\u2212": "-", "\u2013": "-", "\u00d7": "*",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
}
# a line whose block ends the enclosing loop in every course function: it sits at function level
AFTER_LOOP = re.compile(r"^(return\b|da0\s*=|caches\s*=\s*\(|gradients\s*=\s*\{)")
DEDENT_KEYWORDS = re.compile(r"^(else|elif|except|finally)\b.*:$")
TOP_LEVEL = re.compile(r"^(def |class |@|import |from \S+ import )")


@dataclass(frozen=True)
class Problem:
    """Why the code cannot run as it is."""

    kind: str  # "syntax", "indentation" or "missing-function", as in the JSON report
    message: str
    line: int | None  # 1-based, in `Source.code`


@dataclass(frozen=True)
class Source:
    """The code to check, what was done to it, and the problem that stops it, if any."""

    code: str  # what runs, line numbers as shown to the student
    original: str  # what was pasted or uploaded, as text
    notes: tuple = ()  # plain sentences: what was fixed or ignored
    reindented: bool = False  # True when the indentation was rebuilt: the student should confirm it
    error: Problem | None = None
    functions: tuple = ()  # the course functions the code defines, in course order
    cells: tuple = field(default=(), compare=False)  # notebooks: (cell number, first line in `code`) per kept cell

    def where(self, line: int | None) -> str:
        """'line 12', or for a notebook 'cell 7, line 3'. source.where(12) -> 'line 12'"""
        if line is None:
            return "an unknown line"
        for number, first in reversed(self.cells):
            if line >= first:
                return f"cell {number}, line {line - first + 1}"
        return f"line {line}"


def normalise(text: str) -> tuple:
    """Typography and paste debris removed: (text, notes).

    normalise("print(“hi”)")[0] -> 'print("hi")'
    """
    notes = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fixed = "".join(TYPOGRAPHY.get(ch, ch) for ch in text)
    if fixed != text:
        notes.append("Replaced curly quotes, non-breaking spaces and similar typography with plain characters.")
    lines = fixed.split("\n")
    fences = [i for i, line in enumerate(lines) if line.strip().startswith("```")]
    if len(fences) >= 2:  # a forum post: the code is what sits between the fences, the words around it are not
        blocks = [lines[a + 1 : b] for a, b in zip(fences[0::2], fences[1::2])]
        lines = [line for block in blocks for line in block + [""]]
        notes.append("Took the code between the Markdown fences (```) and left out the text around it.")
    elif fences:
        lines = [line for line in lines if not line.strip().startswith("```")]
        notes.append("Removed a Markdown code fence (```).")
    if any(line.startswith(">>> ") for line in lines):
        lines = [line[4:] if line.startswith((">>> ", "... ")) else line for line in lines]
        notes.append("Removed >>> prompts.")
    if any("\t" in line[: len(line) - len(line.lstrip())] for line in lines):
        lines = [_expand_leading_tabs(line) for line in lines]
        notes.append("Replaced tabs in the indentation with 4 spaces each.")
    return "\n".join(line.rstrip() for line in lines), notes


def _expand_leading_tabs(line: str) -> str:
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].replace("\t", "    ") + body


def lost_indentation(code: str) -> bool:
    """True when blocks have no indented body: what a forum or chat does to pasted Python.

    lost_indentation("def f():\\nreturn 1") -> True
    """
    lines = [line for line in code.split("\n") if line.strip() and not line.strip().startswith("#")]
    for line, after in zip(lines, lines[1:]):
        if _opens_block(line) and _indent(after) <= _indent(line):
            return True
    return False


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _opens_block(line: str) -> bool:
    code = line.split("#")[0].rstrip()
    return code.endswith(":") and not code.lstrip().startswith(("lambda", "{"))


def reindent(code: str) -> str:
    """Best-effort indentation for code that lost it, using the shape of the course's functions.

    A `def` starts at column 0; a line ending in ':' opens a block; else/elif/except close one;
    a line the course writes after its loop (return, da0 = ..., caches = (...)) goes back to
    function level. Lines inside open brackets are continuation lines. The student confirms it.
    """
    out, depth, stack, brackets, in_string = [], 0, [], 0, False
    for raw in code.split("\n"):
        line = raw.strip()
        quotes = line.count('"""') + line.count("'''")
        if not line:
            out.append("")
            continue
        if in_string:  # inside a docstring: its lines are text, not code
            out.append("    " * depth + line)
            in_string = quotes % 2 == 0
            continue
        if brackets > 0:
            out.append("    " * (depth + 1) + line)
        else:
            if TOP_LEVEL.match(line):
                depth, stack = 0, []
            elif DEDENT_KEYWORDS.match(line) and stack:
                depth = stack.pop()
            elif AFTER_LOOP.match(line) and depth > 1:
                depth, stack = 1, stack[:1]
            out.append("    " * depth + line)
            in_string = quotes % 2 == 1
            if _opens_block(line) and not in_string:
                stack.append(depth)
                depth += 1
        brackets = max(0, brackets + _bracket_balance(line))
    return "\n".join(out)


def _bracket_balance(line: str) -> int:
    code = re.sub(r"(\"[^\"]*\"|'[^']*')", "", line.split("#")[0])
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def problem_of(code: str) -> Problem | None:
    """A syntax or indentation error, or None when the code parses. Parsing never runs the code."""
    try:
        ast.parse(code)
    except IndentationError as e:  # a subclass of SyntaxError: test it first
        return Problem("indentation", f"IndentationError: {e.msg}", e.lineno)
    except SyntaxError as e:
        return Problem("syntax", f"SyntaxError: {e.msg}", e.lineno)
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        return Problem("syntax", f"the code could not be parsed: {type(e).__name__}", None)
    return None


def defined_functions(code: str) -> tuple:
    """The course functions the code defines at top level, in course order."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return tuple(name for name in COURSE_FUNCTIONS if name in names)


def keep_definitions(tree: ast.Module) -> tuple:
    """The module with only what defines things: (tree, number of statements dropped).

    Kept: imports (each wrapped so a missing course helper like `rnn_utils` is skipped),
    def and class, and assignments without calls (constants, lambdas). Dropped: test calls,
    prints, `np.random.seed(...)`, `if __name__ == ...` blocks. Line numbers are kept.
    """
    body, dropped = [], 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else ", ".join(a.name for a in node.names)
            skipped = ast.parse(f"{SKIPPED}.append({module!r})").body  # the report lists what was skipped
            handler = ast.ExceptHandler(type=ast.Name("ImportError", ast.Load()), name=None, body=skipped)
            wrapped = ast.Try(body=[node], handlers=[handler], orelse=[], finalbody=[])
            body.append(ast.fix_missing_locations(ast.copy_location(wrapped, node)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not _calls(node.value):
            body.append(node)
        else:
            dropped += 1
    tree = ast.Module(body=body, type_ignores=[])
    return ast.fix_missing_locations(tree), dropped


def _calls(node: ast.AST) -> bool:
    """True when evaluating the expression would call something now (a lambda's body runs later)."""
    if isinstance(node, ast.Lambda):
        return False
    if isinstance(node, ast.Call):
        return True
    return any(_calls(child) for child in ast.iter_child_nodes(node))


def from_text(text: str, reindent_lost: bool = True) -> Source:
    """A pasted or uploaded .py/.txt: normalised, re-indented if the indentation was lost, checked.

    from_text("def rnn_backward(da, caches):\\nreturn {}").reindented -> True
    """
    if len(text) > MAX_CHARS:
        return Source(code="", original=text[:MAX_CHARS], error=_too_long(len(text)))
    code, notes = normalise(text)
    reindented = False
    problem = problem_of(code)
    if problem is not None and problem.kind == "indentation" and lost_indentation(code):
        if reindent_lost:
            candidate = reindent(code)
            if problem_of(candidate) is None:
                code, problem, reindented = candidate, None, True
                notes.append("The indentation was lost (as happens when code is pasted into a forum). It was "
                             "rebuilt from the code's structure: check that each loop ends where you meant it to.")
        if problem is not None:
            problem = Problem("indentation", "The indentation was lost, and it could not be rebuilt "
                              f"automatically ({problem.message}). Indent the code again and paste it once more.",
                              problem.line)
    return _finish(Source(code=code, original=text, notes=tuple(notes), reindented=reindented, error=problem))


def from_notebook(raw: str | bytes) -> Source:
    """The function definitions of a Jupyter notebook; test cells, prints and magics are left out."""
    import nbformat  # only notebooks need it

    if len(raw) > MAX_NOTEBOOK_BYTES:
        problem = Problem("syntax", f"the notebook is {len(raw):,} bytes; the checker reads at most "
                          f"{MAX_NOTEBOOK_BYTES:,}. Clear all outputs (Edit > Clear All Outputs), save and upload "
                          "it again, or paste only your functions.", None)
        return Source(code="", original="", error=problem)
    try:
        notebook = nbformat.reads(raw.decode("utf-8") if isinstance(raw, bytes) else raw, as_version=4)
    except nbformat.ValidationError:  # JSON, but not shaped like a notebook (e.g. "{}")
        problem = Problem("syntax", "this file is JSON but not a Jupyter notebook (no notebook cells in it). "
                          "Upload the .ipynb file itself, or paste the code.", None)
        return Source(code="", original="", error=problem)
    except RecursionError:  # brackets nested thousands deep: no notebook looks like that
        problem = Problem("syntax", "this is not a readable Jupyter notebook (its JSON is nested too deeply). "
                          "Upload the .ipynb file itself, or paste the code.", None)
        return Source(code="", original="", error=problem)
    except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        problem = Problem("syntax", f"this is not a readable Jupyter notebook ({type(e).__name__}). "
                          "Upload the .ipynb file itself, or paste the code.", None)
        return Source(code="", original="", error=problem)
    kept, cells, line = [], [], 1
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        text, _ = normalise(str(cell.get("source", "")))
        text = "\n".join("" if row.lstrip().startswith(("%", "!")) else row for row in text.split("\n"))
        if not re.search(r"^\s*(def |import |from \S+ import )", text, re.M):
            continue
        kept.append(text)
        cells.append((number, line))
        line += text.count("\n") + 2
    code = "\n\n".join(kept)
    if len(code) > MAX_CHARS:
        return Source(code="", original=code[:MAX_CHARS], error=_too_long(len(code)))
    notes = (f"Read {len(kept)} code cell(s) with definitions from the notebook; test cells were left out.",)
    return _finish(Source(code=code, original=code, notes=notes, cells=tuple(cells), error=problem_of(code)))


def from_file(name: str, data: bytes) -> Source:
    """A file by its name: .ipynb as a notebook, anything else as text.

    from_file("hw.ipynb", open("hw.ipynb", "rb").read()).functions  # ('rnn_cell_backward', ...)
    """
    if name.lower().endswith(".ipynb"):
        return from_notebook(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return from_text(text)


def _too_long(chars: int) -> Problem:
    return Problem("syntax", f"the code has {chars:,} characters; the checker reads at most {MAX_CHARS:,}. "
                   "Paste only your functions.", None)


def _finish(source: Source) -> Source:
    """Fill in the functions found, or the missing-function problem."""
    if source.error is not None:
        return source
    functions = defined_functions(source.code)
    if not functions:
        problem = Problem("missing-function", "no course function found. Define at least one of: "
                          + ", ".join(COURSE_FUNCTIONS) + ", with the course's names.", None)
        return Source(**{**source.__dict__, "error": problem})
    return Source(**{**source.__dict__, "functions": functions})
