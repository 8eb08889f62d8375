"""A classroom at once: many sessions stepping, "Check your code" submissions among them (issue 6).

    python benchmarks/load.py                        # 20 sessions x 60 s, 10 checks, a table
    python benchmarks/load.py --json                 # one JSON object
    python benchmarks/load.py --write-docs           # also rewrite the load section of docs/PERFORMANCE.md
    python benchmarks/load.py --sessions 5 --duration 10 --checks 2   # the CI smoke size
    python benchmarks/load.py --through-nginx --replicas 1,2          # 60 sessions through nginx, a replica killed

It starts its own `streamlit run app.py` on a free 127.0.0.1 port (or uses --url, loopback only),
opens every session at once, as a class does when the teacher shares the link, then each
session clicks the step button at a human pace (a think time between a redraw and the next
click) for the duration. Halfway in, the check submissions arrive together: correct and buggy
code, one infinite loop. The run is bounded: a deadline of duration + 120 s, a cap on clicks, and
every wait has a timeout.

Latency is click-to-redraw on the server's side: from sending the click until the server says
the run finished (streamlit_client.py). The browser's own drawing runs on each student's
machine; benchmarks/bench_browser.py measures it in Chromium for one session.
"""

import argparse
import asyncio
import csv
import json
import math
import os
import platform
import random
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bptt
from docs_section import DOCS, write_section  # noqa: E402
from streamlit_client import Run, Server, Session, machine_busy_s  # noqa: E402

from bptt.ui.check_words import HEADLINES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
PLOT, CSV = DOCS.parent / "load_latency.png", DOCS.parent / "load_latency.csv"
START, END = "<!-- load:start -->", "<!-- load:end -->"
CLASSROOM = "scenario=classroom&stepping=server"  # a round trip per click: what loads the server (a classroom-sized run steps in the browser)
TARGET_P95_S = 1.0
CHECK_TIMEOUT_S = 60.0  # the sandbox stops a submission after 10 s; the page answers well before this
# (file, what the page must say): a mix of correct and buggy code and one infinite loop
CHECKS = [
    ("correct/rnn_course_style.py", "ok"),
    ("bugs/missing-da-t.py", "missing-da-t"),
    ("correct/lstm_course_style.py", "ok"),
    ("correct/rnn_compact_style.py", "ok"),
    ("bugs/dwaa-transposed.py", "dwaa-transposed"),
    ("bugs/overwrite-not-accumulate.py", "overwrite-not-accumulate"),
    ("bugs/lstm-c-view.py", "lstm-c-view"),
    ("bugs/tanh-twice.py", "tanh-twice"),
    ("bugs/lstm-no-carry.py", "lstm-no-carry"),
    ("hostile/infinite_loop.py", "timeout"),
]


@dataclass
class Tally:
    """Everything the sessions saw, kept as raw numbers so the report can recompute anything."""

    opens: list = field(default_factory=list)  # seconds, first full run of each session
    clicks: list = field(default_factory=list)  # (seconds since start, latency s, during checks, session)
    errors: list = field(default_factory=list)  # (session, what)
    checks: list = field(default_factory=list)  # dicts: file, expected, got, seconds, ok
    check_window: tuple = (None, None)


def percentile(values: list, q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


def shown_t(s: Session) -> int | None:
    """The t the stepper's heading shows ("◀ Step 2 of 5 — t = 3"), None when there is no such heading."""
    for heading in s.texts("heading"):
        match = re.search(r"Step \d+ of \d+ — t = (\d+)", heading)
        if match:
            return int(match.group(1))
    return None


class Gate:
    """Opens once every session has arrived: opened the page, or failed to (then it counts as an error)."""

    def __init__(self, sessions: int):
        self.left, self.event = sessions, asyncio.Event()

    def arrive(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


async def stepper(i: int, url: str, query: str, tally: Tally, gate: Gate, clock: dict, think: float,
                  budget: list, rng: random.Random) -> None:
    """One student: open the link, wait for the class, then click through the steps until clock["stop"]."""
    arrived = False
    try:
        async with Session.open(url, query) as s:
            page = await s.load()
            tally.opens.append(page.seconds)
            if not page.ok or page.errors:
                tally.errors.append((i, f"open: {page.status} {page.exceptions or page.errors}"))
            arrived = True
            gate.arrive()
            await gate.wait()
            await asyncio.sleep(rng.uniform(0, think))  # the class does not click in lockstep
            while time.perf_counter() < clock["stop"] and budget[0] > 0:
                budget[0] -= 1
                target = "Next step" if not s.button("Next step").proto.disabled else "First step"
                want = _target_t(s, target)
                page = await s.click(s.button(target))
                at = time.perf_counter() - clock["start"]
                lo, hi = tally.check_window
                tally.clicks.append((at, page.seconds, lo is not None and lo <= at and (hi is None or at <= hi), i))
                shown = shown_t(s)
                if not page.ok or page.errors:
                    tally.errors.append((i, f"click: {page.status} {page.exceptions or page.errors}"))
                elif want is not None and shown != want:
                    tally.errors.append((i, f"click {target}: the page shows t = {shown}, expected t = {want}"))
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    except Exception as error:  # noqa: BLE001 - a failed session is a counted error, not a crashed benchmark
        tally.errors.append((i, f"session failed: {type(error).__name__}: {error}"))
    finally:
        if not arrived:
            gate.arrive()


def _target_t(s: Session, target: str) -> int | None:
    """The t a step button leads to, from the page: the next lower t, or the first step's t from its label."""
    if target == "First step":
        return int(re.search(r"t = (\d+)", s.button("First step").label).group(1))
    shown = shown_t(s)
    return None if shown is None else shown - 1


async def submit(url: str, name: str, expected: str, tally: Tally) -> None:
    """One student on the "Check your code" page: paste the file, press the button, read the verdict."""
    code = (SUBMISSIONS / name).read_text()
    row = {"file": name, "expected": expected, "got": None, "seconds": None, "ok": False}
    try:
        async with Session.open(url, page="check", timeout=CHECK_TIMEOUT_S) as s:
            await s.load()
            await s.set(s.widget("text_area", "Your functions"), string_value=code)
            page = await s.click(s.button("Check my code"))
            row["seconds"] = page.seconds
            row["got"] = verdict(s, page)
            row["ok"] = page.ok and row["got"] == expected
    except Exception as error:  # noqa: BLE001
        row["got"] = f"failed: {type(error).__name__}: {error}"
    tally.checks.append(row)


def verdict(s: Session, page: Run) -> str:
    """What the page answered: ok, the first catalog bug it names, or the error kind it shows."""
    if page.exceptions or page.status != "finished":
        return f"{page.status} {page.exceptions}"
    for text in page.errors:  # an error box opens with its kind's headline
        kind = next((kind for kind, (title, _) in HEADLINES.items() if text.startswith(f"**{title}.**")), None)
        if kind:
            return kind
    for text in s.texts("markdown"):
        match = re.match(r"`([\w-]+)` in `", text)
        if match:
            return match.group(1)
    alerts = [e for e, _ in s.elements.values() if e.WhichOneof("type") == "alert"]
    if any(a.alert.format == a.alert.SUCCESS for a in alerts):
        return "ok"
    return "no verdict on the page"


async def run_load(url: str, sessions: int, duration: float, think: float, checks: int, query: str,
                   max_clicks: int, seed: int) -> dict:
    """Open `sessions` at once, step for `duration` s, submit `checks` checks at a quarter of the way in."""
    tally = Tally()
    rng = random.Random(seed)
    gate = Gate(sessions)
    budget = [max_clicks]
    clock = {"start": 0.0, "stop": float("inf")}
    steppers = [asyncio.create_task(stepper(i, url, query, tally, gate, clock, think, budget,
                                            random.Random(rng.random()))) for i in range(sessions)]
    opened_at = time.perf_counter()
    await asyncio.wait_for(gate.wait(), timeout=120 + duration)
    clock["start"] = time.perf_counter()
    clock["stop"] = clock["start"] + duration
    open_s = clock["start"] - opened_at
    await asyncio.sleep(min(duration / 4, 15))
    chosen = [CHECKS[-1]] + CHECKS[: max(0, checks - 1)] if checks else []  # the infinite loop always among them
    tally.check_window = (time.perf_counter() - clock["start"], None)
    await asyncio.gather(*(submit(url, name, expected, tally) for name, expected in chosen))
    tally.check_window = (tally.check_window[0], time.perf_counter() - clock["start"])
    await asyncio.wait_for(asyncio.gather(*steppers), timeout=duration + 120)
    return summarize(tally, sessions, duration, think, open_s, budget[0] <= 0)


async def calibrate(server: Server, query: str, clicks: int) -> dict:
    """One session alone, clicking one step after another: latency and server CPU per click without a crowd."""
    async with Session.open(server.url, query) as s:
        await s.load()
        latencies, cpu0 = [], server.cpu_s()
        for _ in range(clicks):
            target = "Next step" if not s.button("Next step").proto.disabled else "First step"
            latencies.append((await s.click(s.button(target))).seconds)
        cpu = (server.cpu_s() - cpu0) / clicks
    return {"clicks": clicks, "median_s": statistics.median(latencies), "cpu_per_click_s": cpu,
            "capacity_clicks_per_s": 1 / cpu if cpu else float("inf")}


def summarize(tally: Tally, sessions: int, duration: float, think: float, open_s: float, capped: bool) -> dict:
    latencies = [s for _, s, _, _ in tally.clicks]
    during = [s for _, s, d, _ in tally.clicks if d]
    stats = lambda v: {"n": len(v), "median_s": statistics.median(v) if v else float("nan"),  # noqa: E731
                       "p95_s": percentile(v, 95), "max_s": max(v) if v else float("nan")}
    return {
        "sessions": sessions, "duration_s": duration, "think_s": think, "capped": capped,
        "open": {**stats(tally.opens), "all_open_s": open_s},
        "clicks": stats(latencies), "clicks_during_checks": stats(during),
        "clicks_per_s": len(latencies) / duration if duration else 0.0,
        "clicks_per_session": [sum(1 for c in tally.clicks if c[3] == i) for i in range(sessions)],
        "errors": [f"session {i}: {what}" for i, what in tally.errors],
        "checks": tally.checks, "check_window_s": tally.check_window,
        "timeline": [(round(at, 3), round(s, 4)) for at, s, _, _ in tally.clicks],
    }


def run(sessions: int = 20, duration: float = 60.0, think: float = 1.0, checks: int = 10, query: str = CLASSROOM,
        url: str | None = None, max_clicks: int | None = None, seed: int = 0) -> dict:
    """The whole load test, server included: one dict of figures (see summarize)."""
    max_clicks = max_clicks or int(sessions * duration / (think * 0.5) + sessions)
    busy0, ours0 = machine_busy_s(), _own_cpu_s()

    def go(base_url: str) -> dict:
        return asyncio.run(asyncio.wait_for(
            run_load(base_url, sessions, duration, think, checks, query, max_clicks, seed), timeout=duration + 300))

    if url is not None:
        result = go(url)
        result["server"] = {"url": url}
    else:
        with Server() as server:
            alone = asyncio.run(calibrate(server, query, 15))
            cpu0, checks0, started = server.cpu_s(), server.cpu_s(children=True), time.perf_counter()
            rss0 = server.rss_mb()
            result = go(server.url)
            wall = time.perf_counter() - started
            result["server"] = {"startup_s": server.started_s, "rss_start_mb": rss0, "rss_end_mb": server.rss_mb(),
                                "cpu_s": server.cpu_s() - cpu0, "checks_cpu_s": server.cpu_s(children=True) - checks0,
                                "wall_s": wall, "alive": server.alive(), "tracebacks": server.output().count("Traceback"),
                                "log_tail": server.output()[-4000:], "alone": alone}
    result["query"] = query
    busy = machine_busy_s() - busy0
    ours = _own_cpu_s() - ours0
    result["machine"] = {"cores": _cores(), "busy_core_s": busy, "load_client_cpu_s": ours,
                         "others_core_s": busy - ours - result["server"].get("cpu_s", 0.0)
                         - result["server"].get("checks_cpu_s", 0.0),
                         "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                         "python": platform.python_version()}
    return result


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # not CHILDREN: the server, once reaped, would count
    return usage.ru_utime + usage.ru_stime


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def verdicts(result: dict) -> dict:
    """Which targets the run met, each with the numbers behind it."""
    clicks, during = result["clicks"], result["clicks_during_checks"]
    loop = [c for c in result["checks"] if c["expected"] == "timeout"]
    return {
        "stepping": clicks["p95_s"] <= TARGET_P95_S and not result["errors"],
        "stepping_during_checks": during["n"] == 0 or during["p95_s"] <= TARGET_P95_S,
        "checks_answered": all(c["ok"] for c in result["checks"]),
        "loop_timed_out": all(c["got"] == "timeout" for c in loop),
    }


def table(result: dict) -> str:
    c, d, o, srv, m = (result["clicks"], result["clicks_during_checks"], result["open"], result["server"],
                       result["machine"])
    v = verdicts(result)
    mark = lambda ok: "met" if ok else "**NOT met**"  # noqa: E731
    lines = [
        f"{result['sessions']} sessions opened `?{result['query']}` at once, then clicked the step button every "
        f"{result['think_s']:g} s (±50 %) for {result['duration_s']:g} s: {c['n']} clicks "
        f"({result['clicks_per_s']:.1f} per second).",
        "",
        "| | n | median | p95 | max |",
        "|---|---|---|---|---|",
        f"| opening the page (all at once) | {o['n']} | {o['median_s']:.2f} s | {o['p95_s']:.2f} s | {o['max_s']:.2f} s |",
        f"| click to redraw, all clicks | {c['n']} | {c['median_s']:.3f} s | {c['p95_s']:.3f} s | {c['max_s']:.3f} s |",
        f"| click to redraw, while the checks ran | {d['n']} | {d['median_s']:.3f} s | {d['p95_s']:.3f} s | "
        f"{d['max_s']:.3f} s |",
        "",
        ("The click cap stopped the run early.\n\n" if result["capped"] else "") +
        f"Errors: {len(result['errors'])}" + (" — " + "; ".join(result["errors"][:5]) if result["errors"] else "") + ".",
        "",
    ]
    if result["checks"]:
        lines += ["| submission | expected | the page said | seconds |", "|---|---|---|---|"]
        for row in result["checks"]:
            seconds = f"{row['seconds']:.1f}" if row["seconds"] is not None else "—"
            lines.append(f"| {row['file']} | {row['expected']} | {row['got']}{'' if row['ok'] else ' ✗'} | {seconds} |")
        lines.append("")
    lines += [
        f"- Stepping, p95 ≤ {TARGET_P95_S:g} s with zero errors: {mark(v['stepping'])} "
        f"(p95 {c['p95_s']:.3f} s, {len(result['errors'])} errors).",
        f"- Stepping while {len(result['checks'])} checks ran: {mark(v['stepping_during_checks'])} (p95 {d['p95_s']:.3f} s).",
        f"- Every check answered correctly: {mark(v['checks_answered'])}; the infinite loop got its timeout: "
        f"{mark(v['loop_timed_out'])}.",
    ]
    if "cpu_s" in srv:
        alone = srv["alone"]
        asked = result["sessions"] / (result["think_s"] + alone["median_s"])
        lines += [
            "",
            f"Alone (one session, {alone['clicks']} clicks before the class arrived) a click took "
            f"{alone['median_s'] * 1000:.0f} ms and {alone['cpu_per_click_s'] * 1000:.0f} ms of server CPU. A page runs "
            f"in Python threads of one process, so the server tops out near {alone['capacity_clicks_per_s']:.1f} clicks "
            f"per second however many cores it has; this class asked for up to {asked:.1f}.",
            f"Server: started in {srv['startup_s']:.1f} s, used {srv['cpu_s']:.0f} CPU s in {srv['wall_s']:.0f} s of wall "
            f"time ({srv['cpu_s'] / srv['wall_s']:.2f} cores), RSS {srv['rss_start_mb']:.0f} → {srv['rss_end_mb']:.0f} MB, "
            f"{srv['tracebacks']} tracebacks in its log, {'still serving' if srv['alive'] else 'DEAD'} at the end.",
            f"Machine: {m['cores']} cores; the load client used {m['load_client_cpu_s']:.0f} CPU s and other processes "
            f"{max(m['others_core_s'], 0):.0f} core-seconds during the run (load average at the end "
            f"{' '.join(m['loadavg'])}){' — the run shared the machine' if m['others_core_s'] > 0.1 * srv['wall_s'] else ''}.",
        ]
    return "\n".join(lines)


def save_image(fig, png: Path) -> Path | None:
    """The figure as a PNG through plotly + kaleido (it drives the system's Chromium); None where that fails."""
    try:
        fig.write_image(png, scale=1)
        return png
    except Exception:  # noqa: BLE001 - no kaleido or no browser for it: the caller falls back
        return None


def plot(results: list) -> Path | None:
    """Every click's latency over each run (one colour per think time), the checks' windows shaded, the target."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r, colour in zip(results, ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b")):
        at, seconds = zip(*r["timeline"]) if r["timeline"] else ((), ())
        fig.add_trace(go.Scatter(x=at, y=seconds, mode="markers", marker={"size": 4, "color": colour},
                                 name=f"think time {r['think_s']:g} s"))
        lo, hi = r["check_window_s"]
        if lo is not None:
            fig.add_vrect(x0=lo, x1=hi if hi is not None else r["duration_s"], fillcolor=colour, opacity=0.08,
                          line_width=0)
    fig.add_hline(y=TARGET_P95_S, line_dash="dash", annotation_text="target for the p95")
    fig.update_layout(title=f"{results[0]['sessions']} sessions stepping: click-to-redraw latency on the server "
                            f"(shaded: {len(results[0]['checks'])} check submissions running)",
                      xaxis_title="seconds into the run", yaxis_title="seconds", width=900, height=400,
                      template="plotly_white", margin={"l": 60, "r": 30, "t": 60, "b": 50},
                      legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(rangemode="tozero")
    return save_image(fig, PLOT)


def write_csv(results: list) -> None:
    """Every click of every run, so the plot and the percentiles can be recomputed."""
    with CSV.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["think_s", "seconds_into_run", "click_to_redraw_s", "during_checks"])
        for r in results:
            lo, hi = r["check_window_s"]
            for at, seconds in r["timeline"]:
                writer.writerow([r["think_s"], at, seconds, int(lo is not None and lo <= at <= (hi or at))])


def sweep(results: list) -> str:
    """One line per think time: how the latency grows as the class clicks faster."""
    lines = ["| think time | clicks per second | median | p95 | errors | p95 ≤ 1 s |", "|---|---|---|---|---|---|"]
    for r in results:
        c = r["clicks"]
        lines.append(f"| {r['think_s']:g} s | {r['clicks_per_s']:.1f} | {c['median_s']:.3f} s | {c['p95_s']:.3f} s | "
                     f"{len(r['errors'])} | {'met' if verdicts(r)['stepping'] else '**NOT met**'} |")
    return "\n".join(lines)


def write_docs(results: list, image: Path | None) -> None:
    parts = [f"{START}\n## A classroom at once (benchmarks/load.py)\n"]
    if len(results) > 1:
        parts.append(f"{results[0]['sessions']} sessions at a time, one run per think time (the pause between a redraw "
                     f"and the student's next click):\n\n{sweep(results)}\n")
    for r in results:
        parts.append(f"### Think time {r['think_s']:g} s\n\n{table(r)}\n")
    if image:
        parts.append(f"![click-to-redraw latency over the runs]({image.name})\n")
    parts.append(f"Every click: [{CSV.name}]({CSV.name}).\n")
    section = "\n".join(parts) + END
    write_section(START, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, help="concurrent stepping sessions (default 20; 60 through nginx)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of stepping (default 60)")
    parser.add_argument("--think", default="1", help="mean seconds between a redraw and the next click; a comma list "
                                                      "runs one load test per value (e.g. 1,3)")
    parser.add_argument("--checks", type=int, default=10, help="concurrent check submissions, one infinite loop")
    parser.add_argument("--query", default=CLASSROOM, help="the link the class opens (default scenario=classroom)")
    parser.add_argument("--url", help="an already running server on 127.0.0.1 (default: start one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the load section of docs/PERFORMANCE.md")
    parser.add_argument("--through-nginx", action="store_true", help="nginx in front of replicas (load_cluster.py); "
                                                                     "--sessions defaults to 60 there")
    parser.add_argument("--replicas", default="1,2", help="with --through-nginx: replica counts, one run each")
    args = parser.parse_args()
    if args.through_nginx:
        return through_nginx(args)
    args.sessions = args.sessions or 20
    results = []
    for think in (float(t) for t in args.think.split(",")):
        result = run(args.sessions, args.duration, think, args.checks, args.query, args.url)
        result["verdicts"] = verdicts(result)
        results.append(result)
        print(json.dumps(result) if args.json else table(result) + "\n", flush=True)
    if args.write_docs:
        write_csv(results)
        write_docs(results, plot(results))
    return 0 if all(all(r["verdicts"].values()) for r in results) else 1


def through_nginx(args: argparse.Namespace) -> int:
    """The cluster's load test: every replica count in one run, one table (benchmarks/load_cluster.py)."""
    import load_cluster

    results = load_cluster.run([int(n) for n in args.replicas.split(",")], args.sessions or 60, args.duration,
                               float(args.think.split(",")[0]), args.checks)
    for r in results:
        r["verdicts"] = load_cluster.verdicts(r)
    print(json.dumps(results) if args.json else load_cluster.table(results), flush=True)
    if args.write_docs:
        load_cluster.write_docs(results)
    return 0 if all(all(r["verdicts"].values()) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
