"""Speed and memory of the numeric core, as ratios measured in one run (issues 2 and 13).

    python benchmarks/bench_core.py                 # a readable table
    python benchmarks/bench_core.py --json          # one JSON object
    python benchmarks/bench_core.py --write-docs    # also rewrite the core section of docs/PERFORMANCE.md

For each cell (RNN, LSTM) and size, variants interleaved round by round (A B C D, then B C D A,
...) so that a noisy, shared machine slows them alike: the course's loop (rnn_backward,
lstm_backward), the fast backward (rnn_backward_fast, lstm_backward_fast), the traced backward
of the correct code (trace_rnn, trace_lstm), and PyTorch's CPU autograd backward of
torch.nn.RNN / torch.nn.LSTM in float64 and float32 (same weights and upstream gradient; the
rows are skipped when torch is absent). Each round also times one large float64 matmul, the
machine's peak for the GFLOP/s share. Ratios are medians of the per-round ratios. Then the
trace's memory against its stated bound, and the time to show a step.
"""

import os
import sys

# OpenBLAS tuning variables that some machines set can pick a slower kernel: run without both
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(name in os.environ for name in UNSET):
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env["BPTT_BENCH_UNSET"] = ",".join(f"{name}={os.environ[name]}" for name in UNSET if name in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402  (after the re-exec, so that numpy loads OpenBLAS without the variables)
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from docs_section import write_section  # noqa: E402

from bptt import (  # noqa: E402
    lstm_backward, lstm_backward_fast, lstm_forward, rnn_backward, rnn_backward_fast, rnn_forward, trace_lstm, trace_rnn,
)
from bptt.lstm import GATES  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SIZES = [(64, 128, 32, 100), (128, 256, 32, 150), (256, 512, 64, 200)]  # (n_x, n_a, m, T_x), timed
MEMORY_SIZES = [(512, 256, 32, 100), (40, 256, 32, 100)]  # n_x > n_a and n_x ≪ n_a: trace memory only, untimed
CELLS = ("rnn", "lstm")
LARGE = (256, 512, 64, 200)
SMALL = (64, 128, 32, 100)  # the issue's "medium": the tracing targets hold from here up
TARGETS = {  # issue 2, tightened by issue 13; per cell
    "rnn": {
        "fast_over_torch": 0.8,  # at LARGE, at most (issue 13: the RNN keeps its lead)
        "share_of_peak": 0.6,  # at LARGE, at least
        "traced_over_fast": 1.1,  # at SMALL and above, at most
        "trace_memory": 1.0,  # what tracemalloc sees the trace keep, over Trace.nbytes_bound: at most
        "step_rebuild_ms": 5.0,  # at SMALL, worst t, reached by a jump from a far step
        "step_move_ms": 5.0,  # at LARGE, worst one-step move
    },
    "lstm": {
        "fast_over_torch": 0.8,  # at LARGE, at most
        "share_of_peak": 0.55,
        "traced_over_fast": 1.1,
        "trace_memory": 1.0,
        "step_rebuild_ms": 5.0,
    },
}
PEAK_N = 2048
MIN_SAMPLE = 0.2  # seconds: a variant shorter than this is timed over repeated calls, so a sample lasts about this long
START, END = "<!-- core:start -->", "<!-- core:end -->"


def backward_flops(cell: str, n_x: int, n_a: int, m: int, T_x: int) -> int:
    """Matmul FLOPs of the backward (elementwise not counted).

    RNN, per step: Waa.T @ dz and Wax.T @ dz, dWaa and dWax. LSTM, per step: da_prev and dxt from the
    four stacked gate gradients, and the four gates' dW against [a_prev; xt].
    """
    if cell == "rnn":
        return 2 * 2 * m * T_x * (n_a * n_a + n_x * n_a)
    return 2 * 2 * m * T_x * 4 * n_a * (n_a + n_x)


def make_case(n_x: int, n_a: int, m: int, T_x: int, seed: int = 0) -> tuple:
    """RNN inputs with weights scaled by 1/sqrt(fan-in), so that tanh is neither saturated nor linear."""
    rng = np.random.default_rng(seed)
    parameters = {
        "Wax": rng.standard_normal((n_a, n_x)) / np.sqrt(n_x), "Waa": rng.standard_normal((n_a, n_a)) / np.sqrt(n_a),
        "Wya": rng.standard_normal((2, n_a)), "ba": rng.standard_normal((n_a, 1)) * 0.1, "by": np.zeros((2, 1)),
    }
    x = rng.standard_normal((n_x, m, T_x))  # (n_x, m, T_x)
    a0 = rng.standard_normal((n_a, m)) * 0.5  # (n_a, m)
    da = rng.standard_normal((n_a, m, T_x))  # (n_a, m, T_x)
    return x, a0, parameters, da


def make_lstm_case(n_x: int, n_a: int, m: int, T_x: int, seed: int = 0) -> tuple:
    """The RNN case's x, a0 and da, with LSTM gate weights scaled by 1/sqrt(fan-in)."""
    x, a0, _, da = make_case(n_x, n_a, m, T_x, seed)
    rng = np.random.default_rng(seed + 1)
    parameters = {"W" + g: rng.standard_normal((n_a, n_a + n_x)) / np.sqrt(n_a + n_x) for g in GATES}
    parameters |= {"b" + g: rng.standard_normal((n_a, 1)) * 0.1 for g in GATES}
    parameters |= {"Wy": rng.standard_normal((2, n_a)), "by": np.zeros((2, 1))}
    return x, a0, parameters, da


def timed_backward(forward, leaves: tuple, upstream, gradients):
    """(run, gradients): run() does the forward untimed and returns the timed backward's seconds."""

    def run() -> float:
        for tensor in leaves:
            tensor.grad = None
        out = forward()
        start = time.perf_counter()
        out.backward(upstream)
        return time.perf_counter() - start

    return run, gradients


def torch_rnn(x, a0, parameters, da, dtype=None):
    """torch.nn.RNN (tanh) with the course's weights."""
    dtype = dtype or torch.float64
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    rnn = torch.nn.RNN(n_x, n_a, nonlinearity="tanh", dtype=dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(parameters["Wax"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(parameters["Waa"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(parameters["ba"][:, 0]))
        rnn.bias_hh_l0.zero_()
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0))).to(dtype).requires_grad_()  # (T_x, m, n_x)
    h0 = torch.from_numpy(np.ascontiguousarray(a0.T[None])).to(dtype).requires_grad_()  # (1, m, n_a)
    upstream = torch.from_numpy(np.ascontiguousarray(da.transpose(2, 1, 0))).to(dtype)  # (T_x, m, n_a)

    def gradients() -> dict:
        return {
            "dx": inputs.grad.double().numpy().transpose(2, 1, 0), "da0": h0.grad.double().numpy()[0].T,
            "dWax": rnn.weight_ih_l0.grad.double().numpy(), "dWaa": rnn.weight_hh_l0.grad.double().numpy(),
            "dba": rnn.bias_ih_l0.grad.double().numpy()[:, None],
        }

    return timed_backward(lambda: rnn(inputs, h0)[0], (inputs, h0, *rnn.parameters()), upstream, gradients)


TORCH_GATES = ("i", "f", "c", "o")  # torch.nn.LSTM stacks its gates i, f, g, o; the course's c is torch's g


def torch_lstm(x, a0, parameters, da, dtype=None):
    """torch.nn.LSTM with the course's weights: each Wg split into its a_prev and xt parts, stacked in torch's gate
    order; c<0> is zeros as in lstm_forward."""
    dtype = dtype or torch.float64
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    lstm = torch.nn.LSTM(n_x, n_a, dtype=dtype)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.concatenate([parameters["W" + g][:, n_a:] for g in TORCH_GATES])))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.concatenate([parameters["W" + g][:, :n_a] for g in TORCH_GATES])))
        lstm.bias_ih_l0.copy_(torch.from_numpy(np.concatenate([parameters["b" + g][:, 0] for g in TORCH_GATES])))
        lstm.bias_hh_l0.zero_()
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0))).to(dtype).requires_grad_()  # (T_x, m, n_x)
    h0 = torch.from_numpy(np.ascontiguousarray(a0.T[None])).to(dtype).requires_grad_()  # (1, m, n_a)
    c0 = torch.zeros((1, m, n_a), dtype=dtype)
    upstream = torch.from_numpy(np.ascontiguousarray(da.transpose(2, 1, 0))).to(dtype)  # (T_x, m, n_a)

    def gradients() -> dict:
        dih, dhh = lstm.weight_ih_l0.grad.double().numpy(), lstm.weight_hh_l0.grad.double().numpy()
        db = lstm.bias_ih_l0.grad.double().numpy()[:, None]
        rows = {g: slice(i * n_a, (i + 1) * n_a) for i, g in enumerate(TORCH_GATES)}
        grads = {"dx": inputs.grad.double().numpy().transpose(2, 1, 0), "da0": h0.grad.double().numpy()[0].T}
        for g in GATES:
            grads |= {"dW" + g: np.concatenate([dhh[rows[g]], dih[rows[g]]], axis=1), "db" + g: db[rows[g]]}
        return grads

    return timed_backward(lambda: lstm(inputs, (h0, c0))[0], (inputs, h0, *lstm.parameters()), upstream, gradients)


def timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def relative_error(got: dict, want: dict) -> float:
    return max(float(np.max(np.abs(got[k] - want[k])) / (np.max(np.abs(want[k])) or 1.0)) for k in want)


def measure_size(cell: str, size: tuple, repeats: int, threads: int) -> dict:
    """Every figure for one cell and size, with BLAS (numpy's and torch's) limited to `threads` threads."""
    with thread_limit(threads):
        result = measure_size_now(cell, size, repeats)
    return {"threads": threads, **result}


@contextmanager
def thread_limit(threads: int):
    """numpy's BLAS and torch both on `threads` threads; needs threadpoolctl unless it is all the cores."""
    if threads == os.cpu_count():
        yield
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads, user_api="blas"):
            yield
    finally:
        if torch:
            torch.set_num_threads(before)


def backwards(cell: str, size: tuple) -> tuple:
    """(the course's backward, the fast one, the traced one, the torch runners, da, caches) for a cell."""
    if cell == "rnn":
        x, a0, parameters, da = make_case(*size)
        caches = rnn_forward(x, a0, parameters)[2]
        course, fast, trace, run_torch = rnn_backward, rnn_backward_fast, trace_rnn, torch_rnn
    else:
        x, a0, parameters, da = make_lstm_case(*size)
        caches = lstm_forward(x, a0, parameters)[3]
        course, fast, trace, run_torch = lstm_backward, lstm_backward_fast, trace_lstm, torch_lstm
    runners = {}
    if torch is not None:
        runners = {"torch": run_torch(x, a0, parameters, da), "torch_f32": run_torch(x, a0, parameters, da, torch.float32)}
    return course, fast, trace, runners, da, caches


def measure_size_now(cell: str, size: tuple, repeats: int) -> dict:
    n_x, n_a, m, T_x = size
    course, fast, trace, runners, da, caches = backwards(cell, size)
    big = np.random.default_rng(1).standard_normal((PEAK_N, PEAK_N))
    product = np.empty_like(big)
    variants = {
        "course": lambda: timed(lambda: course(da, caches)),
        "fast": lambda: timed(lambda: fast(da, caches)),
        "traced": lambda: timed(lambda: trace(da, caches)),
        "peak": lambda: timed(lambda: np.matmul(big, big, out=product)),
    }
    reference = course(da, caches)
    agreement = {"fast": relative_error(fast(da, caches), reference),
                 "traced": relative_error(trace(da, caches).gradients(), reference)}
    for name, (run, gradients) in runners.items():
        variants[name] = run
        run()
        agreement[name] = relative_error(gradients(), reference)
    # warming up (first-touch page faults, BLAS thread start) also sets how many calls make one sample: a run of
    # 10 ms is at the mercy of one preemption or one interrupt, a sample of MIN_SAMPLE seconds much less so
    calls = {name: max(1, math.ceil(MIN_SAMPLE / max(f(), f()))) for name, f in variants.items()}
    seconds = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            seconds[name].append(sum(variants[name]() for _ in range(calls[name])) / calls[name])
    rounds = range(repeats)

    def ratio(a: str, b: str) -> float | None:
        if a not in seconds or b not in seconds:
            return None
        return statistics.median(seconds[a][r] / seconds[b][r] for r in rounds)

    median = {name: statistics.median(values) for name, values in seconds.items()}
    flops = backward_flops(cell, *size)
    peak_gflops = 2 * PEAK_N**3 / median.pop("peak") / 1e9
    share = statistics.median(
        (flops / seconds["fast"][r]) / (2 * PEAK_N**3 / seconds["peak"][r]) for r in rounds
    )
    result = {
        "cell": cell, "n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x, "repeats": repeats, "calls_per_sample": calls,
        "seconds": {name: median.get(name) for name in ("course", "fast", "traced", "torch", "torch_f32")},
        "ratios": {
            "fast_over_torch": ratio("fast", "torch"), "fast_over_torch_f32": ratio("fast", "torch_f32"),
            "traced_over_fast": ratio("traced", "fast"), "course_over_fast": ratio("course", "fast"),
            "course_over_torch": ratio("course", "torch"),
        },
        "gflop": flops / 1e9,
        "gflops": {"fast": flops / median["fast"] / 1e9, "traced": flops / median["traced"] / 1e9,
                   "torch": flops / median["torch"] / 1e9 if "torch" in median else None, "peak": peak_gflops},
        "share_of_peak": share,
        "max_relative_error_vs_course": agreement,
        "trace_memory": trace_memory(cell, size),
        "steps_ms": step_times(trace(da, caches), every_t=size == SMALL),
    }
    result["targets"] = verdicts(cell, size, result)
    return result


def trace_memory(cell: str, size: tuple) -> dict:
    """What a correct trace holds after showing a few steps, against its stated bound (Trace.nbytes_bound):
    its own count (Trace.nbytes) and what tracemalloc sees it keep, and the peak while it is built."""
    course, fast, trace, _, da, caches = backwards(cell, size)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = trace(da, caches)
    for t in (built.T_x - 1, built.T_x - 2, built.T_x // 2):
        built.step(t)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_x, n_a, m, T_x = size
    unit = n_a * m * T_x * 8
    parts = {"vectors": sum(v.nbytes for v in built._stored_vectors()), "dx": built.dx.nbytes, "da0": built.da0.nbytes}
    parts["checkpoints and the shown step"] = built.nbytes - sum(parts.values())
    return {
        "nbytes": built.nbytes, "bound": built.nbytes_bound, "tracemalloc_retained": retained - before,
        "tracemalloc_peak": peak - before, "retained_over_bound": (retained - before) / built.nbytes_bound,
        "peak_over_bound": (peak - before) / built.nbytes_bound, "unit_n_a_m_T_x_8": unit,
        "retained_over_unit": (retained - before) / unit, "parts": parts,
    }


def step_times(trace, every_t: bool, repeats: int = 3) -> dict:
    """Milliseconds to show a step (trace.step(t)): reached by a jump from a far step (`rebuild`: the nearest
    checkpoint and the steps to it), and by a one-step move (`move`: the neighbour's totals plus or minus one
    step). Per t the median of a few timings, so that one preempted call on a shared machine does not stand
    for its step; every t at SMALL, 25 of them elsewhere."""
    T_x = trace.T_x
    ts = range(T_x) if every_t else sorted({int(t) for t in np.linspace(0, T_x - 1, 25)})

    def jump(t: int) -> float:
        trace.step((t + T_x // 2) % T_x if T_x > 2 else t)  # untimed: a step far from t
        return timed(lambda: trace.step(t)) * 1e3

    def move(t: int, frm: int) -> float:
        trace.step(frm)  # untimed: the neighbour
        return timed(lambda: trace.step(t)) * 1e3

    rebuild = [statistics.median(jump(t) for _ in range(repeats)) for t in ts]
    moves = [statistics.median(move(t, t + side) for _ in range(repeats))
             for t in ts for side in (-1, 1) if 0 <= t + side < T_x]
    return {"rebuild_worst": max(rebuild), "rebuild_median": statistics.median(rebuild),
            "rebuild_worst_t": int(list(ts)[int(np.argmax(rebuild))]),
            "move_worst": max(moves, default=0.0), "move_median": statistics.median(moves) if moves else 0.0}


def verdicts(cell: str, size: tuple, r: dict) -> dict:
    targets, met = TARGETS[cell], {}
    if all(a >= b for a, b in zip(size, SMALL)):
        met["traced_over_fast"] = r["ratios"]["traced_over_fast"] <= targets["traced_over_fast"]
    met["trace_memory"] = r["trace_memory"]["retained_over_bound"] <= targets["trace_memory"]
    if size == SMALL:
        met["step_rebuild_ms"] = r["steps_ms"]["rebuild_worst"] <= targets["step_rebuild_ms"]
    if size == LARGE:
        met["share_of_peak"] = r["share_of_peak"] >= targets["share_of_peak"]
        if r["ratios"]["fast_over_torch"] is not None:
            met["fast_over_torch"] = r["ratios"]["fast_over_torch"] <= targets["fast_over_torch"]
        if "step_move_ms" in targets:
            met["step_move_ms"] = r["steps_ms"]["move_worst"] <= targets["step_move_ms"]
    return met


def memory_only(cell: str, size: tuple) -> dict:
    """Trace memory at a size that is not timed, against the same bound."""
    result = {"cell": cell, "n_x": size[0], "n_a": size[1], "m": size[2], "T_x": size[3],
              "trace_memory": trace_memory(cell, size)}
    result["targets"] = {"trace_memory": result["trace_memory"]["retained_over_bound"] <= TARGETS[cell]["trace_memory"]}
    return result


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform()}
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = os.getloadavg()[0]
    return info


def versions() -> dict:
    found = {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__ if torch else None}
    try:
        from threadpoolctl import threadpool_info

        found["blas"] = [{k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                         for pool in threadpool_info() if pool.get("user_api") == "blas"]
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        found["blas"] = [{"internal_api": blas.get("name"), "version": blas.get("version")}]
    if torch is not None:
        found["torch_threads"] = torch.get_num_threads()
    found["openblas_variables_unset"] = os.environ.get("BPTT_BENCH_UNSET") or None
    return found


def measure(sizes: list, repeats: int, threads: list, cells: tuple = CELLS, memory_sizes: list = MEMORY_SIZES) -> dict:
    return {
        "machine": machine(), "versions": versions(), "targets": TARGETS,
        "flops_counted": {
            "rnn": "matmuls only: Waa.T @ dz and Wax.T @ dz per step, plus dWaa and dWax",
            "lstm": "matmuls only: da_prev and dxt from the four gate gradients per step, plus the four dW",
        },
        "sizes": [measure_size(cell, size, repeats, n) for cell in cells for n in threads for size in sizes],
        "memory_sizes": [memory_only(cell, size) for cell in cells for size in memory_sizes],
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def table(report: dict, cell: str) -> str:
    head = ("| threads | n_x, n_a, m, T_x | course s | fast s | traced s | torch f64 s | torch f32 s | fast/torch f64 "
            "| fast/torch f32 | traced/fast | fast GFLOP/s | share of peak | trace kept / bound | trace kept / (n_a·m·T_x·8) "
            "| step rebuild worst ms | one-step move worst ms |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in (r for r in report["sizes"] if r["cell"] == cell):
        s, q, mem, st = r["seconds"], r["ratios"], r["trace_memory"], r["steps_ms"]
        lines.append(
            f"| {r['threads']} | {r['n_x']}, {r['n_a']}, {r['m']}, {r['T_x']} | {fmt(s['course'])} | {fmt(s['fast'])} | "
            f"{fmt(s['traced'])} | {fmt(s['torch'])} | {fmt(s['torch_f32'])} | {fmt(q['fast_over_torch'], '.2f')} | "
            f"{fmt(q['fast_over_torch_f32'], '.2f')} | {fmt(q['traced_over_fast'], '.2f')} | {r['gflops']['fast']:.1f} | "
            f"{r['share_of_peak']:.0%} | {mem['retained_over_bound']:.2f} | {mem['retained_over_unit']:.2f} | "
            f"{st['rebuild_worst']:.2f} | {st['move_worst']:.2f} |"
        )
    return "\n".join(lines)


def memory_table(report: dict) -> str:
    head = ("| cell | n_x, n_a, m, T_x | bound B | tracemalloc kept B | kept / bound | peak while built / bound "
            "| kept / (n_a·m·T_x·8) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    rows = [r for r in report["sizes"] if r["threads"] == report["sizes"][0]["threads"]] + report.get("memory_sizes", [])
    for r in rows:
        mem = r["trace_memory"]
        lines.append(f"| {r['cell'].upper()} | {r['n_x']}, {r['n_a']}, {r['m']}, {r['T_x']} | {mem['bound']:,} | "
                     f"{mem['tracemalloc_retained']:,} | {mem['retained_over_bound']:.3f} | {mem['peak_over_bound']:.2f} | "
                     f"{mem['retained_over_unit']:.2f} |")
    return "\n".join(lines)


def agreement_text(report: dict) -> str:
    large = [r for r in report["sizes"] if (r["n_x"], r["n_a"], r["m"], r["T_x"]) == LARGE]
    return "; ".join(f"{r['cell'].upper()} " + ", ".join(f"{name} {error:.0e}" for name, error in
                                                       r["max_relative_error_vs_course"].items()) for r in large)


def calls_text(report: dict) -> str:
    """How many calls made one sample at the smallest size, where a backward lasts milliseconds."""
    small = {r["cell"]: r for r in report["sizes"]
             if (r["n_x"], r["n_a"], r["m"], r["T_x"]) == SMALL and "calls_per_sample" in r}
    if not small:
        return "not recorded for the smallest size in this run"
    return f"at {SMALL}, " + "; ".join(
        f"{cell.upper()} " + ", ".join(f"{name} {n}" for name, n in r["calls_per_sample"].items() if name != "peak")
        for cell, r in small.items()
    ) + " calls"


def targets_text(report: dict) -> str:
    lines = []
    for r in report["sizes"] + report.get("memory_sizes", []):
        threads = f", {r['threads']} thread{'s' if r['threads'] > 1 else ''}" if "threads" in r else ""
        for name, ok in r["targets"].items():
            lines.append(f"- {'met' if ok else 'NOT met'}: {r['cell'].upper()} {name} at "
                         f"({r['n_x']}, {r['n_a']}, {r['m']}, {r['T_x']}){threads}")
    return "\n".join(lines)


def targets_stated() -> str:
    r, l_ = TARGETS["rnn"], TARGETS["lstm"]
    return (f"at {LARGE}, fast/torch f64 ≤ {r['fast_over_torch']} (RNN) and ≤ {l_['fast_over_torch']} (LSTM), share of "
            f"peak ≥ {r['share_of_peak']:.0%} (RNN) and ≥ {l_['share_of_peak']:.0%} (LSTM), RNN one-step move ≤ "
            f"{r['step_move_ms']} ms; from {SMALL} up traced/fast ≤ {r['traced_over_fast']}; at {SMALL} step rebuild "
            f"≤ {r['step_rebuild_ms']} ms; everywhere what tracemalloc sees the trace keep ≤ its stated bound")


def docs_section(report: dict) -> str:
    m, v = report["machine"], report["versions"]
    blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} {b.get('architecture') or ''} "
                     f"{b.get('num_threads') or ''} threads".replace("  ", " ") for b in v["blas"])
    flops = report["flops_counted"]
    return f"""{START}
## Core: the RNN and LSTM backward

Produced by `{report.get('command', 'python benchmarks/bench_core.py --write-docs')}` (numbers from one run; medians of
{report['sizes'][0]['repeats']} interleaved rounds, ratios are medians of per-round ratios; in each round a variant that runs
for less than {MIN_SAMPLE} s is called as many times as it takes to reach that, and its time is the mean per call:
{calls_text(report)}).

- Machine: {m['cpu']}, {m['cores']} cores ({m['platform']}); load average {m.get('load_average_at_start', 0):.2f} at
  start and {report['load_average_at_end'] or 0:.2f} at end (the one-minute load includes this benchmark itself).
  On a small machine absolute times are noisy; the ratios, measured round by round, are the figures to read. With two
  BLAS threads on two shared cores, one preempted thread stalls its partner, so the 1-thread rows
  (numpy and torch both limited with `--threads 1`) are the steadier comparison.{report.get('note', '')}
- Versions: Python {v['python']}, numpy {v['numpy']}, BLAS {blas}, torch {v['torch'] or 'absent (rows skipped)'}
  ({v.get('torch_threads', 'n/a')} threads). OpenBLAS variables unset for the run: {v['openblas_variables_unset'] or 'none were set'}.
- FLOPs counted: RNN {flops['rnn']}; LSTM {flops['lstm']}. The machine's peak is one {PEAK_N}×{PEAK_N} float64
  matmul, timed in every round. torch rows: `torch.nn.RNN` (tanh) and `torch.nn.LSTM` on CPU autograd, the same
  weights (the LSTM's course gate order f, i, c, o restacked as torch's i, f, g, o, each `W` split into its `a_prev`
  and `xt` columns), the same `da`, forward untimed; f32 is the same module in float32.
- Largest relative error against the course's backward at {LARGE}: {agreement_text(report)}.

### RNN

{table(report, 'rnn')}

### LSTM

{table(report, 'lstm')}

### Trace memory, against its stated bound

`Trace.nbytes_bound` = 8·[(v·n_a + n_x)·m·T_x + n_a·m + (N + 2)·P + S] bytes: v vectors of (n_a, m) per step
(RNN: dz, v = 1; LSTM: da_prevt and dc_prevt, the two gradients carried into each cell, v = 2), dx, da0, up to
N = `checkpoint_count` checkpoints (RNN 4, since its step share is a quarter of the LSTM's; LSTM and GRU 8) of the P
weight and bias entries (RNN P = n_a² + n_a·n_x + n_a; LSTM P = 4·(n_a² + n_a·n_x + n_a)) plus the shown step's
share and totals, and S, the shown step's own vectors (RNN 3·n_a·m; LSTM 8·n_a·m + n_x·m). "Kept" is what
tracemalloc sees the trace hold after showing three steps; "peak" adds the backward's block buffers while it runs
(blocks as wide as the fast backward's, about 2048 batch columns, so at small sizes they weigh more against the bound).
Sizes with n_x > n_a and n_x ≪ n_a are measured too, untimed.

{memory_table(report)}

Targets ({targets_stated()}):

{targets_text(report)}

How the fast backward gets there (`bptt/fast.py`, `bptt/fast_lstm.py`): only the recurrence has to wait for the
previous step. For the RNN that is `da_prev = Waa.T @ dz`; for the LSTM the four gate gradients, `dc_prev = dc * ft`
and `da_prev`, one matmul against the stacked `[Wf; Wi; Wc; Wo][:, :n_a]`. Everything else (`dxt`, every `dW`, every
`db`) is linear in those gradients and runs as one matmul per block of steps (about 2048 batch columns), where BLAS
is near its peak; every weight gradient and bias sum of a block comes out of one product, against the stacked
`[a_prev; xt; 1]`. Buffers are reused, the loop allocates nothing, and `da` is read one block at a time (it is strided
in time). The traced backward of the correct code runs on the same kernel, which writes the vectors the trace keeps
straight into it and hands over the running totals at the checkpoints: only the totals' product is cut there, so the
blocks stay as wide as the fast backward's. A step is rebuilt from the nearer checkpoint (before or after it); its own
share comes from the gradients its vectors already hold, and the LSTM sums the steps to the checkpoint on the
kernel's lines in one product. A one-step move takes the neighbouring step's totals plus or minus one step's share.

Fresh memory (`bptt/buffers.py`): every array of 2 MiB or more that the kernels and the traces allocate (dx, the
stored vectors, the checkpoints, the block buffers) comes from an anonymous mapping advised for huge pages, and when
nothing looks at it any more it goes to a pool (at most 1 GiB; a sixteenth of the memory on a machine with less than
16 GiB), from which the next array of the same size takes it. On this machine, a VM, a 4 KiB page costs about 3.5 µs
to touch the first time, and a huge page that sat free a few seconds about 100 ms per 52 MB. The fast backward's
scratch memory was recycled by the allocator anyway, but the trace's stored vectors and checkpoints were new at every
build, so traced/fast swung between 1.0 and 1.6 from run to run. Reused, they no longer fault; the pool's arrays are
declared to tracemalloc, so the memory figures above still see them.
{END}"""


def write_docs(report: dict) -> None:
    section = docs_section(report)
    write_section(START, END, section)


def parse_size(text: str) -> tuple:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 4 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"size {text!r}: give four positive whole numbers n_x,n_a,m,T_x, e.g. 64,128,32,100")
    return values


def parse_threads(text: str) -> list:
    counts = [int(v) for v in text.split(",") if v.strip().isdigit()]
    if not counts or min(counts) < 1 or len(counts) != len(text.split(",")):
        raise argparse.ArgumentTypeError(f"threads {text!r}: give positive whole numbers separated by commas, e.g. 1,2")
    if any(n != os.cpu_count() for n in counts):
        try:
            import threadpoolctl  # noqa: F401
        except ImportError:
            raise argparse.ArgumentTypeError("--threads other than all cores needs threadpoolctl: pip install -r requirements-bench.txt")
    return counts


def parse_cells(text: str) -> tuple:
    cells = tuple(c.strip() for c in text.split(","))
    if not cells or any(c not in CELLS for c in cells):
        raise argparse.ArgumentTypeError(f"cells {text!r}: give rnn, lstm or rnn,lstm")
    return cells


def main(argv: list | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the core section of docs/PERFORMANCE.md")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds per size (default 7)")
    parser.add_argument("--size", type=parse_size, action="append", help="n_x,n_a,m,T_x; repeatable")
    parser.add_argument("--cells", type=parse_cells, default=CELLS, help="rnn, lstm or rnn,lstm (default both)")
    parser.add_argument("--note", default="", help="a sentence for the report, e.g. that the machine was shared")
    parser.add_argument("--threads", type=parse_threads, default=[os.cpu_count()],
                        help="BLAS threads for numpy and torch, comma-separated (default: all cores); needs threadpoolctl")
    parser.add_argument("--from-json", type=Path, help="report from a file an earlier --json run wrote, instead of measuring")
    args = parser.parse_args(argv)
    if args.from_json:
        report = json.loads(args.from_json.read_text())
    else:
        report = measure(args.size or SIZES, max(1, args.repeats), args.threads, args.cells, [] if args.size else MEMORY_SIZES)
        given = list(argv if argv is not None else sys.argv[1:])
        if "--note" in given:  # the note is printed in the report already
            del given[given.index("--note"): given.index("--note") + 2]
        report["command"] = "python benchmarks/bench_core.py " + " ".join(given)
    if args.note:
        report["note"] = " " + args.note.strip()
    if args.write_docs:
        write_docs(report)
    tables = "\n\n".join(table(report, cell) for cell in CELLS) + "\n\n" + memory_table(report)
    print(json.dumps(report, indent=1) if args.json else tables + "\n\n" + targets_text(report))


if __name__ == "__main__":
    main()
