"""Click-to-redraw, a new tab and cold start of the step-through page, in a real chromium (issues 12 and 13's targets).

    python benchmarks/bench_browser.py                 # a readable table
    python benchmarks/bench_browser.py --json          # one JSON object
    python benchmarks/bench_browser.py --write-docs    # also rewrite the stepper section of docs/PERFORMANCE.md

Every run steps in the browser (bptt/ui/browser_stepper.py; a large one holds a window of steps, fetched
ahead as it moves): a click is timed inside the page from just before the click to the end of the first
frame painted with the heading and every panel's canvas naming the new step (data-bptt-t, set once the
canvas is redrawn); a step still on its way from the server counts its wait. Clicks come --pause s apart
(0.5 s: a person's pace, during which a large run fetches the steps ahead). For reference, the large run
is also timed with `stepping=server` (a round trip per click): until the heading and every plotly chart
show the new step, plus one frame.
A new tab is timed from navigation to the first heatmap drawn, on a server that has already served the
page (warm), twice: in the browser context that opened it before (its cache holds the scripts, as a
teacher's second tab), and in a fresh context (an empty cache, as a student's first visit). Each says which
scripts it fetched, their sizes and whether they came compressed.
Cold start runs from spawning `streamlit run app.py` to the first heatmap drawn in a fresh page (opened
before the spawn, as a teacher's browser is open already), in three cases alternating round by round: with
bytecode caches (compiled first, so they are there to read); a fresh install on a machine that sets
PYTHONDONTWRITEBYTECODE=1 (issue 13's case: pip compiled the packages as it installed them, bptt and pages/
have none and none is written); and, reported but not judged, no bytecode at all (PYTHONPYCACHEPREFIX at an
empty folder: not even Python's or Streamlit's own modules are read from a cache, which no install leaves).
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import conftest as server  # noqa: E402  (the browser tests' server and chromium helpers)
from docs_section import write_section  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

CLASSROOM = "?scenario=classroom&n_x=16&n_a=16&m=16&T_x=20"  # the largest run sent to the browser whole
LARGE = "?scenario=classroom&n_x=16&n_a=256&m=16&T_x=200"
BROWSER_SIZES = {
    "RNN, classroom (n_x=16, n_a=16, m=16, T_x=20; 12 heatmaps)": CLASSROOM,
    "LSTM, classroom (n_x=16, n_a=16, m=16, T_x=20; 29 heatmaps)": CLASSROOM + "&cell=lstm",
    "RNN, large (n_x=16, n_a=256, m=16, T_x=200; a window of steps in the browser)": LARGE,
}
SERVER_SIZES = {"RNN, large, stepping=server (a round trip per click; for reference)": LARGE + "&stepping=server"}
TARGETS_S = {name: (0.3 if "large" in name else 0.05) for name in BROWSER_SIZES}  # issue 12, at a person's pace
BACK_TO_BACK = ", clicks back to back"  # the large run again, every click sent the moment the last one drew
NOT_JUDGED = {
    BACK_TO_BACK: "none: not judged, since a person does not click again the moment a step is drawn; it shows how "
                  "far the steps fetched ahead lag behind",
    "stepping=server": "none: not judged, since the page's default is the browser path above; the round trip it "
                       "avoids",
}
NEW_TAB_TARGET_S = 2.5
COLD_TARGET_S = 5.0
START, END = "<!-- stepper:start -->", "<!-- stepper:end -->"
CHART = '[data-testid="stPlotlyChart"] .main-svg'
HEATMAP = "[data-testid=bptt-stepper] canvas[data-bptt-t]"
NO_BYTECODE = "without any bytecode (not even Python's or Streamlit's)"
FRESH_INSTALL = "a fresh install with PYTHONDONTWRITEBYTECODE=1 (none for bptt and pages/)"
WITH_BYTECODE = "with bytecode"
COLD_JUDGED = (WITH_BYTECODE, FRESH_INSTALL)

BROWSER_CLICK = """async ([name, target]) => {
  const button = [...document.querySelectorAll('.bptt-button')].find(b => b.dataset.name === name);
  const painted = () => new Promise(resolve => requestAnimationFrame(() => {
    const channel = new MessageChannel();  // a message posted from a frame's callback arrives after its paint
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(0);
  }));
  const shows = () => {
    const heading = document.querySelector('.bptt-heading').innerText.trim().endsWith('t = ' + target);
    const canvases = [...document.querySelectorAll('.bptt-plot canvas')];
    return heading && canvases.length > 0 && canvases.every(c => c.dataset.bpttT === String(target));
  };
  await painted();  // start on a quiet frame
  const start = performance.now();
  button.click();
  let frames = 0;
  for (;;) {
    await painted();
    frames += 1;
    if (shows()) break;
    if (performance.now() - start > 30000) throw new Error(`no t = ${target} on the page within 30 s`);
  }
  return {ms: performance.now() - start, frames, panels: document.querySelectorAll('.bptt-plot canvas').length};
}"""

CLICK_AND_WAIT = """async ([label, target]) => {
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes(label));
  const before = document.querySelectorAll('.js-plotly-plot').length;
  // a figure drawn once per run (timeline, norms) has current_t null: a stylesheet marks the step on it
  const shows = (meta) => !meta || (meta.panels ? meta.panels.every(p => p.t === target)
    : ('current_t' in meta) ? meta.current_t === null || meta.current_t === target : !('t' in meta) || meta.t === target);
  const done = () => {
    const heading = [...document.querySelectorAll('h3')].some(h => h.innerText.trim().endsWith('t = ' + target));
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    // streamlit remounts a chart whose figure changed: wait until every new one is drawn and the old ones gone
    return heading && plots.length === before && plots.every(p => shows(p.layout && p.layout.meta));
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

# what the page fetched, from the browser's own resource timing: transferSize 0 with a body = from the cache,
# an encoded body smaller than the decoded one = sent compressed
SCRIPTS = """() => performance.getEntriesByType('resource')
  .filter(e => e.initiatorType === 'script' || /\\.m?js(\\?|$)/.test(e.name))
  .map(e => ({name: e.name.split('/').pop().split('?')[0], wire: e.transferSize, encoded: e.encodedBodySize,
              decoded: e.decodedBodySize}))"""

# the main thread's long tasks (over 50 ms) since navigation: where a new tab waits on script evaluation
LONG_TASKS = """window.__bpttLong = [];
new PerformanceObserver(list => list.getEntries().forEach(e => window.__bpttLong.push(e.duration)))
  .observe({type: 'longtask', buffered: true});"""


def shown_t(page) -> int:
    text = page.locator("h3", has_text="Step").first.inner_text()
    return int(re.search(r"t = (\d+)", text).group(1))


def open_page(page, url: str) -> float:
    """Seconds from navigation to the first screen drawn on the server path: the step heading and 3 plotly charts."""
    started = time.perf_counter()
    page.goto(url)
    page.locator(CHART).nth(2).wait_for(timeout=120_000)
    page.locator("h3", has_text="Step").first.wait_for(timeout=120_000)
    return time.perf_counter() - started


def open_stepper(page, url: str) -> float:
    """Seconds from navigation to the first heatmap drawn by the browser stepper."""
    started = time.perf_counter()
    page.goto(url)
    page.locator(HEATMAP).first.wait_for(timeout=120_000)
    return time.perf_counter() - started


def browser_clicks(page, count: int, pause: float) -> list:
    """Seconds per click on the browser stepper, `pause` s apart, down the loop with next and back with previous."""
    times, name = [], "next"
    for _ in range(count):
        page.wait_for_timeout(pause * 1000)  # a person's pace: a large run fetches the steps ahead meanwhile
        if page.locator(f'.bptt-button[data-name="{name}"]').is_disabled():
            name = "previous" if name == "next" else "next"
        label = page.locator(f'.bptt-button[data-name="{name}"]').inner_text()
        target = int(re.search(r"t = (\d+)", label).group(1))
        times.append(page.evaluate(BROWSER_CLICK, [name, target])["ms"] / 1000)
    return times


def scripts_summary(scripts: list) -> dict:
    """The scripts a tab loaded: how many, bytes as scripts and on the wire, how many came compressed or cached."""
    fetched = [s for s in scripts if s["wire"] > 0]
    return {"count": len(scripts), "decoded_bytes": sum(s["decoded"] for s in scripts),
            "fetched": len(fetched), "wire_bytes": sum(s["wire"] for s in fetched),
            "compressed": sum(1 for s in fetched if 0 < s["encoded"] < s["decoded"]),
            "cached": sum(1 for s in scripts if s["wire"] == 0 and s["decoded"] > 0),
            "largest": sorted(({"name": s["name"], "bytes": s["decoded"], "wire": s["wire"]} for s in scripts),
                              key=lambda s: -s["bytes"])[:4]}


def new_tabs(browser, context, url: str, rounds: int, fresh: bool) -> dict:
    """Seconds from a new tab's navigation to its first heatmap on a warm server, with what it loaded.

    fresh: each tab in a new browser context (an empty cache); else in `context`, which opened the page before.
    """
    times, long_ms, scripts = [], [], None
    for _ in range(rounds):
        own = browser.new_context(viewport={"width": 1400, "height": 1000}) if fresh else None
        page = (own or context).new_page()
        page.add_init_script(LONG_TASKS)
        times.append(open_stepper(page, url))
        long_ms.append(page.evaluate("window.__bpttLong.reduce((a, b) => a + b, 0)"))
        scripts = scripts or scripts_summary(page.evaluate(SCRIPTS))
        page.close()
        if own is not None:
            own.close()
    return {"s": times, "long_tasks_ms": long_ms, "scripts": scripts}


def no_bytecode_env(folder: str) -> dict:
    """Neither read nor write a bytecode cache: compile every module from source, every time."""
    return {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": folder}


def ours_compiled() -> list:
    """The bytecode files of this project's own modules (bptt, pages/, app.py's folder)."""
    return [path for folder in ("bptt", "pages") for path in (ROOT / folder).rglob("*.pyc")] + list(
        (ROOT / "__pycache__").glob("*.pyc"))


def uncompile_ours() -> None:
    """A fresh clone: no bytecode for the project's modules, the packages' (written by pip) left alone."""
    for path in ours_compiled():
        path.unlink()


def compile_bytecode() -> None:
    """Write the bytecode caches the with-bytecode rounds read (pip wrote the packages'; this writes bptt's)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bptt")], check=True)


def cold_start(browser, rounds: int) -> dict:
    """Spawn to first heatmap, each round a fresh server and a fresh page, the module docstring's three cases in turn.

    The page (an empty browser context) is opened before the spawn, as a teacher's browser is already open:
    the clock runs from the spawn to the heatmap. Per case: those seconds, and the part until the server
    answered /_stcore/health.
    """
    results = {case: {"s": [], "server_s": []} for case in (WITH_BYTECODE, FRESH_INSTALL, NO_BYTECODE)}
    envs = {WITH_BYTECODE: lambda empty: None, FRESH_INSTALL: lambda empty: {"PYTHONDONTWRITEBYTECODE": "1"},
            NO_BYTECODE: no_bytecode_env}
    for _ in range(rounds):
        for case, found in results.items():
            empty = tempfile.mkdtemp(prefix="bptt-no-pycache-")
            if case == WITH_BYTECODE:
                compile_bytecode()
            else:
                uncompile_ours()
            port = server.free_port()
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            process = server.start_app(port, envs[case](empty))
            try:
                server.wait_healthy(f"http://127.0.0.1:{port}", process)
                found["server_s"].append(time.perf_counter() - started)
                open_stepper(page, f"http://127.0.0.1:{port}/")
                found["s"].append(time.perf_counter() - started)
            finally:
                page.close()
                server.stop_app(process)
                leftover = list(Path(empty).rglob("*.pyc")) + (ours_compiled() if case != WITH_BYTECODE else [])
                shutil.rmtree(empty, ignore_errors=True)
            if leftover:
                raise RuntimeError(f"the server {case} wrote {len(leftover)} .pyc files: the case is not what it says")
    compile_bytecode()  # leave the checkout as it was found: the last round removed bptt's bytecode
    return results


def clicks(page, count: int) -> list:
    """Seconds per click on the server path, walking the loop with Next step and back with Previous step at the ends."""
    times, direction = [], "Next step"
    for _ in range(count):
        t = shown_t(page)
        target = t - 1 if direction == "Next step" else t + 1
        if page.get_by_role("button", name=re.compile(direction)).is_disabled():
            direction = "Previous step" if direction == "Next step" else "Next step"
            target = t - 1 if direction == "Next step" else t + 1
        times.append(page.evaluate(CLICK_AND_WAIT, [direction, target]) / 1000)
    return times


def measure(count: int, server_count: int, cold_rounds: int, tabs: int, pause: float) -> dict:
    results = {"clicks": {}, "open_s": {}, "cpus": os.cpu_count(), "load": [os.getloadavg()[0]], "pause_s": pause}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=server.CHROMIUM, args=server.CHROMIUM_ARGS)
        results["cold_start"] = cold_start(browser, cold_rounds)
        port = server.free_port()
        process = server.start_app(port)
        try:
            base = f"http://127.0.0.1:{port}/"
            server.wait_healthy(base.rstrip("/"), process)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            for name, query in BROWSER_SIZES.items():
                page = context.new_page()
                results["open_s"][name] = open_stepper(page, base + query)  # uncached: runs the backward
                browser_clicks(page, 2, pause)  # warm: the first redraws compile the drawing code
                results["clicks"][name] = browser_clicks(page, count, pause)
                if query == LARGE:
                    results["open_s"][name + BACK_TO_BACK] = results["open_s"][name]
                    results["clicks"][name + BACK_TO_BACK] = browser_clicks(page, count, 0.0)
                page.close()
            results["new_tab"] = new_tabs(browser, context, base, tabs, fresh=False)
            results["first_visit"] = new_tabs(browser, context, base, tabs, fresh=True)
            for name, query in SERVER_SIZES.items():
                page = context.new_page()
                results["open_s"][name] = open_page(page, base + query)
                clicks(page, 2)
                results["clicks"][name] = clicks(page, server_count)
                page.close()
            context.close()
        finally:
            server.stop_app(process)
        browser.close()
    results["load"].append(os.getloadavg()[0])
    return results


def p90(times: list) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def scripts_line(scripts: dict) -> str:
    fetched = (f"fetched {scripts['fetched']} ({scripts['wire_bytes'] / 1e6:.2f} MB on the wire, "
               f"{scripts['compressed']} of them compressed)" if scripts["fetched"] else "fetched none")
    largest = ", ".join(f"{s['name']} {s['bytes'] / 1e3:.0f} kB" for s in scripts["largest"])
    return (f"{scripts['count']} scripts, {scripts['decoded_bytes'] / 1e6:.2f} MB as scripts; {fetched}, "
            f"{scripts['cached']} from the browser's cache; largest: {largest}")


def tab_line(title: str, tab: dict) -> str:
    times = tab["s"]
    verdict = "met" if p90(times) <= NEW_TAB_TARGET_S else "NOT met"
    return (f"- {title}, {len(times)} tabs: median {statistics.median(times):.2f} s, slowest {max(times):.2f} s "
            f"(target {NEW_TAB_TARGET_S} s: {verdict}); the main thread busy in long tasks for "
            f"{statistics.median(tab['long_tasks_ms']):.0f} ms (median). {scripts_line(tab['scripts'])}.")


def table(results: dict) -> str:
    lines = ["| run | clicks | median | 90th percentile | slowest | target | first open (runs the backward) |",
             "|---|---|---|---|---|---|---|"]
    for name, times in results["clicks"].items():
        target = TARGETS_S.get(name)
        aim = (f"{target * 1000:.0f} ms at the 90th percentile ({'met' if p90(times) <= target else 'NOT met'})"
               if target is not None else next(why for key, why in NOT_JUDGED.items() if key in name))
        lines.append(f"| {name} | {len(times)} | {statistics.median(times) * 1000:.0f} ms | {p90(times) * 1000:.0f} ms | "
                     f"{max(times) * 1000:.0f} ms | {aim} | {results['open_s'][name]:.2f} s |")
    lines += ["", "A new tab on a warm server, navigation to the first heatmap drawn:", "",
              tab_line("in the browser that opened the page before (its cache holds the scripts)", results["new_tab"]),
              tab_line("a first visit (a fresh browser context: an empty cache)", results["first_visit"]), "",
              "Cold start, spawn of `streamlit run app.py` to the first heatmap drawn in a page opened before the "
              "spawn (a teacher's browser is open already):", ""]
    for case, found in results["cold_start"].items():
        cold = found["s"]
        aim = (f"target {COLD_TARGET_S:.0f} s at the slowest: {'met' if max(cold) <= COLD_TARGET_S else 'NOT met'}"
               if case in COLD_JUDGED else "not judged: the harshest case, which no install leaves")
        lines.append(f"- {case}, {len(cold)} rounds: median {statistics.median(cold):.2f} s, slowest {max(cold):.2f} s "
                     f"({aim}); of which the server's start until it answers: median "
                     f"{statistics.median(found['server_s']):.2f} s.")
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    # judged on the load before: the one after counts the benchmark's own Chromium and servers
    busy = results["load"][0] > results["cpus"] / 2
    warning = (f"**Measured on a busy machine (load {results['load'][0]:.1f} on {results['cpus']} CPUs): these "
               "figures show that the benchmark runs, not how fast the page is; rerun it on a quiet machine.**\n\n"
               if busy else "")
    section = (
        f"{START}\n## Step-through page in a browser (benchmarks/bench_browser.py)\n\n{warning}"
        f"Chromium (headless) on the same machine as the server, {platform.machine()} / Python "
        f"{platform.python_version()}, {results['cpus']} CPUs, measured {time.strftime('%Y-%m-%d')} with a load "
        f"average of {results['load'][0]:.1f} before and {results['load'][-1]:.1f} after (the benchmark's own Chromium and "
        "servers make the load after). Every run steps in the browser: each heatmap is a canvas redrawn in the "
        "click's own handler, a large run holding a window of steps that the server sends ahead as it moves. Clicks "
        f"come {results.get('pause_s', 0.5):g} s apart, a person's pace, and the targets are judged on those rows; "
        "the large run is clicked back to back as well, where it outruns the steps it fetches ahead. A click is timed from just before it to the end of the first frame painted with the heading "
        "and every canvas naming the new step (a step still on its way counts its wait). The stepping=server row times a click until the "
        "heading and every plotly chart show the new step (websocket, fragment rerun, plotly redrawing), plus a "
        "frame.\n\n"
        f"{table(results)}\n\n"
        "Where a cold start goes: `streamlit run` itself (Python, Streamlit, its server) until the server answers "
        "(the figure after each cold start above; without bytecode this is most of the difference, every module "
        "of Python's and Streamlit's compiled from source), then the browser loading Streamlit's scripts, the "
        "page's first run, and its drawing. While the browser loads, app.py's server branch imports what the "
        "default page imports in a thread (bptt/ui/startup.py), so the first run finds it done. A fresh install on "
        "a machine with PYTHONDONTWRITEBYTECODE=1 has the packages' bytecode, since pip byte-compiles what it "
        "installs whatever that variable says, and none of bptt's (a fresh clone; the variable stops Python writing "
        "it): that is the case the target is for. The rounds without any bytecode also set PYTHONPYCACHEPREFIX to "
        "an empty folder, so not even the standard library's or Streamlit's caches are read; most of their extra "
        "time is `import streamlit` compiling itself, before app.py is read.\n\n"
        "Compression: Streamlit serves its own scripts (`/static/`) uncompressed on purpose, and no setting changes "
        "it: its gzip middleware skips that route (`streamlit/web/server/starlette/starlette_gzip_middleware.py`, "
        "`_should_bypass_gzip`; it would compress again at every request, and each browser fetches the "
        "content-hashed files once). app.py therefore serves the app as an `st.App` (which `streamlit run app.py` "
        "picks up by itself) with one added middleware that gzips each text file under `/static/` once per process "
        "(level 6, in a worker thread) and keeps it, since a content-hashed path's body never changes: a class "
        "opening the link at once costs one compression per file, not one per student (compressing at every "
        "request put about 0.1 s of CPU on each first visit's critical path). The scripts' bytes on the wire are in "
        "the first-visit line above. Behind the "
        "deployment's proxy nothing changes (deploy/bptt.conf.template gzips what is not compressed yet).\n"
        f"{END}"
    )
    write_section(START, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--clicks", type=int, default=40, help="timed clicks per size (a 90th percentile of 20 was one click)")
    parser.add_argument("--server-clicks", type=int, default=20, help="timed clicks with stepping=server (seconds each)")
    parser.add_argument("--cold", type=int, default=3, help="cold-start rounds, each in all three bytecode cases")
    parser.add_argument("--tabs", type=int, default=5, help="new tabs on the warm server, of each kind")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between two clicks in the browser stepper")
    args = parser.parse_args()
    results = measure(args.clicks, args.server_clicks, args.cold, args.tabs, args.pause)
    print(json.dumps(results) if args.json else table(results))
    if args.write_docs:
        write_docs(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
