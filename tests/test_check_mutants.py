"""Generated mutants (bptt/check/mutants.py): each one is a real difference, and nearest() names one only when earned.

The comparisons here are written afresh (np.allclose, an exception or not), not taken from the
module under test; the gradients a mutant claims to compute are checked against the course's
math from /work/shared/NOTES.md, written out below.
"""

import numpy as np
import pytest

from bptt import lstm, rnn
from bptt.catalog import BUGS
from bptt.check.compare import reference_trace
from bptt.check import mutants
from bptt.check.mutants import mutants_for, nearest, nearest_cell, reference_caches
from bptt.check.probes import Probe, probes_for
from helpers import random_case

CELLS = ("rnn", "lstm")
REFERENCE = {"rnn": rnn.rnn_backward, "lstm": lstm.lstm_backward}
BACKWARD_BUGS = [b for b in BUGS if b.function.endswith("backward") and b.cell in ("rnn", "lstm")]  # no GRU mutants


def returned_by(backward, cell: str) -> list:
    """What a backward returns on each probe (on the course forward's caches), None where it raises."""
    out = []
    for probe in probes_for(cell):
        try:
            with np.errstate(all="ignore"):
                out.append(backward(probe.da, reference_caches(probe)))
        except (ValueError, IndexError, TypeError, KeyError):
            out.append(None)
    return out


def equal(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(
        np.shape(a[k]) == np.shape(b[k]) and np.allclose(a[k], b[k], rtol=1e-9, atol=1e-12, equal_nan=True) for k in a)


def by_id(cell: str, mutant_id: str):
    return next(m for m in mutants_for(cell) if mutant_id in (m.id, *m.same_as))


def student(code: str) -> dict:
    """A hand-written student file, run as the course would: numpy as np, nothing else."""
    namespace = {"np": np}
    exec(code, namespace)  # noqa: S102 - the test's own code
    return namespace


@pytest.mark.parametrize("cell", CELLS)
def test_every_mutant_differs_from_the_reference_on_some_probe(cell):
    want = returned_by(REFERENCE[cell], cell)
    same = [m.id for m in mutants_for(cell) if all(equal(g, w) for g, w in zip(returned_by(m.backward, cell), want))]
    assert same == []


@pytest.mark.parametrize("cell", CELLS)
def test_mutants_of_one_function_are_told_apart(cell):
    buckets = {}  # equal runs have equal shapes and almost equal sums: compare only within a bucket
    for m in mutants_for(cell):
        run = returned_by(m.backward, cell)
        if any(r is not None for r in run):
            sums = [None if r is None else [(k, np.shape(v), round(float(np.nansum(np.abs(v))), 3))
                                            for k, v in sorted(r.items())] for r in run]
            key = (m.function, repr(sums))
            buckets.setdefault(key, []).append((m.id, run))
    twins = [(a, b) for group in buckets.values() for i, (a, ra) in enumerate(group) for b, rb in group[i + 1:]
             if all(equal(x, y) for x, y in zip(ra, rb))]
    assert twins == []


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_finds_each_mutant_from_its_own_outputs(cell):
    missed = {}
    for mutant in mutants_for(cell):
        mine = returned_by(mutant.backward, cell)
        found = nearest(cell, mine, probes_for(cell))
        if all(r is None for r in mine):
            if found is not None:  # an exception alone is no evidence: raising on every probe names nothing
                missed[mutant.id] = found.id
        elif found is None or not all(equal(a, b) for a, b in zip(returned_by(found.backward, cell), mine)):
            missed[mutant.id] = found and found.id
    assert missed == {}


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_names_nothing_for_the_reference(cell):
    assert nearest(cell, returned_by(REFERENCE[cell], cell), probes_for(cell)) is None


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_never_names_a_function_the_run_proved_right(cell):
    function = f"{cell}_cell_backward"
    for mutant in [m for m in mutants_for(cell) if m.function == function][:40]:
        found = nearest(cell, returned_by(mutant.backward, cell), probes_for(cell), exclude=(function,))
        assert found is None or found.function != function


@pytest.mark.parametrize("bug", BACKWARD_BUGS, ids=lambda b: b.id)
def test_a_catalog_bug_is_named_by_its_own_id_or_not_at_all(bug):
    outputs = []
    for probe in probes_for(bug.cell):
        trace = reference_trace(probe, bug.variant)
        outputs.append(None if trace.error else trace.gradients())
    found = nearest(bug.cell, outputs, probes_for(bug.cell))
    assert found is None or found.catalog_id == bug.id
    if bug.raises is None:  # every numeric catalog bug of the backward is among the generated mutants
        assert found is not None and found.catalog_id == bug.id


@pytest.mark.parametrize("bug", BACKWARD_BUGS, ids=lambda b: b.id)
def test_a_catalog_id_is_carried_only_by_mutants_that_behave_like_the_bug(bug):
    outputs = []
    for probe in probes_for(bug.cell):
        trace = reference_trace(probe, bug.variant)
        outputs.append(None if trace.error else trace.gradients())
    carriers = [m for m in mutants_for(bug.cell) if m.catalog_id == bug.id]
    assert carriers, f"no generated mutant behaves like {bug.id}"
    for mutant in carriers:
        assert all(equal(a, b) for a, b in zip(returned_by(mutant.backward, bug.cell), outputs))


RNN_STUDENT = '''
def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dtanh = da_next * (1 - np.square(a_next))
    dxt = parameters["Wax"].T @ dtanh
    dWax = dtanh @ xt.T
    da_prev = parameters["Waa"].T @ dtanh
    dWaa = DWAA
    dba = DBA
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}

def rnn_backward(da, caches):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = caches[0][2].shape[0]
    dx = np.zeros((n_x, m, T_x))
    dWax, dWaa, dba = np.zeros((n_a, n_x)), np.zeros((n_a, n_a)), np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    for k in range(T_x - 1, -1, -1):
        g = rnn_cell_backward(da[:, :, k] + da_prevt, caches[k])
        dx[:, :, k] = g["dxt"]
        da_prevt = g["da_prev"]
        dWax += g["dWax"]
        dWaa += g["dWaa"]
        dba += g["dba"]
    AFTER
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
'''

LSTM_CELL_STUDENT = '''
def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dc = DC
    dot = da_next * tanh_c * ot * (1 - ot)
    dcct = DCCT
    dit = dc * cct * it * (1 - it)
    dft = DFT
    concat = np.vstack([a_prev, xt])
    W = {g: parameters["W" + g] for g in "fico"}
    d = {"f": dft, "i": dit, "c": dcct, "o": dot}
    out = {"dW" + g: d[g] @ concat.T for g in "fico"}
    out.update({"db" + g: d[g].sum(axis=1, keepdims=True) for g in "fico"})
    out["da_prev"] = sum(W[g][:, :n_a].T @ d[g] for g in "fico")
    out["dxt"] = sum(W[g][:, n_a:].T @ d[g] for g in "fico")
    out["dc_prev"] = dc * ft
    return out
'''

RIGHT_DC = "dc_next + ot * (1 - tanh_c ** 2) * da_next"
RIGHT_DCCT = "dc * it * (1 - cct ** 2)"
RIGHT_DFT = "dc * c_prev * ft * (1 - ft)"


def rnn_student(dwaa="dtanh @ a_prev.T", dba="np.sum(dtanh, axis=1, keepdims=True)", after="pass") -> dict:
    return student(RNN_STUDENT.replace("DWAA", dwaa).replace("DBA", dba).replace("AFTER", after))


def lstm_student(dc=RIGHT_DC, dcct=RIGHT_DCCT, dft=RIGHT_DFT) -> dict:
    return student(LSTM_CELL_STUDENT.replace("DCCT", dcct).replace("DC", dc).replace("DFT", dft))


def lstm_backward_with(cell_backward):
    """The course's loop (NOTES.md), calling the given cell."""
    def backward(da, caches):
        caches, x = caches
        n_a, m, T_x = da.shape
        n_x = caches[0][8].shape[0]
        dx = np.zeros((n_x, m, T_x))
        da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))
        totals = {f"dW{g}": np.zeros((n_a, n_a + n_x)) for g in "fico"} | {f"db{g}": np.zeros((n_a, 1)) for g in "fico"}
        for t in reversed(range(T_x)):
            g = cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
            dx[:, :, t] = g["dxt"]
            da_prevt, dc_prevt = g["da_prev"], g["dc_prev"]
            for key in totals:
                totals[key] += g[key]  # in place, as the course does: a wrongly shaped share raises
        return {"dx": dx, "da0": da_prevt, **totals}
    return backward


def test_the_hand_written_students_are_right_when_nothing_is_changed():
    """The two student files below are correct as written: each bug is one replaced line."""
    for got, want in zip(returned_by(rnn_student()["rnn_backward"], "rnn"), returned_by(rnn.rnn_backward, "rnn")):
        assert equal(got, want)
    backward = lstm_backward_with(lstm_student()["lstm_cell_backward"])
    for got, want in zip(returned_by(backward, "lstm"), returned_by(lstm.lstm_backward, "lstm")):
        assert equal(got, want)


@pytest.mark.parametrize("cell, make, kind, quantity, words", [
    ("rnn", lambda: rnn_student(dwaa="dtanh @ a_next.T")["rnn_backward"], "wrong-variable", "dWaa",
     "a_next is used instead of a_prev in the dWaa line of rnn_cell_backward"),
    ("rnn", lambda: rnn_student(dba="np.sum(dtanh, axis=0, keepdims=True)")["rnn_backward"], "axis", "dba",
     "runs over axis 0"),
    ("rnn", lambda: rnn_student(dba="np.sum(dtanh, axis=0)")["rnn_backward"], "axis", "dba", "runs over axis 0"),
    ("rnn", lambda: rnn_student(after="for g in (dx, da_prevt, dWax, dWaa, dba):\n        np.clip(g, -5, 5, out=g)")
     ["rnn_backward"], "clip", "dx", "every gradient is clipped to [-5, 5] after the loop"),
    ("lstm", lambda: lstm_backward_with(lstm_student(dcct="dc_next * it * (1 - cct ** 2)")["lstm_cell_backward"]),
     "wrong-variable", "dcct", "dc_next is used instead of dc in the dcct line of lstm_cell_backward"),
    ("lstm", lambda: lstm_backward_with(lstm_student(dft="dc * c_next * ft * (1 - ft)")["lstm_cell_backward"]),
     "wrong-variable", "dft", "c_next is used instead of c_prev in the dft line of lstm_cell_backward"),
])
def test_a_bug_outside_the_catalog_is_named_in_plain_words(cell, make, kind, quantity, words):
    found = nearest(cell, returned_by(make(), cell), probes_for(cell))
    assert found is not None
    assert (found.kind, found.quantity, found.catalog_id) == (kind, quantity, None)
    assert words in found.description


def test_a_mutant_that_behaves_like_a_catalog_bug_carries_its_id():
    """Leaving dc_next out of dc makes every carried dc zero: the catalog's lstm-dc-not-carried, seen from the cell."""
    backward = lstm_backward_with(lstm_student(dc="ot * (1 - tanh_c ** 2) * da_next")["lstm_cell_backward"])
    found = nearest("lstm", returned_by(backward, "lstm"), probes_for("lstm"))
    assert found is not None and found.catalog_id == "lstm-dc-not-carried"


@pytest.mark.parametrize("cell, make", [
    ("rnn", lambda: rnn_student(dwaa="dtanh @ a_prev.T * 2")["rnn_backward"]),  # a factor no transform makes
    ("rnn", lambda: rnn_student(after="dWaa = dWaa * 3")["rnn_backward"]),
    ("lstm", lambda: lstm_backward_with(lstm_student(dcct="dc * it * (1 - cct ** 3)")["lstm_cell_backward"])),
])
def test_a_bug_no_mutant_makes_is_not_named(cell, make):
    assert nearest(cell, returned_by(make(), cell), probes_for(cell)) is None


# ---- what the descriptions claim, against the course's math ----

def rnn_cell_math(da_next, cache, dWaa_from="a_prev"):
    """NOTES.md's RNN cell, with dWaa taken against the named activation."""
    a_next, a_prev, xt, p = cache
    dz = da_next * (1 - a_next ** 2)
    other = {"a_prev": a_prev, "a_next": a_next}[dWaa_from]
    return {"dxt": p["Wax"].T @ dz, "da_prev": p["Waa"].T @ dz, "dWax": dz @ xt.T, "dWaa": dz @ other.T,
            "dba": dz.sum(axis=1, keepdims=True)}


def test_the_dwaa_mutant_computes_what_its_description_says():
    mutant = by_id("rnn", "rnn_cell_backward/dWaa/a_next-for-a_prev")
    assert mutant.description == "a_next is used instead of a_prev in the dWaa line of rnn_cell_backward"
    for probe in probes_for("rnn"):
        for t, cache in enumerate(reference_caches(probe)[0][: probe.T_x]):
            got = mutant.cell_backward(probe.da[:, :, t], cache)
            assert equal(got, rnn_cell_math(probe.da[:, :, t], cache, dWaa_from="a_next"))


@pytest.mark.parametrize("mutant_id, scale", [
    ("rnn_backward/dWax/all-divided-by-m-after-loop", "m"),
    ("rnn_backward/dWax/all-halved-after-loop", 0.5),
])
def test_a_scale_after_the_loop_scales_the_weights_only(mutant_id, scale):
    mutant = by_id("rnn", mutant_id)
    for probe in probes_for("rnn"):
        caches = reference_caches(probe)
        got, want = mutant.backward(probe.da, caches), rnn.rnn_backward(probe.da, caches)
        factor = 1 / probe.da.shape[1] if scale == "m" else scale
        assert equal(got, {k: v * factor if k.startswith("dW") or k == "dba" else v for k, v in want.items()})


def test_overwriting_the_totals_keeps_the_share_of_step_zero_alone():
    mutant = by_id("rnn", "rnn_backward/dWax/overwrite-all")
    for probe in probes_for("rnn"):
        caches = reference_caches(probe)
        got, want = mutant.backward(probe.da, caches), rnn.rnn_backward(probe.da, caches)
        step0 = rnn_cell_math(_da_next_at(probe, caches, 0), caches[0][0])
        assert equal({k: got[k] for k in ("dWax", "dWaa", "dba")}, {k: step0[k] for k in ("dWax", "dWaa", "dba")})
        assert equal({k: got[k] for k in ("dx", "da0")}, {k: want[k] for k in ("dx", "da0")})


def _da_next_at(probe, caches, step: int) -> np.ndarray:
    """da[:,:,step] plus the gradient carried back from step + 1, by NOTES.md's loop."""
    da_prevt = np.zeros_like(probe.da[:, :, 0])
    for t in reversed(range(step + 1, probe.T_x)):
        da_prevt = rnn_cell_math(probe.da[:, :, t] + da_prevt, caches[0][t])["da_prev"]
    return probe.da[:, :, step] + da_prevt


def rnn_backward_with(cell_backward):
    """The course's loop (NOTES.md), calling the given cell."""
    def backward(da, caches):
        caches, x = caches
        n_a, m, T_x = da.shape
        n_x = caches[0][2].shape[0]
        dx = np.zeros((n_x, m, T_x))
        da_prevt = np.zeros((n_a, m))
        totals = {"dWax": np.zeros((n_a, n_x)), "dWaa": np.zeros((n_a, n_a)), "dba": np.zeros((n_a, 1))}
        for t in reversed(range(T_x)):
            g = cell_backward(da[:, :, t] + da_prevt, caches[t])
            dx[:, :, t] = g["dxt"]
            da_prevt = g["da_prev"]
            for key in totals:
                totals[key] += g[key]  # in place, as the course does: a wrongly shaped share raises
        return {"dx": dx, "da0": da_prevt, **totals}
    return backward


@pytest.mark.parametrize("cell", CELLS)
def test_a_cell_mutant_runs_the_course_loop_around_its_own_cell(cell):
    """backward is the course's loop calling exactly the changed cell: checked with NOTES.md's loop."""
    cells = [m for m in mutants_for(cell) if m.cell_backward is not None]
    for mutant in cells:
        loop = (lstm_backward_with if cell == "lstm" else rnn_backward_with)(mutant.cell_backward)
        for got, want in zip(returned_by(mutant.backward, cell), returned_by(loop, cell)):
            assert equal(got, want), mutant.id


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_cell_finds_a_cell_mutant_from_the_cells_outputs(cell):
    mutant = by_id(cell, f"{cell}_cell_backward/dWaa/a_next-for-a_prev" if cell == "rnn"
                   else "lstm_cell_backward/dcct/dc_next-for-dc")
    returned = []
    for probe in probes_for(cell):
        caches = reference_caches(probe)[0]
        extra = (lambda t: (probe.dc[:, :, t],)) if cell == "lstm" else (lambda t: ())
        returned.append([mutant.cell_backward(probe.da[:, :, t], *extra(t), caches[t]) for t in range(probe.T_x)])
    assert nearest_cell(cell, returned, probes_for(cell)) is mutant


OUTSIDE = {  # bugs outside the catalog, and the mutant each must be named as
    "rnn": (lambda: rnn_student(dwaa="dtanh @ a_next.T")["rnn_backward"], "rnn_cell_backward/dWaa/a_next-for-a_prev"),
    "lstm": (lambda: lstm_backward_with(lstm_student(dft="dc * c_next * ft * (1 - ft)")["lstm_cell_backward"]),
             "lstm_cell_backward/dft/c_next-for-c_prev"),
}


def extra_probe(cell: str) -> Probe:
    """A probe mutants_for never ran, like the one a check draws fresh."""
    x, a0, parameters, da = random_case(cell, n_x=3, n_a=4, m=2, T_x=6, seed=11)
    return Probe("unseen", cell, x, a0, parameters, da, np.random.RandomState(12).randn(*da.shape))


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_runs_on_a_probe_it_has_not_seen(cell):
    make, mutant_id = OUTSIDE[cell]
    probes = list(probes_for(cell)) + [extra_probe(cell)]
    returned = []
    for probe in probes:
        returned.append(make()(probe.da, reference_caches(probe)))
    assert nearest(cell, returned, probes).id == mutant_id
    returned[-1] = {k: v * 1.001 for k, v in returned[-1].items()}  # the unseen probe alone disagrees
    assert nearest(cell, returned, probes) is None


@pytest.mark.parametrize("cell", CELLS)
def test_nearest_names_the_same_before_and_after_mutants_for(cell, monkeypatch):
    """A check calls nearest() without mutants_for(): it must name what the kept list would."""
    cases = [returned_by(OUTSIDE[cell][0](), cell)]
    for bug in [b for b in BACKWARD_BUGS if b.cell == cell]:
        cases.append([None if (tr := reference_trace(p, bug.variant)).error else tr.gradients()
                      for p in probes_for(cell)])
    kept = [nearest(cell, returned, probes_for(cell)) for returned in cases]
    monkeypatch.setattr(mutants, "_KEPT", {})
    monkeypatch.setattr(mutants, "_NAMED", {})
    fresh = [nearest(cell, returned, probes_for(cell)) for returned in cases]
    assert [(m.id, m.catalog_id) if m else None for m in fresh] == [(m.id, m.catalog_id) if m else None for m in kept]


def test_matches_lists_every_mutant_that_behaves_alike_simplest_first():
    mutant = by_id("rnn", "rnn_backward/dWax/overwrite")  # a reset of dWax at the top of the loop returns the same
    found = mutants.matches("rnn", returned_by(mutant.backward, "rnn"), probes_for("rnn"))
    assert [m.id for m in found] == ["rnn_backward/dWax/overwrite", "rnn_backward/dWax/reset"]
    assert found[0] is nearest("rnn", returned_by(mutant.backward, "rnn"), probes_for("rnn"))


def test_a_shape_error_is_kept_with_what_numpy_said():
    mutant = by_id("rnn", "rnn_cell_backward/dxt/no-transpose-Wax")
    assert mutant.catalog_id == "no-transpose-wax"
    raised = dict(mutant.raises)
    assert set(raised) == {p.name for p in probes_for("rnn")}
    for probe in probes_for("rnn"):
        n_a, m, _ = probe.da.shape
        assert raised[probe.name].type == "ValueError"
        assert f"({n_a},{probe.x.shape[0]})" in raised[probe.name].message  # Wax's shape, as numpy prints it
    assert nearest("rnn", [None] * len(probes_for("rnn")), probes_for("rnn")) is None  # an exception alone names nothing
