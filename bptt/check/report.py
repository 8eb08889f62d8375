"""A check's verdict: the JSON of `python -m bptt check --json`, a readable text, and the exit status."""

from dataclasses import dataclass, field

from ..catalog import Bug
from .compare import Finding
from .source import Source

SCOPE_WORDS = {
    "input": "what your loop hands to {cell} as {q}",
    "step": "what {cell} returns as {q}",
    "total": "your loop's running total {q} after this step",
    "final": "the {q} that {function} returns",
    "error": "your code raised an exception here ({q})",
}


@dataclass(frozen=True)
class MatchedBug:
    """A catalog bug the submission behaves exactly like, and where it sits in the student's code."""

    bug: Bug
    line: int | None  # in Source.code; for a missing line, the line it belongs after
    missing: bool = False  # True when the bug is a line that is not there
    evidence: str = "whole"  # "whole" run, the "cell" alone, the "loop" with the reference cell, the "forward"


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
        """The readable report of `python -m bptt check FILE`."""
        out = [f"Checked: {', '.join(self.functions) or ', '.join(self.source.functions) or 'nothing'}"]
        out += [f"Note: {note}" for note in (*self.source.notes, *self.notes)]
        if self.error is not None:
            where = f" ({self.source.where(self.error['line'])})" if self.error.get("line") else ""
            out.append(f"Could not run [{self.error['kind']}]{where}: {self.error['message']}")
        for name, f in self.functions.items():
            bad = [f"{k} (max abs error {_number(v['max_abs_error'])})" for k, v in f["outputs"].items() if not v["ok"]]
            out.append(f"  {name}: " + ("matches the reference" if f["ok"] else "differs: " + ", ".join(bad)
                                        if bad else "could not be compared"))
        if self.divergence is not None:
            out.append("First difference: " + explain(self.divergence))
        for m in self.bugs:
            where = (f"belongs after {self.source.where(m.line)}" if m.missing else f"at {self.source.where(m.line)}"
                     ) if m.line else "line not located"
            out += [f"Likely bug: {m.bug.title} [{m.bug.id}] in {m.bug.function}, {where}",
                    f"  Why: {m.bug.why}", f"  Hint: {m.bug.hint}"]
        if self.divergence is not None and not self.bugs and self.error is None:
            out.append("This difference does not match any bug in the catalog; start from the first difference above.")
        if self.ok:
            out.append("OK: every function matches the reference on every input.")
        return "\n".join(out)


def explain(d: Finding) -> str:
    """One sentence on where a run departs. explain(finding) -> 'At t = 3 (T_x = 4), ...'"""
    cell = d.function if d.function.endswith("cell_backward") else d.function.replace("_backward", "_cell_backward")
    words = SCOPE_WORDS[d.scope].format(cell=cell, q=d.quantity, function=d.function)
    when = f"At t = {d.t} (T_x = {d.probe.T_x}, the backward loop runs t = {d.probe.T_x - 1} down to 0)" if d.t is not None \
        else "After every step matched"
    if d.detail.get("missing_step"):
        return f"{when}, on the {d.probe.name} input ({d.probe.sizes}): your loop never ran this step."
    if d.detail.get("missing"):
        return f"{when}, on the {d.probe.name} input: {d.function} does not return {d.quantity}."
    if d.detail.get("via_caches"):
        return (f"{when}, on the {d.probe.name} input ({d.probe.sizes}): the reference backward, run on the caches "
                f"your {d.function} built, differs from the reference run in {d.quantity} ({d.scope}): your "
                "forward's outputs are right but its caches are not.")
    error = f" (max abs error {_number(d.max_abs_error)})" if d.scope != "error" else ""
    verb = "" if d.scope == "error" else " differs from the reference"
    return f"{when}, on the {d.probe.name} input ({d.probe.sizes}): {words}{verb}{error}."


def _number(value) -> str:
    return "n/a: shapes differ or values missing" if value is None else f"{value:.3g}"
