"""The course's notation and CS231n's, side by side: names, shapes, conversions, code and bug lines.

The numbers are the same in both: a cs231n run is the course's run transposed. The course keeps
batch second and time last, x (n_x, m, T_x), with the weights on the left (Wax @ xt, Wax (n_a, n_x));
CS231n keeps batch first, x (N, T, D), with the weights on the right (x @ Wx, Wx (D, H)). So every
2-D array is the other's transpose, a bias (n_a, 1) is b (H,), and a sequence (n, m, T_x) is (m, T_x, n).
The gated cells differ in layout too: the course gives each gate a W (n_a, n_a + n_x) acting on
[a_prev; xt], CS231n stacks the gates side by side in Wx (D, kH) and Wh (H, kH), in its own order
(the LSTM's i, f, o, g; the GRU, which the homework lacks, r, z, h_tilde in bptt/cs231n.py's style).

    Wx, Wh, b = parameters_to_cs231n("rnn", parameters)   # Wx is parameters["Wax"].T
    name("da_prevt", "rnn")                                # 'dprev_h'
    bug_lines("no-transpose-waa").wrong                    # 'dprev_h = dtanh.dot(Wh)'

A page in cs231n notation shows each course-shaped array through `as_cs231n` (its rows and columns
swap: rows are examples, columns units), names it with `name`, titles it with `cs231n_title`, lists
the code with `listing`, and shows a bug with `bug_lines`.
"""

import inspect
import re
from dataclasses import replace
from functools import cache

import numpy as np

from . import cs231n, gru, lstm, rnn
from .catalog import get_bug
from .cs231n_bugs import CS231N_BUGS, BugLines

NOTATIONS = ("course", "cs231n")

# the order of the gates' blocks in CS231n's stacked weights, by the course's gate suffix;
# the LSTM's as the homework has it (i, f, o, g; the course's candidate c is its g)
BLOCKS = {
    "lstm": {"i": 0, "f": 1, "o": 2, "c": 3},
    "gru": {"r": 0, "z": 1, "h": 2},
}
CS231N_GATE = {"i": "i", "f": "f", "o": "o", "c": "g", "r": "r", "z": "z", "h": "h_tilde"}
CS231N_KEYS = ("dx", "dh0", "dWx", "dWh", "db")  # what every *_backward of the homework returns, in order

FUNCTIONS = {  # the course function -> CS231n's
    "rnn_cell_forward": "rnn_step_forward", "rnn_forward": "rnn_forward",
    "rnn_cell_backward": "rnn_step_backward", "rnn_backward": "rnn_backward",
    "lstm_cell_forward": "lstm_step_forward", "lstm_forward": "lstm_forward",
    "lstm_cell_backward": "lstm_step_backward", "lstm_backward": "lstm_backward",
    "gru_cell_forward": "gru_step_forward", "gru_forward": "gru_forward",
    "gru_cell_backward": "gru_step_backward", "gru_backward": "gru_backward",
}


def _gate_names(gates: str) -> dict:
    """A gated cell's per-gate weights and biases: in CS231n one block of the stacked Wx, Wh and b."""
    names = {}
    for g in gates:
        block = CS231N_GATE[g]
        names |= {f"W{g}": f"Wx, Wh: {block} block", f"dW{g}": f"dWx, dWh: {block} block",
                  f"b{g}": f"b: {block} block", f"db{g}": f"db: {block} block"}
    return names


# course name -> CS231n name, for what every cell shares; `t` in a value is the step's index
COMMON = {
    "n_x": "D", "n_a": "H", "m": "N", "T_x": "T",
    "x": "x", "a0": "h0", "a": "h", "da": "dh", "caches": "cache",
    "xt": "x", "a_prev": "prev_h", "a_next": "next_h",
    "da_t": "dh[:, t, :]", "da_prevt": "dprev_h", "da_next": "dnext_h",
    "dxt": "dx", "da_prev": "dprev_h", "dx": "dx", "da0": "dh0",
}
NAMES = {
    "rnn": COMMON | {
        "Wax": "Wx", "Waa": "Wh", "ba": "b", "dz": "dtanh",
        "dWax": "dWx", "dWaa": "dWh", "dba": "db",
    },
    "lstm": COMMON | {
        "c_prev": "prev_c", "c_next": "next_c", "dc_prevt": "dprev_c", "dc_next": "dnext_c",
        "dc_prev": "dprev_c", "dc": "dc",
        "ft": "f", "it": "i", "cct": "g", "ot": "o", "dft": "df", "dit": "di", "dcct": "dg", "dot": "do",
    } | _gate_names("fico"),
    "gru": COMMON | {
        "rt": "r", "zt": "z", "h_tilde": "h_tilde", "dzt": "dz", "drt": "dr", "dh_tilde": "dh_tilde",
        "dra": "drh",
    } | _gate_names("rzh"),
}


def check_notation(notation: str) -> str:
    """The notation, or a ValueError that names the two there are. check_notation("cs231n") -> 'cs231n'"""
    if notation not in NOTATIONS:
        raise ValueError(f"notation must be 'course' or 'cs231n', not {notation!r}")
    return notation


def _check_cell(cell: str) -> str:
    if cell not in NAMES:
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', not {cell!r}")
    return cell


def name(key: str, cell: str = "rnn", notation: str = "cs231n", t: int | None = None) -> str:
    """A course quantity's name in the notation; with t, the time index is written in.

    name("da_t", "rnn", t=2) -> 'dh[:, 2, :]';  name("dWf", "lstm") -> 'dWx, dWh: f block'
    """
    check_notation(notation)
    if notation == "course":
        return f"da[:,:,{t if t is not None else 't'}]" if key == "da_t" else key
    names = NAMES[_check_cell(cell)]
    if key not in names:
        raise KeyError(f"{key!r} has no {cell} name in cs231n notation; known: {', '.join(names)}")
    return names[key].replace(", t, ", f", {t}, ") if t is not None else names[key]


def as_cs231n(value: np.ndarray) -> np.ndarray:
    """A course-shaped array as CS231n lays it out: a sequence (n, m, T_x) -> (m, T_x, n), a matrix transposed.

    A bias (n_a, 1) becomes the row (1, H), which a heatmap draws as it is (the homework's own b is
    (H,): parameters_to_cs231n and gradients_to_cs231n give that).
    as_cs231n(np.zeros((5, 4))).shape -> (4, 5)   # da_next (n_a, m) is dnext_h (N, H)
    """
    value = np.asarray(value)
    if value.ndim == 3:
        return value.transpose(1, 2, 0)
    if value.ndim == 2:
        return value.T
    raise ValueError(f"a course array is a matrix or a sequence (2 or 3 axes), not of shape {value.shape}")


def as_course(value: np.ndarray) -> np.ndarray:
    """A CS231n-shaped array as the course lays it out, the inverse of as_cs231n; a bias b (H,) becomes (H, 1).

    as_course(np.zeros(5)).shape -> (5, 1)
    """
    value = np.asarray(value)
    if value.ndim == 3:
        return value.transpose(2, 0, 1)
    if value.ndim == 2:
        return value.T
    if value.ndim == 1:
        return value[:, None]
    raise ValueError(f"a CS231n array is a vector, a matrix or a sequence (1 to 3 axes), not of shape {value.shape}")


def inputs_to_cs231n(x: np.ndarray, a0: np.ndarray, da: np.ndarray) -> tuple:
    """(x, h0, dh) from the course's (x, a0, da).

    x, h0, dh = inputs_to_cs231n(x, a0, da)   # x (N, T, D), h0 (N, H), dh (N, T, H)
    """
    return as_cs231n(x), as_cs231n(a0), as_cs231n(da)


def inputs_to_course(x: np.ndarray, h0: np.ndarray, dh: np.ndarray) -> tuple:
    """(x, a0, da) from CS231n's (x, h0, dh). x, a0, da = inputs_to_course(x, h0, dh)"""
    return as_course(x), as_course(h0), as_course(dh)


def _course_keys(cell: str, kind: str) -> tuple:
    """The keys of a cell's course "parameters" (its recurrent weights) or "gradients" (what its backward returns)."""
    if cell == "rnn":
        weights = ("Wax", "Waa", "ba")
    else:
        weights = tuple(f"W{g}" for g in BLOCKS[cell]) + tuple(f"b{g}" for g in BLOCKS[cell])
    return weights if kind == "parameters" else ("dx", "da0") + tuple("d" + key for key in weights)


def _require(cell: str, given: dict, kind: str) -> None:
    """A ValueError naming what a course dict lacks, instead of a bare KeyError."""
    needed = _course_keys(_check_cell(cell), kind)
    missing = [key for key in needed if key not in given]
    if missing:
        raise ValueError(f"the {cell}'s {kind} need {', '.join(needed)}; missing {', '.join(missing)}")


def _require_stacked(cell: str, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> None:
    """A ValueError when CS231n's (Wx, Wh, b) do not fit together as the cell's."""
    k = {"rnn": 1, "lstm": 4, "gru": 3}[_check_cell(cell)]
    H = np.shape(Wh)[0]
    if np.ndim(Wx) != 2 or np.shape(Wh) != (H, k * H) or np.shape(Wx)[1] != k * H or np.shape(b) != (k * H,):
        raise ValueError(f"the {cell}'s Wx, Wh, b must be (D, {k}H), (H, {k}H), ({k}H,); "
                         f"got {np.shape(Wx)}, {np.shape(Wh)}, {np.shape(b)}")


def parameters_to_cs231n(cell: str, parameters: dict) -> tuple:
    """(Wx, Wh, b) from the course's parameters; the output layer (Wya or Wy, by) has no place there.

    Wx, Wh, b = parameters_to_cs231n("lstm", parameters)   # Wx (D, 4H), gates i, f, o, g
    """
    _require(cell, parameters, "parameters")
    if cell == "rnn":
        return parameters["Wax"].T, parameters["Waa"].T, parameters["ba"][:, 0]
    gates = BLOCKS[cell]
    return _stacked(cell, {g: parameters["W" + g] for g in gates}, {g: parameters["b" + g] for g in gates})


def _stacked(cell: str, weights: dict, biases: dict) -> tuple:
    """CS231n's (Wx, Wh, b) from per-gate course weights W (n_a, n_a + n_x) and biases (n_a, 1)."""
    order = sorted(BLOCKS[cell], key=BLOCKS[cell].get)
    n_a = biases[order[0]].shape[0]
    Wx = np.hstack([weights[g][:, n_a:].T for g in order])  # (D, kH)
    Wh = np.hstack([weights[g][:, :n_a].T for g in order])  # (H, kH)
    b = np.concatenate([biases[g][:, 0] for g in order])  # (kH,)
    return Wx, Wh, b


def _unstacked(cell: str, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple:
    """Per-gate course (weights, biases) from CS231n's stacked (Wx, Wh, b)."""
    H = Wh.shape[0]
    weights, biases = {}, {}
    for g, k in BLOCKS[cell].items():
        block = slice(k * H, (k + 1) * H)
        weights[g] = np.hstack((Wh[:, block].T, Wx[:, block].T))  # (n_a, n_a + n_x): a_prev's columns first
        biases[g] = b[block][:, None]  # (n_a, 1)
    return weights, biases


def parameters_to_course(cell: str, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, output: dict | None = None) -> dict:
    """The course's parameters from CS231n's (Wx, Wh, b).

    The course's forward also makes a prediction, which needs an output layer: `output` gives it
    ({"Wya"/"Wy": (n_y, n_a), "by": (n_y, 1)}); without it a zero layer with n_y = 1 is used, which
    changes no gradient of the hidden states.
    parameters = parameters_to_course("rnn", Wx, Wh, b)   # parameters["Wax"] is Wx.T
    """
    _require_stacked(cell, Wx, Wh, b)
    H = Wh.shape[0]
    out_key = "Wya" if cell == "rnn" else "Wy"
    output = dict(output) if output is not None else {out_key: np.zeros((1, H)), "by": np.zeros((1, 1))}
    if cell == "rnn":
        return {"Wax": Wx.T, "Waa": Wh.T, "ba": b[:, None]} | output
    weights, biases = _unstacked(cell, Wx, Wh, b)
    return {f"W{g}": weights[g] for g in weights} | {f"b{g}": biases[g] for g in biases} | output


def gradients_to_cs231n(cell: str, gradients: dict) -> dict:
    """CS231n's {dx, dh0, dWx, dWh, db} from the course's gradients dict (what *_backward returns).

    gradients_to_cs231n("rnn", rnn_backward(da, caches))["dWh"]   # dWaa.T
    """
    _require(cell, gradients, "gradients")
    out = {"dx": as_cs231n(gradients["dx"]), "dh0": as_cs231n(gradients["da0"])}
    if cell == "rnn":
        return out | {"dWx": gradients["dWax"].T, "dWh": gradients["dWaa"].T, "db": gradients["dba"][:, 0]}
    dWx, dWh, db = _stacked(cell, {g: gradients["dW" + g] for g in BLOCKS[cell]},
                            {g: gradients["db" + g] for g in BLOCKS[cell]})
    return out | {"dWx": dWx, "dWh": dWh, "db": db}


def gradients_to_course(cell: str, dx: np.ndarray, dh0: np.ndarray, dWx: np.ndarray, dWh: np.ndarray,
                        db: np.ndarray) -> dict:
    """The course's gradients dict from what CS231n's backward returns.

    gradients = gradients_to_course("rnn", *rnn_backward(dh, cache)); gradients["dWaa"]  # dWh.T
    """
    _require_stacked(cell, dWx, dWh, db)
    out = {"dx": as_course(dx), "da0": as_course(dh0)}
    if cell == "rnn":
        return out | {"dWax": dWx.T, "dWaa": dWh.T, "dba": db[:, None]}
    weights, biases = _unstacked(cell, dWx, dWh, db)
    for g in weights:
        out |= {f"dW{g}": weights[g], f"db{g}": biases[g]}
    return out


def keys_to_cs231n(cell: str, keys: tuple) -> tuple:
    """The CS231n gradients that hold the given course gradients, in CS231n's order.

    keys_to_cs231n("lstm", ("dx", "dWf", "dbf")) -> ('dx', 'dWx', 'dWh', 'db')
    """
    _check_cell(cell)
    wanted = set()
    for key in keys:
        if key == "da0":
            wanted.add("dh0")
        elif key == "dx":
            wanted.add("dx")
        elif key in ("dWax", "dWaa"):
            wanted.add({"dWax": "dWx", "dWaa": "dWh"}[key])
        elif key.startswith("dW"):
            wanted |= {"dWx", "dWh"}
        elif key.startswith("db"):
            wanted.add("db")
        else:
            raise KeyError(f"{key!r} is not a gradient the {cell} backward returns")
    return tuple(k for k in CS231N_KEYS if k in wanted)


def cs231n_title(scope: str, key: str, t: int, came_from: int | None, goes_to: int | None, first: int,
                 cell: str = "rnn") -> str:
    """A heatmap's title at step t in CS231n's names; the same arguments as the course's title in
    bptt/figures/stepper_data.py.

    cs231n_title("inputs", "da_prevt", 2, 3, 1, 3) -> 'dprev_h at t = 2: from t = 3'
    """
    label = name(key, cell, "cs231n")
    if scope == "totals":
        return f"{label} so far: t = {first}" + (f" … t = {t}" if first != t else "")
    came = f"from t = {came_from}" if came_from is not None else "zero, nothing carried yet"
    goes = f"to t = {goes_to}" if goes_to is not None else ("returned as dh0" if key == "da_prev" else "returned")
    if key.startswith("dW") or key.startswith("db"):
        formulas = {"dWax": " = x.T · dtanh", "dWaa": " = prev_h.T · dtanh"} if cell == "rnn" else {}
        return f"{label}, step t = {t}" + formulas.get(key, "")
    titles = {
        "da_t": f"dh[:, {t}, :]: from the loss at t = {t}",
        "da_prevt": f"dprev_h at t = {t}: {came}",
        "da_next": f"dnext_h = dh[:, {t}, :] + dprev_h",
        "dc_prevt": f"dprev_c at t = {t}: {came}",
        "dc_next": f"dnext_c at t = {t} = dprev_c",
        "dz": f"dtanh at t = {t} = dnext_h · (1 − next_h²)",
        "dxt": f"dx[:, {t}, :]: for x[:, {t}, :]",
        "da_prev": f"dprev_h at t = {t}: {goes}",
        "dc_prev": f"dprev_c = dc · f at t = {t}: {goes}",
        "dc": f"dc at t = {t}: all that reaches next_c",
        "dra": f"drh at t = {t}: what reaches r * prev_h",
    }
    gates = {"dft": "forget gate", "dit": "input gate", "dcct": "candidate g", "dot": "output gate",
             "drt": "reset gate", "dzt": "update gate", "dh_tilde": "candidate"}
    if key in gates:
        return f"{label} at t = {t}: {gates[key]}"
    return titles[key]


@cache
def listing(function: str, notation: str = "cs231n") -> str:
    """A function's source as the page lists it: a course function, or in cs231n notation its counterpart
    (named either way, so bug_lines(...).function works too).

    listing("rnn_cell_backward").splitlines()[0] -> 'def rnn_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple:'
    """
    if check_notation(notation) == "cs231n":
        own = FUNCTIONS.get(function, function)
        if own not in FUNCTIONS.values():
            raise KeyError(f"{function!r} is not a function of either homework; known: {', '.join(FUNCTIONS)}")
        return inspect.getsource(getattr(cs231n, own))
    if function not in FUNCTIONS:
        raise KeyError(f"{function!r} is not a course function; known: {', '.join(FUNCTIONS)}")
    module = {"rnn": rnn, "lstm": lstm, "gru": gru}[function.split("_")[0]]
    return inspect.getsource(getattr(module, function))


# names that prose spells as in code; the single letters and English words among the names ("a", "it",
# "dot") are left out, and a gate's weights have no one-word name in the homework
_PROSE_EXTRA = {"a<t>": "h[:, t, :]", "da[:,:,t]": "dh[:, t, :]", "dx[:,:,t]": "dx[:, t, :]", "ba": "b"}
_NOT_PROSE = ("a", "x", "m", "it", "dot", "dc")


@cache
def _prose_pattern(cell: str) -> tuple:
    """(a regex matching any course name whole, the names it maps) for one cell."""
    names = {k: v for k, v in NAMES[cell].items() if k not in _NOT_PROSE and " block" not in v} | _PROSE_EXTRA
    alternatives = "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])({alternatives})(?!\w)"), names


def translate(text: str, cell: str = "rnn") -> str:
    """A sentence about the course's code with the homework's names in it.

    translate("the carried da_prevt starts at zero") -> 'the carried dprev_h starts at zero'
    """
    pattern, names = _prose_pattern(_check_cell(cell))
    return pattern.sub(lambda found: names[found.group(1)], text)


def bug_lines(bug_id: str, notation: str = "cs231n") -> BugLines:
    """A catalog bug in the notation: its function, wrong and right lines, title, why, symptom and hint.

    bug_lines("no-transpose-waa").wrong -> 'dprev_h = dtanh.dot(Wh)'
    """
    bug = get_bug(bug_id)
    if check_notation(notation) == "course":
        return BugLines(bug.function, bug.wrong, bug.right, bug.title, why=bug.why, symptom=bug.symptom, hint=bug.hint)
    if bug_id not in CS231N_BUGS:
        raise KeyError(f"bug {bug_id!r} has no lines in cs231n notation yet; bptt/cs231n_bugs.py needs them")
    lines = CS231N_BUGS[bug_id]
    return replace(lines, why=lines.why or translate(bug.why, bug.cell),
                   symptom=lines.symptom or translate(bug.symptom, bug.cell),
                   hint=lines.hint or translate(bug.hint, bug.cell))
