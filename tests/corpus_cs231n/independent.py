"""The CS231n corpus checked without the checker: each file's own functions, in this process, against central differences.

The forward here is written out again from the homework's equations (not bptt/cs231n.py), and
L = sum(dh * h) is differentiated numerically in every input and weight, so a row of expected.py
is confirmed by arithmetic alone. A file that lacks a function the homework has is given the
reference's, as the notebook's earlier cells would.

    run_file(Path("ok_rnn_skeleton.py"), "rnn").max_error  # ~1e-9, the finite differences' own error
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bptt import cs231n
from bptt.check.source import SKIPPED, from_file, keep_definitions

NAMES = ("x", "h0", "Wx", "Wh", "b")
EPS = 1e-6


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(cell: str, x, h0, Wx, Wh, b) -> np.ndarray:
    """h (N, T, H) from the homework's equations."""
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c, prev = np.zeros((N, T, H)), np.zeros((N, H)), h0
    for t in range(T):
        a = x[:, t, :] @ Wx + prev @ Wh + b
        if cell == "rnn":
            prev = np.tanh(a)
        else:
            i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
            c = f * c + i * g
            prev = o * np.tanh(c)
        h[:, t, :] = prev
    return h


def numerical(cell: str, inputs: dict, dh: np.ndarray) -> dict:
    """Central differences of L = sum(dh * h) in every entry of x, h0, Wx, Wh, b."""
    out = {}
    for name in NAMES:
        grad = np.zeros_like(inputs[name])
        for idx in np.ndindex(grad.shape):
            moved = {k: v.copy() for k, v in inputs.items()}
            moved[name][idx] += EPS
            up = np.sum(dh * forward(cell, **moved))
            moved[name][idx] -= 2 * EPS
            grad[idx] = (up - np.sum(dh * forward(cell, **moved))) / (2 * EPS)
        out[name] = grad
    return out


def case(cell: str, seed: int = 0) -> tuple:
    """Inputs of the homework's shapes (N=3, T=4, D=3, H=2), non-square on purpose, and an upstream dh."""
    rng = np.random.RandomState(seed)
    N, T, D, H = 3, 4, 3, 2
    width = 4 * H if cell == "lstm" else H
    inputs = {"x": rng.randn(N, T, D), "h0": rng.randn(N, H), "Wx": rng.randn(D, width) * 0.5,
              "Wh": rng.randn(H, width) * 0.5, "b": rng.randn(width) * 0.1}
    return inputs, rng.randn(N, T, H)


@dataclass
class Result:
    max_error: float | None  # the largest gap to the finite differences over every gradient, None when it raised
    raised: str | None  # the exception's type name, or "output" for a return of the wrong form


def namespace(path: Path) -> dict:
    source = from_file(path.name, path.read_bytes())
    assert source.error is None or source.error.kind == "missing-function", source.error
    tree, _ = keep_definitions(ast.parse(source.code))  # imports the test lacks (cs231n.*) are skipped
    ns = {"np": np, "sigmoid": cs231n.sigmoid, SKIPPED: []}
    exec(compile(tree, path.name, "exec"), ns)  # noqa: S102 - the test's own corpus
    for name in ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "lstm_step_forward",
                 "lstm_step_backward", "lstm_forward", "lstm_backward"):
        ns.setdefault(name, getattr(cs231n, name))
    return ns


def run_file(path: Path, cell: str) -> Result:
    """The file's backward (or step backward, when it has only that) against central differences."""
    ns = namespace(path)
    inputs, dh = case(cell)
    want = numerical(cell, inputs, dh)
    text = path.read_text()
    try:
        if f"def {cell}_backward(" in text or f"def {cell}_step_backward(" not in text:
            _, cache = ns[f"{cell}_forward"](*(inputs[k].copy() for k in NAMES))
            got = ns[f"{cell}_backward"](dh.copy(), cache)
            if not isinstance(got, tuple) or len(got) != 5:
                return Result(None, "output")
            got = dict(zip(("x", "h0", "Wx", "Wh", "b"), got))
        else:
            got = _steps_alone(ns, cell, inputs, dh)
            if got is None:
                return Result(None, "output")
    except Exception as e:  # noqa: BLE001 - a broken file's exception is what the row predicts
        return Result(None, type(e).__name__)
    errors = [np.max(np.abs(np.asarray(got[k], dtype=float) - want[k])) if np.shape(got[k]) == want[k].shape
              else np.inf for k in NAMES]
    return Result(float(max(errors)), None)


def _steps_alone(ns: dict, cell: str, inputs: dict, dh: np.ndarray) -> dict | None:
    """A whole backward assembled from the file's step backward by the homework's loop written out here."""
    _, cache = ns[f"{cell}_forward"](*(inputs[k].copy() for k in NAMES))
    N, T, H = dh.shape
    grads = {"x": np.zeros_like(inputs["x"]), "Wx": 0, "Wh": 0, "b": 0}
    dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        if cell == "rnn":
            out = ns["rnn_step_backward"](dh[:, t, :] + dprev_h, cache[t])
        else:
            out = ns["lstm_step_backward"](dh[:, t, :] + dprev_h, dprev_c, cache[t])
        if not isinstance(out, tuple):
            return None
        grads["x"][:, t, :], dprev_h = out[0], out[1]
        if cell == "lstm":
            dprev_c = out[2]
        for key, value in zip(("Wx", "Wh", "b"), out[-3:]):
            grads[key] = grads[key] + value
    grads["h0"] = dprev_h
    return grads
