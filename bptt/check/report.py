"""A check's verdict: the JSON of `python -m bptt check --json`, a readable text, and the exit status."""

import re
from dataclasses import dataclass, field

from ..catalog import Bug
from .compare import Finding
from .source import Source

SCOPE_WORDS = {
    "input": "what your loop hands to {cell} as {q}",
    "step": "what {cell} returns as {q}",
    "total": "your loop's running total {q} after this step",
    "final": "the {q} that {function} returns",
}


@dataclass(frozen=True)
class MatchedBug:
    """A catalog bug the submission behaves exactly like, and where it sits in the student's code."""

    bug: Bug
    line: int | None  # in Source.code; for a missing line, the line it belongs after
    missing: bool = False  # True when the bug is a line that is not there
    evidence: str = "whole"  # "whole" run, the "cell" alone, the "loop" with the reference cell, the "forward",
    # or "mutant": no catalog bug, but a generated single-change variant of the course's code behaves exactly alike


@dataclass
class Report:
    """Everything a check found. report.exit_code -> 0 ok, 1 a difference, 2 could not run."""

    source: Source
    functions: dict = field(default_factory=dict)  # name -> {"ok", "outputs": {key: {"ok", "max_abs_error"}}}
    divergence: Finding | None = None
    bugs: list = field(default_factory=list)  # MatchedBug, most likely first
    error: dict | None = None  # {"kind", "message", "line"}
    stdout: str = ""  # what the student's code printed, truncated
    seconds: float = 0.0
    runs: dict = field(default_factory=dict)  # function -> [(probe, student LoopRun, reference trace)], for the page
    notes: list = field(default_factory=list)  # what the run itself adds to the source's notes
    summary: list = field(default_factory=list)  # plain sentences, the obvious first: "Every gradient you return is exactly 0."
    blame: dict | None = None  # {"part": "cell" | "loop" | "forward", "function", "t", "term"}: where the mistake lives

    @property
    def ok(self) -> bool:
        return self.error is None and self.divergence is None and all(f["ok"] for f in self.functions.values())

    @property
    def exit_code(self) -> int:
        return 2 if self.error is not None else 0 if self.ok else 1

    def to_json(self) -> dict:
        """The object `python -m bptt check --json` prints (issue 4's schema, plus `notes`)."""
        d = self.divergence
        return {
            "ok": self.ok,
            "functions": self.functions,
            "first_divergence": None if d is None else {
                "function": d.function, "t": d.t, "T_x": d.probe.T_x, "quantity": d.quantity, "scope": d.scope,
                "probe": d.probe.name, "max_abs_error": d.max_abs_error,
            },
            "bugs": [{"id": m.bug.id, "title": m.bug.title, "function": m.bug.function, "line": m.line,
                      "missing_line": m.missing, "why": m.bug.why, "hint": m.bug.hint} for m in self.bugs],
            "error": self.error,
            "notes": [*self.source.notes, *self.notes],
            "summary": list(self.summary),
            "blame": self.blame,
        }

    def to_text(self) -> str:
        """The readable report of `python -m bptt check FILE`, worded from the verdict and the error's kind."""
        out = [f"Checked: {', '.join(self.functions) or ', '.join(self.source.functions) or 'nothing'}"]
        out += [f"Note: {note}" for note in (*self.source.notes, *self.notes)]
        out += [f"* {sentence}" for sentence in self.summary]
        if self.error is not None:
            where = f" ({self.source.where(self.error['line'])})" if self.error.get("line") else ""
            out.append(f"{ERROR_HEADINGS.get(self.error['kind'], 'Could not run')} [{self.error['kind']}]{where}: "
                       f"{self.error['message']}")
        for name, f in self.functions.items():
            bad = [f"{k} (max abs error {_number(v['max_abs_error'])})" for k, v in f["outputs"].items() if not v["ok"]]
            raised = self.error is not None and all(v["max_abs_error"] is None and not v["ok"]
                                                    for v in f["outputs"].values())
            if f["ok"]:
                verdict = "matches the reference"
            elif bad and not raised:
                verdict = "differs: " + ", ".join(bad)
            else:
                verdict = "raised an error (above)" if self.error is not None else "could not be compared"
            out.append(f"  {name}: {verdict}")
        if self.divergence is not None:
            out.append("First difference: " + explain(self.divergence))
        for m in self.bugs:
            where = (f"belongs after {self.source.where(m.line)}" if m.missing else f"at {self.source.where(m.line)}"
                     ) if m.line else "line not located"
            known = "Likely bug" if m.evidence != "mutant" else "Behaves exactly like this mistake"
            out += [f"{known}: {m.bug.title} [{m.bug.id}] in {m.bug.function}, {where}",
                    f"  Why: {m.bug.why}", f"  Hint: {m.bug.hint}"]
        if not self.ok and self.error is None and not self.bugs:
            homework = self.divergence is not None and self.divergence.detail.get("notation") == "cs231n"
            out.append("This difference is not a known bug (no catalog bug behaves like it); start from the first "
                       "difference above." if homework else "This difference is not a known bug (neither the catalog "
                       "nor a single-change variant of the course's code behaves like it); start from the first "
                       "difference above.")
        if self.ok:
            out.append("OK: every function matches the reference on every input.")
        return CONTROL.sub(lambda c: f"\\x{{{ord(c.group()):x}}}", "\n".join(out))


# What a terminal would obey instead of print: escapes (a clipboard write, a screen clear), a carriage
# return that overwrites the verdict with a fake "OK", and the bidirectional marks that reorder a line.
# The student's messages and printed output reach the text report; each such character is shown, not sent.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

ERROR_HEADINGS = {
    "syntax": "Python cannot read the file", "indentation": "Python cannot read the file",
    "missing-function": "No course function found", "runtime": "Your code raised an error",
    "shape": "Your code raised a shape error", "output": "Your code returned something the checker cannot use",
    "timeout": "Your code was stopped", "memory": "Your code was stopped",
}


def explain(d: Finding) -> str:
    """One sentence on where a run departs. explain(finding) -> 'At t = 3 (T_x = 4), ...'"""
    on = f"on the {d.probe.name} input ({d.probe.sizes})"
    error = f" (max abs error {_number(d.max_abs_error)})"
    if d.detail.get("notation") == "cs231n":
        return _explain_cs231n(d, on, error)
    if d.function.endswith("cell_backward"):
        at = d.detail.get("at")
        handed = f" (handed the course's cache of step t = {at} and da[:,:,{at}])" if at is not None else ""
        if d.detail.get("raised"):
            return f"{d.function} alone{handed}, {on}, raises while computing {d.quantity}."
        return f"{d.function} alone{handed}, {on}, returns a {d.quantity} that differs from the reference{error}."
    if d.function.endswith("forward") and not d.detail.get("via_caches"):
        when = f"At t = {d.t}" if d.t is not None else "In its caches"
        return f"{when}, {on}: the {d.quantity} your {d.function} computes differs from the reference."
    cell = d.function.replace("_backward", "_cell_backward")
    words = SCOPE_WORDS[d.scope].format(cell=cell, q=d.quantity, function=d.function)
    when = (f"At t = {d.t} (T_x = {d.probe.T_x}, the backward loop runs t = {d.probe.T_x - 1} down to 0)"
            if d.t is not None else "In what it returns")
    if d.scope == "final" and d.t is None and not d.detail:
        return f"{on.capitalize()}: every step your loop ran matched the reference, but {words} differs{error}."
    if d.detail.get("no_calls"):
        return (f"Your {d.function} never calls {cell}, so only what it returns can be compared: {on}, "
                f"{words} differs from the reference{error}.")
    if d.detail.get("missing_step"):
        return f"{when}, {on}: your loop never ran this step."
    if d.detail.get("missing"):
        return f"{when}, {on}: {d.function} does not return {d.quantity}."
    if d.detail.get("via_caches"):
        return (f"{when}, {on}: the reference backward, run on the caches your {d.function} built, differs from the "
                f"reference run in {d.quantity} ({d.scope}): your forward's outputs are right but its caches are not.")
    if d.detail.get("raised"):
        return f"{when}, {on}: your code raised an exception while computing {d.quantity}."
    cache = f" (your loop handed it caches[{d.detail['cache']}])" if d.detail.get("cache") is not None else ""
    return f"{when}, {on}: {words} differs from the reference{error}{cache}."


CS231N_SCOPE_WORDS = {
    "input": "what your loop hands {step} as {q}",
    "step": "what {step} returns as {q}",
    "total": "your loop's running total {q} after this step",
    "final": "the {q} that {function} returns",
}


def _explain_cs231n(d: Finding, on: str, error: str) -> str:
    """explain() in CS231n's names: the step functions, dh[:, t, :], T steps."""
    if d.function.endswith("step_backward") or d.function.endswith("step_forward"):
        at = d.detail.get("at")
        handed = f" (handed dh[:, {at}, :] and the cache of step t = {at})" if at is not None and \
            d.function.endswith("backward") else f" (at t = {at}, from the reference's previous state)"
        if d.detail.get("raised"):
            return f"{d.function} alone{handed}, {on}, raises."
        return f"{d.function} alone{handed}, {on}, returns a {d.quantity} that differs from the reference{error}."
    if d.function.endswith("forward"):
        return f"At t = {d.t}, {on}: the {d.quantity} your {d.function} computes differs from the reference."
    step = d.function.replace("_backward", "_step_backward")
    words = CS231N_SCOPE_WORDS[d.scope].format(step=step, q=d.quantity, function=d.function)
    T = d.probe.T_x
    when = f"At t = {d.t} (T = {T}, the backward loop runs t = {T - 1} down to 0)" if d.t is not None \
        else "In what it returns"
    if d.detail.get("no_calls"):
        return (f"Your {d.function} never calls {step}, so only what it returns can be compared: {on}, "
                f"{words} differs from the reference{error}.")
    if d.detail.get("missing_step"):
        return f"{when}, {on}: your loop never ran this step."
    if d.detail.get("extra_call"):
        return f"{on.capitalize()}: your loop calls {step} more than T = {T} times."
    if d.detail.get("missing"):
        return f"{when}, {on}: your loop does not hand {step} its {d.quantity}."
    if d.detail.get("raised"):
        return f"{when}, {on}: your code raised an exception."
    cache = f" (your loop handed it the cache of step t = {d.detail['cache']})" if d.detail.get("cache") is not None \
        else ""
    return f"{when}, {on}: {words} differs from the reference{error}{cache}."


def _number(value) -> str:
    return "n/a: shapes differ or values missing" if value is None else f"{value:.3g}"
