"""What the "Check your code" page says: a check's facts as plain sentences for a student. Pure: no streamlit.

    headline({"kind": "runtime", "message": "NameError: name 'Wax' is not defined", "line": 5})
    # ('Your code uses the name Wax, which it never defines', 'Check its spelling, or ...')

Every sentence follows what actually happened: a NameError is not "a function is missing", a
difference found after the loop does not claim steps that never ran, nothing says "raised" when
nothing raised.
"""

import re
from dataclasses import dataclass

from ..check import sandbox
from ..check.source import MAX_CHARS, MAX_NOTEBOOK_BYTES, Source, from_file, from_text

SCOPES = ("input", "step", "total", "final")  # the report's contract; anything else is not drawn
MAX_UPLOAD_BYTES = 4 * MAX_CHARS  # 200 000 characters are at most 800 000 bytes of UTF-8
FALLBACK = "Your code runs in a separate process with time, memory and output limits, never in this app."
HERE = "  # ← here"
MISSING_HERE = "  # ← the line is missing after this one"

HEADLINES = {  # kind -> (what went wrong, what to do)
    "syntax": ("Python cannot read this code",
               "Fix the line shown below and check again. Prose pasted with the code, or a Python 2 line such as "
               "`print x`, gives this error too."),
    "indentation": ("The indentation is broken",
                    "Indent the code as it is in your notebook (4 spaces per level) and paste it again."),
    "missing-function": ("No course function found",
                         "Paste or upload code that defines rnn_backward, lstm_backward or another course function, "
                         "spelled as in the course."),
    "runtime": ("Your code raised an error",
                "Read the message and the line below: this is where your function stopped when the checker called it."),
    "shape": ("The shapes do not fit",
              "Compare the shapes of the arrays on the line shown with the course's shape comments, such as (n_a, m)."),
    "output": ("Your code returned something the checker cannot use",
               "Return the dictionary of gradients the course asks for, with every key it names."),
    "timeout": ("Your code ran too long",
                "Look for a loop that never ends, or one that runs far more than T_x times."),
    "memory": ("Your code used too much memory",
               "Look for an array far larger than the course's shapes, such as np.zeros with a wrong size."),
    "busy": ("The checker is busy", "Many students are checking their code right now. Press the button again "
             "in a minute: your code is still here."),
    "checker": ("The checker itself failed", "This says nothing about your code. Press the button again; if it "
                "happens again, please report it with your code."),
}
UNKNOWN = ("Your code could not be checked", "Read the message below, fix what it names and check again.")
NAME_ADVICE = ("Check its spelling, or give it a value inside this function before the line shown: the checker runs "
               "your functions alone, without the variables of the notebook's other cells.")
TERMS = {  # a blame's term in words; other terms are named as the course names them
    "dz": "dz (the tanh derivative)", "dtanh": "dtanh (the tanh derivative)",
    "total": "running total of the weight gradients",
}
BLAMED = ("The mistake is in", *(f"Your {cell}_{part}_backward is right alone" for cell in ("rnn", "lstm")
                                  for part in ("cell", "step")))
AFTER_LOOP = ("after-loop", "after the loop", "after", "final")  # blame terms for a change made after the loop


def missing_name(message: str) -> str | None:
    """The undefined name of a NameError message. missing_name("name 'Wax' is not defined") -> 'Wax'"""
    found = re.search(r"name '([^']{1,80})' is not defined", message)
    return found.group(1) if found else None


def headline(error: dict) -> tuple:
    """(what went wrong, what to do) for a report's error, by what really happened."""
    message = str(error.get("message", ""))
    name = missing_name(message)
    if name is not None:  # a name, not a course function, whatever kind the engine gave it
        return f"Your code uses the name {name}, which it never defines", NAME_ADVICE
    return HEADLINES.get(str(error.get("kind")), UNKNOWN)


def match_label(ok: bool) -> str:
    """A table cell that reads without an emoji font: a Material icon, a word, a colour."""
    return ":green[:material/check: matches]" if ok else ":red[:material/close: differs]"


def cell_of(function: str, notation: str = "course") -> str:
    """The cell a backward calls, as the notation's homework names it.

    cell_of("rnn_backward") -> 'rnn_cell_backward';  cell_of("rnn_backward", "cs231n") -> 'rnn_step_backward'
    """
    if "cell" in function or "_step_" in function:
        return function
    middle = "_step" if notation == "cs231n" else "_cell"
    return function.replace("_backward", f"{middle}_backward").replace("_forward", f"{middle}_forward")


def notation_of(report) -> str:
    """Whose homework the checked code follows: the report's finding says "cs231n" for CS231n's functions."""
    detail = getattr(getattr(report, "divergence", None), "detail", None) or {}
    return "cs231n" if detail.get("notation") == "cs231n" else "course"


def _number(value) -> str:
    return f" (largest difference {value:.3g})" if isinstance(value, (int, float)) and value == value else ""


def first_difference(d, steps_ran: bool | None = None) -> str | None:
    """One sentence on where a run first departs, or None for a finding outside the report's contract.

    steps_ran: whether the student's loop called its cell at all on that input (None: not known).
    """
    if d is None or d.scope not in SCOPES:
        return None
    probe, q, function, t = d.probe, d.quantity, d.function, d.t
    detail = d.detail or {}
    notation = "cs231n" if detail.get("notation") == "cs231n" else "course"
    where = f"on the {probe.name} input ({probe.sizes})"
    cell = cell_of(function, notation)
    length = "T" if notation == "cs231n" else "T_x"
    at = f"At t = {t} ({length} = {probe.T_x}; the loop runs t = {probe.T_x - 1} down to 0), {where}" \
        if t is not None else where[0].upper() + where[1:]
    error = _number(d.max_abs_error)
    if detail.get("missing_step"):
        return f"{at}: your loop never ran this step."
    if detail.get("missing"):
        return f"{at}: {function} does not return {q}."
    if detail.get("raised"):
        return f"{at}: your code raised an error here, before it gave {q} (the error is above)."
    if detail.get("via_caches"):
        return (f"{at}: the reference backward, run on the caches your {function} built, gives a different {q}: "
                "your forward's outputs are right but its caches are not.")
    if d.scope == "input":
        return f"{at}: what your loop hands to {cell} as {q} differs from the reference{error}."
    if d.scope == "step" and t is None:
        return f"{function} on its own, {where}: the {q} it returns differs from the reference{error}."
    if d.scope == "step":
        return f"{at}: the {q} that {cell} returns differs from the reference{error}."
    if d.scope == "total":
        return f"{at}: your loop's running total {q} after this step differs from the reference{error}."
    if t is not None:
        return f"{at}: the {q} that {function} returns differs from the reference{error}."
    if steps_ran:
        return (f"{at}: every step inside your loop matched, but the {q} that {function} returns differs{error}: "
                "look at what happens after the loop.")
    if steps_ran is False:
        return f"{at}: your {function} never called {cell}, and the {q} it returns differs from the reference{error}."
    return f"{at}: the {q} that {function} returns differs from the reference{error}."


def blame_sentence(blame: dict | None, notation: str = "course") -> str | None:
    """Where the mistake lives, in one sentence (the cell named as the notation's homework names it), or None
    when the report does not say.

    blame_sentence({"part": "loop", "function": "rnn_backward", "t": 3, "term": "da_next"})
    # 'The mistake is in your loop (rnn_backward), not in rnn_cell_backward: at t = 3, the da_next it builds is wrong.'
    """
    if not isinstance(blame, dict) or blame.get("part") not in ("cell", "loop", "forward"):
        return None
    part, function, t, term = blame["part"], str(blame.get("function") or ""), blame.get("t"), blame.get("term")
    if part == "loop":
        loop = function if function and "cell" not in function else ""
        head = (f"The mistake is in your loop{f' ({loop})' if loop else ''}, not in "
                f"{cell_of(loop, notation) if loop else 'the cell'}")
    elif part == "cell":
        head = f"The mistake is in {cell_of(function, notation) if function else 'your cell'}, not in your loop"
    else:
        head = f"The mistake is in your forward{f' ({function})' if function else ''}, not in the backward"
    parts = [f"at t = {t}"] if isinstance(t, int) and not isinstance(t, bool) else []
    if term and str(term) in AFTER_LOOP:
        parts.append("look at what happens after the loop")
    elif term:
        parts.append(f"the {TERMS.get(str(term), str(term))} it {'builds' if part == 'loop' else 'computes'} is wrong")
    return f"{head}: {', '.join(parts)}." if parts else f"{head}."


def sentences(report) -> list:
    """The report's summary for the verdict box: the blame added when the summary does not say it already,
    and a sentence that only restates the error's message left out (the box shows the message itself)."""
    summary = [str(s).strip() for s in report.summary if str(s).strip()]
    if report.error is not None:
        message = str(report.error.get("message", "")).lower()
        summary = [s for s in summary if s.split(": ", 1)[-1].rstrip(".").lower() not in message]
    blame = blame_sentence(report.blame, notation_of(report))
    if blame and not any(s.startswith(BLAMED) for s in summary):
        summary.append(blame)
    return summary


def numbered(code: str, marks: dict, lo: int = 1, hi: int | None = None) -> str:
    """Lines lo..hi of the code, each led by its number as in the report; a marked line (line -> missing?)
    has '>' in the gutter, which stays in view when a long line is cut at the box's edge, and '# ← here' after it.

    Numbers are left-aligned so that no row starts with a space: st.code strips the text it is given.
    numbered("a = 1\nb = 2", {2: False}) -> '1 | a = 1\n2 > b = 2  # ← here'
    """
    lines = code.split("\n")
    hi = len(lines) if hi is None else min(hi, len(lines))
    width = len(str(hi))
    rows = []
    for n in range(max(1, lo), hi + 1):
        mark = marks.get(n)
        tail = "" if mark is None else MISSING_HERE if mark else HERE
        rows.append(f"{n:<{width}} {'|' if mark is None else '>'} {lines[n - 1]}{tail}")
    return "\n".join(rows)


def snippet(code: str, line: int, around: int = 2, missing: bool = False) -> str:
    """The few lines around `line`, numbered and marked as in `numbered`."""
    return numbered(code, {line: missing}, line - around, line + around)


def changed(source: Source) -> bool:
    """True when the code that ran is not what was pasted, line endings and trailing spaces aside."""
    plain = "\n".join(row.rstrip() for row in source.original.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return bool(source.code) and (plain.strip("\n") != source.code.strip("\n") or bool(source.notes))


@dataclass(frozen=True)
class Submission:
    """What the student handed in, read: a Source to check, or a problem that stops it; and what was read."""

    source: Source | None
    problem: str | None = None  # why there is nothing to check, in words
    notes: tuple = ()  # what the page did to read it
    label: str = "your pasted code"


def read_upload(name: str, data: bytes) -> Submission:
    """An uploaded file, whatever a client sends: empty, huge, binary or not UTF-8 gets a message."""
    label = f"the file {name[-80:]}"
    if not isinstance(data, (bytes, bytearray)) or not data.strip():
        return Submission(None, f"{label} is empty. Save your notebook or file, then upload it again.", label=label)
    limit = MAX_NOTEBOOK_BYTES if name.lower().endswith(".ipynb") else MAX_UPLOAD_BYTES
    if len(data) > limit:
        return Submission(None, f"{label} is {len(data):,} bytes; the checker reads at most {limit:,}. Upload only "
                          "your functions (for a notebook: Edit > Clear All Outputs, then save).", label=label)
    notes = ()
    if not name.lower().endswith(".ipynb"):
        if b"\x00" in data:
            return Submission(None, f"{label} is not text (it holds binary data). Upload the .py, .txt or .ipynb "
                              "file itself, or paste your code.", label=label)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            notes = ("Your file is not UTF-8 text, so it was read as Latin-1: accented letters in comments may look "
                     "odd, the code is checked as usual.",)
    return Submission(from_file(name, bytes(data)), notes=notes, label=label)


def read_paste(text) -> Submission:
    """The text box's value, whatever a client sends: only a non-empty string is code to check."""
    if not isinstance(text, str) or not text.strip():
        return Submission(None, "There is nothing to check yet: paste your code into the box, or upload a file.")
    return Submission(from_text(text))


def isolation() -> tuple:
    """(one quiet line, the whole description) of how the student's code is kept apart, from the sandbox.

    isolation()[0] -> 'Each check runs in its own bubblewrap sandbox.'
    """
    describe = getattr(sandbox, "isolation", None)
    try:
        said = describe() if callable(describe) else None
    except Exception:  # a probe of the system failed: fall back to what always holds
        said = None
    text = said if isinstance(said, str) else getattr(said, "description", None)
    if not isinstance(text, str) or not text.strip():
        return FALLBACK, FALLBACK
    text = " ".join(text.split())
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
    line = next((s for s in sentences if s.startswith("Each check")), sentences[0])
    return line.split(": ", 1)[0].rstrip(".") + ".", text  # what the layer is; what it lets through, on hover
