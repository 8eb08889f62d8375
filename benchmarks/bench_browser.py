"""Click-to-redraw and cold start of the step-through page, in a real chromium (issue 3's targets).

    python benchmarks/bench_browser.py                 # a readable table
    python benchmarks/bench_browser.py --json          # one JSON object
    python benchmarks/bench_browser.py --write-docs    # also rewrite the stepper section of docs/PERFORMANCE.md

Click-to-redraw is timed inside the page: performance.now() at the click, then every animation
frame until the step heading and every chart show the new step (a redrawn figure's layout.meta
names its t; on the timeline and norm chart, drawn once per run, the current cell and band are
lit by the step's stylesheet), plus one frame for the paint. That covers the websocket round trip,
the fragment's rerun on the server and plotly redrawing every chart. Cold start runs from spawning
`streamlit run app.py` to the first screen drawn (heading and charts) in a fresh page.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import conftest as server  # noqa: E402  (the browser tests' server and chromium helpers)
from docs_section import write_section  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

SIZES = {
    "classroom (n_x=2, n_a=3, m=2, T_x=5)": "?scenario=classroom",
    "large (n_x=16, n_a=256, m=16, T_x=200)": "?scenario=classroom&n_x=16&n_a=256&m=16&T_x=200",
}
TARGETS_S = {"classroom (n_x=2, n_a=3, m=2, T_x=5)": 0.3, "large (n_x=16, n_a=256, m=16, T_x=200)": 1.5}
COLD_TARGET_S = 5.0
START, END = "<!-- stepper:start -->", "<!-- stepper:end -->"
CHART = '[data-testid="stPlotlyChart"] .main-svg'

CLICK_AND_WAIT = """async ([label, target]) => {
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes(label));
  const before = document.querySelectorAll('.js-plotly-plot').length;
  // a figure drawn once per run (timeline, norms) has current_t null: a stylesheet marks the step on it
  const shows = (meta) => !meta || (meta.panels ? meta.panels.every(p => p.t === target)
    : ('current_t' in meta) ? meta.current_t === null || meta.current_t === target : !('t' in meta) || meta.t === target);
  const marked = (selector, property, value) => {
    const chart = document.querySelector(selector.split(' ')[0]);
    const mark = document.querySelector(selector);
    return !chart || (mark !== null && getComputedStyle(mark)[property] === value);
  };
  const done = () => {
    const heading = [...document.querySelectorAll('h3')].some(h => h.innerText.trim().endsWith('t = ' + target));
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    // streamlit remounts a chart whose figure changed: wait until every new one is drawn and the old ones gone
    return heading && plots.length === before && plots.every(p => shows(p.layout && p.layout.meta))
      && marked(`.st-key-timeline .scatterlayer .trace:first-child .points .point:nth-child(${target + 1})`,
                'fill', 'rgb(245, 133, 24)')
      && marked(`.st-key-norms .barlayer .trace .points .point:nth-child(${target + 1}) path`, 'opacity', '0.35');
  };
  const start = performance.now();
  button.click();
  return await new Promise((resolve, reject) => {
    const check = () => {
      if (performance.now() - start > 30000) return reject(new Error('no redraw within 30 s'));
      if (done()) return requestAnimationFrame(() => resolve(performance.now() - start));
      requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""


def shown_t(page) -> int:
    text = page.locator("h3", has_text="Step").first.inner_text()
    return int(re.search(r"t = (\d+)", text).group(1))


def open_page(page, url: str) -> float:
    """Seconds from navigation to the first screen drawn: the step heading and the 3 charts."""
    started = time.perf_counter()
    page.goto(url)
    page.locator(CHART).nth(2).wait_for(timeout=120_000)
    page.locator("h3", has_text="Step").first.wait_for(timeout=120_000)
    return time.perf_counter() - started


def cold_start(browser, rounds: int) -> list:
    """Seconds from spawning the server to the first screen drawn, each round a fresh server and page."""
    times = []
    for _ in range(rounds):
        port = server.free_port()
        started = time.perf_counter()
        process = server.start_app(port)
        try:
            server.wait_healthy(f"http://127.0.0.1:{port}", process)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_page(page, f"http://127.0.0.1:{port}/")
            times.append(time.perf_counter() - started)
            page.close()
        finally:
            server.stop_app(process)
    return times


def clicks(page, count: int) -> list:
    """Seconds per click, walking the loop with Next step and back with Previous step at the ends."""
    times, direction = [], "Next step"
    for _ in range(count):
        t = shown_t(page)
        target = t - 1 if direction == "Next step" else t + 1
        if page.get_by_role("button", name=re.compile(direction)).is_disabled():
            direction = "Previous step" if direction == "Next step" else "Next step"
            target = t - 1 if direction == "Next step" else t + 1
        times.append(page.evaluate(CLICK_AND_WAIT, [direction, target]) / 1000)
    return times


def measure(count: int, cold_rounds: int) -> dict:
    results = {"clicks": {}, "cold_start_s": [], "open_s": {}, "cpus": os.cpu_count(), "load": [os.getloadavg()[0]]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=server.CHROMIUM, args=server.CHROMIUM_ARGS)
        results["cold_start_s"] = cold_start(browser, cold_rounds)
        port = server.free_port()
        process = server.start_app(port)
        try:
            base = f"http://127.0.0.1:{port}/"
            server.wait_healthy(base.rstrip("/"), process)
            for name, query in SIZES.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                results["open_s"][name] = open_page(page, base + query)  # uncached: runs the backward
                clicks(page, 2)  # warm: the first redraws also load plotly's code paths
                results["clicks"][name] = clicks(page, count)
                page.close()
        finally:
            server.stop_app(process)
        browser.close()
    results["load"].append(os.getloadavg()[0])
    return results


def table(results: dict) -> str:
    lines = ["| size | clicks | median | 90th percentile | slowest | target | first open (runs the backward) |",
             "|---|---|---|---|---|---|---|"]
    for name, times in results["clicks"].items():
        ordered = sorted(times)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        target = TARGETS_S[name]
        verdict = "met" if p90 <= target else "NOT met"
        lines.append(f"| {name} | {len(times)} | {statistics.median(times) * 1000:.0f} ms | {p90 * 1000:.0f} ms | "
                     f"{max(times) * 1000:.0f} ms | {target * 1000:.0f} ms at the 90th percentile ({verdict}) | "
                     f"{results['open_s'][name]:.2f} s |")
    cold = results["cold_start_s"]
    verdict = "met" if max(cold) <= COLD_TARGET_S else "NOT met"
    lines.append("")
    lines.append(f"Cold start, spawn of `streamlit run app.py` to the first screen drawn, {len(cold)} rounds: "
                 f"median {statistics.median(cold):.2f} s, slowest {max(cold):.2f} s "
                 f"(target {COLD_TARGET_S:.0f} s: {verdict}).")
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    section = (
        f"{START}\n## Step-through page in a browser (benchmarks/bench_browser.py)\n\n"
        f"Chromium (headless) on the same machine as the server, {platform.machine()} / Python "
        f"{platform.python_version()}, {results['cpus']} CPUs, measured {time.strftime('%Y-%m-%d')} with a load "
        f"average of {results['load'][0]:.1f} before and {results['load'][-1]:.1f} after (other work shared the "
        "CPUs, so these times are upper bounds). A click is timed in the page from the click to the frame after the "
        "heading and every chart show the new step: websocket, fragment rerun on the server, streamlit "
        "remounting the heatmap figure (the one chart that changes per step) and the stylesheet that marks the "
        "step on the timeline and norm chart.\n\n"
        f"{table(results)}\n{END}"
    )
    write_section(START, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--clicks", type=int, default=40, help="timed clicks per size (a 90th percentile of 20 was one click)")
    parser.add_argument("--cold", type=int, default=3, help="cold-start rounds")
    args = parser.parse_args()
    results = measure(args.clicks, args.cold)
    print(json.dumps(results) if args.json else table(results))
    if args.write_docs:
        write_docs(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
