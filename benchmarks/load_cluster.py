"""A course at once through nginx: N replicas behind the project's proxy, one killed halfway (issue 14).

    python benchmarks/load.py --through-nginx --replicas 1,2                 # 60 sessions x 60 s, 10 checks
    python benchmarks/load.py --through-nginx --replicas 1,2 --sessions 10 --duration 20 --checks 3   # smoke

For each replica count it starts deploy/cluster.py's topology (Debian's nginx with
deploy/bptt.conf.template in front of N `streamlit run app.py` on loopback ports), opens every
session through nginx at once, and each session steps at a human pace. Halfway in one replica is
killed with SIGKILL (when there is another to take its sessions; with one replica nothing is
killed). A session whose websocket dies reconnects to nginx, as the page does in a browser, and
reruns the page from its URL; its state is lost if the page then shows another step than the URL
it had. The checks arrive together a quarter of the way in; a check cut off by the kill is
submitted again once, as a student would.

What a click is. The stepper steps in the browser (bptt/ui/browser_stepper.py): the click
redraws on the student's machine and writes the step into the URL at once, and a moment later
the component sends the server the step it shows (its state {"view": {"t": t, ...}}). That
write-back is all a click costs the server: a rerun of the stepper's fragment that records the
step (for the export and the URL) and sends that fragment's elements again, the component's
~40 kB included, with the run's payload already cached. So this load sends exactly that message,
and a click's latency is from sending it until the server's run finishes; it is counted only if
the server then names the new step. The browser's own redraw is measured in Chromium
(benchmarks/bench_browser.py); `load.py` without --through-nginx measures the server-side
stepping (stepping=server) on one process.
"""

import asyncio
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import Cluster  # noqa: E402
from docs_section import write_section  # noqa: E402
from load import CHECKS, SUBMISSIONS, Gate, percentile, verdict  # noqa: E402
from streamlit_client import TICKS, Session, machine_busy_s  # noqa: E402

LINK = "scenario=classroom"  # the link a teacher shares: a classroom-sized run, stepped in the browser
TARGET_P95_S = 0.3  # issue 14: at 60 sessions with 2 replicas
RECONNECT_S = 60.0
START, END = "<!-- cluster:start -->", "<!-- cluster:end -->"
COMPONENT = "bptt_browser_stepper"
LABEL = re.compile(r"Step t=(\d+) \(\.csv\)")  # the export's download button names the server's step


@dataclass
class Tally:
    """What every session saw, raw, so the report can recompute anything."""

    opens: list = field(default_factory=list)  # seconds to the first full run
    clicks: list = field(default_factory=list)  # (seconds since start, latency s, session)
    errors: list = field(default_factory=list)  # (session, what)
    reconnects: list = field(default_factory=list)  # (session, seconds to the page rerun from its URL)
    lost: list = field(default_factory=list)  # (session, the URL's step, the step the page showed after)
    checks: list = field(default_factory=list)
    kill_at: float | None = None  # seconds since start
    cpu_at_kill: float | None = None  # the killed replica's CPU seconds just before
    killed: tuple | None = None  # (replica, the connections it held when killed)


def stepper(s: Session):
    """The browser stepper among the page's components (bptt/ui/browser_stepper.py names it)."""
    found = [w for w in s.widgets("bidi_component") if w.proto.component_name.endswith(COMPONENT)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} browser steppers on the page")
    return found[0]


def header(s: Session) -> dict:
    """The header the server sent the browser stepper: its run id, its steps in order, whether it holds them all."""
    return json.loads(stepper(s).proto.bytes)["header"]


def steps_of(s: Session) -> list:
    """The steps in the order the stepper walks them (the backward loop's: T_x-1 down to 0)."""
    return header(s)["steps"]


def write_back(s: Session, t: int) -> str:
    """The state the component sends the server once it shows step t (stepper.js, report())."""
    head = header(s)
    # a large run's browser also lists the steps it holds; this client holds none but the one it shows
    view = {"t": t, "run": head["run"]} if head["whole"] else {"t": t, "have": [t], "run": head["run"]}
    return json.dumps({"view": view})


def url_t(query: str, steps: list) -> int:
    """The step a URL names; no t means the first step (the page leaves it out there)."""
    t = dict(parse_qsl(query)).get("t")
    return int(t) if t is not None and t.lstrip("-").isdigit() else steps[0]


def with_t(query: str, t: int, steps: list) -> str:
    """The URL the browser writes at once on a click (replaceState): t set, or left out at the first step."""
    params = [(k, v) for k, v in parse_qsl(query) if k != "t"]
    return urlencode(params + ([] if t == steps[0] else [("t", str(t))]), safe=".")


def server_t(s: Session) -> int | None:
    """The step the server's last run recorded, from the export's download button; None when it is not there."""
    for widget in s.widgets("download_button"):
        match = LABEL.search(widget.label)
        if match:
            return int(match.group(1))
    return None


async def click(s: Session) -> tuple:
    """(the step asked for, the server's run): a click on "next", as the browser stepper makes it, wrapping round."""
    steps = steps_of(s)
    here = url_t(s.query, steps)
    target = steps[(steps.index(here) + 1) % len(steps)] if here in steps else steps[0]
    s.query = with_t(s.query, target, steps)  # the browser's URL names the step at once
    return target, await s.set(stepper(s), json_value=write_back(s, target))


async def student(i: int, url: str, tally: Tally, gate, clock: dict, think: float, rng: random.Random) -> None:
    """One student: open the link through nginx, wait for the class, step; come back after a replica dies."""
    arrived = False
    try:
        async with Session.open(url, LINK) as s:
            page = await s.load()
            tally.opens.append(page.seconds)
            if not page.ok or page.errors:
                tally.errors.append((i, f"open: {page.status} {page.exceptions or page.errors}"))
            arrived = True
            gate.arrive()
            await gate.wait()
            await asyncio.sleep(rng.uniform(0, think))
            while time.perf_counter() < clock["stop"]:
                target, page = await click(s)
                if page.disconnected:
                    await come_back(i, s, tally)
                    continue
                tally.clicks.append((time.perf_counter() - clock["start"], page.seconds, i))
                if not page.ok or page.errors:
                    tally.errors.append((i, f"click: {page.status} {page.exceptions or page.errors}"))
                elif server_t(s) != target:
                    tally.errors.append((i, f"click to t = {target}: the server recorded t = {server_t(s)}"))
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    except Exception as error:  # noqa: BLE001 - a failed session is a counted error, not a crashed benchmark
        tally.errors.append((i, f"session failed: {type(error).__name__}: {error}"))
    finally:
        if not arrived:
            gate.arrive()


async def come_back(i: int, s: Session, tally: Tally) -> None:
    """Reconnect through nginx and rerun from the URL; the state is lost if the page shows another step."""
    wanted = url_t(s.query, steps_of(s))
    page = await s.reconnect(within=RECONNECT_S)
    if page.disconnected or not page.ok:
        tally.errors.append((i, f"reconnect: {page.status} {page.exceptions or page.errors}"))
        raise ConnectionError("could not come back")
    tally.reconnects.append((i, page.seconds))
    shown = server_t(s)
    if shown != wanted or url_t(s.query, steps_of(s)) != wanted:
        tally.lost.append((i, wanted, shown))


async def submit(url: str, name: str, expected: str, tally: Tally) -> None:
    """One check through nginx; cut off by the kill, it is submitted again once (the page says it was lost)."""
    code = (SUBMISSIONS / name).read_text()
    row = {"file": name, "expected": expected, "got": None, "seconds": None, "ok": False, "submitted": 0}
    for _ in range(2):
        row["submitted"] += 1
        try:
            async with Session.open(url, page="check", timeout=60.0) as s:
                page = await s.load()
                if page.ok:
                    page = await s.set(s.widget("text_area", "Your functions"), string_value=code)
                if page.ok:
                    page = await s.click(s.button("Check my code"))
        except Exception as error:  # noqa: BLE001 - refused while nginx notices the dead replica: submit again
            row["got"] = f"failed: {type(error).__name__}: {error}"
            continue
        row["seconds"], row["got"] = page.seconds, verdict(s, page)
        row["ok"] = page.ok and row["got"] == expected
        if not page.disconnected:
            break
    tally.checks.append(row)


async def drive(cluster: Cluster, sessions: int, duration: float, think: float, checks: int, seed: int) -> Tally:
    tally, rng, gate = Tally(), random.Random(seed), Gate(sessions)
    clock = {"start": 0.0, "stop": float("inf")}
    students = [asyncio.create_task(student(i, cluster.url, tally, gate, clock, think, random.Random(rng.random())))
                for i in range(sessions)]
    await asyncio.wait_for(gate.wait(), timeout=180 + duration)
    clock["start"] = time.perf_counter()
    clock["stop"] = clock["start"] + duration
    chosen = [CHECKS[-1]] + CHECKS[: max(0, checks - 1)] if checks else []  # the infinite loop always among them

    async def checks_later():
        await asyncio.sleep(duration / 4)
        await asyncio.gather(*(submit(cluster.url, name, expected, tally) for name, expected in chosen))

    async def kill_later():
        await asyncio.sleep(duration / 2)
        if cluster.replicas > 1:  # the replica holding the most sessions, so the kill is felt
            held = [cluster.sessions(i) for i in range(cluster.replicas)]
            victim = held.index(max(held))
            tally.killed, tally.cpu_at_kill = (victim, held[victim]), replica_cpu_s(cluster, victim)
            cluster.kill(victim)
            tally.kill_at = time.perf_counter() - clock["start"]

    await asyncio.gather(checks_later(), kill_later())
    await asyncio.wait_for(asyncio.gather(*students), timeout=duration + 180)
    return tally


def _own_cpu_s() -> float:
    """This load client's CPU seconds: its 60 sessions parse every message a browser would."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replica_cpu_s(cluster: Cluster, index: int, children: bool = True) -> float:
    """CPU seconds replica `index` used so far: its own threads, and (children) the check workers it reaped."""
    fields = Path(f"/proc/{cluster.apps[index].pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15 if children else 13]) / TICKS


async def alone(cluster: Cluster, clicks: int = 30) -> dict:
    """One session through nginx before the class arrives: latency and server CPU of one write-back, uncrowded."""
    async with Session.open(cluster.url, LINK) as s:
        await s.load()
        latencies, cpu0 = [], [replica_cpu_s(cluster, i, children=False) for i in range(cluster.replicas)]
        for _ in range(clicks):
            latencies.append((await click(s))[1].seconds)
        cpu = sum(replica_cpu_s(cluster, i, children=False) - c for i, c in enumerate(cpu0)) / clicks
    return {"clicks": clicks, "p50_s": statistics.median(latencies), "cpu_per_click_s": cpu}


def stats(values: list) -> dict:
    return {"n": len(values), "p50_s": statistics.median(values) if values else float("nan"),
            "p95_s": percentile(values, 95), "max_s": max(values) if values else float("nan")}


def run_one(replicas: int, sessions: int, duration: float, think: float, checks: int, seed: int) -> dict:
    """One replica count, its cluster started and stopped here: one dict of figures (see table())."""
    busy0, started = machine_busy_s(), time.perf_counter()  # both from here: the cluster's start-up included
    client0 = _own_cpu_s()
    with Cluster(replicas=replicas) as cluster:
        solo = asyncio.run(alone(cluster))
        tally = asyncio.run(asyncio.wait_for(drive(cluster, sessions, duration, think, checks, seed),
                                             timeout=duration + 400))
        alive = [i for i, app in enumerate(cluster.apps) if app.poll() is None]
        cpu = {i: replica_cpu_s(cluster, i) for i in alive}
        if tally.killed is not None:
            cpu[tally.killed[0]] = tally.cpu_at_kill
        logs = [cluster.output(i) for i in range(replicas)]
    wall, client = time.perf_counter() - started, _own_cpu_s() - client0
    tracebacks = sum(log.count("Traceback") for log in logs)
    excerpts = [log[log.index("Traceback"):][:3000] for log in logs if "Traceback" in log]
    kill = tally.kill_at
    latencies = [s for _, s, _ in tally.clicks]
    return {
        "replicas": replicas, "sessions": sessions, "duration_s": duration, "think_s": think, "link": LINK,
        "alone": solo, "open": stats(tally.opens), "clicks": stats(latencies),
        "before_kill": stats([s for at, s, _ in tally.clicks if kill is None or at < kill]),
        "after_kill": stats([s for at, s, _ in tally.clicks if kill is not None and at >= kill]),
        "clicks_per_s": len(latencies) / duration, "kill_at_s": kill,
        "killed_sessions": None if tally.killed is None else tally.killed[1],
        "reconnects": len(tally.reconnects), "reconnect": stats([s for _, s in tally.reconnects]),
        "lost_states": [f"session {i}: URL t = {want}, page t = {got}" for i, want, got in tally.lost],
        "errors": [f"session {i}: {what}" for i, what in tally.errors], "checks": tally.checks,
        "tracebacks": tracebacks, "traceback_excerpts": excerpts, "cpu_s": cpu, "wall_s": wall, "busy_core_s": machine_busy_s() - busy0,
        "client_cpu_s": client,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3], "cores": len(os.sched_getaffinity(0)),
    }


def run(replicas: list, sessions: int = 60, duration: float = 60.0, think: float = 1.0, checks: int = 10,
        seed: int = 0) -> list:
    """Every replica count in one run, one after the other on the same machine."""
    return [run_one(n, sessions, duration, think, checks, seed) for n in replicas]


def verdicts(r: dict) -> dict:
    return {"no_lost_states": not r["lost_states"], "no_tracebacks": r["tracebacks"] == 0, "no_errors": not r["errors"],
            "checks_answered": all(c["ok"] for c in r["checks"]),
            "p95": r["replicas"] < 2 or r["clicks"]["p95_s"] <= TARGET_P95_S}


def table(results: list) -> str:
    ms = lambda s: f"{s * 1000:.0f} ms" if s == s else "—"  # noqa: E731
    first = results[0]
    lines = [
        f"{first['sessions']} sessions opened `?{first['link']}` through nginx at once and stepped about every "
        f"{first['think_s']:g} s (±50 %) for {first['duration_s']:g} s; {len(first['checks'])} checks arrived "
        "together a quarter of the way in; halfway in, one replica was killed (SIGKILL) where another could take "
        "its sessions. A click is the step write-back the browser stepper sends the server (see "
        "benchmarks/load_cluster.py), timed until the server's run finished and counted only if it recorded the "
        "new step.",
        "",
        "| replicas | clicks/s | p50 | p95 | p95 before the kill | p95 after | errors | reconnects | lost states | "
        "tracebacks | checks right | CPU s per replica |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["clicks"]
        right = sum(1 for row in r["checks"] if row["ok"])
        cpu = ", ".join(f"{v:.0f}" for _, v in sorted(r["cpu_s"].items()))
        lines.append(f"| {r['replicas']} | {r['clicks_per_s']:.1f} | {ms(c['p50_s'])} | {ms(c['p95_s'])} | "
                     f"{ms(r['before_kill']['p95_s'])} | {ms(r['after_kill']['p95_s'])} | {len(r['errors'])} | "
                     f"{r['reconnects']} | {len(r['lost_states'])} | {r['tracebacks']} | {right} of "
                     f"{len(r['checks'])} | {cpu} |")
    lines.append("")
    for r in results:
        v = verdicts(r)
        if r["reconnects"]:
            rc = r["reconnect"]
            lines.append(f"- {replicas(r)}: {r['reconnects']} sessions came back after the kill (median "
                         f"{rc['p50_s']:.1f} s, slowest {rc['max_s']:.1f} s from the lost socket to the page rerun "
                         f"from its URL), {len(r['lost_states'])} lost their step.")
        if r["errors"]:
            lines.append(f"- {replicas(r)}, errors: " + "; ".join(r["errors"][:5]))
        met = "every target met" + (" (the latency target is for 2 replicas)" if r["replicas"] < 2 else "") if all(v.values()) else "NOT met: " + ", ".join(k for k, ok in v.items() if not ok)
        lines.append(f"- {replicas(r)}: {met} (load average at the end {' '.join(r['loadavg'])}).")
    solo = first["alone"]
    if solo["cpu_per_click_s"] > 0:
        lines += ["", f"Alone (one session through nginx before the class, {solo['clicks']} write-backs) a click took "
                  f"{ms(solo['p50_s'])} and {ms(solo['cpu_per_click_s'])} of server CPU: one replica on one core keeps "
                  f"up with about {1 / solo['cpu_per_click_s']:.0f} clicks a second, the class's page openings and "
                  "checks on top."]
    shared = [f"{replicas(r)}: {r['busy_core_s']:.0f} of {r['wall_s'] * r['cores']:.0f}, this load client "
              f"{r['client_cpu_s']:.0f} of them" for r in results]
    lines += ["", f"The machine has {first['cores']} cores; they were busy for (core-seconds, of those the run's wall time offered, "
              "the cluster's start-up included) "
              f"{'; '.join(shared)}, everything included: the replicas, nginx, the checks, this load client, and any "
              "other work on the machine."]
    if any(float(r["loadavg"][0]) > 2 * r["cores"] for r in results):
        lines += ["", "**The machine was saturated** (a one-minute load average above twice its cores at the end): "
                  "other work shared the cores, so these latencies say more about the machine than about the app. "
                  "The counts (errors, reconnects, lost states, tracebacks, checks) hold; rerun on a quiet machine "
                  "for the latencies: `python benchmarks/load.py --through-nginx --replicas 1,2 --write-docs`."]
    lines += ["", f"Target: p95 ≤ {TARGET_P95_S * 1000:.0f} ms with 2 replicas, 0 lost states, 0 tracebacks. On a "
              "machine of 2 cores a second replica can at best double what one process does, because each replica is "
              "one Python process under one interpreter lock: the gain is the second core, not the proxy."]
    return "\n".join(lines)


def replicas(r: dict) -> str:
    return "1 replica" if r["replicas"] == 1 else f"{r['replicas']} replicas"


def write_docs(results: list) -> None:
    write_section(START, END, f"{START}\n## A course at once, through nginx (benchmarks/load.py --through-nginx)\n\n"
                              f"{table(results)}\n{END}")
