"""A catalog bug's symptom, measured live: run the buggy and the correct code on the same input, compare.

The catalog documents what each bug does (wrong_keys, first, raises); this module measures
it on whatever input a page is showing, so the bug gallery can print the measurement next
to the documentation and the tests can hold the two to each other.

    symptom = measure(get_bug("divide-by-m"), RunConfig())
    symptom.relative["dWaa"]  # 0.9: a tenth of the right value, m = 10
"""

from dataclasses import dataclass, replace

import numpy as np

from .catalog import Bug
from .runs import Run, run
from .scenarios import RunConfig
from .trace import Divergence, StepError, differs, max_abs_error

SCOPE_WORDS = {
    "input": "what the loop hands the cell",
    "step": "what the cell computes",
    "total": "the loop's running total",
    "final": "the value the function returns",
}
# the recurrent matrix's gradient first (the GRU's dWh holds its Waa), then the others, biases, da0, dx
PREFERRED = ("dWaa", "dWf", "dWh", "dWax", "dWi", "dWc", "dWo", "dWz", "dWr",
             "dba", "dbf", "dbh", "dbi", "dbc", "dbo", "dbz", "dbr", "da0", "dx")


@dataclass(frozen=True)
class Symptom:
    """What a bug did to the gradients of one input, against the correct code."""

    bug: Bug
    config: RunConfig  # the buggy run's config, as validated
    keys: tuple  # every gradient the backward returns, course order
    wrong: dict  # returned key -> largest absolute error, for the keys that differ (all keys when it raised)
    relative: dict  # the same keys -> ||buggy - right|| / ||right|| (inf when it raised)
    first: Divergence | None  # where the buggy loop first departs from the correct one
    error: StepError | None  # what the buggy loop raised, or None
    difference: tuple | None  # (label, (rows, cols) array buggy - right) for the most telling wrong gradient

    @property
    def expected_first(self) -> tuple | None:
        """The catalog's documented first divergence with its t resolved for this T_x: (scope, quantity, t).

        None when the documented step does not exist at this T_x (a step T_x-2 when T_x = 1).
        """
        if self.bug.first is None:
            return None
        scope, quantity, index = self.bug.first
        if index is None:
            return scope, quantity, None
        steps = range(self.config.T_x)
        return (scope, quantity, steps[index]) if -len(steps) <= index < len(steps) else None

    def disagreements(self) -> list:
        """How the measurement departs from the catalog's documented symptom, in words; empty when it agrees.

        The catalog documents its bugs for T_x ≥ 2 and n_x ≠ n_a; other sizes may legitimately differ.
        """
        bug, problems = self.bug, []
        if set(self.wrong) != set(bug.wrong_keys):
            problems.append(f"wrong gradients {sorted(self.wrong)}, documented {sorted(bug.wrong_keys)}")
        measured = None if self.first is None else (self.first.scope, self.first.quantity, self.first.t)
        if measured != self.expected_first:
            problems.append(f"first divergence {measured}, documented {self.expected_first}")
        raised = self.error.kind if self.error else None
        if raised != bug.raises:
            problems.append(f"raised {raised}, documented {bug.raises}")
        return problems

    def describe(self) -> list:
        """The measurement in plain words, one line per fact (markdown, course names in backticks).

        measure(get_bug("divide-by-m"), RunConfig()).describe()[0]  # 'Wrong: `dWax` (90% off), ...'
        """
        if self.error is not None:
            e = self.error
            return [f"Raises `{e.kind}` at t = {e.t}, in the `{e.quantity}` line, so nothing is returned: {e.message}"]
        wrong = ", ".join(f"`{k}` ({_percent(self.relative[k])} off)" for k in self.keys if k in self.wrong)
        right = ", ".join(f"`{k}`" for k in self.keys if k not in self.wrong)
        lines = [f"Wrong: {wrong or 'nothing'}." + (f" Right: {right}." if right else "")]
        f = self.first
        if f is not None:
            where = "after the loop" if f.t is None else f"at t = {f.t}"
            lines.append(f"First departs from the correct run {where}, in `{f.quantity}` ({SCOPE_WORDS[f.scope]}), "
                         f"by up to {f.max_abs_error:.3g}.")
        return lines


GALLERY_BUDGET = 65_536  # n_a·m·T_x at most, when every catalog bug is run on one input (about 20 runs)


def size_problem(config: RunConfig) -> str | None:
    """Why measuring every bug on `config` would take too long for a page, or None when it is fine."""
    size = config.n_a * config.m * config.T_x
    if size <= GALLERY_BUDGET:
        return None
    return (f"n_a·m·T_x = {size:,} is too large to run every bug ({GALLERY_BUDGET:,} at most here): "
            "lower n_a, m or T_x, for example with scenario=classroom")


def measure(bug: Bug, config: RunConfig, correct: Run | None = None) -> Symptom:
    """Run `bug` and the correct code on the input `config` describes (its cell and bug are overridden).

    `correct` may hand in the correct run of that input, so that measuring every bug runs it once.
    measure(get_bug("missing-da-t"), RunConfig(scenario="classroom")).relative["dWaa"]  # 1.0: all zero
    """
    buggy = run(replace(config, cell=bug.cell, bug=bug.id))
    correct = correct or run(replace(buggy.config, bug=None))
    right = correct.trace.gradients()
    first = buggy.trace.first_divergence(correct.trace)
    keys = correct.trace.final_keys
    if buggy.trace.error is not None:
        return Symptom(bug, buggy.config, keys, {k: np.inf for k in keys}, {k: np.inf for k in keys}, first,
                       buggy.trace.error, None)
    got = buggy.trace.gradients()
    wrong, relative = {}, {}
    for key in keys:
        if differs(got[key], right[key]):
            wrong[key] = max_abs_error(got[key], right[key])
            norm = np.linalg.norm(right[key])
            relative[key] = float(np.linalg.norm(got[key] - right[key]) / norm) if norm else np.inf
    return Symptom(bug, buggy.config, keys, wrong, relative, first, None, _telling_difference(got, right, wrong))


def _percent(relative: float) -> str:
    return "∞" if not np.isfinite(relative) else f"{relative:.0%}" if relative >= 0.01 else f"{relative:.1e}×"


def _telling_difference(got: dict, right: dict, wrong: dict) -> tuple | None:
    """(label, 2-D buggy - right) of the first wrong gradient in PREFERRED order; dx at its worst step."""
    for key in PREFERRED:
        if key not in wrong:
            continue
        difference = got[key] - right[key]
        if key != "dx":
            return key, difference
        t = int(np.argmax(np.abs(difference).max(axis=(0, 1))))
        return f"dx[:,:,{t}]", difference[:, :, t]  # (n_x, m)
    return None
