"""The course's code as an HTML listing, with the running line lit and a bug's wrong line beside the right one.

    html = listing(inspect.getsource(rnn_backward), marks={loop_line: "now"}, notes={loop_line: "t = 2"})
"""

import html

from .marks import RUNNING

STYLES = {
    "now": "background:#FFF1DB;border-left:4px solid #F58518",  # the loop body running at this step
    "right": "background:#E3F4E1;border-left:4px solid #54A24B",  # the course's line a bug changes
    "wrong": "background:#FDE2E1;border-left:4px solid #E45756",  # the bug's version of that line
    "error": "background:#E45756;color:white;border-left:4px solid #8B0000",  # the line that raised
}
PLAIN = "border-left:4px solid transparent"
MISSING = "# ← a line is missing here"


def code_of(line: str) -> str:
    """The line without indentation and without a trailing `  # comment`."""
    return line.split("  #")[0].strip()


def find(lines: list, snippet: str) -> list:
    """Indices of the lines whose code (comments aside) is one of the snippet's lines, in order."""
    wanted = [code_of(s) for s in snippet.splitlines() if s.strip()]
    return [i for i, line in enumerate(lines) if code_of(line) in wanted]


def without_docstring(lines: list) -> list:
    """A function's source minus its docstring: the code is what a student compares."""
    quotes = [i for i, line in enumerate(lines[:40]) if '"""' in line]
    if not quotes or quotes[0] != 1:
        return lines
    end = quotes[0] if lines[1].count('"""') == 2 else quotes[1]
    return lines[:1] + lines[end + 1:]


def loop_body(lines: list) -> list:
    """Indices of the backward's `for t in …:` line and of the lines inside that loop."""
    heads = [i for i, line in enumerate(lines) if line.strip().startswith("for t in")]
    if not heads:
        return []
    head = heads[0]
    indent = len(lines[head]) - len(lines[head].lstrip())
    body = [head]
    for i in range(head + 1, len(lines)):
        if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent:
            break
        body.append(i)
    return body


def with_bug(lines: list, right: str, wrong: str) -> tuple:
    """(lines with the right line(s) swapped for the wrong one(s), indices of the swapped lines).

    A missing line (wrong == "") becomes a comment saying so, so the gap is visible.
    """
    at = find(lines, right)
    if not at:
        return list(lines), []
    indent = lines[at[0]][: len(lines[at[0]]) - len(lines[at[0]].lstrip())]
    wrong_lines = [indent + w.strip() for w in wrong.splitlines() if w.strip()] or [indent + MISSING]
    if len(wrong_lines) == len(at):
        out = list(lines)
        for i, w in zip(at, wrong_lines):
            out[i] = w
        return out, at
    out = list(lines[: at[0]]) + wrong_lines + [line for i, line in enumerate(lines[at[0]:], at[0]) if i not in at]
    return out, list(range(at[0], at[0] + len(wrong_lines)))


def listing(lines: list, marks: dict | None = None, notes: dict | None = None, title: str = "",
            running: int | None = None, wrap: bool = False) -> str:
    """An HTML <pre> of the lines; marks[i] in STYLES lights line i, notes[i] is shown under it.

    Under line `running` the page's step stylesheet writes which step is running (marks.RUNNING),
    so the listing itself stays the same at every step and the browser need not draw it again.
    wrap: a line too long for the box continues on the next line, indented (values never cut);
    otherwise the box scrolls sideways.
    """
    marks, notes = marks or {}, notes or {}
    rows = []
    space = ("white-space:pre-wrap;overflow-wrap:anywhere;padding-left:2.2em;text-indent:-1.6em" if wrap
             else "padding-left:6px;white-space:pre")
    for i, line in enumerate(lines):
        style = STYLES.get(marks.get(i), PLAIN)
        mark = f' data-mark="{marks[i]}"' if i in marks else ""
        rows.append(f'<div style="{style};{space}"{mark}>{html.escape(line) or " "}</div>')
        if i == running:
            rows.append(f'<div class="{RUNNING}" style="{STYLES["now"]};padding-left:6px;white-space:pre;'
                        f'color:#B25E00;font-style:italic"></div>')
        if i in notes:
            rows.append(
                f'<div style="{PLAIN};padding-left:6px;white-space:pre-wrap;color:#8B0000;font-style:italic"'
                f' data-note="{i}">{html.escape(notes[i])}</div>'
            )
    head = f'<div style="font-weight:600;margin-bottom:4px">{html.escape(title)}</div>' if title else ""
    return (
        f'<div class="bptt-code">{head}<div style="font-family:ui-monospace,Menlo,Consolas,monospace;'
        f'font-size:0.82em;line-height:1.45;overflow-x:auto;border:1px solid #ddd;border-radius:4px;'
        f'padding:6px 0">{"".join(rows)}</div></div>'
    )
