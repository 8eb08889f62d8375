"""Speed and memory of the numeric core, as ratios measured in one run (issue 2, "Performance").

    python benchmarks/bench_core.py                 # a readable table
    python benchmarks/bench_core.py --json          # one JSON object
    python benchmarks/bench_core.py --write-docs    # also rewrite the core section of docs/PERFORMANCE.md

Variants per size, interleaved round by round (A B C D, then B C D A, ...) so that a noisy,
shared machine slows them alike: the course's loop (rnn_backward), rnn_backward_fast, the
traced backward (trace_rnn with the correct RNNCode), and PyTorch's CPU autograd backward of
torch.nn.RNN (tanh, float64, same weights and upstream gradient; the row is skipped when torch
is absent). Each round also times one large float64 matmul, the machine's peak for the
GFLOP/s share. Ratios are medians of the per-round ratios.
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

from bptt import RNNCode, rnn_backward, rnn_forward, trace_rnn  # noqa: E402
from bptt.fast import rnn_backward_fast  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SIZES = [(64, 128, 32, 100), (128, 256, 32, 150), (256, 512, 64, 200)]  # (n_x, n_a, m, T_x)
LARGE = (256, 512, 64, 200)
SMALL = (64, 128, 32, 100)  # the tracing targets hold from here up
TARGETS = {  # issue 2
    "fast_over_torch": 0.9,  # at LARGE, at most
    "share_of_peak": 0.6,  # at LARGE, at least
    "traced_over_fast": 1.1,  # at (64, 128, 32, 100) and above, at most
    "trace_memory": 1.5,  # times n_a·m·T_x·8 bytes, plus O(n_a²)
    "step_rebuild_ms": 5.0,  # at (64, 128, 32, 100), worst t
}
PEAK_N = 2048
START, END = "<!-- core:start -->", "<!-- core:end -->"


def backward_flops(n_x: int, n_a: int, m: int, T_x: int) -> int:
    """Matmul FLOPs of the RNN backward: per step Waa.T @ dz and Wax.T @ dz, and dWaa, dWax (elementwise not counted)."""
    chain = 2 * m * T_x * (n_a * n_a + n_x * n_a)  # da_prev and dxt
    weights = 2 * m * T_x * (n_a * n_a + n_a * n_x)  # dWaa and dWax
    return chain + weights


def make_case(n_x: int, n_a: int, m: int, T_x: int, seed: int = 0) -> tuple:
    """Inputs with weights scaled by 1/sqrt(fan-in), so that tanh is neither saturated nor linear."""
    rng = np.random.default_rng(seed)
    parameters = {
        "Wax": rng.standard_normal((n_a, n_x)) / np.sqrt(n_x), "Waa": rng.standard_normal((n_a, n_a)) / np.sqrt(n_a),
        "Wya": rng.standard_normal((2, n_a)), "ba": rng.standard_normal((n_a, 1)) * 0.1, "by": np.zeros((2, 1)),
    }
    x = rng.standard_normal((n_x, m, T_x))  # (n_x, m, T_x)
    a0 = rng.standard_normal((n_a, m)) * 0.5  # (n_a, m)
    da = rng.standard_normal((n_a, m, T_x))  # (n_a, m, T_x)
    return x, a0, parameters, da


def torch_backward(x, a0, parameters, da):
    """A function that runs torch.nn.RNN's forward untimed and returns its timed backward's seconds."""
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    rnn = torch.nn.RNN(n_x, n_a, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(parameters["Wax"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(parameters["Waa"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(parameters["ba"][:, 0]))
        rnn.bias_hh_l0.zero_()
    inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0))).requires_grad_()  # (T_x, m, n_x)
    h0 = torch.from_numpy(np.ascontiguousarray(a0.T[None])).requires_grad_()  # (1, m, n_a)
    upstream = torch.from_numpy(np.ascontiguousarray(da.transpose(2, 1, 0)))  # (T_x, m, n_a)

    def run() -> float:
        for tensor in (inputs, h0, *rnn.parameters()):
            tensor.grad = None
        out, _ = rnn(inputs, h0)
        start = time.perf_counter()
        out.backward(upstream)
        return time.perf_counter() - start

    def gradients() -> dict:
        return {
            "dx": inputs.grad.numpy().transpose(2, 1, 0), "da0": h0.grad.numpy()[0].T,
            "dWax": rnn.weight_ih_l0.grad.numpy(), "dWaa": rnn.weight_hh_l0.grad.numpy(),
            "dba": rnn.bias_ih_l0.grad.numpy()[:, None],
        }

    return run, gradients


def timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def relative_error(got: dict, want: dict) -> float:
    return max(float(np.max(np.abs(got[k] - want[k])) / np.max(np.abs(want[k]))) for k in want)


def measure_size(size: tuple, repeats: int, threads: int) -> dict:
    """Every figure for one size, with BLAS (numpy's and torch's) limited to `threads` threads."""
    with thread_limit(threads):
        result = measure_size_now(size, repeats)
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


def measure_size_now(size: tuple, repeats: int) -> dict:
    n_x, n_a, m, T_x = size
    x, a0, parameters, da = make_case(*size)
    caches = rnn_forward(x, a0, parameters)[2]
    big = np.random.default_rng(1).standard_normal((PEAK_N, PEAK_N))
    product = np.empty_like(big)
    variants = {
        "course": lambda: timed(lambda: rnn_backward(da, caches)),
        "fast": lambda: timed(lambda: rnn_backward_fast(da, caches)),
        "traced": lambda: timed(lambda: trace_rnn(da, caches, RNNCode())),
        "peak": lambda: timed(lambda: np.matmul(big, big, out=product)),
    }
    reference = rnn_backward(da, caches)
    agreement = {"fast": relative_error(rnn_backward_fast(da, caches), reference),
                 "traced": relative_error(trace_rnn(da, caches).gradients(), reference)}
    if torch is not None:
        run_torch, torch_gradients = torch_backward(x, a0, parameters, da)
        variants["torch"] = run_torch
        run_torch()
        agreement["torch"] = relative_error(torch_gradients(), reference)
    for f in variants.values():  # warm up: first-touch page faults, BLAS thread start
        f()
    seconds = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            seconds[name].append(variants[name]())
    rounds = range(repeats)

    def ratio(a: str, b: str) -> float | None:
        if a not in seconds or b not in seconds:
            return None
        return statistics.median(seconds[a][r] / seconds[b][r] for r in rounds)

    median = {name: statistics.median(values) for name, values in seconds.items()}
    flops = backward_flops(*size)
    peak_gflops = 2 * PEAK_N**3 / median.pop("peak") / 1e9
    share = statistics.median(
        (flops / seconds["fast"][r]) / (2 * PEAK_N**3 / seconds["peak"][r]) for r in rounds
    )
    result = {
        "n_x": n_x, "n_a": n_a, "m": m, "T_x": T_x, "repeats": repeats,
        "seconds": {name: median.get(name) for name in ("course", "fast", "traced", "torch")},
        "ratios": {
            "fast_over_torch": ratio("fast", "torch"), "traced_over_fast": ratio("traced", "fast"),
            "course_over_fast": ratio("course", "fast"), "course_over_torch": ratio("course", "torch"),
        },
        "gflop": flops / 1e9,
        "gflops": {"fast": flops / median["fast"] / 1e9, "traced": flops / median["traced"] / 1e9,
                   "torch": flops / median["torch"] / 1e9 if "torch" in median else None, "peak": peak_gflops},
        "share_of_peak": share,
        "max_relative_error_vs_course": agreement,
        "trace_memory": trace_memory(da, caches, size),
        "step_rebuild_ms": step_rebuild(trace_rnn(da, caches)),
    }
    result["targets"] = verdicts(size, result)
    return result


def trace_memory(da, caches, size) -> dict:
    """What a correct trace holds: its own count (Trace.nbytes) and what tracemalloc sees it keep."""
    n_x, n_a, m, T_x = size
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    trace = trace_rnn(da, caches)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    unit = n_a * m * T_x * 8
    checkpoints = trace.nbytes - (trace.dz.nbytes + trace.dx.nbytes + trace.da0.nbytes)
    return {
        "nbytes": trace.nbytes, "tracemalloc_retained": retained - before, "tracemalloc_peak": peak - before,
        "unit_n_a_m_T_x_8": unit, "nbytes_over_unit": trace.nbytes / unit,
        "parts": {"dz": trace.dz.nbytes, "dx": trace.dx.nbytes, "da0": trace.da0.nbytes, "checkpoints": checkpoints},
        "vectors_over_unit": (trace.dz.nbytes + trace.dx.nbytes) / unit,
        "checkpoints_over_n_a_squared_8": checkpoints / (n_a * n_a * 8),
    }


def step_rebuild(trace, repeats: int = 3) -> dict:
    """Milliseconds to rebuild every matrix one step shows (trace.step(t)): per t the median of a
    few timings, so that one preempted call on a shared machine does not stand for its step."""
    per_t = [[timed(lambda: trace.step(t)) * 1e3 for _ in range(repeats)] for t in range(trace.T_x)]
    medians = [statistics.median(times) for times in per_t]
    return {"worst": max(medians), "median": statistics.median(medians), "worst_t": int(np.argmax(medians)),
            "slowest_single_call": max(max(times) for times in per_t)}


def verdicts(size: tuple, r: dict) -> dict:
    met = {}
    if all(a >= b for a, b in zip(size, SMALL)):
        met["traced_over_fast"] = r["ratios"]["traced_over_fast"] <= TARGETS["traced_over_fast"]
    met["trace_memory"] = r["trace_memory"]["vectors_over_unit"] <= TARGETS["trace_memory"]
    if size == SMALL:
        met["step_rebuild_ms"] = r["step_rebuild_ms"]["worst"] <= TARGETS["step_rebuild_ms"]
    if size == LARGE:
        met["share_of_peak"] = r["share_of_peak"] >= TARGETS["share_of_peak"]
        if r["ratios"]["fast_over_torch"] is not None:
            met["fast_over_torch"] = r["ratios"]["fast_over_torch"] <= TARGETS["fast_over_torch"]
    return met


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


def measure(sizes: list, repeats: int, threads: list) -> dict:
    return {
        "machine": machine(), "versions": versions(), "targets": TARGETS,
        "flops_counted": "matmuls only: Waa.T @ dz and Wax.T @ dz per step, plus dWaa and dWax",
        "sizes": [measure_size(size, repeats, n) for n in threads for size in sizes],
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def table(report: dict) -> str:
    head = ("| threads | n_x, n_a, m, T_x | course s | fast s | traced s | torch s | fast/torch | traced/fast "
            "| fast GFLOP/s | share of peak | trace: vectors / (n_a·m·T_x·8) + checkpoints / (n_a²·8) | step rebuild worst ms |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in report["sizes"]:
        s, q = r["seconds"], r["ratios"]
        lines.append(
            f"| {r['threads']} | {r['n_x']}, {r['n_a']}, {r['m']}, {r['T_x']} | {fmt(s['course'])} | {fmt(s['fast'])} | "
            f"{fmt(s['traced'])} | {fmt(s['torch'])} | {fmt(q['fast_over_torch'], '.2f')} | "
            f"{fmt(q['traced_over_fast'], '.2f')} | {r['gflops']['fast']:.1f} | {r['share_of_peak']:.0%} | "
            f"{r['trace_memory']['vectors_over_unit']:.2f} + {r['trace_memory']['checkpoints_over_n_a_squared_8']:.1f} | "
            f"{r['step_rebuild_ms']['worst']:.2f} |"
        )
    return "\n".join(lines)


def targets_text(report: dict) -> str:
    lines = []
    for r in report["sizes"]:
        for name, ok in r["targets"].items():
            lines.append(f"- {'met' if ok else 'NOT met'}: {name} at ({r['n_x']}, {r['n_a']}, {r['m']}, {r['T_x']}), "
                         f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}")
    return "\n".join(lines)


def docs_section(report: dict) -> str:
    m, v = report["machine"], report["versions"]
    blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} {b.get('architecture') or ''} "
                     f"{b.get('num_threads') or ''} threads".replace("  ", " ") for b in v["blas"])
    large = next((r for r in report["sizes"] if (r["n_x"], r["n_a"], r["m"], r["T_x"]) == LARGE), None)  # memory: any run
    memory = ""
    if large:
        t = large["trace_memory"]
        memory = (f"At {LARGE}: dz {t['parts']['dz']:,} B + dx {t['parts']['dx']:,} B = "
                  f"{t['vectors_over_unit']:.2f}·n_a·m·T_x·8, plus da0 {t['parts']['da0']:,} B and checkpoints "
                  f"{t['parts']['checkpoints']:,} B ({t['checkpoints_over_n_a_squared_8']:.1f}·n_a²·8); "
                  f"tracemalloc sees {t['tracemalloc_retained']:,} B kept, {t['tracemalloc_peak']:,} B at peak.")
    return f"""{START}
## Core: the RNN backward

Produced by `{report.get('command', 'python benchmarks/bench_core.py --write-docs')}` (numbers from one run; medians of
{report['sizes'][0]['repeats']} interleaved rounds, ratios are medians of per-round ratios).

- Machine: {m['cpu']}, {m['cores']} cores ({m['platform']}); load average {m.get('load_average_at_start', 0):.2f} at
  start and {report['load_average_at_end'] or 0:.2f} at end (the one-minute load includes this benchmark itself).
  On a small machine absolute times are noisy; the ratios, measured round by round, are the figures to read. With two
  BLAS threads on two shared cores, one preempted thread stalls its partner, so the 1-thread rows
  (numpy and torch both limited with `--threads 1`) are the steadier comparison.
- Versions: Python {v['python']}, numpy {v['numpy']}, BLAS {blas}, torch {v['torch'] or 'absent (row skipped)'}
  ({v.get('torch_threads', 'n/a')} threads). OpenBLAS variables unset for the run: {v['openblas_variables_unset'] or 'none were set'}.
- FLOPs counted: {report['flops_counted']}; the machine's peak is one {PEAK_N}×{PEAK_N} float64 matmul, timed in
  every round.

{table(report)}

Targets (issue 2):

{targets_text(report)}

Trace memory: {memory}

How the fast backward gets there (`bptt/fast.py`): only `da_prev = Waa.T @ dz` has to wait for the
previous step, so the step loop does just that matmul and the elementwise `dz`; `dxt`, `dWax`,
`dWaa` and `dba` are linear in dz and run as one matmul per block of steps (about
2048 batch columns), where BLAS is near its peak. Buffers are reused, the loop allocates nothing,
and `da` is read one block at a time (it is strided in time). The traced backward of the correct
code runs on the same kernel, keeping dz and the checkpoint totals it already has.
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


def main(argv: list | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the core section of docs/PERFORMANCE.md")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds per size (default 7)")
    parser.add_argument("--size", type=parse_size, action="append", help="n_x,n_a,m,T_x; repeatable")
    parser.add_argument("--threads", type=parse_threads, default=[os.cpu_count()],
                        help="BLAS threads for numpy and torch, comma-separated (default: all cores); needs threadpoolctl")
    parser.add_argument("--from-json", type=Path, help="report from a file an earlier --json run wrote, instead of measuring")
    args = parser.parse_args(argv)
    if args.from_json:
        report = json.loads(args.from_json.read_text())
    else:
        report = measure(args.size or SIZES, max(1, args.repeats), args.threads)
        report["command"] = "python benchmarks/bench_core.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.write_docs:
        write_docs(report)
    print(json.dumps(report, indent=1) if args.json else table(report) + "\n\n" + targets_text(report))


if __name__ == "__main__":
    main()
