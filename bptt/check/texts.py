"""The plain sentences of a report's summary, the obvious first: "Every gradient you return is exactly 0."

Each sentence is a fact measured on the student's returned values against the reference's
(all zero, a shape, a transpose, a flipped sign, a constant factor), then where the mistake
lives (Report.blame). No sentence gives the corrected line away.

    summary(report, evidence, defined)  # ['Every gradient you return is exactly 0.', 'The mistake is in your loop ...']
"""

import re

import numpy as np

from ..trace import differs
from . import compare
from .blame import first_wrong_cell_step
from .compare import Raised

TERM_WORDS = {
    "dz": "dz, the gradient through tanh (its derivative)",
    "dc": "dc, the whole gradient reaching c_next",
    "dft": "the forget gate's gradient dft", "dit": "the update gate's gradient dit",
    "dcct": "the candidate's gradient dcct", "dot": "the output gate's gradient dot",
    "concat": "the stack [a_prev; xt] the weight gradients are taken against",
    "in context": "nothing when tested alone, but its results differ inside the course's loop "
                   "(does it change its inputs in place?)",
}
WHERE = re.compile(r" \((?:in |line |cell |at the step|on the ).*\)(, while running \w+)?$")  # _error_of's suffix
LOOP_WORDS = {
    "da_next": "what it hands the cell as da_next",
    "dc_next": "what it hands the cell as dc_next (the carried cell-state gradient)",
    "cache": "which cache it hands the cell",
    "order": "which steps it runs: a step is missing",
    "running total": "a running total of the weight gradients",
    "after the loop": "what it does after the loop",
}

CS231N_TERM_WORDS = {
    "dtanh": "dtanh, the gradient through tanh (its derivative)",
    "dc": "the whole gradient reaching next_c", "di": "the input gate's gradient", "df": "the forget gate's gradient",
    "do": "the output gate's gradient", "dg": "the candidate's gradient",
    "in context": "nothing when tested alone, but its results differ inside your backward "
                  "(does it change its inputs or its cache in place?)",
}
CS231N_LOOP_WORDS = {
    "dnext_h": "what it hands the step backward as dnext_h",
    "dnext_c": "what it hands the step backward as dnext_c (the carried cell-state gradient)",
    "cache": "which step's cache it hands the step backward",
    "order": "which steps it runs: a step is missing",
    "running total": "a running total of the weight gradients",
    "after the loop": "what it does after the loop",
}


def ok_summary(defined: list, probes: list) -> list:
    """The one sentence of a pass; probes are those whose evidence was judged, never merely those asked for."""
    fresh = sum(1 for p in probes if p.name == "drawn for this check")
    drawn = f", {fresh} of them drawn at random for this check" if fresh else ""
    return [f"Everything your {', '.join(defined)} return{'s' if len(defined) == 1 else ''} matches the reference "
            f"on all {len(probes)} inputs{drawn}."]


def error_summary(error: dict) -> list:
    """One sentence on why the code could not be judged."""
    kind, message = error.get("kind"), str(error.get("message", ""))
    first = WHERE.sub("", message).rstrip(".")
    if kind in ("syntax", "indentation"):
        return [f"Python cannot read your file: {first}."]
    if kind == "missing-function":
        return [f"{first[:1].upper()}{first[1:]}."]
    if kind == "output":
        return [f"Nothing could be compared: {first}."]
    if kind in ("timeout", "memory"):
        return [f"Your code was stopped: {first}."]
    if kind == "busy":
        return [f"Your code was not run: {first}."]
    return [f"Your code raised an error before it returned: {first}."]


def summary(report, evidence: list, defined: list) -> list:
    """The obvious facts about the first wrong function's outputs, then where the mistake lives."""
    sentences = []
    for cell in ("rnn", "lstm"):
        evs = [ev for ev in evidence if ev.probe.cell == cell]
        backward = f"{cell}_backward"
        if backward in defined and backward in report.functions and not report.functions[backward]["ok"]:
            pair = next(((ev.whole.returned, compare.cached_trace(ev.probe, None).gradients(), ev.probe) for ev in evs
                         if ev.whole is not None and ev.whole.returned is not None
                         and not _same(ev.whole.returned, compare.cached_trace(ev.probe, None).gradients())), None)
            if pair:
                sentences += obvious(*pair, backward)
                break
        name = f"{cell}_cell_backward"
        if name in defined and name in report.functions and not report.functions[name]["ok"]:
            sentences += _cell_facts(evs, name)
            break
    if report.blame:
        sentences.append(blame_sentence(report.blame))
    if report.error is not None:
        sentences += error_summary(report.error)
    return sentences


def _cell_facts(evs: list, name: str) -> list:
    """The obvious facts about the cell alone, at the first step (backward order) where it differs."""
    found = first_wrong_cell_step(evs)
    if found is None or isinstance(found[2], Raised):
        return []
    ev, _, got, want = found
    return obvious(got, want, ev.probe, name)


def _same(got: dict, want: dict) -> bool:
    return all(k in got and not differs(got[k], want[k]) for k in want)


def obvious(got: dict, want: dict, probe, function: str, limit: int = 3) -> list:
    """Plain facts about returned values against the reference's: all zero, shapes, transposes, signs, factors."""
    present = [k for k in want if k in got]
    if present and all(not np.any(got[k]) for k in present) and any(np.any(want[k]) for k in want):
        return ["Every gradient you return is exactly 0" + (", and every shape is right." if all(
            got[k].shape == want[k].shape for k in present) else ".")]
    facts, right = [], []
    for key in want:
        if key not in got:
            facts.append(f"Your {function} does not return {key}.")
            continue
        fact = _fact(key, got[key], np.asarray(want[key]), probe)
        if fact:
            facts.append(fact)
        elif not differs(got[key], want[key]):
            right.append(key)
    out = facts[:limit]
    if right and facts:
        out.append(f"{_join(right)} {'is' if len(right) == 1 else 'are'} right.")
    return out


def _fact(key: str, got: np.ndarray, want: np.ndarray, probe) -> str | None:
    if got.shape != want.shape:
        if got.shape == want.T.shape and not differs(got, want.T):
            return f"Your {key} is the reference's transposed: shape {_shape(got)} instead of {_shape(want)}."
        return f"Your {key} has shape {_shape(got)}; the reference's has shape {_shape(want)}."
    if not differs(got, want):
        return None
    if not np.all(np.isfinite(got)):
        return f"Your {key} holds NaN or infinite values."
    if not np.any(got):
        return f"Your {key} is exactly 0."
    if got.ndim == 2 and got.shape[0] == got.shape[1] and not differs(got, want.T):
        return f"Your {key} is the reference's transposed."
    if not differs(got, -want):
        return f"Your {key} is the reference's with its sign flipped."
    scale = float(np.sum(want * want))
    if scale > 0:
        factor = float(np.sum(got * want)) / scale
        if factor and not differs(got, factor * want):
            m = probe.m
            named = " (divided by m)" if m > 1 and abs(factor * m - 1) < 1e-9 else \
                " (times m)" if m > 1 and abs(factor - m) < 1e-9 else ""
            return f"Your {key} is the reference's times {factor:.4g}{named}."
    return None


def blame_sentence(blame: dict, notation: str = "course") -> str:
    """One sentence on where the mistake lives; notation "cs231n" words it in that homework's names."""
    part, function, t, term = blame["part"], blame["function"], blame.get("t"), blame.get("term")
    at = f" at t = {t}" if t is not None else ""
    homework = notation == "cs231n"
    terms, loops = (CS231N_TERM_WORDS, CS231N_LOOP_WORDS) if homework else (TERM_WORDS, LOOP_WORDS)
    inputs = "the reference's own inputs" if homework else "the course's own inputs"
    if part == "cell":
        if term is None:
            return f"The mistake is in {function}: it raises{at}, on {inputs}."
        if term == "in context":
            return f"Your {function} is right alone but {terms[term]}."
        return f"The mistake is in {function}: {terms.get(term, term)} goes wrong{at}, on {inputs}."
    if part == "loop":
        cell = function.replace("_backward", "_step_backward" if homework else "_cell_backward")
        if term is None:
            return f"The mistake is in {function}, not in {cell}."
        what = loops.get(term, f"what it does with {term}")
        return f"The mistake is in your loop in {function}, not in {cell}: {what} goes wrong{at}."
    return f"The mistake is in {function}: {term or 'what it returns'}{' goes wrong' if term else ''}{at}."


def _shape(a: np.ndarray) -> str:
    return "(" + ", ".join(str(n) for n in a.shape) + ("," if a.ndim == 1 else "") + ")"


def _join(keys: list) -> str:
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
