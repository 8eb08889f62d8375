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

from ..catalog import Bug
from ..trace import differs
from . import compare

from .source import COURSE_FUNCTIONS, parse  # bounded and thread-safe: the parent never parses a student's code with ast.parse


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
    finding = compare.first_divergence(run, variant, "", probe, lambda error: None)
    return finding is None or (allow_final and finding.scope == "final" and finding.quantity == "da0")


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
    """(line, missing): the student's line that makes the wrong value, or for a missing line the one it belongs after.

    The line is found from what the code does, whatever its spelling: the reset inside the loop,
    the overwrite, the line that computes the quantity; never the call that merely passes it on.
    locate(get_bug("tanh-twice"), code) -> (14, False)
    """
    function = _function(code, bug.function)
    if function is None:
        return None, False
    lines = code.split("\n")
    right = bug.right.split("\n")[0].strip()
    if bug.wrong == "":
        return _missing_line(function, bug.right)
    wrong = [w.strip() for w in bug.wrong.split("\n")]
    if right.startswith("for "):
        loop = _main_loop(function)
        return (loop.lineno if loop else None), False
    if "+=" in right and "=" in wrong[0] and "+=" not in wrong[0]:
        line = _overwrite_anywhere(code, function, re.match(r"\s*(\w+)", right).group(1))
        if line:
            return line, False
    called = re.search(r"(\w+_cell_backward)\(", right)
    if called:
        line = _passing_call(code, function, called.group(1))
        if line:
            return line, False
    target = re.match(r"\s*(\w+)\s*[+\-*/]?=", right)
    if target:
        line = _computing(function, target.group(1), lines, wrong)
        if line:
            return line, False
    return _most_like(function, lines, wrong), False


def locate_mutant(mutant, code: str) -> tuple:
    """(line, missing) for a generated mutant, from its kind and the quantity its changed line computes."""
    function = _function(code, mutant.function)
    if function is None:
        return None, False
    lines = code.split("\n")
    wrong = [w.strip() for w in (mutant.wrong or "").split("\n") if w.strip()]
    loop = _main_loop(function)
    if mutant.kind == "order" or mutant.quantity == "loop":
        return (loop.lineno if loop else None), False
    if mutant.kind == "reset":
        line = _reset_in_loop(function, mutant.quantity)
        if line:
            return line, False
    if mutant.kind == "overwrite":
        line = _overwrite_anywhere(code, function, mutant.quantity)
        if line:
            return line, False
    if mutant.kind in ("reset", "overwrite") and loop is not None:
        end = loop.end_lineno or loop.lineno
        after = [n.lineno for n in _assignments(function, mutant.quantity) if n.lineno > end]
        if after:  # the line that should run at every step, left after the loop: it keeps only the last one
            return after[0], False
    if mutant.kind in ("clip", "scale") and loop is not None and not mutant.function.endswith("cell_backward"):
        line = _after_loop(function, loop, mutant.quantity)
        if line:
            return line, False
    if mutant.kind == "missing-line":
        discarded = [n for n in ast.walk(loop or function) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                     and mutant.quantity in _names_in(n.value)]
        if discarded:  # np.add(dWax, dWaxt) with no out=: the update is written, and its result thrown away
            return min(discarded, key=lambda n: n.lineno).lineno, False
        return _missing_line(function, mutant.right or "")
    line = _computing(function, mutant.quantity, lines, wrong)
    if line:
        return line, False
    return (_most_like(function, lines, wrong) if wrong else None), False


def line_computing(code: str, function_name: str, quantity: str) -> int | None:
    """The student's line in `function_name` that computes the course quantity.

    line_computing(code, "rnn_cell_backward", "dxt") -> 12
    """
    function = _function(code, function_name)
    return None if function is None else _computing(function, quantity, code.split("\n"), [])


def contradicts(mutant, code: str) -> bool:
    """True when the student's code plainly lacks the mistake the mutant describes (a reset, a clip that is not
    there), although it behaves alike: the mutant's words would then be about someone else's code."""
    function = _function(code, mutant.function)
    if function is None:
        return True
    if mutant.kind == "reset":
        return _reset_in_loop(function, mutant.quantity) is None
    if mutant.kind == "clip":
        return not any(isinstance(n, ast.Call) and _name(n.func) in ("clip", "minimum", "maximum")
                       for n in ast.walk(function))
    if mutant.kind == "overwrite":
        return _overwrite_anywhere(code, function, mutant.quantity) is None
    return False


def as_bug(mutant) -> Bug:
    """A generated mutant in the catalog's shape, for the report: its plain description, no corrected line."""
    return Bug(id=mutant.id, cell=mutant.cell, title=mutant.description, function=mutant.function,
               wrong=mutant.wrong, right="", why=f"Your code behaves exactly like the course's code with one change: "
               f"{mutant.description}. This mistake is not in the catalog, so there is no longer explanation.",
               symptom="", hint=f"Look at the line that computes {mutant.quantity} in {mutant.function}.",
               variant=None, wrong_keys=(), first=None)


def _function(code: str, name: str):
    try:
        tree = parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _passing_call(code: str, function, cell: str) -> int | None:
    """The line where the loop hands the cell its arguments: the cell's call, or the call of a helper that calls it."""
    calls = _calls(function, cell)
    helpers = [n for n in ast.walk(function) if isinstance(n, ast.FunctionDef) and n is not function]
    if calls:
        inside = next((h for h in helpers if h.lineno <= calls[0].lineno <= (h.end_lineno or h.lineno)), None)
        if inside is None:
            return calls[0].lineno
        outer = [c for c in _calls(function, inside.name) if not inside.lineno <= c.lineno <= (inside.end_lineno or 0)]
        return (outer or calls)[0].lineno
    tree = parse(code)
    calling = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and _calls(n, cell)}
    via = sorted((n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n.func) in calling),
                 key=lambda n: n.lineno)
    return via[0].lineno if via else None


def _calls(function, name: str) -> list:
    return sorted((n for n in ast.walk(function) if isinstance(n, ast.Call) and _name(n.func) == name),
                  key=lambda n: n.lineno)


def _main_loop(function):
    """The loop that calls the cell, else the first loop of the function."""
    loops = sorted((n for n in ast.walk(function) if isinstance(n, (ast.For, ast.While))), key=lambda n: n.lineno)
    calling = [loop for loop in loops if any(isinstance(n, ast.Call) and _name(n.func).endswith("_cell_backward")
                                             for n in ast.walk(loop))]
    return (calling or loops or [None])[0]


def _is_reset(value) -> bool:
    """np.zeros(...), np.zeros_like(...), 0 or 0.0: a value that throws away what was carried."""
    if isinstance(value, ast.Constant) and value.value == 0:
        return True
    return isinstance(value, ast.Call) and _name(value.func) in ("zeros", "zeros_like", "empty", "empty_like")


def _assignments(node, name: str) -> list:
    return sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                   and name in _targets(n)), key=lambda n: n.lineno)


def _missing_line(function, right: str) -> tuple:
    """A carried gradient or da0 that never gets its value: the reset that throws it away, or where the line belongs."""
    loop = _main_loop(function)
    if "gradients[" in right and loop is not None:
        calls = [n for n in ast.walk(loop) if isinstance(n, ast.Call) and _name(n.func).endswith("_cell_backward")]
        if not calls:
            return None, True
        call = min(calls, key=lambda n: n.lineno)
        carries = [name for name in ('"da_prev"', '"dc_prev"') if name in right]  # da_next is argument 0, dc_next 1
        positions = [('"da_prev"', '"dc_prev"').index(name) for name in carries]
        for position in positions:
            if position >= len(call.args) - 1:
                continue
            for carried in _carried_names(call.args[position]):
                for node in _assignments(loop, carried):
                    if isinstance(node, ast.Assign) and _is_reset(node.value):
                        return node.lineno, False  # reset at every step: the carry line is thrown away
        return call.lineno, True
    if loop is None:
        return None, True
    after = [n for n in ast.walk(function) if isinstance(n, ast.Assign) and "da0" in _targets(n)
             and n.lineno > (loop.end_lineno or loop.lineno) and _is_reset(n.value)]
    if after:
        return after[0].lineno, False
    return loop.end_lineno, True


def _carried_names(arg) -> list:
    """The names in a cell call's argument that carry a gradient: not da itself, not a slice of it."""
    names = []
    for node in ast.walk(arg):
        if isinstance(node, ast.Subscript):
            continue
        if isinstance(node, ast.Name) and node.id != "da" and not any(
                isinstance(p, ast.Subscript) and node in ast.walk(p.value) for p in ast.walk(arg)):
            names.append(node.id)
    return names


def _reset_in_loop(function, quantity: str) -> int | None:
    loop = _main_loop(function)
    if loop is None:
        return None
    resets = [n for n in ast.walk(loop) if isinstance(n, ast.Assign) and _is_reset(n.value)]
    named = [n for n in resets if any(quantity.split("_")[0] in t for t in _targets(n))]
    chosen = named or resets
    return min(chosen, key=lambda n: n.lineno).lineno if chosen else None


def _overwrite_anywhere(code: str, function, quantity: str) -> int | None:
    """The overwrite in the loop, or in a helper of the file that the loop calls."""
    line = _overwrite(_main_loop(function), quantity)
    if line:
        return line
    tree = parse(code)
    called = {_name(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)}
    helpers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in called and n is not function
               and n.name not in COURSE_FUNCTIONS]  # the cell's own lines are no running totals
    return next((line for line in (_overwrite(h, quantity) for h in helpers) if line), None)


def _overwrite(loop, quantity: str) -> int | None:
    """In `loop`, a plain assignment to a running total (a name or a dict entry) that should add."""
    if loop is None:
        return None
    assigns = [n for n in ast.walk(loop) if isinstance(n, ast.Assign) and not _is_reset(n.value)]  # a reset is no overwrite
    for node in sorted(assigns, key=lambda n: n.lineno):
        names = _targets(node)
        if quantity in names and quantity not in _names_in(node.value):
            return node.lineno
        target = node.targets[0]
        plain = isinstance(node.value, (ast.Subscript, ast.Name))  # grads[key] = g[key], no sum
        if isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Tuple) and plain and \
                not _names_in(target.value) & _names_in(node.value):
            return node.lineno
    return None


def _after_loop(function, loop, quantity: str) -> int | None:
    """The first statement after the loop that changes what is returned (a clip, a scale), else the return line."""
    end = loop.end_lineno or loop.lineno
    later = [n for n in function.body if n.lineno > end]
    clips = sorted((n for node in later for n in ast.walk(node) if isinstance(n, ast.Call) and _name(n.func) == "clip"),
                   key=lambda n: n.lineno)
    if clips:
        return clips[0].lineno
    for node in later:
        if isinstance(node, ast.Return):
            return node.lineno if node.value is not None and any(isinstance(n, ast.BinOp) or isinstance(n, ast.Call)
                                                                for n in ast.walk(node.value)) else None
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr)) and (
                quantity in _names_in(node) or any(isinstance(n, ast.Call) and _name(n.func) == "clip"
                                                   for n in ast.walk(node))):
            return node.lineno
    return None


def _computing(function, quantity: str, lines: list, wrong: list) -> int | None:
    """The line that computes `quantity`: assigned under its course name, the value returned under its key, or dz."""
    assigned = [n.lineno for n in _assignments(function, quantity)]
    if assigned:  # the line that assigns what the right line assigns, the most like the wrong line
        return max(assigned, key=lambda n: max((_similarity(lines[n - 1], w) for w in wrong), default=0.0))
    keyed = [n.lineno for n in ast.walk(function) if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and t.slice.value == quantity
        for t in n.targets)]
    if keyed:  # gradients["da_prev"] = ...
        return keyed[-1]
    returned = _returned_value(function, quantity)
    if isinstance(returned, ast.Name):
        assigned = [n.lineno for n in _assignments(function, returned.id)]
        if assigned:
            return assigned[-1]
    elif returned is not None:
        return returned.lineno
    parameters = [a.arg for a in function.args.args]
    first_use = {"dz": parameters[:1], "dc": parameters[1:2] if len(parameters) == 3 else []}.get(quantity)
    if first_use:  # dz (or the LSTM's dc) is the first line that uses the gradient handed in
        uses = [n for n in ast.walk(function) if isinstance(n, ast.Assign) and set(first_use) & _names_in(n.value)]
        if uses:
            return min(uses, key=lambda n: n.lineno).lineno
    return None


def _returned_value(function, key: str):
    """The expression the function returns under `key` (return {"dxt": ...}), or None."""
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and k.value == key:
                    return v
    return None


def _most_like(function, lines: list, wrong: list) -> int | None:
    body = range(function.lineno + 1, min(function.end_lineno or function.lineno, len(lines)) + 1)
    score, line = max(((max(_similarity(lines[n - 1], w) for w in wrong), n) for n in body), default=(0.0, None))
    return line if score > 0.6 else None


def _names_in(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


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
