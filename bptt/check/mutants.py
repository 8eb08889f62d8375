"""Mutants of the course's backward: the reference code with one small mistake, made by transforms of its AST.

The source of rnn_cell_backward / rnn_backward (bptt/rnn.py) and lstm_cell_backward /
lstm_backward (bptt/lstm.py) is parsed, and every transform below is applied at every site it
fits: a dropped term or factor, a missing or extra transpose, a wrong axis or a missing keepdims,
swapped arguments, an off-by-one time index or loop range, a wrong sign, a mixed-up variable, a
missing line, a reset or an overwrite inside the loop, a clip or a scale after it (or on one of
the cell's returned lines). The changed source is compiled in a private namespace: our own
generated code, never a student's.

- `mutants_for(cell)`: the kept ones. Mutants that behave like the reference on every probe are
  dropped, mutants of one function that behave alike are merged (`same_as`), and a mutant that
  behaves like a catalog bug carries its id (`catalog_id`), so that the catalog bug is named instead.
- `nearest` / `matches`: which mutants return exactly what the student's backward returned, on
  every probe, to round-off; None (or nothing) rather than a guess. `nearest_cell` does the same
  for the cell alone. They search every generated mutant and need no filtered list, so a check
  pays only for compiling them and one run each on the first probe.

    nearest("rnn", returned_on_each_probe, probes_for("rnn")).description
    # 'a_next is used instead of a_prev in the dWaa line of rnn_cell_backward'
"""

import ast
import inspect
import math
import re
import threading
import types
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from .. import lstm, rnn
from ..catalog import bugs_for
from .probes import Probe, probes_for
from .source import parse  # bounded and thread-safe, as everywhere in the parent

SOURCES = {"rnn": rnn, "lstm": lstm}
FUNCTIONS = {"rnn": ("rnn_cell_backward", "rnn_backward"), "lstm": ("lstm_cell_backward", "lstm_backward")}

# The order in which equally good matches are named: the simplest kind of mistake first.
KINDS = ("transpose", "swapped-args", "wrong-variable", "sign", "power", "activation", "dropped-term",
         "dropped-factor", "keepdims", "axis", "slice", "off-by-one", "order", "overwrite", "missing-line",
         "reset", "scale", "clip")

# Variables a student mixes up: same shape, same place in the code, one letter or one word apart.
CONFUSABLE = {
    "rnn": ({"a_next", "a_prev"}, {"dz", "da_next"}, {"Wax", "Waa"}),
    "lstm": ({"a_next", "a_prev"}, {"c_next", "c_prev"}, {"ft", "it", "cct", "ot"},
             {"dft", "dit", "dcct", "dot"}, {"dc", "dc_next"}, {"Wf", "Wi", "Wc", "Wo"}),
}

SCALES = (("/", "m", "divided by m"), ("*", "0.5", "halved"), ("/", "T_x", "divided by T_x"))  # means, a stray 1/2
CLIPS = (5, 1)  # the course's later clip(gradients, maxValue=5), and a tighter one
RTOL = 1e-9  # two spellings of the same arithmetic differ by ~1e-15 relative
ATOL = 1e-12  # the floor for entries near zero, added to RTOL times the array's largest entry
SHAPE_ERRORS = ("ValueError", "IndexError")  # what a student sees from a shape or an index mistake
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_GENERATING = threading.RLock()  # two checks at once wait for one generation instead of doing it twice


@dataclass(frozen=True)
class Raised:
    """What a mutant raised on one probe: the student would see exactly this."""

    type: str  # "ValueError"
    message: str  # numpy's message, with the shapes in it


@dataclass(frozen=True, eq=False)
class Mutant:
    """The course's backward with one change, runnable."""

    id: str  # stable: "rnn_cell_backward/dxt/no-transpose-Wax"
    cell: str  # "rnn" or "lstm"
    function: str  # the course function the change is in
    quantity: str  # the course quantity the changed line computes: dz, dxt, da_next, dWax, da0, loop, ...
    kind: str  # one of KINDS
    description: str  # plain words naming the mistake, never the corrected line
    backward: Callable  # backward(da, caches) -> dict: the whole course backward with this change
    cell_backward: Callable | None  # the changed cell, for mutants inside the cell; None for the loop's
    line: int  # the line of bptt/rnn.py or bptt/lstm.py the change is on
    wrong: str  # the changed line(s) as the mutant writes them; "" when a line is only deleted
    right: str  # the same line(s) in the reference, exactly; "" when a line is only added
    catalog_id: str | None = None  # the catalog bug that behaves exactly like this mutant on every probe
    same_as: tuple = field(default=())  # ids of mutants of the same function that behave identically
    quantities: tuple = ()  # every quantity a change of several lines touches (quantity is the first), else ()

    @property
    def raises(self) -> tuple:
        """(probe name, Raised) for each probe of probes_for(cell) on which this mutant raises."""
        return tuple((p.name, out) for p in probes_for(self.cell) if isinstance(out := _outputs(self, p), Raised))


@dataclass(frozen=True)
class _Change:
    """A mutant before compiling: which function, which text edits, and how to say it."""

    function: str
    kind: str
    quantity: str
    label: str  # the last part of the id
    description: str
    edits: tuple  # (line, col, end_line, end_col, text) in the module's source; col in UTF-8 bytes
    line: int
    statement: ast.stmt | None = None  # an expression change: the statement whose value it rewrites
    hook: tuple | None = None  # a statement change run without recompiling: (site, targets, values), see _Maker
    quantities: tuple = ()  # every quantity a change of several lines touches; quantity is the first


def mutants_for(cell: str) -> tuple:
    """Every kept mutant of one cell type, simplest first. Generated once per process (a few tenths of a second).

    next(m.id for m in mutants_for("rnn") if m.catalog_id == "dwaa-transposed")
    # 'rnn_cell_backward/dWaa/transposed-product-dz-a_prev'
    """
    return _ranked(cell, FUNCTIONS[cell])


def generated(cell: str) -> tuple:
    """Every mutant the transforms make, before the probes drop or merge any: what nearest() searches.

    len(generated("rnn")) >= len(mutants_for("rnn")) -> True
    """
    return _ranked(cell, FUNCTIONS[cell], built=True)


def _ranked(cell: str, functions, built: bool = False) -> tuple:
    """Mutants of some of the cell's functions, simplest first: the kept ones, or (built) every one as compiled.

    nearest() needs no filtering, so it searches every built mutant: one that matches a student who
    differs from the reference differs from it too, and the first match in this order is the one a
    merge keeps. A probe mutants_for never saw (one drawn for the check) may even tell apart two
    mutants it merged, and then the one that really matches is named.
    """
    with _GENERATING:
        found = [m for f in FUNCTIONS[cell] if f in functions for m in (_built if built else _mutants)(cell, f)]
    return tuple(sorted(found, key=lambda m: (KINDS.index(m.kind), m.line)))  # stable: each function's own order


def _named(cell: str, mutant: Mutant) -> Mutant:
    """The mutant as mutants_for() keeps it, when it is there; else with its catalog id worked out now."""
    kept = next((m for m in _KEPT.get((cell, mutant.function), ()) if m.id == mutant.id), None)
    if kept is not None:
        return kept
    with _GENERATING:
        if mutant.id not in _NAMED:
            _NAMED[mutant.id] = _with(mutant, catalog_id=_catalog(cell).match(mutant))
        return _NAMED[mutant.id]


def warm(cells=("rnn", "lstm")) -> threading.Thread:
    """Generate the mutants in a background thread, e.g. while the submission runs in its child process.

    warm(["rnn"]).join()
    """
    thread = threading.Thread(target=lambda: [mutants_for(cell) for cell in cells], name="mutants", daemon=True)
    thread.start()
    return thread


def nearest(cell: str, returned: list, probes, exclude=()) -> Mutant | None:
    """The simplest mutant whose returned gradients equal the student's on every probe, or None.

    returned[i] is the dict the student's backward returned on probes[i] (handed probes[i].da and
    the reference forward's caches), None where it raised. A None matches only a mutant that
    raised on that probe too, and at least one probe must match by its numbers: an exception
    alone is no evidence. Mutants whose function is in `exclude` (proved right) are never named.
    nearest("rnn", [rnn_backward(p.da, reference_caches(p)) for p in probes], probes) -> None
    """
    found = matches(cell, returned, probes, exclude)
    return found[0] if found else None


def matches(cell: str, returned: list, probes, exclude=()) -> tuple:
    """Every mutant that behaves exactly like the student on these probes, simplest first (nearest is the first).

    Several can: resetting a total at the top of the loop and overwriting it return the same numbers;
    the caller may pick the one whose changed line looks like the student's code.
    """
    if len(returned) != len(probes) or all(r is None for r in returned):
        return ()
    reference = _maker(cell).reference_mutant
    if all(_agrees(_outputs(reference, p), got) for p, got in zip(probes, returned)):
        return ()  # the reference's own outputs: nothing to name
    candidates = list(_ranked(cell, [f for f in FUNCTIONS[cell] if f not in exclude], built=True))
    for i in _cheap_first(probes, returned):
        got = returned[i]
        summary = _summary(got) if isinstance(got, dict) else None
        candidates = [m for m in candidates if _agrees(_outputs(m, probes[i]), got, summary)]
        if not candidates:
            return ()
    return tuple(_named(cell, m) for m in candidates)


def nearest_cell(cell: str, returned: list, probes) -> Mutant | None:
    """The simplest mutant of the cell whose outputs equal the student's cell's at every t of every probe.

    returned[i][t] is the dict the student's cell returned at step t of probes[i]: the reference
    forward's caches[t] with da[:,:,t] (and dc[:,:,t] for the LSTM) handed in; None where it raised.
    nearest_cell("rnn", [[cell(p.da[:,:,t], reference_caches(p)[0][t]) for t in range(p.T_x)] for p in probes], probes)
    """
    if len(returned) != len(probes) or not any(s is not None for steps in returned if steps for s in steps):
        return None
    if any(steps is None or len(steps) != p.T_x for steps, p in zip(returned, probes)):
        return None
    reference = _maker(cell).reference_mutant
    if all(_agrees(out, got) for p, steps in zip(probes, returned)
           for out, got in zip(_cell_outputs(reference, p), steps)):
        return None  # the reference cell's own outputs
    candidates = list(_ranked(cell, FUNCTIONS[cell][:1], built=True))
    for i in _cheap_first(probes, [None if all(x is None for x in s) else s for s in returned]):
        candidates = [m for m in candidates
                      if all(_agrees(out, got) for out, got in zip(_cell_outputs(m, probes[i]), returned[i]))]
        if not candidates:
            return None
    return _named(cell, candidates[0])


def same_gradients(got: dict, want: dict) -> bool:
    """True when every key of `want` is in `got` with the same shape and equal values to round-off.

    Equal means |got - want| <= ATOL + RTOL * (|want| + max |want|) entry by entry, NaN matching NaN.
    same_gradients({"dba": np.ones((3, 1))}, {"dba": np.ones((3, 1))}) -> True
    """
    for key, w in want.items():
        g = got.get(key)
        if g is None:
            return False
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape:
            return False
        if not w.size:
            continue
        with np.errstate(all="ignore"):
            if not (g != w).any():
                continue  # identical: the common case between two runs of the same arithmetic
            size = np.abs(w)
            scale = np.max(size)
            close = np.abs(g - w) <= ATOL + RTOL * (size + (scale if np.isfinite(scale) else 0.0))
            if not close.all():
                off = ~close
                if not ((np.isnan(g[off]) & np.isnan(w[off])) | (g[off] == w[off])).all():
                    return False
    return True


def reference_caches(probe: Probe) -> tuple:
    """The course forward's caches on the probe: what the student's backward is handed."""
    if probe not in _CACHES:
        if probe.cell == "rnn":
            _CACHES[probe] = rnn.rnn_forward(probe.x, probe.a0, probe.parameters)[2]
        else:
            _CACHES[probe] = lstm.lstm_forward(probe.x, probe.a0, probe.parameters)[3]
    return _CACHES[probe]


# ---- running mutants on probes, cached per probe object (probes are hashed by identity) ----

_CACHES: "weakref.WeakKeyDictionary[Probe, tuple]" = weakref.WeakKeyDictionary()
_OUTPUTS: "weakref.WeakKeyDictionary[Probe, dict]" = weakref.WeakKeyDictionary()
_CELL_OUTPUTS: "weakref.WeakKeyDictionary[Probe, dict]" = weakref.WeakKeyDictionary()


def _outputs(mutant: Mutant, probe: Probe):
    """The mutant's backward on the probe: a dict of gradients, or Raised."""
    done = _OUTPUTS.setdefault(probe, {})
    if mutant.id not in done:
        done[mutant.id] = _run(mutant.backward, probe.da, reference_caches(probe))
    return done[mutant.id]


def _cell_outputs(mutant: Mutant, probe: Probe) -> list:
    """The mutant's cell at every t of the probe, on the reference's caches."""
    done = _CELL_OUTPUTS.setdefault(probe, {})
    if mutant.id not in done:
        caches = reference_caches(probe)[0]
        extra = (lambda t: (probe.dc[:, :, t],)) if probe.cell == "lstm" else (lambda t: ())  # noqa: E731
        done[mutant.id] = [_run(mutant.cell_backward, probe.da[:, :, t], *extra(t), caches[t])
                           for t in range(probe.T_x)]
    return done[mutant.id]


class _Run(dict):
    """What our own code returned, with a summary per key for a quick, never wrong, rejection."""

    __slots__ = ("summary",)

    def __init__(self, returned: dict):
        super().__init__(returned)
        self.summary = _summary(self)


def _summary(returned: dict) -> dict:
    """key -> (shape, sum of |x|, max of |x|); arrays equal to round-off have close sums."""
    out = {}
    with np.errstate(all="ignore"):
        for key, value in returned.items():
            a = np.abs(np.asarray(value, dtype=float))
            out[key] = (a.shape, float(a.sum()), float(a.max()) if a.size else 0.0)
    return out


def _may_match(got: dict, want: dict) -> bool:
    """False only when some key of want certainly differs in got: missing, another shape, or sums too far apart.

    Entry by entry |g - w| <= ATOL + RTOL * (|w| + max|w|), so the sums of |g| and |w| differ by at
    most n * (ATOL + 2 * RTOL * max|w|); NaN and inf fall through to the full comparison.
    """
    for key, (shape, total, top) in want.items():
        if key not in got:
            return False
        g_shape, g_total, _ = got[key]
        if g_shape != shape:
            return False
        n = float(math.prod(shape))
        if np.isfinite(total) and np.isfinite(top) and np.isfinite(g_total) and \
                abs(g_total - total) > n * (ATOL + 3 * RTOL * top) + 1e-300:
            return False
    return True


def _run(function: Callable, *args):
    try:
        with np.errstate(all="ignore"):
            returned = function(*args)
    except Exception as e:  # noqa: BLE001 - our own generated code: what it raises is the symptom
        return Raised(type(e).__name__, str(e))
    return _Run(returned) if isinstance(returned, dict) else Raised("TypeError", "returned no dict")


def _cheap_first(probes, returned: list) -> list:
    """Probe indices in the order to filter by: numbers before exceptions, then cached, then small."""
    def cost(i):
        p = probes[i]
        return (returned[i] is None, p not in _OUTPUTS, _screening_order(p))
    return sorted(range(len(probes)), key=cost)


def _agrees(out, got, got_summary: dict | None = None) -> bool:
    """A mutant's run `out` against what the student returned, `got` (None: it raised)."""
    if got is None:
        return isinstance(out, Raised)
    if not isinstance(out, _Run) or not isinstance(got, dict):
        return False
    summary = got_summary if got_summary is not None else _summary(got)
    return _may_match(summary, out.summary) and same_gradients(got, out)


def _same(a, b) -> bool:
    """Two runs of our own code on one probe behave alike: equal gradients, or the same exception."""
    if isinstance(a, Raised) or isinstance(b, Raised):
        return a == b
    return a.keys() == b.keys() and _may_match(a.summary, b.summary) and same_gradients(a, b)


def _fingerprint(out) -> tuple:
    """A coarse hashable summary: runs that are the same to round-off almost always share it."""
    if isinstance(out, Raised):
        return (out.type, out.message)
    return tuple((key, shape, float(f"{total:.6g}")) for key, (shape, total, _) in sorted(out.summary.items()))


# ---- generating, compiling, filtering ----

_KEPT: dict = {}  # (cell, function) -> the kept mutants, once mutants_for has made them
_NAMED: dict = {}  # id -> a built mutant nearest() named, with its catalog id


@lru_cache(maxsize=4)
def _built(cell: str, function: str) -> tuple:
    """Every mutant of one function, compiled but neither run nor filtered, simplest first."""
    cell_name, loop_name = FUNCTIONS[cell]
    maker = _maker(cell)
    defs = maker.defs
    if function == cell_name:
        changes = list(_expression_changes(cell, defs[cell_name], None)) + list(_slice_changes(defs[cell_name])) + \
            list(_cell_scale_changes(defs[cell_name]))
    else:
        changes = list(_expression_changes(cell, defs[loop_name], cell_name)) + \
            list(_loop_changes(defs[loop_name], cell_name))
    changes.sort(key=lambda c: (KINDS.index(c.kind), c.line))
    seen = set()
    return tuple(m for m in (maker.build(change, seen) for change in changes) if m is not None)


def _mutants(cell: str, function: str) -> tuple:
    """The kept mutants of one function: run on the probes, filtered, merged, matched to the catalog."""
    if (cell, function) not in _KEPT:
        _KEPT[cell, function] = _kept(cell, function)
    return _KEPT[cell, function]


def _kept(cell: str, function: str) -> tuple:
    maker = _maker(cell)
    probes, want = maker.probes, maker.want
    catalog = _catalog(cell)
    kept, by_print = [], {}
    for mutant in _built(cell, function):
        first = _outputs(mutant, probes[0])
        if isinstance(first, Raised) and first.type not in SHAPE_ERRORS:
            outs = [first] + [_outputs(mutant, p) for p in probes[1:]]
            if all(isinstance(o, Raised) for o in outs):
                continue  # always raises, and not always with a shape error a student would recognise
        elif not isinstance(first, Raised) and _same(first, want[0]):
            if all(_same(_outputs(mutant, p), w) for p, w in zip(probes[1:], want[1:])):
                continue  # the reference on every probe: nothing a student could be told
        key = (mutant.function, _fingerprint(first))
        twin = next((k for k in by_print.get(key, ()) if _behaves_like(k, mutant, probes)), None)
        if twin is not None:
            kept[kept.index(twin)] = merged = _with(twin, same_as=twin.same_as + (mutant.id,))
            by_print[key] = [merged if k is twin else k for k in by_print[key]]
            continue
        mutant = _with(mutant, catalog_id=catalog.match(mutant))
        kept.append(mutant)
        by_print.setdefault(key, []).append(mutant)
    return tuple(kept)


def _maker(cell: str) -> "_Maker":
    with _GENERATING:
        return _new_maker(cell)


@lru_cache(maxsize=2)
def _new_maker(cell: str) -> "_Maker":
    return _Maker(cell)


def _catalog(cell: str) -> "_Catalog":
    with _GENERATING:
        return _new_catalog(cell)


@lru_cache(maxsize=2)
def _new_catalog(cell: str) -> "_Catalog":
    maker = _maker(cell)
    return _Catalog(cell, maker.probes, maker.want)


def _screening_order(probe: Probe) -> tuple:
    """Probes that tell mistakes apart first (m > 1, n_x != n_a hide no transpose), then the quickest.

    On arrays this small a run costs about the same per step whatever the sizes: T_x decides.
    """
    n_a, m, T_x = probe.da.shape
    return (m == 1 or probe.x.shape[0] == n_a, T_x, n_a * m)


def _behaves_like(a: Mutant, b: Mutant, probes) -> bool:
    return all(_same(_outputs(a, p), _outputs(b, p)) for p in probes)


def _with(mutant: Mutant, **changes) -> Mutant:
    """A copy with some fields changed; its cached outputs stay valid (they are keyed by id)."""
    fields = {name: getattr(mutant, name) for name in mutant.__dataclass_fields__}
    fields.update(changes)
    return Mutant(**fields)


class _Catalog:
    """The catalog's backward bugs, run as their traced variants on the probes, only when they could match."""

    def __init__(self, cell: str, probes: list, want: list):
        self.probes, self.want = probes, want
        self.bugs = [b for b in bugs_for(cell) if b.function in FUNCTIONS[cell]]  # forward bugs need other caches
        self.runs = {}

    def run(self, bug, i: int):
        if (bug.id, i) not in self.runs:
            from .compare import reference_trace  # the traced variants; here so this module imports light

            trace = reference_trace(self.probes[i], bug.variant)
            self.runs[bug.id, i] = Raised(trace.error.kind, trace.error.message) if trace.error else \
                _Run(trace.gradients())
        return self.runs[bug.id, i]

    def match(self, mutant: Mutant) -> str | None:
        first = _outputs(mutant, self.probes[0])
        for bug in self.bugs:
            if (bug.raises or None) != (first.type if isinstance(first, Raised) else None):
                continue  # the catalog says what the bug raises: a different exception, or none, cannot be it
            if all(_same(self.run(bug, i), _outputs(mutant, p)) for i, p in enumerate(self.probes)):
                return bug.id
        return None


class _Maker:
    """Turns changes into runnable mutants of one cell type's two backward functions.

    An expression change compiles only a lambda: its statement's value is replaced, once per
    statement, by a call of a hook the mutant supplies (a whole LSTM cell takes a millisecond to
    compile, and there are hundreds of changes). A statement change compiles its whole function.
    """

    def __init__(self, cell: str):
        self.cell_name, self.loop_name = FUNCTIONS[cell]
        self.cell = cell
        text = inspect.getsource(SOURCES[cell])
        self.lines = [line.encode() for line in text.split("\n")]
        self.defs = {n.name: n for n in parse(text).body
                     if isinstance(n, ast.FunctionDef) and n.name in (self.cell_name, self.loop_name)}
        self.reference = {"np": np, "__name__": "bptt.check.mutants.generated"}
        for name, fn in self.defs.items():
            exec(compile(self._source(fn, ()), f"<reference {name}>", "exec"), self.reference)  # noqa: S102
        self.codes = {name: self.reference[name].__code__ for name in self.defs}
        self.skeletons = {}
        self.reference_mutant = Mutant(
            id=f"{cell}/reference", cell=cell, function="", quantity="", kind="", description="the reference",
            backward=self.reference[self.loop_name], cell_backward=self.reference[self.cell_name], line=0, wrong="",
            right="")
        self.probes = sorted(probes_for(cell), key=_screening_order)  # the screening probe first
        self.want = [_outputs(self.reference_mutant, p) for p in self.probes]

    def _source(self, fn: ast.FunctionDef, edits: tuple) -> str:
        """The function's source with edits spliced in, padded so that line numbers stay the module's."""
        return "\n" * (fn.lineno - 1) + _splice(self.lines, fn.lineno, 0, fn.end_lineno, None, edits)

    def _namespace(self, hook: Callable | None = None, **code) -> dict:
        """A private namespace with both functions: the reference's code except where `code` says."""
        ns = {"np": np, "__name__": "bptt.check.mutants.generated", "__hook": hook}
        for name in self.defs:
            ns[name] = types.FunctionType(code.get(name, self.codes[name]), ns, name)
        return ns

    def _compiled(self, function: str, text: str):
        """The code object of `function` compiled from text."""
        ns = {"np": np}
        exec(compile(text, f"<mutant of {function}>", "exec"), ns)  # noqa: S102 - our own transformed reference
        return ns[function].__code__

    def _skeleton(self, function: str, site: tuple, targets: tuple = ()) -> tuple:
        """The function with a call of __hook(name=name, ...), every name bound there, at a site; compiled once.

        ("value", stmt): the statement's value is the call. ("stmt", line): the statement at line becomes
        `target = __hook(...)`. ("before", line, indent): `(targets,) = __hook(...)` is inserted before line.
        """
        key = (function, site, targets)
        if key not in self.skeletons:
            fn = self.defs[function]
            line = site[1].lineno if site[0] == "value" else site[1]
            names = _bound_before(fn, line)
            call = f"__hook({', '.join(f'{n}={n}' for n in names)})"
            if site[0] == "value":
                edit = _span(site[1].value, call)
            elif site[0] == "stmt":
                stmt = next(s for s in ast.walk(fn) if isinstance(s, ast.stmt) and s.lineno == line and s is not fn)
                edit = _span(stmt, f"{targets[0]} = {call}")
            else:
                edit = (line, 0, line, 0, " " * site[2] + f"({', '.join(targets)},) = {call}\n")
            self.skeletons[key] = (self._compiled(function, self._source(fn, (edit,))), names)
        return self.skeletons[key]

    def build(self, change: _Change, seen: set) -> Mutant | None:
        fn = self.defs[change.function]
        if change.statement is not None or change.hook is not None:
            if change.statement is not None:
                code, names = self._skeleton(change.function, ("value", change.statement))
                value = _splice(self.lines, *_where_is(change.statement.value), change.edits)
            else:
                site, targets, values = change.hook
                code, names = self._skeleton(change.function, site, targets)
                value = values[0] if site[0] == "stmt" else ", ".join(values) + ","
            ns = self._namespace(**{change.function: code})
            reads = [n for n in dict.fromkeys(IDENTIFIER.findall(value)) if n in names]  # short signatures compile fast
            try:
                hook = compile(f"lambda {''.join(n + ', ' for n in reads)}**_: ({value})", "<mutant>", "eval")
            except SyntaxError:
                return None
            ns["__hook"] = eval(hook, ns)  # noqa: S307 - a lambda of our own transformed reference expression
        else:
            try:
                code = self._compiled(change.function, self._source(fn, change.edits))
            except SyntaxError:
                return None
            ns = self._namespace(**{change.function: code})
        touched = sorted({n for e in change.edits for n in range(e[0], e[2] + 1)})
        inserted = [line.strip() for e in change.edits if e[1] == e[3] == 0 and e[0] == e[2]
                    for line in e[4].split("\n") if line.strip()]
        right = [self.lines[n - 1].decode().strip() for n in touched if not inserted]
        changed = _splice(self.lines, touched[0], 0, touched[-1], None, change.edits).split("\n")
        wrong = inserted or [changed[n - touched[0]].strip() for n in touched
                             if changed[n - touched[0]].strip() not in ("", "pass")]
        base = f"{change.function}/{change.quantity}/{change.label}"
        mutant_id, n = base, 2
        while mutant_id in seen:
            mutant_id, n = f"{base}-{n}", n + 1
        seen.add(mutant_id)
        return Mutant(id=mutant_id, cell=self.cell, function=change.function, quantity=change.quantity,
                      kind=change.kind, description=change.description, backward=ns[self.loop_name],
                      cell_backward=ns[self.cell_name] if change.function == self.cell_name else None,
                      line=change.line, wrong=_strip_comment("\n".join(wrong)), right=_strip_comment("\n".join(right)),
                      quantities=change.quantities)


def _where_is(node: ast.AST) -> tuple:
    return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset


def _splice(lines: list, line: int, col: int, end_line: int, end_col: int | None, edits: tuple) -> str:
    """The source from (line, col) to (end_line, end_col) with edits (inside it) spliced in; cols in UTF-8 bytes."""
    body = {n: lines[n - 1] for n in range(line, end_line + 1)}
    body[end_line] = body[end_line] if end_col is None else body[end_line][:end_col]
    body[line] = body[line][col:]
    for e_line, e_col, e_end_line, e_end_col, text in sorted(edits, reverse=True):
        shift = col if e_line == line else 0
        end_shift = col if e_end_line == line else 0
        head = body[e_line][: e_col - shift]
        tail = body[e_end_line][e_end_col - end_shift:]
        body[e_line] = head + text.encode() + tail
        for n in range(e_line + 1, e_end_line + 1):
            body[n] = b""
    return b"\n".join(body[n] for n in sorted(body)).decode()


def _bound_before(fn: ast.FunctionDef, lineno: int) -> list:
    """The local names certainly bound when line `lineno` runs: arguments, the loop's variable, earlier assignments."""
    names = {a.arg for a in fn.args.args}
    for line, bound in _bindings(fn):
        if line < lineno:
            names.update(bound)
    return sorted(names)


_BINDINGS: dict = {}


def _bindings(fn: ast.FunctionDef) -> list:
    """(line, names bound there) for every assignment and loop header of fn, walked once."""
    if id(fn) not in _BINDINGS:
        out = []
        for node in ast.walk(fn):
            targets = [node.target] if isinstance(node, (ast.For, ast.AugAssign)) else \
                node.targets if isinstance(node, ast.Assign) else []
            if targets:
                out.append((node.lineno, [n.id for t in targets for n in ast.walk(t)
                                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]))
        _BINDINGS[id(fn)] = (fn, out)  # fn kept alive so that its id is not reused
    return _BINDINGS[id(fn)][1]


def _strip_comment(text: str) -> str:
    return "\n".join(line.split("  #")[0].rstrip() for line in text.split("\n")) if text else text


# ---- where a transform may apply ----

def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def _span(node: ast.AST, text: str) -> tuple:
    return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, text)


def _names(node: ast.AST) -> list:
    """The variables an expression reads, in order, without np, repeats, or the bounds of slices (n_a)."""
    in_slices = {id(n) for s in ast.walk(node) if isinstance(s, ast.Slice) for n in ast.walk(s)}
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id != "np" and n.id not in out and id(n) not in in_slices:
            out.append(n.id)
    return out


def _short(node: ast.AST) -> bool:
    """A piece small enough to name literally: a variable, or one indexed, sliced or transposed."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name)


def _piece(node: ast.AST, noun: str = "") -> str:
    """How a description names a piece: literally when it is short, by its variables otherwise.

    _piece(da_t, "term") -> 'the term da[:, :, t]'; _piece(one_minus_a_next_squared, "factor") -> 'the factor
    with a_next'. Naming a long piece literally would print the corrected formula, which no text does.
    """
    head = f"the {noun} " if noun else ""
    if _short(node) or isinstance(node, ast.Constant) or _is_call(node, "tanh") and _short(node.args[0]):
        return head + _src(node)
    names = _names(node)
    return (f"the {noun or 'part'} with " + _and(names)) if names else head + _src(node)


def _and(words: list) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _label(node: ast.AST) -> str:
    """A short, stable tag for ids: 'Wax', 'da-t', '1-ft': a short piece spelled out, a long one by its variables."""
    names = _names(node)
    if _short(node) and names:
        return "-".join(names)
    spelled = re.sub(r"[^A-Za-z0-9_]+", "-", _src(node).replace("np.", "")).strip("-")
    calls = any(isinstance(n, ast.Call) for n in ast.walk(node))
    return spelled if (len(spelled) <= 24 and not calls) or not names else "-".join(names)


def _is_call(node: ast.AST, *names: str) -> bool:
    """np.<name>(...) or <name>(...)."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np":
        return f.attr in names
    return isinstance(f, ast.Name) and f.id in names


def _target_name(stmt: ast.stmt) -> str | None:
    target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else \
        getattr(stmt, "target", None)
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _gradient_lines(fn: ast.FunctionDef, cell_name: str | None):
    """(statement, quantity) for the lines that compute a gradient: no setup, no np.zeros."""
    for stmt in ast.walk(fn):
        if not isinstance(stmt, (ast.Assign, ast.AugAssign)) or _is_call(stmt.value, "zeros"):
            continue
        name = _target_name(stmt)
        if cell_name and _is_call(stmt.value, cell_name):
            yield stmt, None  # the loop's call of the cell: its arguments are named one by one
        elif name and (name.startswith("d") or name == "concat"):
            yield stmt, name


def _arg_quantity(call: ast.Call, node: ast.AST) -> str:
    """Which argument of the loop's cell call a node sits in: da_next, dc_next or the cache."""
    names = ("da_next", "cache") if len(call.args) == 2 else ("da_next", "dc_next", "cache")
    return next(name for arg, name in zip(call.args, names) if any(n is node for n in ast.walk(arg)))


def _where(quantity: str, function: str) -> str:
    if quantity in ("da_next", "dc_next", "cache"):
        return f"the {quantity} handed to the cell in {function}"
    return f"the {quantity} line of {function}"


# ---- the transforms ----

def _expression_changes(cell: str, fn: ast.FunctionDef, cell_name: str | None):
    """Transforms of one expression: terms, factors, transposes, axes, arguments, signs, variables, time."""
    groups = CONFUSABLE[cell] if cell_name is None else ()
    for stmt, quantity in _gradient_lines(fn, cell_name):
        targets = {id(n) for t in getattr(stmt, "targets", [getattr(stmt, "target", None)]) for n in ast.walk(t)}
        roots = stmt.value.args if quantity is None else [stmt.value]  # the call itself is not changed
        for node in (n for root in roots for n in ast.walk(root)):
            if id(node) in targets:
                continue
            q = quantity or _arg_quantity(stmt.value, node)
            for kind, label, words, new in _node_changes(node, groups):
                yield _Change(fn.name, kind, q, label, words.format(where=_where(q, fn.name)),
                              (_span(node, new if isinstance(new, str) else _src(new)),), stmt.lineno, stmt)


def _slice_changes(fn: ast.FunctionDef):
    """Every column slice of the gate weights dropped at once: the full W for both da_prev and dxt."""
    sliced = [(stmt, node) for stmt, _ in _gradient_lines(fn, None) for node in ast.walk(stmt.value)
              if isinstance(node, ast.Subscript) and _column_slice(node)]
    if len(sliced) > 1 and len({stmt.lineno for stmt, _ in sliced}) > 1:
        weights = sorted({_src(node.value) for _, node in sliced})
        quantities = [_target_name(stmt) for stmt in dict.fromkeys(stmt for stmt, _ in sliced)]
        yield _Change(fn.name, "slice", quantities[0], "no-slice-all",
                      f"all the columns of {_and(weights)} are used in the {_and(quantities)} lines of {fn.name}",
                      tuple(_span(node, _src(node.value)) for _, node in sliced), sliced[0][0].lineno,
                      quantities=tuple(quantities))


def _cell_scale_changes(fn: ast.FunctionDef):
    """A returned gradient of the cell halved, or divided by the batch size m (a mean where a sum belongs)."""
    returned = fn.body[-1].value
    keys = {k.value for k in returned.keys} if isinstance(returned, ast.Dict) else set()
    bound = {n for _, names in _bindings(fn) for n in names} | {a.arg for a in fn.args.args}
    batch = "m" if "m" in bound else f"{fn.args.args[0].arg}.shape[1]"  # the RNN's cell never names m
    for stmt, quantity in _gradient_lines(fn, None):
        if quantity not in keys or not isinstance(stmt, ast.Assign):
            continue
        value = _src(stmt.value)
        for factor, tag, words in (("* 0.5", "halved", "halved"), (f"/ {batch}", "divided-by-m", "divided by m")):
            yield _Change(fn.name, "scale", quantity, tag, f"{quantity} is {words} in the {quantity} line of {fn.name}",
                          (_span(stmt.value, f"({value}) {factor}"),), stmt.lineno,
                          hook=(("stmt", stmt.lineno), (quantity,), (f"({value}) {factor}",)))


def _node_changes(node: ast.AST, groups: tuple):
    """(kind, label, description with {where}, new node or text) for every transform that fits the node."""
    call = lambda func, args, keywords: ast.Call(func, args, keywords)  # noqa: E731
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        left, right = node.left, node.right
        yield "dropped-term", f"no-term-{_label(right)}", \
            f"{_piece(right, 'term')} is missing from the sum in {{where}}", left
        if not _chained(left, (ast.Add, ast.Sub)):  # a + b + c: dropping (a + b) is two terms, a is dropped below
            kept = right if isinstance(node.op, ast.Add) else ast.UnaryOp(ast.USub(), right)
            yield "dropped-term", f"no-term-{_label(left)}", \
                f"{_piece(left, 'term')} is missing from the sum in {{where}}", kept
        flipped = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
        yield "sign", f"sign-{_label(right)}", f"the sign of {_piece(right, 'term')} is flipped in {{where}}", \
            ast.BinOp(left, flipped, right)
        if isinstance(node.op, ast.Sub) and not _chained(left, (ast.Add, ast.Sub)):
            yield "sign", f"reversed-{_label(node)}", "a difference is taken the other way round (its sign flipped) "\
                "in {where}", ast.BinOp(right, ast.Sub(), left)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        yield "dropped-factor", f"no-factor-{_label(node.right)}", \
            f"{_piece(node.right, 'factor')} is missing from the product in {{where}}", node.left
        if not _chained(node.left, (ast.Mult,)):
            yield "dropped-factor", f"no-factor-{_label(node.left)}", \
                f"{_piece(node.left, 'factor')} is missing from the product in {{where}}", node.right
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        yield "power", f"no-square-{_label(node.left)}", f"the square on {_piece(node.left)} is missing in {{where}}", \
            node.left
        if isinstance(node.left, ast.Name):
            yield "activation", f"extra-tanh-{node.left.id}", \
                f"tanh is applied once more to {node.left.id}, which is already a tanh's output, in {{where}}", \
                ast.BinOp(call(_expr("np.tanh"), [node.left], []), node.op, node.right)
    elif _is_call(node, "tanh") and node.args:
        yield "activation", f"no-tanh-{_label(node.args[0])}", \
            f"tanh is not applied to {_piece(node.args[0])} in {{where}}", node.args[0]
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield "transpose", f"no-transpose-{_label(node.value)}", \
            f"the transpose on {_piece(node.value)} is missing in {{where}}", node.value
    elif _is_call(node, "dot") and len(node.args) == 2:
        a, b = node.args
        yield "swapped-args", f"swapped-dot-{_label(node)}", \
            "the two operands of the matrix product are swapped in {where}", \
            call(node.func, [b, a], [])
        yield "transpose", f"transposed-product-{_label(node)}", "the matrix product in {where} comes out transposed", \
            call(node.func, [_transposed(b), _transposed(a)], [])
        for k, arg in enumerate((a, b)):
            if not (isinstance(arg, ast.Attribute) and arg.attr == "T"):
                args = [ast.Attribute(x, "T", ast.Load()) if j == k else x for j, x in enumerate((a, b))]
                yield "transpose", f"extra-transpose-{_label(arg)}", \
                    f"{_piece(arg)} is transposed in {{where}}, and it should not be", call(node.func, args, [])
            yield "dropped-factor", f"no-product-{_label(arg)}", \
                f"the matrix product with {_piece(arg)} is missing in {{where}}", (b, a)[k]
    elif _is_call(node, "sum"):
        keywords = [kw.arg for kw in node.keywords]
        if "axis" in keywords:
            yield "axis", "axis-0", "the sum in {where} runs over axis 0, the units, not over the batch", \
                call(node.func, node.args, [ast.keyword("axis", ast.Constant(0)) if kw.arg == "axis" else kw
                                            for kw in node.keywords])
            yield "axis", "no-axis", "the sum in {where} adds up every entry, not only over the batch", \
                call(node.func, node.args, [kw for kw in node.keywords if kw.arg != "axis"])
        if "keepdims" in keywords:
            yield "keepdims", "no-keepdims", \
                "the sum in {where} drops the summed axis, so its result is one-dimensional", \
                call(node.func, node.args, [kw for kw in node.keywords if kw.arg != "keepdims"])
    elif _is_call(node, "concatenate") and node.args and isinstance(node.args[0], ast.Tuple):
        parts = node.args[0].elts
        if len(parts) == 2:
            yield "swapped-args", "swapped-stack", \
                f"{_piece(parts[0])} and {_piece(parts[1])} are stacked in the opposite order in {{where}}", \
                call(node.func, [ast.Tuple(parts[::-1], ast.Load())], node.keywords)
        yield "axis", "axis-1", "the arrays are stacked side by side (axis 1) in {where}", \
            call(node.func, node.args, [ast.keyword("axis", ast.Constant(1))])
    elif isinstance(node, ast.Subscript) and _time_index(node):
        base = _src(node.value)
        for step, words in ((-1, "one step early (t - 1)"), (1, "one step late (t + 1)")):
            yield "off-by-one", f"{base}-t{step:+d}", f"{base} is read {words} in {{where}}", _shift_time(node, step)
    elif isinstance(node, ast.Subscript) and _column_slice(node):
        weights = _src(node.value)
        other = "xt" if _column_slice(node) == "a" else "a_prev"
        yield "slice", f"wrong-slice-{weights}", f"the columns of {weights} that see {other} are used in {{where}}", \
            _swap_slice(node)
        yield "slice", f"no-slice-{weights}", f"all the columns of {weights} are used in {{where}}", node.value
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        for group in groups:
            for other in sorted(group - {node.id}) if node.id in group else ():
                yield "wrong-variable", f"{other}-for-{node.id}", \
                    f"{other} is used instead of {node.id} in {{where}}", other


def _chained(node: ast.AST, ops: tuple) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ops)


def _transposed(node: ast.expr) -> ast.expr:
    """node.T, without writing x.T.T."""
    return node.value if isinstance(node, ast.Attribute) and node.attr == "T" else ast.Attribute(node, "T", ast.Load())


def _expr(text: str) -> ast.expr:
    return parse(text).body[0].value


def _time_index(node: ast.Subscript) -> bool:
    """x[t] or x[:, :, t]."""
    index = node.slice
    last = index.elts[-1] if isinstance(index, ast.Tuple) else index
    return isinstance(last, ast.Name) and last.id == "t"


def _shift_time(node: ast.Subscript, step: int) -> ast.Subscript:
    shifted = ast.BinOp(ast.Name("t", ast.Load()), ast.Add() if step > 0 else ast.Sub(), ast.Constant(abs(step)))
    index = node.slice
    index = ast.Tuple(index.elts[:-1] + [shifted], ast.Load()) if isinstance(index, ast.Tuple) else shifted
    return ast.Subscript(node.value, index, ast.Load())


def _column_slice(node: ast.Subscript) -> str | None:
    """'a' for W[:, :n_a], the columns that see a_prev; 'x' for W[:, n_a:], those that see xt; else None."""
    index = node.slice
    if not (isinstance(index, ast.Tuple) and len(index.elts) == 2 and isinstance(index.elts[1], ast.Slice)):
        return None
    s = index.elts[1]
    if s.lower is None and isinstance(s.upper, ast.Name) and s.upper.id == "n_a":
        return "a"
    if s.upper is None and isinstance(s.lower, ast.Name) and s.lower.id == "n_a":
        return "x"
    return None


def _swap_slice(node: ast.Subscript) -> ast.Subscript:
    rows, cols = node.slice.elts
    return ast.Subscript(node.value, ast.Tuple([rows, ast.Slice(cols.upper, cols.lower)], ast.Load()), ast.Load())


def _loop_changes(fn: ast.FunctionDef, cell_name: str):
    """The loop's statements: an overwrite or a subtraction, a missing line, a reset, the range, after the loop."""
    function = fn.name
    loop = next(s for s in fn.body if isinstance(s, ast.For))
    inits = {_target_name(s): s for s in fn.body[: fn.body.index(loop)]
             if isinstance(s, ast.Assign) and _is_call(s.value, "zeros")}
    used = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name)}
    sums = [s for s in loop.body if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add)]
    carries = [s for s in loop.body if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
               and s.targets[0].id in inits]

    def one(kind, label, quantity, description, edits, line, hook=None, quantities=()):
        return _Change(function, kind, quantity, label, description, tuple(edits), line, hook=hook,
                       quantities=quantities)

    overwrite = lambda s: _span(s, f"{_src(s.target)} = {_src(s.value)}")  # noqa: E731
    for s in sums:
        name = _target_name(s)
        yield one("overwrite", "overwrite", name, f"{name} is overwritten at every step of the loop in {function}, "
                  "not added up", [overwrite(s)], s.lineno, (("stmt", s.lineno), (name,), (_src(s.value),)))
        yield one("sign", "subtracted", name, f"each step's share is subtracted from {name} in the loop of {function}",
                  [_span(s, f"{_src(s.target)} -= {_src(s.value)}")], s.lineno,
                  (("stmt", s.lineno), (name,), (f"{name} - ({_src(s.value)})",)))
    if len(sums) > 1:
        names = [_target_name(s) for s in sums]
        yield one("overwrite", "overwrite-all", names[0], f"every running total ({_and(names)}) is overwritten at "
                  f"every step of the loop in {function}, not added up", [overwrite(s) for s in sums], sums[0].lineno,
                  quantities=tuple(names))
    for s in loop.body:
        if isinstance(s, (ast.Assign, ast.AugAssign)) and not _is_call(s.value, cell_name) and \
                not isinstance(getattr(s, "target", None) or s.targets[0], ast.Tuple):
            name = _target_name(s)
            yield one("missing-line", "missing", name, f"the line that updates {name} inside the loop of {function} "
                      "is missing", [_span(s, "pass")], s.lineno, (("stmt", s.lineno), (name,), (name,)))
    if len(sums) > 1:
        names = [_target_name(s) for s in sums]
        yield one("missing-line", "missing-all-totals", names[0], f"none of the running totals ({_and(names)}) is "
                  f"updated inside the loop of {function}", [_span(s, "pass") for s in sums], sums[0].lineno,
                  quantities=tuple(names))
    for s in loop.body:
        target = s.targets[0] if isinstance(s, ast.Assign) and len(s.targets) == 1 else None
        if isinstance(target, ast.Subscript) and _time_index(target):
            base = _src(target.value)
            for step, words in ((-1, "one step early (t - 1)"), (1, "one step late (t + 1)")):
                yield one("off-by-one", f"{base}-t{step:+d}", base, f"{base} is written {words} in the loop of "
                          f"{function}", [_span(target, _src(_shift_time(target, step)))], s.lineno)
    if len(carries) > 1:
        names = [s.targets[0].id for s in carries]
        yield one("missing-line", "missing-all", names[0], f"the lines that carry {_and(names)} back to the step "
                  f"before are missing from the loop of {function}", [_span(s, "pass") for s in carries],
                  carries[0].lineno, quantities=tuple(names))
    for s in fn.body[fn.body.index(loop) + 1:]:
        if isinstance(s, ast.Assign):
            name = _target_name(s)
            yield one("missing-line", "missing", name, f"the line that sets {name} after the loop of {function} "
                      "is missing", [_span(s, "pass")], s.lineno, (("stmt", s.lineno), (name,), (name,)))
    first = loop.body[0]
    resettable = tuple(name for name in inits if name in used)
    for name in resettable:
        text = " " * first.col_offset + _src(inits[name]) + "\n"
        values = tuple(_src(inits[n].value) if n == name else n for n in resettable)
        yield one("reset", "reset", name, f"{name} is set back to zero at the top of every step of the loop in "
                  f"{function}", [(first.lineno, 0, first.lineno, 0, text)], first.lineno,
                  (("before", first.lineno, first.col_offset), resettable, values))
    yield from _order_changes(function, loop)
    yield from _after_loop_changes(function, fn, sums)


def _order_changes(function: str, loop: ast.For):
    """The loop's range: run forward in time, or skip the last or the first step."""
    it = loop.iter
    if not (_is_call(it, "reversed") and _is_call(it.args[0], "range") and len(it.args[0].args) == 1):
        return
    bound = _src(it.args[0].args[0])
    for kind, label, description, text in (
        ("order", "forward", "the loop runs forward in time, from t = 0 up", f"range({bound})"),
        ("off-by-one", "skips-last", f"the loop leaves out the step t = {bound} - 1", f"reversed(range({bound} - 1))"),
        ("off-by-one", "skips-first", "the loop stops before it reaches t = 0", f"reversed(range(1, {bound}))"),
    ):
        yield _Change(function, kind, "loop", label, f"{description}, in {function}", (_span(it, text),), loop.lineno)


def _after_loop_changes(function: str, fn: ast.FunctionDef, sums: list):
    """A scale or a clip between the loop and the return, on one gradient or on all of the weights'."""
    ret = fn.body[-1]
    keys = [k.value for k in ret.value.keys] if isinstance(ret.value, ast.Dict) else []
    weights = [_target_name(s) for s in sums]
    indent = " " * ret.col_offset

    def before_return(kind, label, quantity, description, texts, quantities=()):
        text = "".join(f"{indent}{t}\n" for t in texts)
        values = dict(t.split(" = ", 1) for t in texts)  # each added line is `name = expression` of its own name
        targets = tuple(dict.fromkeys(keys + list(values)))
        hook = (("before", ret.lineno, ret.col_offset), targets, tuple(values.get(k, k) for k in targets))
        return _Change(function, kind, quantity, label, description, ((ret.lineno, 0, ret.lineno, 0, text),),
                       ret.lineno, hook=hook, quantities=quantities)

    for op, factor, words in SCALES:
        tag = "-".join(words.split())
        for name in keys:
            yield before_return("scale", f"{tag}-after-loop", name, f"{name} is {words} after the loop of {function}",
                                [f"{name} = {name} {op} {factor}"])
        if len(weights) > 1:
            yield before_return("scale", f"all-{tag}-after-loop", weights[0], f"every weight gradient "
                                f"({_and(weights)}) is {words} after the loop of {function}",
                                [f"{w} = {w} {op} {factor}" for w in weights], tuple(weights))
    for bound in CLIPS:
        for name in keys:
            yield before_return("clip", f"clipped-{bound}", name,
                                f"{name} is clipped to [-{bound}, {bound}] after the loop of {function}",
                                [f"{name} = np.clip({name}, -{bound}, {bound})"])
        yield before_return("clip", f"all-clipped-{bound}", keys[0],
                            f"every gradient is clipped to [-{bound}, {bound}] after the loop of {function}",
                            [f"{k} = np.clip({k}, -{bound}, {bound})" for k in keys], tuple(keys))
        if len(weights) > 1:
            yield before_return("clip", f"weights-clipped-{bound}", weights[0], f"every weight gradient "
                                f"({_and(weights)}) is clipped to [-{bound}, {bound}] after the loop of {function}",
                                [f"{w} = np.clip({w}, -{bound}, {bound})" for w in weights], tuple(weights))
