"""No explanation gives the fix away (issue 10, item 6).

Every catalog bug's `title`, `why` and `hint`, and every generated mutant's `description`, is held to one
rule against the pair (wrong line, right line) it explains:

- it must not contain the right line itself, nor its right-hand side;
- it must not contain the corrected expression: compare the wrong and the right line's syntax
  trees, find the smallest parts of the right line that differ from the wrong one, and forbid
  each of them together with every larger expression of the right line that encloses them
  (for `1 - np.tanh(a_next)**2` against `1 - a_next**2` that is `a_next**2`, `1 - a_next**2`,
  `da_next * (1 - a_next**2)`); where the wrong line is missing, the whole right line is the fix.

"Long enough to be the fix" is decided by the tree, not by a character count: a bare variable
or number (`a_next`, `t`, `2`) is too short to give anything away and naming it is how a text
says where the mistake is; anything larger (`Waa.T`, `caches[t]`, `keepdims=True`,
`np.tanh(c_next)`) is the corrected code and is forbidden.

Matching is on tokens, so that it sees through spelling: spaces do not count, `np.`/`numpy.` are
dropped, the unicode minus and dashes are `-`, `²` is `**2`, `^` is `**`, `·` is `@`, case is
ignored; each forbidden expression is also tried with `np.dot(a, b)` spelled `a @ b` and `x**2`
spelled `np.square(x)` or `x * x`. Tokens keep words apart, so "Waa. The" does not contain `Waa.T`.
"""

import ast
import itertools
import re

import pytest

from bptt.catalog import BUGS
from bptt.check.mutants import generated

TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|\*\*|\S")
SPELLINGS = {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00b2": "**2", "^": "**", "\u00b7": "@", "\u00d7": "*"}


def tokens(text: str) -> tuple:
    """Lower-case tokens with numpy's prefix dropped and unicode operators spelled as Python."""
    for char, spelled in SPELLINGS.items():
        text = text.replace(char, spelled)
    out = []
    for token in TOKEN.findall(text.lower()):
        if token == "." and out and out[-1] in ("np", "numpy"):
            out.pop()
            continue
        out.append(token)
    return tuple(out)


def contains(text: tuple, fragment: tuple) -> bool:
    n = len(fragment)
    return any(text[i:i + n] == fragment for i in range(len(text) - n + 1))


class _Dot(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "dot" and len(node.args) == 2:
            return ast.BinOp(node.args[0], ast.MatMult(), node.args[1])
        return node


class _Square(ast.NodeTransformer):
    def __init__(self, spelling: str):
        self.spelling = spelling

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
            if self.spelling == "square":
                return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "square", ast.Load()), [node.left], [])
            return ast.BinOp(node.left, ast.Mult(), node.left)
        return node


def spellings(node: ast.AST) -> set:
    """The expression as written, and with its products and squares spelled the other usual ways."""
    written = ast.unparse(node)
    out = {tokens(written)}
    try:
        ast.parse(written)
    except SyntaxError:
        return out  # an index like `:, :, t` has no other spelling
    for dot, square in itertools.product((False, True), (None, "square", "times")):
        tree = ast.parse(written)
        if dot:
            tree = _Dot().visit(tree)
        if square:
            tree = _Square(square).visit(tree)
        out.add(tokens(ast.unparse(ast.fix_missing_locations(tree))))
    return out


def _statement(line: str) -> ast.stmt:
    line = line.strip()
    return ast.parse(line + " pass" if line.endswith(":") else line).body[0]


def _bare(node: ast.AST) -> bool:
    return isinstance(node, (ast.Name, ast.Constant))


def _differing(wrong: ast.AST, right: ast.AST) -> list:
    """The smallest nodes of `right` that differ from `wrong`, plus list items only `right` has."""
    if type(wrong) is not type(right):
        return [right]
    out = []
    for name, value in ast.iter_fields(right):
        if name in ("ctx", "type_comment"):
            continue
        other = getattr(wrong, name, None)
        if isinstance(value, ast.AST):
            if isinstance(value, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
                if type(value) is not type(other):
                    return [right]
                continue
            out += _differing(other, value)
        elif isinstance(value, list):
            if not isinstance(other, list) or len(other) != len(value):
                theirs = {ast.unparse(x) for x in other or [] if isinstance(x, ast.AST)}
                return [right] + [x for x in value if isinstance(x, ast.AST) and ast.unparse(x) not in theirs]
            for a, b in zip(other, value):
                out += _differing(a, b) if isinstance(b, ast.AST) else ([right] if a != b else [])
        elif value != other:
            return [right]
    return out


def forbidden(wrong: str, right: str) -> set:
    """Token sequences a text about this (wrong, right) pair must not contain; see the module docstring."""
    out = set()
    rights = [line for line in right.split("\n") if line.strip()]
    wrongs = [line for line in wrong.split("\n") if line.strip()]
    for k, line in enumerate(rights):
        stmt = _statement(line)
        out.add(tokens(line))
        value = getattr(stmt, "value", None)
        if value is not None and not _bare(value):
            out |= spellings(value)
        if len(wrongs) != len(rights):
            continue  # a line added or taken away: the whole right line is the fix, forbidden above
        parents = {child: parent for parent in ast.walk(stmt) for child in ast.iter_child_nodes(parent)}
        for node in _differing(_statement(wrongs[k]), stmt):
            while node is not None and node is not stmt:
                if not _bare(node) and isinstance(node, (ast.expr, ast.keyword)):
                    out |= spellings(node)
                node = parents.get(node)
    return out


def leaks(text: str, wrong: str, right: str) -> list:
    """The forbidden fragments `text` contains, as strings, for a readable failure."""
    said = tokens(text)
    return sorted(" ".join(f) for f in forbidden(wrong, right) if contains(said, f))


OLD_TANH_TWICE_WHY = (  # the catalog's text before issue 10: it printed the corrected derivative
    "a_next is already tanh(z), so tanh'(z) = 1 - a_next**2. Writing np.tanh(a_next) takes tanh of "
    "a value that is already a tanh, which shrinks it and makes every gradient slightly too large."
)


@pytest.mark.parametrize("text", [
    OLD_TANH_TWICE_WHY,
    "its derivative is 1 \u2212 a_next\u00b2",
    "dz = da_next * (1 - a_next ** 2)",
    "multiply by (1 - np.square(a_next))",
])
def test_the_rule_catches_the_corrected_derivative(text):
    bug = next(b for b in BUGS if b.id == "tanh-twice")
    assert leaks(text, bug.wrong, bug.right)


@pytest.mark.parametrize("text, wrong, right", [
    ("the gradient flows back through Waa.T", "da_prev = np.dot(Waa, dz)", "da_prev = np.dot(Waa.T, dz)"),
    ("use Waa.T @ dz", "da_prev = np.dot(Waa, dz)", "da_prev = np.dot(Waa.T, dz)"),
    ("pass keepdims=True", "dba = np.sum(dz, axis=1)", "dba = np.sum(dz, axis=1, keepdims=True)"),
    ("read caches[t] instead", "g = f(da[:,:,t] + da_prevt, caches[t-1])", "g = f(da[:,:,t] + da_prevt, caches[t])"),
    ("set da0 = da_prevt", "", "da0 = da_prevt"),
])
def test_the_rule_catches_other_fixes(text, wrong, right):
    assert leaks(text, wrong, right)


@pytest.mark.parametrize("text, wrong, right", [
    ("the transpose on Wax is missing in the dxt line", "dxt = np.dot(Wax, dz)", "dxt = np.dot(Wax.T, dz)"),
    ("a_next is used instead of a_prev", "dWaa = np.dot(dz, a_next.T)", "dWaa = np.dot(dz, a_prev.T)"),
    ("Compare the shape of your dba with Waa. That is all.", "dba = np.sum(dz, axis=1)",
     "dba = np.sum(dz, axis=1, keepdims=True)"),
])
def test_the_rule_lets_a_text_say_where_the_mistake_is(text, wrong, right):
    assert leaks(text, wrong, right) == []


@pytest.mark.parametrize("field", ["title", "why", "hint"])
@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_no_catalog_text_gives_the_fix_away(bug, field):
    assert leaks(getattr(bug, field), bug.wrong, bug.right) == []


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_no_mutant_description_gives_the_fix_away(cell):
    leaking = {m.id: leaks(m.description, m.wrong, m.right) for m in generated(cell)}
    assert {k: v for k, v in leaking.items() if v} == {}
