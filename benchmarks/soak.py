"""Soak: sessions keep opening new configurations for ten minutes; the server's memory must level off.

    python benchmarks/soak.py                      # 10 min, 4 students at a time, a table
    python benchmarks/soak.py --minutes 12 --write-docs   # also docs/soak_rss.csv, docs/soak_rss.png (or .svg)

Each simulated student opens a link with a configuration nobody opened before (cell, scenario,
sizes, seed, a bug or none), clicks through a few steps and leaves; now and then one submits
code on "Check your code". Every configuration is new, so the run cache (bptt/ui/cache.py,
MAX_RUNS per function) keeps evicting; the resident memory of the server process is sampled
every few seconds. Bounded caches show as a plateau; a leak as a slope that does not flatten.
"""

import argparse
import asyncio
import csv
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
from docs_section import DOCS, write_section  # noqa: E402
from streamlit_client import Server, Session  # noqa: E402

sys.path.insert(0, str(load.ROOT))
from bptt.catalog import bugs_for  # noqa: E402

CSV, PNG, SVG = DOCS.parent / "soak_rss.csv", DOCS.parent / "soak_rss.png", DOCS.parent / "soak_rss.svg"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
SCENARIOS = ("classroom", "vanishing", "exploding", "echo")
SIZES = {"n_x": (1, 32), "n_a": (1, 64), "m": (1, 32), "T_x": (1, 60)}  # a class's range, with room to vary
# Level: the median RSS of the last third exceeds the middle third's by at most this much per configuration
# opened in between. Medians over minutes see through the collector's sawtooth (tens of MB either way),
# which made a least-squares slope over the second half flip between runs of a flat curve; a leak of
# anything a configuration makes (a cached run, a figure, a session) is larger than this.
LEVEL_KB_PER_CONFIGURATION = 5.0


def configuration(rng: random.Random) -> dict:
    """Query parameters of a configuration that is (almost surely) new: a fresh seed every time."""
    cell = rng.choice(("rnn", "lstm"))
    params = {"cell": cell, "scenario": rng.choice(SCENARIOS), "seed": rng.randrange(2**31 - 1),
              **{name: rng.randint(*bounds) for name, bounds in SIZES.items()},
              "scale": round(rng.uniform(0.3, 1.8), 3)}
    if rng.random() < 0.5:
        params["bug"] = rng.choice([b.id for b in bugs_for(cell)])
    return params


async def student(url: str, rng: random.Random, stop_at: float, tally: dict) -> None:
    """Open new configurations one after another, step a little in each, until stop_at."""
    while time.monotonic() < stop_at:
        params = configuration(rng)
        query = "&".join(f"{k}={v}" for k, v in params.items())
        try:
            async with Session.open(url, query, timeout=120) as s:
                run = await s.load()
                tally["opened"] += 1
                if not run.ok or (run.errors and "bug" not in params):  # a bug's banner is the page's answer
                    tally["errors"].append(f"{query}: {run.status} {run.exceptions or run.errors}")
                    continue
                for _ in range(rng.randint(1, 4)):
                    nxt = [w for w in s.widgets("button") if "Next step" in w.label and not w.proto.disabled]
                    if not nxt:
                        break
                    run = await s.click(nxt[0])
                    tally["clicks"].append(run.seconds)
                    if not run.ok or (run.errors and "bug" not in params):
                        tally["errors"].append(f"{query} step: {run.status} {run.exceptions or run.errors}")
                    await asyncio.sleep(rng.uniform(0.2, 0.8))
        except Exception as error:  # noqa: BLE001 - counted, the soak goes on
            tally["errors"].append(f"{query}: {type(error).__name__}: {error}")


async def checker(url: str, rng: random.Random, stop_at: float, every: float, tally: dict) -> None:
    """A submission on "Check your code" every `every` seconds, from the load test's mix."""
    while time.monotonic() + every < stop_at:
        await asyncio.sleep(every)
        name, expected = rng.choice(load.CHECKS)
        rows = []
        await load.submit(url, name, expected, load.Tally(checks=rows))
        tally["checks"].append(rows[0])
        if not rows[0]["ok"]:
            tally["errors"].append(f"check {name}: expected {expected}, the page said {rows[0]['got']}")


async def sampler(server: Server, stop_at: float, every: float, started: float, tally: dict, samples: list) -> None:
    while time.monotonic() < stop_at:
        samples.append((time.monotonic() - started, server.rss_mb(), tally["opened"]))
        await asyncio.sleep(every)


async def soak(server: Server, minutes: float, students: int, seed: int, sample_s: float) -> tuple:
    rng = random.Random(seed)
    started = time.monotonic()
    stop_at = started + minutes * 60
    tally, samples = {"opened": 0, "clicks": [], "errors": [], "checks": []}, []
    tasks = [sampler(server, stop_at, sample_s, started, tally, samples),
             checker(server.url, random.Random(rng.random()), stop_at, 20.0, tally)]
    tasks += [student(server.url, random.Random(rng.random()), stop_at, tally) for _ in range(students)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=minutes * 60 + 300)
    samples.append((time.monotonic() - started, server.rss_mb(), tally["opened"]))
    return tally, samples


def slope_mb_per_min(points: list) -> float:
    """Least-squares slope of RSS over time, MB per minute."""
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def growth_kb_per_configuration(samples: list) -> float:
    """How much the median RSS grew from the middle third of the run to the last, per configuration opened."""
    end = samples[-1][0]
    middle = [p for p in samples if end / 3 <= p[0] < 2 * end / 3]
    last = [p for p in samples if p[0] >= 2 * end / 3]
    rss = statistics.median(p[1] for p in last) - statistics.median(p[1] for p in middle)
    opened = statistics.median(p[2] for p in last) - statistics.median(p[2] for p in middle)
    return rss * 1024 / opened if opened > 0 else float("inf")


def summarize(tally: dict, samples: list, minutes: float, students: int, server: Server) -> dict:
    half = [p for p in samples if p[0] >= samples[-1][0] / 2]
    growth = growth_kb_per_configuration(samples)
    rss = [p[1] for p in samples]
    at = lambda minute: min(samples, key=lambda p: abs(p[0] - 60 * minute))[1]  # noqa: E731
    return {
        "minutes": minutes, "students": students, "opened": tally["opened"], "clicks": len(tally["clicks"]),
        "click_median_s": statistics.median(tally["clicks"]) if tally["clicks"] else None,
        "click_p95_s": load.percentile(tally["clicks"], 95), "checks": len(tally["checks"]),
        "checks_ok": sum(c["ok"] for c in tally["checks"]), "errors": tally["errors"],
        "rss_start_mb": rss[0], "rss_1min_mb": at(1), "rss_half_mb": at(minutes / 2), "rss_end_mb": rss[-1],
        "rss_max_mb": max(rss), "second_half_slope_mb_per_min": slope_mb_per_min(half),
        "growth_kb_per_configuration": growth, "levels_off": growth <= LEVEL_KB_PER_CONFIGURATION,
        "alive": server.alive(), "tracebacks": server.output().count("Traceback"), "samples": samples,
    }


def table(r: dict) -> str:
    verdict = "levels off" if r["levels_off"] else "**does NOT level off**"
    return "\n".join([
        f"{r['minutes']:g} minutes, {r['students']} students at a time, each opening a configuration nobody opened "
        f"before (random cell, scenario, sizes up to n_x={SIZES['n_x'][1]}, n_a={SIZES['n_a'][1]}, m={SIZES['m'][1]}, "
        f"T_x={SIZES['T_x'][1]}, seed, half of them with a catalog bug) and stepping 1–4 times; a check submission "
        f"every 20 s.",
        "",
        f"- {r['opened']} configurations opened, {r['clicks']} steps (median {r['click_median_s'] or 0:.3f} s, "
        f"p95 {r['click_p95_s']:.3f} s), {r['checks_ok']}/{r['checks']} checks answered as expected, "
        f"{len(r['errors'])} errors" + (f" (first: {r['errors'][0]})" if r["errors"] else "") + ".",
        f"- Server RSS: {r['rss_start_mb']:.0f} MB at start, {r['rss_1min_mb']:.0f} MB after 1 min, "
        f"{r['rss_half_mb']:.0f} MB at half time, {r['rss_end_mb']:.0f} MB at the end (max {r['rss_max_mb']:.0f} MB).",
        f"- From the middle third of the run to the last, the median RSS grew by "
        f"{r['growth_kb_per_configuration']:+.1f} KB per configuration opened: {verdict} (level means at most "
        f"{LEVEL_KB_PER_CONFIGURATION:g} KB per configuration; the least-squares slope over the second half, "
        f"{r['second_half_slope_mb_per_min']:+.2f} MB per minute, moves with the collector's sawtooth).",
        f"- The server was {'still serving' if r['alive'] else 'DEAD'} at the end, {r['tracebacks']} tracebacks in its log.",
    ])


def write_csv(samples: list) -> None:
    with CSV.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seconds", "rss_mb", "configurations_opened"])
        writer.writerows((round(t, 1), round(rss, 1), n) for t, rss, n in samples)


def plot(samples: list) -> Path:
    """PNG through plotly + kaleido where they work; otherwise an SVG drawn here from the same numbers."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    minutes, rss, opened = [t / 60 for t, _, _ in samples], [r for _, r, _ in samples], [n for _, _, n in samples]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=minutes, y=rss, name="server RSS (MB)", line={"color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=minutes, y=opened, name="configurations opened",
                             line={"color": "#aaaaaa", "dash": "dot"}), secondary_y=True)
    fig.update_layout(title="Soak: server memory while sessions keep opening new configurations",
                      width=900, height=420, margin={"l": 60, "r": 60, "t": 60, "b": 50},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    fig.update_xaxes(title_text="minutes")
    fig.update_yaxes(title_text="RSS (MB)", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="configurations opened", rangemode="tozero", secondary_y=True)
    if load.save_image(fig, PNG) is not None:
        return PNG
    SVG.write_text(svg(minutes, rss))
    return SVG


def svg(xs: list, ys: list, width: int = 900, height: int = 400, pad: int = 50) -> str:
    """A plain SVG line chart, RSS from zero, with the axes' ends labelled."""
    top = max(ys) * 1.1 or 1.0
    right = max(xs) or 1.0
    px = lambda x: pad + (width - 2 * pad) * x / right  # noqa: E731
    py = lambda y: height - pad - (height - 2 * pad) * y / top  # noqa: E731
    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
            f'font-size="12"><rect width="100%" height="100%" fill="white"/>'
            f'<text x="{pad}" y="25" font-size="15">Soak: server RSS (MB) over minutes</text>'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
            f'<text x="{pad - 5}" y="{height - pad}" text-anchor="end">0</text>'
            f'<text x="{pad - 5}" y="{py(top) + 4:.0f}" text-anchor="end">{top:.0f}</text>'
            f'<text x="{width - pad}" y="{height - pad + 18}" text-anchor="middle">{right:.1f} min</text>'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/></svg>\n')


def write_docs(result: dict, image: Path) -> None:
    section = (f"{START}\n## Soak: memory over time (benchmarks/soak.py)\n\n{table(result)}\n\n"
               f"![server RSS over the soak]({image.name})\n\nThe samples: [{CSV.name}]({CSV.name}).\n{END}")
    write_section(START, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    parser.add_argument("--students", type=int, default=4, help="sessions opening configurations at a time")
    parser.add_argument("--sample", type=float, default=3.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--write-docs", action="store_true", help="write docs/soak_rss.csv, the plot and the section")
    args = parser.parse_args()
    with Server() as server:
        tally, samples = asyncio.run(soak(server, args.minutes, args.students, args.seed, args.sample))
        result = summarize(tally, samples, args.minutes, args.students, server)
    print(json.dumps(result) if args.json else table(result))
    if args.write_docs:
        write_csv(samples)
        write_docs(result, plot(samples))
    return 0 if result["levels_off"] and not result["errors"] and result["alive"] else 1


if __name__ == "__main__":
    sys.exit(main())
