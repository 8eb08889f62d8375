"""The corpus checked against plain numpy, in this process: is each file what the table says it is?

This never calls `bptt.check`. It runs a corpus file's own functions (definitions only, the missing
course functions taken from the reference source as the notebook's earlier cells would supply them)
on two seeded inputs per cell and compares them with `bptt`'s reference. The first divergence is
found by wrapping the student's cell: each call is matched to a step (by which cache it was handed
when the loop hands every cache once, otherwise by the order of the calls), and inputs, the cell's
returns, the running totals as the next call sees them (only for a total the loop returns wrong),
and the final returns are compared in backward order.

    run = run_file(Path("tests/corpus/ok_rnn_while.py"), "rnn"); run.errors["course"]  # 0.0
"""

import ast
import inspect
import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bptt import lstm as ref_lstm
from bptt import rnn as ref_rnn
from bptt.activations import sigmoid, softmax

FILENAME = "<corpus>"
RNN_CELL_KEYS = ("dxt", "da_prev", "dWax", "dWaa", "dba")
RNN_KEYS = ("dx", "da0", "dWax", "dWaa", "dba")
RNN_TOTALS = ("dWax", "dWaa", "dba")
LSTM_CELL_KEYS = ("dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
LSTM_KEYS = ("dx", "da0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
LSTM_TOTALS = ("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
IMPORTABLE = {"numpy"} | set(sys.stdlib_module_names)  # rnn_utils, public_tests: supplied below instead
SAME = 1e-10  # round-off between equivalent spellings is far below this on these inputs


def inputs(cell: str, n_x: int, n_a: int, m: int, T: int, T_x: int, seed: int) -> tuple:
    """x, a0, parameters, da in the course's shapes; the course example is seed 1, (3, 5, 10)."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n_x, m, T)
    a0 = rng.randn(n_a, m)
    if cell == "rnn":
        p = {"Wax": rng.randn(n_a, n_x), "Waa": rng.randn(n_a, n_a), "Wya": rng.randn(2, n_a),
             "ba": rng.randn(n_a, 1), "by": rng.randn(2, 1)}
    else:
        p = {}
        for g in "fico":
            p["W" + g] = rng.randn(n_a, n_a + n_x)
            p["b" + g] = rng.randn(n_a, 1)
        p["Wy"], p["by"] = rng.randn(2, n_a), rng.randn(2, 1)
    da = rng.randn(n_a, m, T_x)
    return x, a0, p, da


PROBES = {
    "rnn": {"course": (3, 5, 10, 4, 4, 1), "other": (2, 4, 3, 6, 6, 7)},
    "lstm": {"course": (3, 5, 10, 7, 4, 1), "other": (2, 3, 4, 5, 5, 7)},
}


def code_of(path: Path) -> str:
    """The code of a corpus .py or .ipynb (code cells, magics left out)."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        lines = [ln for ln in "\n".join(cells).splitlines() if not ln.lstrip().startswith(("%", "!"))]
        return "\n".join(lines) + "\n"
    return path.read_text()


def definitions(code: str) -> ast.Module:
    """Only what a notebook's graded cells define: numpy imports, functions, constant globals."""
    tree = ast.parse(code)
    keep = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            keep.append(node)
        elif isinstance(node, ast.Import) and all(a.name.split(".")[0] in IMPORTABLE for a in node.names):
            keep.append(node)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in IMPORTABLE:
            keep.append(node)
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.List)):
            keep.append(node)
    tree.body = keep
    return tree


def namespace(code: str, cell: str) -> dict:
    """The file's definitions, completed from the reference's source (so they call the file's cell)."""
    ns = {"np": np, "sigmoid": sigmoid, "softmax": softmax, "__name__": "corpus"}
    exec(compile(definitions(code), FILENAME, "exec"), ns)
    mod = ref_rnn if cell == "rnn" else ref_lstm
    names = [f"{cell}_cell_forward", f"{cell}_forward", f"{cell}_cell_backward", f"{cell}_backward"]
    for n in names:
        if n not in ns:
            exec(compile(inspect.getsource(getattr(mod, n)), f"<reference {n}>", "exec"), ns)
    return ns


@dataclass
class Run:
    """What one file did on each probe."""

    errors: dict = field(default_factory=dict)  # probe -> max abs error over every returned key
    differing: dict = field(default_factory=dict)  # probe -> keys that differ, in return order
    raised: dict = field(default_factory=dict)  # probe -> (type name, line in the file)
    first: dict = field(default_factory=dict)  # probe -> (scope, quantity, t) or None
    T_x: dict = field(default_factory=dict)


def _err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _reference(cell: str, x, a0, p, da) -> tuple:
    if cell == "rnn":
        caches = ref_rnn.rnn_forward(x, a0, p)[2]
    else:
        caches = ref_lstm.lstm_forward(x, a0, p)[3]
    T_x = da.shape[2]
    n_a, m = da.shape[:2]
    da_c, dc_c = np.zeros((n_a, m)), np.zeros((n_a, m))
    steps, totals = {}, {}
    keys = RNN_TOTALS if cell == "rnn" else LSTM_TOTALS
    run = {k: 0.0 for k in keys}
    for t in reversed(range(T_x)):
        inp = {"da_next": da[:, :, t] + da_c}
        if cell == "rnn":
            out = ref_rnn.rnn_cell_backward(inp["da_next"], caches[0][t])
        else:
            inp["dc_next"] = dc_c
            out = ref_lstm.lstm_cell_backward(inp["da_next"], dc_c, caches[0][t])
            dc_c = out["dc_prev"]
        da_c = out["da_prev"]
        run = {k: run[k] + out[k] for k in keys}
        steps[t] = (inp, out)
        totals[t] = dict(run)
    final = (ref_rnn.rnn_backward if cell == "rnn" else ref_lstm.lstm_backward)(da, caches)
    return caches, steps, totals, final


def _student_line(exc: BaseException) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == FILENAME:
            line = lineno
    return line


def run_file(path: Path, cell: str) -> Run:
    """Runs a corpus file's functions on both probes against the reference."""
    code = code_of(path)
    result = Run()
    for name, (n_x, n_a, m, T, T_x, seed) in PROBES[cell].items():
        try:
            ns = namespace(code, cell)
        except SyntaxError as exc:
            result.raised[name] = (type(exc).__name__, exc.lineno)
            continue
        x, a0, p, da = inputs(cell, n_x, n_a, m, T, T_x, seed)
        _, ref_steps, ref_totals, ref_final = _reference(cell, x, a0, p, da)
        calls = []
        student_cell = ns[f"{cell}_cell_backward"]
        back_name = f"{cell}_backward"
        total_keys = RNN_TOTALS if cell == "rnn" else LSTM_TOTALS

        def wrapped(*args, _cell=student_cell, **kwargs):
            args = args + tuple(kwargs.values())  # keywords in the course's order
            frame, seen = sys._getframe(1), {}
            while frame is not None and frame.f_code.co_name != back_name:
                frame = frame.f_back
            if frame is not None:
                loc = frame.f_locals
                pool = dict(loc)
                for v in loc.values():  # totals kept in a dict, as some students do
                    if isinstance(v, dict):
                        pool.update({k: w for k, w in v.items() if k not in pool})
                seen = {k: np.array(pool[k], dtype=float) for k in total_keys if isinstance(pool.get(k), np.ndarray)}
            handed = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
            out = _cell(*args)
            # copies: the loop may change the arrays in place after the call, and that change is its own step
            calls.append((tuple(handed[:-1]) + (args[-1],), {k: np.array(v, dtype=float) for k, v in out.items()}, seen))
            return out

        ns[f"{cell}_cell_backward"] = wrapped
        forward = ns[f"{cell}_forward"]
        try:
            caches = forward(x, a0, p)[2 if cell == "rnn" else 3]
            got = ns[back_name](da, caches)
        except Exception as exc:  # noqa: BLE001 - broken files are part of the corpus
            result.raised[name] = (type(exc).__name__, _student_line(exc))
            continue
        result.T_x[name] = T_x
        if not isinstance(got, dict) or any(k not in got for k in (RNN_KEYS if cell == "rnn" else LSTM_KEYS)):
            result.raised[name] = ("output", None)
            continue
        keys = RNN_KEYS if cell == "rnn" else LSTM_KEYS
        errs = {k: _err(got[k], ref_final[k]) for k in keys}
        result.errors[name] = max(errs.values())
        result.differing[name] = [k for k in keys if errs[k] > SAME]
        result.first[name] = _first(cell, calls, caches, ref_steps, ref_totals, got, ref_final, T_x)
    return result


def _first(cell, calls, caches, ref_steps, ref_totals, got, ref_final, T_x):
    cache_list = caches[0]
    handed = [a[-1] for a, _, _ in calls]
    by_cache = []
    for c in handed:
        ids = [t for t in range(T_x) if cache_list[t] is c]
        by_cache.append(ids[0] if ids else None)
    if sorted(x for x in by_cache if x is not None) == list(range(T_x)) and None not in by_cache:
        order = by_cache
    else:
        order = [T_x - 1 - k for k in range(len(calls))]
    index = {t: k for k, t in reversed(list(enumerate(order)))}
    cell_keys = RNN_CELL_KEYS if cell == "rnn" else LSTM_CELL_KEYS
    for t in reversed(range(T_x)):
        if t not in index:
            return ("missing-step", None, t)
        k = index[t]
        args, out, _ = calls[k]
        inp, ref_out = ref_steps[t]
        names = ["da_next"] if cell == "rnn" else ["da_next", "dc_next"]
        for q, v in zip(names, args[:-1]):
            if _err(v, inp[q]) > SAME:
                return ("input", q, t)
        for q in cell_keys:
            if _err(out[q], ref_out[q]) > SAME:
                return ("step", q, t)
        if k + 1 < len(calls):
            seen = calls[k + 1][2]
            for q in (RNN_TOTALS if cell == "rnn" else LSTM_TOTALS):
                # a total the loop returns right is not a divergence, whenever it is added up
                if q in seen and _err(seen[q], ref_totals[t][q]) > SAME and _err(got[q], ref_final[q]) > SAME:
                    return ("total", q, t)
    for q in (RNN_KEYS if cell == "rnn" else LSTM_KEYS):
        if _err(got[q], ref_final[q]) > SAME:
            return ("final", q, None)
    return None
