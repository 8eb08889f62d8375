"""Central differences in float64 against the scalar loss L = sum(da * a).

For any fixed da, dL/da<t> = da[:,:,t], so the numbers a backward computes from da must
match the derivatives of L with respect to every parameter and input. That makes L the
ground truth every backward in this project is checked against.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

RNN_WRT = {"Wax": "dWax", "Waa": "dWaa", "ba": "dba"}
LSTM_WRT = {"W" + g: "dW" + g for g in "fico"} | {"b" + g: "db" + g for g in "fico"}
GRU_WRT = {"W" + g: "dW" + g for g in "rzh"} | {"b" + g: "db" + g for g in "rzh"}
WRT = {"rnn": RNN_WRT, "lstm": LSTM_WRT, "gru": GRU_WRT}  # the parameters each cell's backward differentiates
FORWARD = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_forward}
BACKWARD = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}


@dataclass(frozen=True)
class GradCheck:
    """Relative errors of an analytic gradient against central differences."""

    per_entry: dict  # name -> array of |num - ana| / max(|num| + |ana|, 1e-12), shaped like the input
    per_parameter: dict  # name -> ||num - ana|| / (||num|| + ||ana||), 0 when both are zero
    max_error: float
    verdict: str  # one line, e.g. "OK: every gradient agrees with finite differences (max relative error 3e-10)"


def loss(cell: str, x: np.ndarray, a0: np.ndarray, parameters: dict, da: np.ndarray) -> float:
    """L = sum(da * a) over the steps da covers; cell is "rnn", "lstm" or "gru". loss("rnn", x, a0, p, da) -> float"""
    a = FORWARD[cell](x, a0, parameters)[0]
    return float(np.sum(da * a[:, :, : da.shape[2]]))


def numerical_gradients(cell: str, x, a0, parameters: dict, da, eps: float = 1e-6) -> dict:
    """dL/d(everything) by central differences, under the course's gradient keys.

    numerical_gradients("rnn", x, a0, parameters, da)["dWaa"]  # (n_a, n_a)
    """
    wrt = WRT[cell]
    values = {"x": x, "a0": a0, **{name: parameters[name] for name in wrt}}
    keys = {"x": "dx", "a0": "da0", **wrt}
    grads = {}
    for name, value in values.items():
        value = np.array(value, dtype=np.float64)
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            plus = loss(cell, *_with(name, value, x, a0, parameters), da)
            value[index] = original - eps
            minus = loss(cell, *_with(name, value, x, a0, parameters), da)
            value[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads[keys[name]] = grad
    grads["dx"] = grads["dx"][:, :, : da.shape[2]]  # only the steps the backward covers
    return grads


def _with(name: str, value, x, a0, parameters) -> tuple:
    if name == "x":
        return value, a0, parameters
    if name == "a0":
        return x, value, parameters
    return x, a0, {**parameters, name: value}


def gradient_check(
    cell: str, x, a0, parameters: dict, da, backward: Callable | None = None, eps: float = 1e-6, tol: float = 1e-7
) -> GradCheck:
    """Compare a backward (the course's by default) with central differences.

    gradient_check("rnn", x, a0, parameters, da).verdict  # 'OK: ...'
    """
    backward = backward or BACKWARD[cell]
    analytic = backward(da, FORWARD[cell](x, a0, parameters)[-1])
    numeric = numerical_gradients(cell, x, a0, parameters, da, eps)
    per_entry, per_parameter = {}, {}
    for key, num in numeric.items():
        ana = np.asarray(analytic.get(key, np.nan), dtype=np.float64)
        if ana.shape != num.shape:  # a missing key lands here too
            per_entry[key] = np.full(num.shape, np.inf)
            per_parameter[key] = float("inf")
            continue
        per_entry[key] = np.abs(num - ana) / np.maximum(np.abs(num) + np.abs(ana), 1e-12)
        denominator = np.linalg.norm(num) + np.linalg.norm(ana)
        per_parameter[key] = float(np.linalg.norm(num - ana) / denominator) if denominator else 0.0
    worst = max(per_parameter, key=per_parameter.get)
    max_error = per_parameter[worst]
    if max_error <= tol:
        verdict = f"OK: every gradient agrees with finite differences (max relative error {max_error:.1e})"
    else:
        verdict = f"WRONG: {worst} disagrees with finite differences (relative error {max_error:.1e})"
    return GradCheck(per_entry, per_parameter, max_error, verdict)
