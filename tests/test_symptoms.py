"""Measured symptoms: every catalog bug does, on live inputs, what the catalog says it does."""

from dataclasses import replace

import numpy as np
import pytest

from bptt import BUGS, SCENARIOS, RunConfig, get_bug, run
from bptt.symptoms import measure


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
@pytest.mark.parametrize("scenario", ["course", "classroom", "echo"])
def test_every_bug_measures_as_documented(bug, scenario):
    symptom = measure(bug, RunConfig(scenario=scenario))
    assert symptom.disagreements() == []
    assert symptom.config.cell == bug.cell and symptom.config.bug == bug.id


@pytest.mark.parametrize("bug", [b for b in BUGS if not b.raises], ids=lambda b: b.id)
def test_the_difference_shown_is_buggy_minus_correct(bug):
    symptom = measure(bug, RunConfig(scenario="classroom"))
    label, difference = symptom.difference
    got = run(symptom.config).trace.gradients()
    right = run(replace(symptom.config, bug=None)).trace.gradients()
    key, _, column = label.partition("[:,:,")
    assert key in symptom.wrong
    expected = got[key] - right[key]
    if column:
        expected = expected[:, :, int(column.rstrip("]"))]
    np.testing.assert_array_equal(difference, expected)
    assert difference.ndim == 2 and np.any(difference)


def test_how_much_is_the_relative_error():
    m = RunConfig().m
    divided = measure(get_bug("divide-by-m"), RunConfig())
    for key in ("dWax", "dWaa", "dba"):
        assert divided.relative[key] == pytest.approx(1 - 1 / m)
    zero = measure(get_bug("missing-da-t"), RunConfig())
    assert set(zero.relative.values()) == {1.0}
    transposed = measure(get_bug("dwaa-transposed"), RunConfig(scenario="classroom"))
    assert list(transposed.wrong) == ["dWaa"]


def test_a_raising_bug_reports_its_error_and_no_gradients():
    symptom = measure(get_bug("no-transpose-wax"), RunConfig())
    assert symptom.error.kind == "ValueError" and "not aligned" in symptom.error.message
    assert symptom.difference is None
    assert symptom.first.scope == "error" and symptom.first.t == 3


def test_a_wrong_documentation_is_caught():
    misdocumented = replace(get_bug("da0-not-set"), wrong_keys=("dx",), first=("step", "dxt", -1), raises="ValueError")
    problems = measure(misdocumented, RunConfig()).disagreements()
    assert len(problems) == 3
    assert "documented ['dx']" in problems[0]


@pytest.mark.parametrize("bug_id, expected", [
    ("divide-by-m", ["Wrong: `dWax` (90% off), `dWaa` (90% off), `dba` (90% off). Right: `dx`, `da0`.",
                     "First departs from the correct run at t = 3, in `dWax` (what the cell computes), by up to"]),
    ("da0-not-set", ["Wrong: `da0` (100% off). Right: `dx`, `dWax`, `dWaa`, `dba`.",
                     "First departs from the correct run after the loop, in `da0` (the value the function returns)"]),
    ("no-transpose-wax", ["Raises `ValueError` at t = 3, in the `dxt` line, so nothing is returned: shapes (5,3)"]),
])
def test_the_measurement_in_words(bug_id, expected):
    lines = measure(get_bug(bug_id), RunConfig()).describe()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected):
        assert line.startswith(start)


@pytest.mark.parametrize("sizes", [{"T_x": 1}, {"n_a": 1}, {"n_x": 3, "n_a": 3}])
def test_measuring_at_sizes_the_catalog_does_not_document_never_raises(sizes):
    """The gallery measures every bug on whatever input the link names; odd sizes may disagree, never crash."""
    config = replace(SCENARIOS["classroom"].defaults, **sizes)
    for bug in BUGS:
        symptom = measure(bug, replace(config, cell=bug.cell))
        assert isinstance(symptom.disagreements(), list)
        assert isinstance(symptom.describe(), list)
