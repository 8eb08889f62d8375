"""Which catalog bugs a submission matches, and where in the student's own code each one sits.

A bug matches when the student's code behaves exactly like the bug's variant (the course's
code with that one mistake) on every probe, and differently from the correct code: same
numbers, or the same exception at the same step. Behaviour is compared, not text, so any
style of writing the same mistake is recognised; text is used only to point at the line.
"""

import ast
import difflib
import re

import numpy as np

from ..trace import differs
from . import compare


def same_run(run, variant, probe, line_text, allow_final: bool = False) -> bool:
    """True when the student's backward run behaves like the variant's traced run on this probe.

    Every step must match: what was handed in, what came back, the running totals. Raising runs
    match on the exception's type and step, and on the quantity the variant's failing line
    computes appearing in the student's failing line (so a shape error at `dba += dbat` is not
    taken for one at `dxt = ...`). With allow_final, returned values may still differ once every
    step matched: a student who forgot to carry da_prevt but returns da0 = gradients["da_prev"]
    has still made exactly the catalog's mistake.
    """
    if variant.error is not None:
        error = run.error
        if error is None or error.get("type") != variant.error.kind or error.get("t") != variant.error.t:
            return False
        return variant.error.quantity in (line_text(error.get("line")) or "")
    if run.error is not None:
        return False
    finding = compare.first_divergence(run, variant, "", probe, lambda error: "")
    return finding is None or (allow_final and finding.scope == "final")


def same_cell(student: list, variant: list, keys: tuple) -> bool:
    """True when the student's cell backward, at every t, returns what the variant's returns under `keys`."""
    if len(student) != len(variant):
        return False
    for got, want in zip(student, variant):
        if isinstance(want, str):  # the variant raised this exception type
            if not isinstance(got, compare.Raised) or got.get("type") != want:
                return False
        elif isinstance(got, compare.Raised) or any(key not in got or differs(got[key], np.asarray(want[key])) for key in keys):
            return False
    return True


def same_arrays(got: dict, want: dict) -> bool:
    return all(key in got and not differs(got[key], want[key]) for key in want)


def locate(bug, code: str) -> tuple:
    """(line, missing): the student's line the bug lives on, or for a missing line the one it belongs after.

    locate(get_bug("tanh-twice"), code) -> (14, False)
    """
    function = _function(code, bug.function)
    if function is None:
        return None, False
    lines = code.split("\n")
    right = bug.right.split("\n")[0].strip()
    if bug.wrong == "":
        return _missing_line_anchor(function, right), True
    wrong = [w.strip() for w in bug.wrong.split("\n")]
    if right.startswith("for "):
        loops = [n for n in ast.walk(function) if isinstance(n, ast.For)]
        return (loops[0].lineno if loops else None), False
    called = re.search(r"(\w+_cell_backward)\(", right)
    if called:
        calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n.func) == called.group(1)]
        if calls:
            return calls[0].lineno, False
    target = re.match(r"\s*(\w+)\s*[+\-*/]?=", right)
    assigned = []
    if target:
        assigned = [n.lineno for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign))
                    and target.group(1) in _targets(n)]
    if assigned:  # the line that assigns what the right line assigns, the most like the wrong line
        return max(assigned, key=lambda n: max(_similarity(lines[n - 1], w) for w in wrong)), False
    body = range(function.lineno + 1, min(function.end_lineno or function.lineno, len(lines)) + 1)
    score, line = max(((max(_similarity(lines[n - 1], w) for w in wrong), n) for n in body), default=(0.0, None))
    return (line if score > 0.6 else None), False


def _function(code: str, name: str):
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _missing_line_anchor(function, right: str) -> int | None:
    """Where a missing line belongs: after the cell call for a carried gradient, after the loop otherwise."""
    loops = [n for n in ast.walk(function) if isinstance(n, ast.For)]
    if "gradients[" in right:
        calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n.func).endswith("_cell_backward")]
        return calls[0].lineno if calls else None
    return loops[0].end_lineno if loops else None


def _name(node) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _targets(node) -> set:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = set()
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
    return names


def _similarity(a: str, b: str) -> float:
    """How alike two lines are: as text, or as the set of names and numbers their right-hand sides use.

    The second catches the same mistake under another name: `dtanh = (1 - a_prev ** 2) * da_next`
    against the catalog's `dz = da_next * (1 - a_prev**2)`.
    """
    squash = lambda s: re.sub(r"\s+", "", s.split("#")[0])  # noqa: E731
    tokens = lambda s: set(re.findall(r"[A-Za-z_]\w*|\d+", s.split("#")[0].split("=", 1)[-1]))  # noqa: E731
    text = difflib.SequenceMatcher(None, squash(a), squash(b)).ratio()
    ta, tb = tokens(a), tokens(b)
    return max(text, len(ta & tb) / len(ta | tb) if ta | tb else 0.0)
