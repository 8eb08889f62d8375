"""Every benchmark in one command, and one report: docs/PERFORMANCE.md, written whole.

    python benchmarks/run_all.py            # core, check, browser, load, cluster (about 15 minutes; needs nginx)
    python benchmarks/run_all.py --soak     # and the ten-minute soak
    python benchmarks/run_all.py --quick    # fewer rounds, a shorter load run: does everything still run?
    python benchmarks/run_all.py --only load,check   # some of them; the others' sections are kept as they were

Each benchmark script measures and writes its own section of the report, between
`<!-- name:start -->` and `<!-- name:end -->`. This script runs them one after another, notes
for each how much of the machine other processes used meanwhile (a shared machine slows a
benchmark down), then rebuilds the file: the machine and versions, a table of what ran and
whether its targets were met, and the sections in a fixed order.
"""

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs_section import DOCS  # noqa: E402
from streamlit_client import machine_busy_s  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


@dataclass(frozen=True)
class Bench:
    """One benchmark: its section name in the report, what it measures, how to run it."""

    section: str
    title: str
    args: tuple
    quick: tuple
    timeout_s: int


BENCHES = (
    Bench("core", "the core against PyTorch, and the tracing overhead", ("benchmarks/bench_core.py",),
          ("benchmarks/bench_core.py", "--repeats", "3"), 1800),
    Bench("stepper", "step latency in the browser, a new tab, cold start with and without bytecode",
          ("benchmarks/bench_browser.py",), ("benchmarks/bench_browser.py", "--clicks", "8", "--cold", "2"), 900),
    Bench("check", "the check's round trip", ("benchmarks/bench_check.py",),
          ("benchmarks/bench_check.py", "--rounds", "2"), 600),
    Bench("load", "a classroom at once: 20 sessions stepping, 10 checks", ("benchmarks/load.py", "--think", "1,3"),
          ("benchmarks/load.py", "--duration", "20"), 1200),
    Bench("cluster", "a course at once through nginx: 1 vs 2 replicas, one killed",
          ("benchmarks/load.py", "--through-nginx", "--replicas", "1,2"),
          ("benchmarks/load.py", "--through-nginx", "--replicas", "1,2", "--sessions", "10", "--duration", "15",
           "--checks", "3"), 900),
    Bench("soak", "ten minutes of new configurations: server memory", ("benchmarks/soak.py",),
          ("benchmarks/soak.py", "--minutes", "2"), 1800),
)


@dataclass
class Outcome:
    bench: Bench
    command: str
    exit_code: int | None  # None: not run this time
    wall_s: float = 0.0
    own_cpu_s: float = 0.0  # the benchmark's processes, servers and browsers included
    others_core_s: float = 0.0  # every other process on the machine meanwhile
    output: str = ""
    wrote: bool = False  # whether it rewrote its section (a crash leaves the earlier one)


def sections(text: str) -> dict:
    """name -> the text between its markers, markers included."""
    found = re.finditer(r"<!-- (\w+):start -->.*?<!-- \1:end -->", text, flags=re.S)
    return {m.group(1): m.group(0) for m in found}


def run_one(bench: Bench, quick: bool) -> Outcome:
    args = (bench.quick if quick else bench.args) + ("--write-docs",)
    command = " ".join(("python",) + args)
    print(f"running {command}", file=sys.stderr, flush=True)
    before = sections(DOCS.read_text()).get(bench.section) if DOCS.exists() else None
    busy0, cpu0, started = machine_busy_s(), _children_cpu_s(), time.monotonic()
    process = subprocess.Popen((PY,) + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=bench.timeout_s)
        code = process.returncode
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # KeyboardInterrupt: its `with Server()` stops the server it started
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        code, output = 124, f"stopped after {bench.timeout_s} s\n{output}"
    wall = time.monotonic() - started
    own = _children_cpu_s() - cpu0
    after = sections(DOCS.read_text()).get(bench.section) if DOCS.exists() else None
    return Outcome(bench, command, code, wall, own, max(0.0, machine_busy_s() - busy0 - own), output[-3000:],
                   after is not None and after != before)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def versions() -> dict:
    found = {"Python": platform.python_version()}
    for name in ("numpy", "streamlit", "plotly", "torch", "websockets", "playwright", "kaleido", "hypothesis"):
        try:
            from importlib.metadata import version
            found[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed: say so
            found[name] = "not installed"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        found["Chromium"] = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                                           timeout=20).stdout.strip().removeprefix("Chromium ") or "unknown"
    except (OSError, subprocess.SubprocessError):
        found["Chromium"] = "not installed"
    try:
        import numpy  # noqa: F401 - loads the BLAS that threadpoolctl then names
        from threadpoolctl import threadpool_info
        found["BLAS"] = ", ".join(f"{i['internal_api']} {i.get('version') or ''} ({i.get('architecture') or '?'}, "
                                  f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas")
    except Exception:  # noqa: BLE001
        pass
    return found


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) / 2**20
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores available, {memory:.0f} GiB memory, "
            f"{platform.system()} {platform.release()} ({platform.machine()})")


def targets(section: str) -> str:
    """What the section says about its targets: every benchmark writes 'met' or 'NOT met' beside each."""
    missed = len(re.findall(r"NOT met", section))
    met = len(re.findall(r"(?<!NOT )\bmet\b", section))
    if missed:
        return f"**{missed} of {missed + met} not met**"
    return f"{met} of {met} met" if met else "no target stated"


def report(outcomes: dict, previous: dict, started: str) -> str:
    order = [b.section for b in BENCHES]
    head = [
        "# Performance",
        "",
        "Written by `python benchmarks/run_all.py` (add `--soak` for the ten-minute soak); each section below is "
        "written by the script named in its title, which can also be run alone (`--help`).",
        "",
        f"- Machine: {machine()}.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".",
        f"- Run started {started}; load average at the end {' '.join(Path('/proc/loadavg').read_text().split()[:3])}.",
        "",
        "| benchmark | what | wall time | other processes meanwhile | exit | targets |",
        "|---|---|---|---|---|---|",
    ]
    for name in order:
        bench = next(b for b in BENCHES if b.section == name)
        o = outcomes.get(name)
        section = previous.get(name, "")
        link = f"[{name}](#{_anchor(section)})" if section else name
        if o is None or o.exit_code is None:
            state = "kept from an earlier run" if section else "never run"
            head.append(f"| {link} | {bench.title} | — | — | not run this time ({state}) | "
                        f"{targets(section) if section else '—'} |")
            continue
        shared = o.others_core_s / o.wall_s if o.wall_s else 0.0
        head.append(f"| {link} | {bench.title} | {o.wall_s:.0f} s | {o.others_core_s:.0f} core-s "
                    f"({shared:.1f} cores{': shared' if shared > 0.2 else ''}) | {o.exit_code} | "
                    f"{targets(section) if section else 'no section written'} |")
    shared_any = any(o.exit_code is not None and o.wall_s and o.others_core_s / o.wall_s > 0.2
                     for o in outcomes.values())
    if shared_any:
        head += ["", "Some benchmarks shared the machine with other work (the column above): their times are "
                     "slower than on a quiet machine, and their ratios, measured within one run, are the numbers "
                     "to compare."]
    for o in outcomes.values():
        if not o.wrote:
            kept = "the section below is from an earlier run" if o.bench.section in previous else "no section"
            head += ["", f"`{o.command}` exited {o.exit_code} without writing its section ({kept}):", "", "```",
                     o.output.strip()[-1500:], "```"]
    body = [previous[name] for name in order if name in previous]
    body += [text for name, text in previous.items() if name not in order]  # a section someone added later
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def _anchor(section: str) -> str:
    title = next((line[3:] for line in section.splitlines() if line.startswith("## ")), "")
    return re.sub(r"[^\w\- ]", "", title).strip().lower().replace(" ", "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--soak", action="store_true", help="also run the ten-minute soak")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a shorter load run")
    parser.add_argument("--only", help="comma-separated sections to run: " + ",".join(b.section for b in BENCHES))
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {b.section for b in BENCHES if b.section != "soak" or args.soak}
    unknown = chosen - {b.section for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}")
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    outcomes = {}
    for bench in BENCHES:
        if bench.section in chosen:
            outcomes[bench.section] = run_one(bench, args.quick)
            o = outcomes[bench.section]
            print(f"  exit {o.exit_code} in {o.wall_s:.0f} s", file=sys.stderr, flush=True)
    previous = sections(DOCS.read_text()) if DOCS.exists() else {}
    DOCS.write_text(report(outcomes, previous, started))
    print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(o.exit_code == 0 for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
