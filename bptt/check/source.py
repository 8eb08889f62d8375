"""A student's submission as text the checker can run: from a .py file, a notebook or a forum paste.

Pasted code arrives damaged in predictable ways: prose around it, Markdown fences, `>>>` and `In [3]:`
prompts with their output, e-mail `> ` quoting, editor line numbers, curly quotes that broke the
docstring, tabs, and indentation flattened to nothing. The fixes here are shown to the student
(`Source.notes`, `Source.left_out`, and the code itself, whose line N is line N of the paste), never
applied silently. Everything here is linear in the input and bounded: it runs in the app's process.

    source = from_text(open("homework.txt").read())
    source.code, source.notes, source.error  # code to run, what was fixed, or why it cannot run
"""

import ast
import json
import re
import threading
from dataclasses import dataclass, field
from itertools import accumulate

COURSE_FUNCTIONS = (
    "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward",
)
CS231N_STEPS = ("rnn_step_forward", "rnn_step_backward", "lstm_step_forward", "lstm_step_backward")  # rnn_layers.py
CS231N_FUNCTIONS = ("rnn_step_forward", "rnn_forward", "rnn_step_backward", "rnn_backward",
                    "lstm_step_forward", "lstm_forward", "lstm_step_backward", "lstm_backward")
SKIPPED = "__skipped_imports__"  # the list, in the namespace the code runs in, of imports that failed
MAX_CHARS = 200_000  # a whole course notebook's code is ~30 000 characters
MAX_LINES = 20_000  # ... and ~800 lines; an abstract syntax tree costs ~1 kB a line
MAX_LINE_CHARS = 4_000  # course lines are under 250 characters; Python 3.11 reads an f-string in quadratic time
MAX_BRACKETS = 200  # Python's own limit on nested brackets
MAX_BLOCKS = 100  # Python's own limit on indentation levels
MAX_WORDS = 50_000  # names and numbers outside strings: the course's functions have ~3 000, each costs ~1 kB of tree
MAX_NOTEBOOK_BYTES = 5 * MAX_CHARS  # the course notebook with its outputs is ~100 kB; parsing more is wasted work

TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u3000": " ",
    "\u2212": "-", "\u2013": "-", "\u2014": "--", "\u00d7": "*", "\u2026": "...",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
})
# a line whose block ends the enclosing loop in every course function: it sits at function level
AFTER_LOOP = re.compile(r"^(return\b|da0\s*=|dh0\s*=\s*d|caches\s*=\s*\(|gradients\s*=\s*\{)")
DEDENT_KEYWORDS = re.compile(r"^(else|elif|except|finally)\b.*:$")
TOP_LEVEL = re.compile(r"^(def |class |@|import |from \S+ import )")
DEFINES = re.compile(r"^[ \t]*+(def |class |import |from \S+ import )", re.M)

# Lines that are code even when they do not parse, so that Python's own message about them reaches the student.
# The patterns here and below are possessive (*+, ++) so that no line makes them backtrack: they stay linear.
_NAME = r"[A-Za-z_][\w.]*+(?:\[[^\]\n]*+\])*+"
CODE_SHAPE = re.compile(rf"""(?x)
    (?:async\s++)?def\s++[A-Za-z_]\w*+\s*+\( | class\s++[A-Za-z_]\w*+\s*+[(:]
  | for\s++\S.*?\sin\s | (?:else|try|finally)\s*+:?+\s*+(?:\#.*)?$ | (?:elif|except)\b(?=.*:)
  | (?:return|yield|raise|assert|del|global|nonlocal|pass|break|continue)\b
  | import\s++[A-Za-z_][\w.]*+(?:\s++as\s++\w++)?+(?:\s*+,\s*+[A-Za-z_][\w.]*+(?:\s++as\s++\w++)?+)*+\s*+(?:\#.*)?$
  | from\s++[\w.]++\s++import\s | print\s*+(?:>>|[^\s=(.,)\]:]) | @[A-Za-z_][\w.]*+\s*+(?:\(.*\))?+\s*+(?:\#.*)?$
  | {_NAME}(?:\s*+,\s*+{_NAME})*+\s*+(?:=(?!=)|[-+*/%@&|^]=|//=|\*\*=|>>=|<<=) | [A-Za-z_][\w.]*+\(
""")
# printed numpy arrays, as in the course's "expected output": `dx[1] = [-2.07 0.59  0.02]`
NUMPY_PRINT = re.compile(r"=\s*+(?:array\()?+\[++\s*+[-+]?+(?:\d++\.?+\d*+|\.\d++)(?:e[-+]?+\d++)?+\s++[-+]?+[\d.]")
WORD = re.compile(r"\w+")
FENCE = re.compile(r"```+")
FENCE_TAG = re.compile(r"\s*+(?:python3?|py|ipython3?|pycon|text|plaintext|code|console)?+\s*+", re.I)
REPL_PROMPT = re.compile(r"(>>>|\.\.\.)(?: |$)")
IPY_IN = re.compile(r"\s*+In\s*+\[\s*+\d*+\s*+\]:\s?")
IPY_MORE = re.compile(r"\s*+\.\.\.++:\s?")
IPY_OUT = re.compile(r"\s*+Out\s*+\[\s*+\d*+\s*+\]:")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt)\b")  # one line start each
QUOTED = re.compile(r"(?:> ?)+")
NUMBERED = re.compile(r"([ \t]*+)(\d{1,5}+)(?:[ \t]*+[:|.](?=[ \t]|$)|(?=[ \t]|$))")
STRINGS = re.compile(r"""("{3}|'{3})(?s:.)*?(?:\1|\Z)|"(?:[^"\\\n]|\\.)*+"|'(?:[^'\\\n]|\\.)*+'|\#[^\n]*""")
# why a line was left out, in the note that says so
LEFT_OUT = {
    "text": "as text, not code",
    "output": "as printed output (after a >>> or In [n]: prompt), not code",
    "traceback": "as an error message Python printed (a traceback), not code",
    "cell": "as notebook cells that define nothing (tests and prints)",
}
TABS = "Replaced tabs in the indentation with spaces (a tab is {width} columns)."
_PARSE_LOCK = threading.RLock()  # CPython 3.11 keeps the AST converter's recursion depth per process, not per thread


@dataclass(frozen=True)
class Problem:
    """Why the code cannot run as it is."""

    kind: str  # "syntax", "indentation" or "missing-function", as in the JSON report
    message: str
    line: int | None  # 1-based, in `Source.code`


@dataclass(frozen=True)
class Source:
    """The code to check, what was done to it, and the problem that stops it, if any."""

    code: str  # what runs, line numbers as shown to the student (for a paste, line N is line N of the paste)
    original: str  # what was pasted or uploaded, as text
    notes: tuple = ()  # plain sentences: what was fixed or ignored
    reindented: bool = False  # True when the indentation was rebuilt: the student should confirm it
    error: Problem | None = None
    functions: tuple = ()  # the course functions the code defines, in course order
    cells: tuple = field(default=(), compare=False)  # notebooks: (cell number, first line in `code`) per kept cell
    left_out: tuple = field(default=(), compare=False)  # pastes: (first line, last line, why) of what is not code

    def where(self, line: int | None) -> str:
        """'line 12', or for a notebook 'cell 7, line 3'. source.where(12) -> 'line 12'"""
        if line is None:
            return "an unknown line"
        for number, first in reversed(self.cells):
            if line >= first:
                return f"cell {number}, line {line - first + 1}"
        return f"line {line}"


class Refused(SyntaxError):
    """Code too large or too deeply nested to parse safely; its `msg` is a plain sentence."""


def parse(code: str, filename: str = "submission.py") -> ast.Module:
    """The syntax tree of untrusted code, one parse at a time, in bounded time and memory.

    Raises SyntaxError (IndentationError, or Refused for absurd sizes and nesting) and nothing
    else: never RecursionError, MemoryError, SystemError or ValueError. parse("x = 1").body[0].lineno -> 1
    """
    _check_bounds(code, filename)
    with _PARSE_LOCK:
        try:
            return ast.parse(code, filename)
        except SyntaxError:
            raise
        except (RecursionError, MemoryError, SystemError):  # operator chains like a+a+...+a, thousands long
            raise Refused("the code nests expressions too deeply for Python to read (thousands of operators, "
                          "calls or attributes in one expression). Write it in steps.", (filename, 1, 1, "")) from None
        except ValueError as e:
            raise Refused(f"the code could not be read ({e}).", (filename, 1, 1, "")) from None


def _check_bounds(code: str, filename: str) -> None:
    """Refuse, before Python's parser sees it, what no submission needs: null bytes, huge lines, absurd nesting."""
    def refuse(message: str, line: int):
        raise Refused(message, (filename, line, 1, ""))

    if len(code) <= MAX_BRACKETS and "\0" not in code:  # too short to nest too deeply: one line of a paste
        return
    if "\0" in code:
        refuse("the code contains a null character (\\0); paste it as text.", code.count("\n", 0, code.index("\0")) + 1)
    lines = code.split("\n")
    if len(lines) > MAX_LINES:
        refuse(f"the code has {len(lines):,} lines; the checker reads at most {MAX_LINES:,}. Paste only your "
               "functions.", MAX_LINES + 1)
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    if len(lines[longest]) > MAX_LINE_CHARS:
        refuse(f"line {longest + 1} has {len(lines[longest]):,} characters; the checker reads lines of at most "
               f"{MAX_LINE_CHARS:,}.", longest + 1)
    bare = STRINGS.sub(lambda m: "\n" * m.group().count("\n"), code)  # what nests is outside strings and comments
    words = len(WORD.findall(bare))
    if words > MAX_WORDS:
        refuse(f"the code has {words:,} names and numbers; the checker reads at most {MAX_WORDS:,}. Paste only your "
               "functions.", 1)
    depth, levels = 0, [0]
    for number, line in enumerate(bare.split("\n"), start=1):
        body = line.lstrip()
        if body and depth == 0:
            width = len(line[: len(line) - len(body)].expandtabs(8))
            while width < levels[-1]:
                levels.pop()
            if width > levels[-1]:
                levels.append(width)
            if len(levels) > MAX_BLOCKS:
                refuse(f"line {number} is nested more than {MAX_BLOCKS} blocks deep, more than Python allows.", number)
        opened = sum(body.count(c) for c in "([{")
        if depth + opened > MAX_BRACKETS:
            steps = (1 if c in "([{" else -1 for c in body if c in "()[]{}")
            if max(accumulate(steps, initial=depth)) > MAX_BRACKETS:
                refuse(f"line {number} nests brackets more than {MAX_BRACKETS} deep, more than Python allows. "
                       "Write the expression in steps.", number)
        depth = max(0, depth + opened - sum(body.count(c) for c in ")]}"))


def normalise(text: str) -> tuple:
    """Paste debris removed line by line, the line count kept: (text, notes).

    normalise("print(“hi”)")[0] -> 'print("hi")'
    """
    lines, notes, left = _clean(text)
    if _tabbed(lines):
        notes.append(TABS.format(width=4))
    return "\n".join(_expand_tabs(line, 4) for line in lines), notes + _left_out_notes(left)


def _clean(text: str) -> tuple:
    """(lines, notes, {reason: [line numbers left out]}): typography, quoting, fences, numbers, prompts, tabs."""
    notes, left = [], {}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fixed = text.translate(TYPOGRAPHY)
    if fixed != text:
        notes.append("Replaced curly quotes, non-breaking spaces and similar typography with plain characters.")
    lines = fixed.split("\n")
    for step in (_unquote, _unfence, _unnumber, _unprompt, _untraceback, _repair_docstrings):
        lines = step(lines, notes, left)
    return [line.rstrip() for line in lines], notes, left


def _tabbed(lines: list) -> bool:
    return any("\t" in line[: len(line) - len(line.lstrip())] for line in lines)


def _drop(left: dict, reason: str, number: int) -> str:
    left.setdefault(reason, []).append(number)
    return ""


def _unquote(lines: list, notes: list, left: dict) -> list:
    """An e-mail reply: code quoted with '> ' on every line."""
    filled = [line for line in lines if line.strip()]
    quoted = [line for line in filled if line.startswith(">") and not line.startswith(">>>")]
    if len(quoted) < 3 or 2 * len(quoted) < len(filled):
        return lines
    notes.append("Removed the '> ' quoting of an e-mail reply.")
    return [line[QUOTED.match(line).end():] if line.startswith(">") and not line.startswith(">>>") else line
            for line in lines]


def _unfence(lines: list, notes: list, left: dict) -> list:
    """Markdown fences (```): the code is what sits between them, the words around them are not."""
    fences = sum(len(FENCE.findall(line)) for line in lines)
    if not fences:
        return lines
    inside = False
    if fences % 2:  # one fence lost: the code is on the side of the other that defines something
        first = next(i for i, line in enumerate(lines) if FENCE.search(line))
        inside = bool(DEFINES.search("\n".join(lines[:first]))) and not DEFINES.search("\n".join(lines[first:]))
    out = []
    for number, line in enumerate(lines, start=1):
        pieces, kept, dropped = FENCE.split(line), [], False
        for k, piece in enumerate(pieces):
            if k:
                inside = not inside
                if inside and FENCE_TAG.fullmatch(piece):
                    piece = ""
            if inside:
                kept.append(piece)
            elif piece.strip():
                dropped = True
        out.append("".join(kept))
        if dropped and not "".join(kept).strip():
            _drop(left, "text", number)
    notes.append("Took the code from between the Markdown fences (```).")
    return out


def _unnumber(lines: list, notes: list, left: dict) -> list:
    """Line numbers copied with the code from an editor or a site ('12  dz = ...'): the gutter is removed."""
    filled = [line for line in lines if line.strip()]
    found = [(m, line) for line in filled if (m := NUMBERED.match(line))]
    numbers = [int(m.group(2)) for m, _ in found]
    steps = sum(b == a + 1 for a, b in zip(numbers, numbers[1:]))
    if len(found) < 3 or 5 * len(found) < 4 * len(filled) or 5 * steps < 4 * (len(numbers) - 1):
        return lines
    notes.append("Removed the line numbers copied with the code.")
    code = [(m, line) for m, line in found if line[m.end():].strip()]
    if all(not m.group(1) for m, _ in code):  # numbers flush left ('9  x', '10  x'): the gap after them is fixed
        gap = min((len(line) - m.end() - len(line[m.end():].lstrip()) for m, line in code), default=0)
        return [line[m.end() + gap:] if (m := NUMBERED.match(line)) else line for line in lines]
    column = min((len(line) - len(line[m.end():].lstrip()) for m, line in code), default=0)  # right-aligned: fixed
    return [(line[column:] if line[:column].strip() == m.group(2) + line[m.end(2):m.end()].strip() else
             line[m.end():].lstrip()) if (m := NUMBERED.match(line)) else line for line in lines]


def _unprompt(lines: list, notes: list, left: dict) -> list:
    """>>> and ... prompts, IPython's In [n]: and Out[n]:. What the prompts printed is left out, and so is a
    notebook copy's cell that defines nothing (a test, a print), as the notebook reader does."""
    repl = any(line.startswith(">>>") for line in lines)
    ipython = any(IPY_IN.match(line) for line in lines)
    if not (repl or ipython):
        return lines
    out, printed, cells = [], False, []  # printed: the lines that follow are a prompt's output
    for number, line in enumerate(lines, start=1):
        if repl and (m := REPL_PROMPT.match(line)):
            out.append(line[m.end():])
            printed = True
        elif ipython and (m := IPY_IN.match(line)):
            out.append(line[m.end():])
            printed = False
            cells.append(len(out) - 1)
        elif ipython and (m := IPY_MORE.match(line)):
            out.append(line[m.end():])
        elif ipython and IPY_OUT.match(line):
            out.append(_drop(left, "output", number))
            printed = True
        elif printed and line.strip():
            out.append(_drop(left, "output", number))
        else:  # a blank line ends what a >>> prompt printed; an Out[n]: lasts until the next In [n]:
            out.append(line)
            printed = printed and ipython
    for start, end in zip(cells, cells[1:] + [len(out)]):
        if not DEFINES.search("\n".join(out[start:end])):
            out[start:end] = [_drop(left, "cell", i + 1) if row.strip() else row
                              for i, row in enumerate(out[start:end], start)]
    notes.append("Removed the >>> prompts." if repl else "Removed the In [n]: prompts of a notebook copy.")
    return out


def _untraceback(lines: list, notes: list, left: dict) -> list:
    """A traceback pasted after the code, down to its last line ('ValueError: ...')."""
    out, inside = [], False
    for number, line in enumerate(lines, start=1):
        if TRACEBACK.search(line):
            inside = True
        elif inside and (DEFINES.match(line) and not line[:1].isspace()):
            inside = False
        if inside:
            out.append(_drop(left, "traceback", number))
            inside = not (EXCEPTION_LINE.match(line.strip()) and not TRACEBACK.search(line))
        else:
            out.append(line)
    return out


def _repair_docstrings(lines: list, notes: list, left: dict) -> list:
    """Docstring quotes a forum mangled: “”" or ”” at the start, "" or """" at the end, all made triple."""
    out, header, delimiter, repaired = [], False, None, []
    for number, line in enumerate(lines, start=1):
        body = line.strip()
        indent, run, text, close = _quote_runs(line)
        if delimiter is not None:  # inside a docstring whose opening was repaired or seen
            if run and not text and not close:
                fixed, delimiter = indent + delimiter, None
            elif len(tail := body[len(body.rstrip("\"'")):]) >= 2:
                fixed, delimiter = line.rstrip()[: -len(tail)] + delimiter, None
            elif delimiter in line:
                fixed, delimiter = line, None
            else:
                fixed = line
        elif header and body:
            header, fixed = False, line
            if run and (not _is_string(body) or body in ('""', "''")):  # "" alone: what is left of “”"
                quote = '"""' if '"' in run else "'''"
                if close and (text or len(close) >= 2):  # a one-line docstring
                    fixed = indent + quote + text + quote
                elif not (len(run) == 1 and text):  # a lone " starting prose is not a docstring
                    fixed, delimiter = indent + quote + text + close, quote
            elif len(run) == 3 and not close:
                delimiter = run
        else:
            header = header if not body else bool(re.match(r"(async\s+)?(def|class)\s", body)) and _opens_block(body)
            fixed = line
        if fixed != line:
            repaired.append(number)
        out.append(fixed)
    if repaired:
        notes.append(f"Repaired mangled docstring quotes (such as “”\" or \"\") on {_lines(repaired)}.")
    return out


def _quote_runs(line: str) -> tuple:
    """(indent, opening quotes, text, closing quotes) of a line that starts with 1 to 5 quotes; else all ''.

    _quote_runs('    ""Doc.""') -> ('    ', '""', 'Doc.', '""')
    """
    body = line.strip()
    opening = len(body) - len(body.lstrip("\"'"))
    if not 0 < opening <= 5:
        return "", "", "", ""
    rest = body[opening:]
    closing = len(rest) - len(rest.rstrip("\"'"))
    closing = closing if closing <= 5 else 0
    indent = line[: len(line) - len(line.lstrip())]
    return indent, body[:opening], rest[: len(rest) - closing], rest[len(rest) - closing:]


def _is_string(body: str) -> bool:
    try:
        tree = parse(body)
    except SyntaxError:
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)


def _expand_tabs(line: str, width: int) -> str:
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].expandtabs(width) + body


def _lines(numbers: list) -> str:
    """'line 3', 'lines 1-2, 5 and 40-41' for sorted 1-based line numbers."""
    spans = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    words = [f"{a}" if a == b else f"{a}-{b}" for a, b in spans]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return ("line " if len(numbers) == 1 else "lines ") + listed


def _left_out_notes(left: dict) -> list:
    return [f"Left out {_lines(sorted(left[why]))} {words}." for why, words in LEFT_OUT.items() if left.get(why)]


def _spans(left: dict) -> tuple:
    """(first, last, why) for each run of lines left out for one reason, in line order."""
    spans = []
    for why in LEFT_OUT:
        for n in sorted(left.get(why, ())):
            if spans and spans[-1][2] == why and spans[-1][1] == n - 1:
                spans[-1][1] = n
            else:
                spans.append([n, n, why])
    return tuple(sorted(tuple(s) for s in spans))


def prose_lines(lines: list) -> list:
    """The 0-based indices of the lines that are words, not code: the prose of a forum post around its code.

    A line is code when it parses (a block opener with a body added), when it has the shape of code that
    Python will reject with a message of its own (`def f(x)`, `print x`, `dz = (1 - a`), or when it sits
    inside a triple-quoted string or a bracket opened by code. A line that parses only by accident
    ('Thanks', 'Edit: solved', a printed `(3, 10)`) is code only between two code lines.
    prose_lines(["Here's my code:", "def f():", "return 1"]) -> [0]
    """
    labels, i, delimiter = [None] * len(lines), 0, None
    while i < len(lines):
        body = lines[i].strip()
        group = 1
        if delimiter is not None:
            labels[i] = "code"
        elif not body:
            pass
        elif body.startswith("#") or _open_triple(body, None) is not None:  # a comment, or a docstring begins
            labels[i] = "code"
        elif (tree := _parse_line(body)) is not None:
            labels[i] = "weak" if _accidental(tree) else "code"
        elif NUMPY_PRINT.search(body):
            labels[i] = "text"
        elif CODE_SHAPE.match(body):
            group = _statement_length(lines, i, len(lines))
            labels[i : i + group] = ["code"] * group
        elif (group := _statement_length(lines, i, 20)) > 1 and _parse_line("\n".join(lines[i : i + group])):
            labels[i : i + group] = ["code"] * group
        else:
            group, labels[i] = 1, "text"
        for row in lines[i : i + group]:
            if labels[i] == "code":
                delimiter = _open_triple(row, delimiter)
        i += group
    strong = [n for n, label in enumerate(labels) if label in ("code", "text")]
    before, after, k = {}, {}, 0
    for n, label in enumerate(labels):
        while k < len(strong) and strong[k] < n:
            k += 1
        if label == "weak":
            before[n] = labels[strong[k - 1]] if k else None
            after[n] = labels[strong[k]] if k < len(strong) else None
    return [n for n, label in enumerate(labels)
            if label == "text" or (label == "weak" and not (before[n] == after[n] == "code"))]


def _parse_line(text: str) -> ast.Module | None:
    """The line's tree, with `pass` as the body of a block it opens; None when it does not parse."""
    for candidate in (text + "\n pass", text) if text.rstrip().endswith(":") else (text,):
        try:
            return parse(candidate)
        except SyntaxError:
            pass
    return None


def _accidental(tree: ast.Module) -> bool:
    """True for a line that is code only by accident: names, numbers and operators, or a bare annotation."""
    if len(tree.body) != 1:
        return False
    node = tree.body[0]
    if isinstance(node, ast.AnnAssign):
        return node.value is None
    calls = (ast.Call, ast.Attribute, ast.Subscript, ast.Lambda, ast.JoinedStr, ast.Await, ast.Yield, ast.NamedExpr)
    return isinstance(node, ast.Expr) and not any(
        isinstance(n, calls) or (isinstance(n, ast.Constant) and isinstance(n.value, str)) for n in ast.walk(node))


def _statement_length(lines: list, start: int, most: int) -> int:
    """How many lines the statement starting at `start` spans: while brackets are open or a line ends in \\."""
    depth, n = 0, start
    while n < min(len(lines), start + most):
        depth += _bracket_balance(lines[n])
        n += 1
        if depth <= 0 and not lines[n - 1].rstrip().endswith("\\"):
            break
    return n - start


def _open_triple(line: str, delimiter: str | None) -> str | None:
    """The triple quote still open at the end of the line, given the one open at its start."""
    if delimiter is not None:
        end = line.find(delimiter)
        if end < 0:
            return delimiter
        line = line[end + 3:]
    for m in STRINGS.finditer(line):
        token = m.group()
        if token[:3] in ('"""', "'''") and (len(token) < 6 or not token.endswith(token[:3])):
            return token[:3]
    return None


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


def reindent(code: str) -> str | None:
    """Best-effort indentation for code that lost it, using the shape of the course's functions.

    A `def` starts at column 0; a line ending in ':' opens a block; else/elif/except close one;
    a line the course writes after its loop (return, da0 = ..., caches = (...)) goes back to
    function level. Lines inside open brackets are continuation lines. The student confirms it.
    None when the blocks would nest deeper than Python allows: the result stays linear in the input.
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
                if depth >= MAX_BLOCKS:
                    return None
        brackets = max(0, brackets + _bracket_balance(line))
    return "\n".join(out)


def _bracket_balance(line: str) -> int:
    code = STRINGS.sub("", line)
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def problem_of(code: str) -> Problem | None:
    """A syntax or indentation error, or None when the code parses. Parsing never runs the code."""
    return _parsed(code)[1]


def _parsed(code: str) -> tuple:
    """(tree, None, False), or (None, the problem, True when the code was refused as absurd rather than wrong)."""
    try:
        return parse(code), None, False
    except Refused as e:
        return None, Problem("syntax", e.msg, e.lineno), True
    except IndentationError as e:  # a subclass of SyntaxError: test it first
        return None, Problem("indentation", f"IndentationError: {e.msg}", e.lineno), False
    except SyntaxError as e:
        return None, Problem("syntax", f"SyntaxError: {e.msg}", e.lineno), False


def defined_functions(code: str | ast.Module) -> tuple:
    """The course functions the code (or its tree) defines at top level, in course order."""
    names = set()
    for node in (parse(code) if isinstance(code, str) else code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return tuple(name for name in COURSE_FUNCTIONS + CS231N_STEPS if name in names)


def notation(code: str | ast.Module) -> str:
    """"cs231n" when the code is written for CS231n's rnn_layers.py, told by its signatures; else "course".

    A step function (rnn_step_backward, ...) says it, and so does a forward taking
    (x, h0, Wx, Wh, b) or a backward taking (dh, cache), the homework's bare arrays.
    notation("def rnn_backward(dh, cache):\n    pass") -> 'cs231n'
    """
    for node in (parse(code) if isinstance(code, str) else code).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = [a.arg for a in node.args.posonlyargs + node.args.args]
        if node.name in CS231N_STEPS:
            return "cs231n"
        if node.name in ("rnn_forward", "lstm_forward") and len(args) >= 5:
            return "cs231n"
        backward = node.name in ("rnn_backward", "lstm_backward") and len(args) == 2
        if backward and (args[0] == "dh" or args[1] == "cache"):
            return "cs231n"
    return "course"


def keep_definitions(tree: ast.Module) -> tuple:
    """The module with only what defines things: (tree, number of statements dropped).

    Kept: imports (each wrapped so a missing course helper like `rnn_utils` is skipped),
    def and class, and assignments to plain names without calls (constants, lambdas). Dropped:
    test calls, prints, `np.random.seed(...)`, `if __name__ == ...` blocks, and assignments into
    something (`gradients["dx"][1] = ...`, a pasted expected output). Line numbers are kept.
    """
    body, dropped = [], 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            body.append(node)  # must stay unwrapped, and nothing kept can precede it (a docstring is dropped)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else ", ".join(a.name for a in node.names)
            skipped = ast.Expr(ast.Call(  # __skipped_imports__.append(module): the report lists what was skipped
                ast.Attribute(ast.Name(SKIPPED, ast.Load()), "append", ast.Load()), [ast.Constant(module)], []))
            handler = ast.ExceptHandler(type=ast.Name("ImportError", ast.Load()), name=None, body=[skipped])
            wrapped = ast.Try(body=[node], handlers=[handler], orelse=[], finalbody=[])
            body.append(ast.fix_missing_locations(ast.copy_location(wrapped, node)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _defines_a_name(node):
            body.append(node)
        else:
            dropped += 1
    tree = ast.Module(body=body, type_ignores=[])
    return ast.fix_missing_locations(tree), dropped


def _defines_a_name(node: ast.stmt) -> bool:
    """`EPS = 1e-8` or `f = lambda x: x`: a plain name given a value that calls nothing now."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None or _calls(node.value):
        return False
    return all(isinstance(t, ast.Name) for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))


def _calls(node: ast.AST) -> bool:
    """True when evaluating the expression would call something now (a lambda's body runs later)."""
    if isinstance(node, ast.Lambda):
        return False
    if isinstance(node, ast.Call):
        return True
    return any(_calls(child) for child in ast.iter_child_nodes(node))


def from_text(text: str, reindent_lost: bool = True) -> Source:
    """A pasted or uploaded .py/.txt: paste debris and prose left out, re-indented if the indentation was lost.

    Line N of `code` is line N of the paste; what was left out is blank there and listed in `notes`.
    from_text("Here's my code:\\ndef rnn_backward(da, caches):\\nreturn {}").reindented -> True
    """
    if len(text) > MAX_CHARS:
        return Source(code="", original=text[:MAX_CHARS], error=_too_long(len(text)))
    if text.count("\n") >= MAX_LINES:
        return Source(code="", original=text, error=_too_long(len(text), text.count("\n") + 1))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tree, problem, refused = _parsed(text)
    if problem is None or refused:  # Python as it is is left alone, even with a ``` or a >>> in a string
        return _finish(Source(code=text if tree else "", original=text, error=problem), tree)
    raw, notes, left = _clean(text)
    lines = [_expand_tabs(line, 4) for line in raw]
    code = "\n".join(lines)
    tree, problem, refused = _parsed(code)
    if problem is not None and not refused and (prose := prose_lines(lines)):
        for n in prose:
            lines[n] = _drop(left, "text", n + 1)
        code = "\n".join(lines)
        tree, problem, refused = _parsed(code)
    margin = min((_indent(line) for line in lines if line.strip() and not line.lstrip().startswith("#")), default=0)
    if problem is not None and problem.kind == "indentation" and margin:  # a Markdown code block, indented 4
        lines = [line[margin:] if _indent(line) >= margin else line.lstrip() for line in lines]
        code = "\n".join(lines)
        tree, problem, refused = _parsed(code)
        notes.append(f"Removed the {margin} spaces of indentation that every line had (a Markdown code block).")
    width = 4
    if problem is not None and _tabbed(raw):  # tabs mixed with spaces may have been written 8 columns wide
        wide = "\n".join("" if not lines[n] else _expand_tabs(row, 8) for n, row in enumerate(raw))
        wide_tree, wide_problem, _ = _parsed(wide)
        if wide_problem is None:
            code, tree, problem, width = wide, wide_tree, None, 8
    if _tabbed(raw):
        notes.append(TABS.format(width=width))
    notes += _left_out_notes(left)
    reindented = False
    if problem is not None and problem.kind == "indentation" and lost_indentation(code):
        candidate = reindent(code) if reindent_lost else None
        rebuilt, later, _ = _parsed(candidate) if candidate is not None else (None, problem, False)
        if later is None or (later.kind == "syntax" and _fails_alone(candidate, later)):
            code, tree, problem, reindented = candidate, rebuilt, later, True
            notes.append("The indentation was lost (as happens when code is pasted into a forum). It was "
                         "rebuilt from the code's structure: check that each loop ends where you meant it to.")
        else:
            problem = Problem("indentation", "The indentation was lost, and it could not be rebuilt "
                              f"automatically ({problem.message}). Indent the code again and paste it once more.",
                              problem.line)
    source = Source(code=code, original=text, notes=tuple(notes), reindented=reindented, error=problem,
                    left_out=_spans(left))
    return _finish(source, tree)


def _fails_alone(code: str, problem: Problem) -> bool:
    """True when the line Python complains about is wrong on its own (`print x`), whatever its indentation."""
    rows = code.split("\n")
    return problem.line is not None and 0 < problem.line <= len(rows) and \
        _parse_line(rows[problem.line - 1].strip()) is None


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
        text = "\n".join("" if row.lstrip().startswith(("%", "!")) else row
                         for row in str(cell.get("source", "")).split("\n"))
        if problem_of(text) is not None:  # pasted into the cell from somewhere: curly quotes, prompts
            text = normalise(text)[0]
        if not re.search(r"^\s*(def |import |from \S+ import )", text, re.M):
            continue
        kept.append(text)
        cells.append((number, line))
        line += text.count("\n") + 2
    code = "\n\n".join(kept)
    if len(code) > MAX_CHARS:
        return Source(code="", original=code[:MAX_CHARS], error=_too_long(len(code)))
    notes = (f"Read {len(kept)} code cell(s) with definitions from the notebook; test cells were left out.",)
    tree, problem, _ = _parsed(code)
    return _finish(Source(code=code, original=code, notes=notes, cells=tuple(cells), error=problem), tree)


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


def _too_long(chars: int, lines: int = 0) -> Problem:
    size = f"{lines:,} lines; the checker reads at most {MAX_LINES:,}" if lines else \
        f"{chars:,} characters; the checker reads at most {MAX_CHARS:,}"
    return Problem("syntax", f"the code has {size}. Paste only your functions.", None)


def _finish(source: Source, tree: ast.Module | None = None) -> Source:
    """Fill in the functions found, or the missing-function problem."""
    if source.error is not None:
        return source
    functions = defined_functions(tree if tree is not None else source.code)
    if not functions:
        problem = Problem("missing-function", "no course function found. Define at least one of: "
                          + ", ".join(COURSE_FUNCTIONS) + ", with the course's names (or CS231n's "
                          + ", ".join(CS231N_STEPS) + ").", None)
        return Source(**{**source.__dict__, "error": problem})
    return Source(**{**source.__dict__, "functions": functions})
