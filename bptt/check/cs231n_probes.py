"""The inputs a CS231n-style submission runs on, and the reference's answer on each, in that homework's names.

The probes are the course's own (probes.py), converted: batch first, x (N, T, D), h0 (N, H),
Wx (D, H), Wh (H, H), b (H,), the upstream gradient dh (N, T, H); for the LSTM one Wx (D, 4H)
with the gates i, f, o, g side by side. The course probe rides along (`Probe231.course`), so a
catalog bug's variant, written in the course's notation, is run on exactly the same numbers
and its gradients converted back (`variant_gradients`, `variant_step_outputs`).

The reference is the homework's own code (bptt/cs231n.py), run here in the parent, step by step:

    reference(probes_for("rnn")[0]).inputs[3]["dnext_h"]  # what the loop must hand rnn_step_backward at t = 3
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import cs231n, notation
from . import compare
from .probes import Probe, fresh_probe
from .probes import probes_for as course_probes

STEP_OUTPUTS = {"rnn": ("dx", "dprev_h", "dWx", "dWh", "db"),
                "lstm": ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")}
STEP_INPUTS = {"rnn": ("dnext_h",), "lstm": ("dnext_h", "dnext_c")}
FINAL_OUTPUTS = ("dx", "dh0", "dWx", "dWh", "db")
TOTALS = ("dWx", "dWh", "db")
FORWARD_OUTPUTS = {"rnn_forward": ("h",), "lstm_forward": ("h",),
                   "rnn_step_forward": ("next_h",), "lstm_step_forward": ("next_h", "next_c")}
GATES = "ifog"  # the homework's order of the gates in Wx's columns


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, as probes.Probe
class Probe231:
    """One input in the homework's shapes, and the same input in the course's (for the catalog's variants)."""

    name: str
    cell: str
    course: Probe  # the same numbers in the course's notation, x cut to T_x steps
    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H), LSTM (D, 4H)
    Wh: np.ndarray  # (H, H), LSTM (H, 4H)
    b: np.ndarray  # (H,), LSTM (4H,)
    dh: np.ndarray  # (N, T, H) upstream gradient
    dc: np.ndarray  # (N, T, H) handed to lstm_step_backward as dnext_c when it is tested alone
    notation = "cs231n"

    @property
    def T_x(self) -> int:
        return self.dh.shape[1]

    @property
    def m(self) -> int:
        return self.dh.shape[0]

    @property
    def sizes(self) -> str:
        N, T, H = self.dh.shape
        return f"N={N}, T={T}, D={self.x.shape[2]}, H={H}"

    def arrays(self, prefix: str) -> dict:
        """Flat name -> array, for the child's job."""
        return {f"{prefix}{k}": getattr(self, k) for k in ("x", "h0", "Wx", "Wh", "b", "dh", "dc")}


def to_cs231n(probe: Probe) -> Probe231:
    """The course probe in the homework's notation (bptt/notation.py). to_cs231n(p).Wx.shape == p.parameters["Wax"].T.shape"""
    x = probe.x[:, :, :probe.T_x]  # (n_x, m, T_x): the course's LSTM example carries more steps than it backpropagates
    course = Probe(probe.name, probe.cell, x, probe.a0, probe.parameters, probe.da, probe.dc)
    Wx, Wh, b = (np.ascontiguousarray(w) for w in notation.parameters_to_cs231n(probe.cell, probe.parameters))
    x, h0, dh = (np.ascontiguousarray(a) for a in notation.inputs_to_cs231n(x, probe.a0, probe.da))
    return Probe231(probe.name, probe.cell, course, x, h0, Wx, Wh, b, dh,
                    np.ascontiguousarray(notation.as_cs231n(probe.dc)))


def gradients_to_cs231n(cell: str, grads: dict) -> dict:
    """A course gradient dict, of a whole backward or of one step (dxt, da_prev, dc_prev), in the homework's names.

    gradients_to_cs231n("rnn", rnn_cell_backward(da_next, cache))["dprev_h"]  # da_prev.T
    """
    if "da_prev" not in grads:
        return notation.gradients_to_cs231n(cell, grads)
    whole = {**grads, "dx": grads["dxt"], "da0": grads["da_prev"]}
    out = notation.gradients_to_cs231n(cell, whole)
    out["dprev_h"] = out.pop("dh0")
    if "dc_prev" in grads:
        out["dprev_c"] = notation.as_cs231n(grads["dc_prev"])
    return out


def gradients_to_course(cell: str, grads: dict) -> dict | None:
    """The homework's whole-backward gradients in the course's names; None where a shape does not fit."""
    try:
        return notation.gradients_to_course(cell, *(np.asarray(grads[k], dtype=float) for k in FINAL_OUTPUTS))
    except (KeyError, ValueError, IndexError, TypeError):
        return None


@dataclass(frozen=True)
class Reference:
    """The homework's backward on one probe, step by step, in backward order (t = T-1 down to 0)."""

    h: np.ndarray  # (N, T, H), rnn_forward's / lstm_forward's output
    c: np.ndarray | None  # (N, T, H), the LSTM's cell states
    inputs: dict  # t -> {"dnext_h", ("dnext_c")}: what the loop hands the step backward at t
    outputs: dict  # t -> {"dx", "dprev_h", ...}: what the step backward returns there
    totals: dict  # t -> {"dWx", "dWh", "db"}: the running totals after the step at t
    final: dict  # dx, dh0, dWx, dWh, db
    alone: list  # t -> the step backward's outputs on (dh[:, t], dc[:, t], cache of step t)
    steps_forward: list  # t -> {"next_h", ("next_c")} from the reference's previous state

    def step_inputs(self, t: int) -> dict:
        return self.inputs[t]


@lru_cache(maxsize=64)
def reference(probe: Probe231) -> Reference:
    """The reference's every step on a probe, computed once."""
    lstm = probe.cell == "lstm"
    forward = cs231n.lstm_forward if lstm else cs231n.rnn_forward
    h, caches = forward(probe.x, probe.h0, probe.Wx, probe.Wh, probe.b)
    N, T, H = probe.dh.shape
    D = probe.x.shape[2]
    width = 4 * H if lstm else H
    dx = np.zeros((N, T, D))  # (N, T, D)
    sums = {"dWx": np.zeros((D, width)), "dWh": np.zeros((H, width)), "db": np.zeros(width)}
    dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))  # (N, H)
    inputs, outputs, totals = {}, {}, {}
    for t in reversed(range(T)):
        inputs[t] = {"dnext_h": probe.dh[:, t, :] + dprev_h, **({"dnext_c": dprev_c} if lstm else {})}
        if lstm:
            out = cs231n.lstm_step_backward(inputs[t]["dnext_h"], dprev_c, caches[t])
        else:
            out = cs231n.rnn_step_backward(inputs[t]["dnext_h"], caches[t])
        outputs[t] = dict(zip(STEP_OUTPUTS[probe.cell], out))
        dx[:, t, :] = outputs[t]["dx"]
        dprev_h = outputs[t]["dprev_h"]
        dprev_c = outputs[t].get("dprev_c", dprev_c)
        for key in TOTALS:
            sums[key] = sums[key] + outputs[t][key]
        totals[t] = dict(sums)
    final = {"dx": dx, "dh0": dprev_h, **sums}
    alone, steps_forward = [], []
    for t in range(T):
        if lstm:
            alone.append(dict(zip(STEP_OUTPUTS["lstm"], cs231n.lstm_step_backward(
                probe.dh[:, t, :], probe.dc[:, t, :], caches[t]))))
            steps_forward.append({"next_h": h[:, t, :], "next_c": caches[t][9]})
        else:
            alone.append(dict(zip(STEP_OUTPUTS["rnn"], cs231n.rnn_step_backward(probe.dh[:, t, :], caches[t]))))
            steps_forward.append({"next_h": h[:, t, :]})
    c = np.stack([cache[9] for cache in caches], axis=1) if lstm else None
    return Reference(h, c, inputs, outputs, totals, final, alone, steps_forward)


@lru_cache(maxsize=512)
def variant_gradients(probe: Probe231, code) -> dict | None:
    """A catalog variant's whole backward on the probe, in the homework's names; None where it raises."""
    try:
        grads = compare.cached_trace(probe.course, code).gradients()
    except ValueError:
        return None
    try:
        return gradients_to_cs231n(probe.cell, grads)
    except (ValueError, IndexError):  # a variant whose gradient has no place in the homework's shapes
        return None


@lru_cache(maxsize=512)
def variant_step_outputs(probe: Probe231, code) -> tuple:
    """A catalog variant's step backward alone at every t, in the homework's names (None where it raises)."""
    return tuple(None if isinstance(out, str) else _converted(probe.cell, out)
                 for out in compare.variant_cell_outputs(probe.course, code))


def _converted(cell: str, out: dict) -> dict | None:
    try:
        return gradients_to_cs231n(cell, out)
    except (ValueError, IndexError):
        return None


@lru_cache(maxsize=2)
def probes_for(cell: str) -> tuple:
    """The fixed probes of one cell, the course's example first.

    probes_for("rnn")[0].sizes -> 'N=10, T=4, D=3, H=5'
    """
    return tuple(to_cs231n(p) for p in course_probes(cell))


def fresh(cell: str, seed: int) -> Probe231:
    """The probe drawn for this check, from the parent's seed."""
    return to_cs231n(fresh_probe(cell, seed))
