"""The projector layout and the stepper that redraws in the browser, in a real chromium.

At 1024×768 with ?present=1 one whole step is on the first screen; a click on Next changes the
heading and every heatmap in the same task, before any websocket message; no request leaves
127.0.0.1; text in charts is at least 16 px when presenting; titles neither overlap nor run past
their panel at 1024, 1280 and 1440 px; a canvas heatmap draws zero white and the largest value in
the scale's end colour, and hovering a cell names its row, column and value.
Screenshots land in artifacts/screenshots/.
"""

import re
from urllib.parse import urlparse

import numpy as np
import pytest

from bptt import run
from bptt.ui.state import parse

STEPPER = "[data-testid=bptt-stepper]"
DRAWN = f"{STEPPER}[data-bptt-t] .bptt-plot canvas[data-bptt-t]"
# the colour of a cell of one panel's canvas, read 2 px inside its top-left corner (its value may be printed in the middle)
PIXEL = """([key, i, j]) => {
    const c = document.querySelector(`canvas[data-key="${key}"]`);
    const ratio = c.width / c.clientWidth;
    const [rows, cols] = [Number(c.dataset.rows), Number(c.dataset.cols)];
    const x = Math.floor((j * c.clientWidth / cols + 2) * ratio), y = Math.floor((i * c.clientHeight / rows + 2) * ratio);
    return {rgb: [...c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)], t: Number(c.dataset.bpttT),
            zmax: Number(c.dataset.bpttZmax), box: c.getBoundingClientRect().toJSON(), rows, cols};
}"""
ENDS = {1: (103, 0, 31), -1: (5, 48, 97)}  # RdBu_r's ends, as the plotly figures draw them
# counts the websocket messages the page sends, from before streamlit opens its socket
COUNT_SENDS = """
window.__wsSent = 0;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...args) { window.__wsSent += 1; return send.apply(this, args); };
"""
LOCAL = ("127.0.0.1",)


@pytest.fixture
def projector(browser):
    """open(url, width, height) -> a page at that size, with page.outside: requests to any other host."""
    contexts = []

    def open_at(url: str, width: int = 1024, height: int = 768):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(COUNT_SENDS)
        page.outside = []
        page.on("request", lambda r: urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and urlparse(r.url).hostname not in LOCAL and page.outside.append(r.url))
        page.goto(url)
        return page

    yield open_at
    for context in contexts:
        context.close()


def wait_drawn(page) -> None:
    page.locator(DRAWN).first.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # the fit pass after the first draw


def rect(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate("e => { const r = e.getBoundingClientRect(); "
                                                 "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_one_whole_step_fits_a_1024x768_projector(app_url, projector, screenshot_dir, cell):
    page = projector(f"{app_url}/?present=1&cell={cell}")
    wait_drawn(page)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.bptt-bar, .bptt-row.bptt-first .bptt-plot')]
        .map(e => { const r = e.getBoundingClientRect(); return [e.className, r.top, r.bottom, r.right]; })""")
    heads = page.evaluate("() => [...document.querySelectorAll('.bptt-row.bptt-first')].map(r => r.innerText)")
    assert heads[0].startswith("What the loop hands the cell") and "weight gradients" in heads[-1]
    for name, top, bottom, right in boxes:
        assert 0 <= top and bottom <= 768 and right <= 1024, (name, top, bottom, right)
    assert page.evaluate("() => (document.querySelector('[data-testid=stMain]') || document.body).scrollTop") == 0
    page.screenshot(path=str(screenshot_dir / f"projector-{cell}-1024x768.png"))
    assert not page.outside, page.outside


def test_next_redraws_heading_and_heatmaps_together_without_a_websocket_message(app_url, projector):
    page = projector(f"{app_url}/?present=1&scenario=classroom")
    wait_drawn(page)
    page.wait_for_timeout(1000)  # the opening's own messages are done
    seen = page.evaluate("""async () => {
        const before = window.__wsSent;
        const onScreen = p => p.getBoundingClientRect().bottom <= innerHeight;
        [...document.querySelectorAll('.bptt-button')].find(b => b.dataset.name === 'next').click();
        const heading = document.querySelector('.bptt-heading').innerText;  // in the click's own task:
        const shown = [...document.querySelectorAll('.bptt-plot canvas')].filter(onScreen).map(c => Number(c.dataset.bpttT));
        const sent = window.__wsSent - before;
        const marked = document.getElementById('bptt-browser-marks').textContent.includes('browser_t: 3');
        const all = [...document.querySelectorAll('.bptt-plot canvas')].map(c => Number(c.dataset.bpttT));
        return {heading, shown, sent, marked, all};
    }""")
    assert seen["heading"].endswith("Step 2 of 5 — t = 3") and seen["marked"]
    assert seen["shown"] and set(seen["shown"]) == {3}, seen["shown"]  # every heatmap on the screen: the new step
    assert set(seen["all"]) == {3}, seen["all"]
    assert seen["sent"] == 0  # redrawn before anything went to the server
    page.wait_for_url(re.compile(r"[?&]t=3"), timeout=5_000)  # the URL follows at once
    page.wait_for_function("() => window.__wsSent > 0", timeout=5_000)  # and the server hears of it later
    shared = page.url
    page.wait_for_timeout(1500)
    again = projector(shared)
    wait_drawn(again)
    assert again.locator(".bptt-heading").inner_text().endswith("t = 3")  # a shared link restores the step


def test_arrow_keys_step_and_the_step_bar_stays_in_view(app_url, projector):
    page = projector(f"{app_url}/?scenario=classroom&cell=lstm", 1280, 720)
    wait_drawn(page)
    page.locator(".bptt-heading").click()
    page.keyboard.press("ArrowRight")
    assert page.locator(".bptt-heading").inner_text().endswith("t = 3")
    page.keyboard.press("End")
    assert page.locator(".bptt-heading").inner_text().endswith("t = 0")
    page.evaluate("() => (document.querySelector('[data-testid=stMain]') || window).scrollBy(0, 2500)")
    page.wait_for_timeout(500)
    bar = rect(page, ".bptt-bar")
    assert 0 <= bar["top"] <= 80 and bar["bottom"] <= 720, bar  # fixed under the header while scrolling
    page.keyboard.press("Home")
    assert page.locator(".bptt-heading").inner_text().endswith("t = 4")


def _font_sizes(page, selector: str) -> list:
    return page.evaluate(f"""() => [...document.querySelectorAll({selector!r})]
        .filter(e => e.textContent.trim()).map(e => [e.textContent.trim().slice(0, 30),
                                                     parseFloat(getComputedStyle(e).fontSize)])""")


@pytest.mark.parametrize("path", ["/?present=1&scenario=classroom", "/?present=1&cell=lstm",
                                  "/lesson?present=1&lesson=2", "/gradient_flow?present=1"])
def test_text_in_charts_is_at_least_16px_when_presenting(app_url, projector, path):
    page = projector(f"{app_url}{path}")
    if path.startswith("/?"):
        wait_drawn(page)
        small = [(text, size) for text, size in _font_sizes(page, f"{STEPPER} .bptt-caption, "
                                                                   ".bptt-reading, .bptt-row-heading")
                 if size < 16]
        assert not small, small
        drawn = page.evaluate("() => [...document.querySelectorAll('.bptt-plot canvas')]"
                              ".map(c => [c.dataset.key, Number(c.dataset.bpttFont), c.dataset.bpttText])")
        assert drawn and all(font >= 16 for _, font, _ in drawn), drawn  # cell values, where printed
        page.locator("[data-testid=bptt-norms] svg").wait_for(timeout=60_000)
        small = [(text, size) for text, size in _font_sizes(page, ".bptt-chart svg text, .bptt-chart-note, "
                                                                   ".bptt-chart-key") if size < 16]
        assert not small, small[:10]  # the timeline and the norm chart
        return
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    small = [(text, size) for text, size in _font_sizes(page, '[data-testid="stPlotlyChart"] .main-svg text')
             if size < 16]
    assert not small, small[:10]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("present", [0, 1])
@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1440, 900)])
def test_titles_neither_overlap_nor_run_past_their_panel(app_url, projector, screenshot_dir, size, present, cell):
    width, height = size
    page = projector(f"{app_url}/?cell={cell}&present={present}", width, height)
    wait_drawn(page)
    problems = page.evaluate("""() => {
        const box = e => e.getBoundingClientRect();
        const out = [];
        const captions = [...document.querySelectorAll('.bptt-caption, .bptt-row-heading')];
        for (const c of captions) {
            const own = c.closest('.bptt-panel') || c.closest('.bptt-row');
            if (box(c).right > box(own).right + 1 || c.scrollWidth > c.clientWidth + 1) out.push(['cut', c.innerText]);
        }
        for (let i = 0; i < captions.length; i++) for (let j = i + 1; j < captions.length; j++) {
            const a = box(captions[i]), b = box(captions[j]);
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                out.push(['overlap', captions[i].innerText, captions[j].innerText]);
        }
        for (const pre of document.querySelectorAll('.bptt-code > div:last-child')) {
            const wraps = [...pre.children].every(l => getComputedStyle(l).whiteSpace !== 'pre');
            if (wraps && pre.scrollWidth > pre.clientWidth + 1) out.push(['notebook cut', pre.innerText.slice(0, 40)]);
        }
        return out;
    }""")
    assert not problems, problems
    page.screenshot(path=str(screenshot_dir / f"stepper-{cell}-present{present}-{width}x{height}.png"))


def test_canvas_heatmaps_draw_zero_white_and_the_largest_value_in_the_scales_end_colour(app_url, projector):
    trace = run(parse({"scenario": "classroom"})[0].config).trace
    page = projector(f"{app_url}/?scenario=classroom", 1440, 900)
    wait_drawn(page)
    first = trace.order[0]
    assert not np.any(trace.step(first).inputs["da_prevt"])  # nothing carried into the first step yet
    for i, j in [(0, 0), (2, 1)]:
        zero = page.evaluate(PIXEL, ["inputs.da_prevt", i, j])
        assert zero["t"] == first and tuple(zero["rgb"]) == (255, 255, 255), zero
    # dWaa's range is fixed over the run: its largest |value| over all steps is drawn in full colour
    values = np.stack([trace.step(t).outputs["dWaa"] for t in trace.order])  # (T_x, n_a, n_a)
    k, i, j = np.unravel_index(np.argmax(np.abs(values)), values.shape)
    t = trace.order[k]
    page = projector(f"{app_url}/?scenario=classroom&t={t}", 1440, 900)
    wait_drawn(page)
    cell = page.evaluate(PIXEL, ["outputs.dWaa", int(i), int(j)])
    assert cell["t"] == t and cell["zmax"] == pytest.approx(abs(values[k, i, j]), rel=1e-6)
    assert all(abs(a - b) <= 1 for a, b in zip(cell["rgb"], ENDS[int(np.sign(values[k, i, j]))])), cell


def test_hovering_a_cell_names_its_row_column_and_value(app_url, projector):
    trace = run(parse({"scenario": "classroom"})[0].config).trace
    page = projector(f"{app_url}/?scenario=classroom", 1440, 900)
    wait_drawn(page)
    cell = page.evaluate(PIXEL, ["outputs.dz", 1, 0])
    box, rows, cols = cell["box"], cell["rows"], cell["cols"]
    page.mouse.move(box["x"] + 0.5 * box["width"] / cols, box["y"] + 1.5 * box["height"] / rows)
    tip = page.locator(".bptt-tip")
    tip.wait_for(state="visible", timeout=5_000)
    lines = tip.inner_text().splitlines()
    assert lines[:3] == [f"dz at t = {trace.order[0]}", "unit 1", "example 0"], lines
    want = float(trace.step(trace.order[0]).outputs["dz"][1, 0])
    assert float(lines[3].removeprefix("value ")) == pytest.approx(want, rel=1e-6)
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden", timeout=5_000)


LARGE = "/?scenario=classroom&n_x=16&n_a=256&m=16&T_x=200"
NOW_FILL = "rgb(245, 133, 24)"  # timeline.NOW, the current cell


def marks_of(page, t: int) -> dict:
    """How the timeline's cell t, its label and the norm chart's band at t are drawn now."""
    return page.evaluate("""(t) => {
        const cell = document.querySelectorAll('.bptt-tl-cells rect')[t];
        const label = document.querySelectorAll('.bptt-tl-labels text')[t];
        const band = document.querySelectorAll('.bptt-norm-bands rect')[t];
        return {fill: getComputedStyle(cell).fill, label: getComputedStyle(label).visibility,
                band: getComputedStyle(band).opacity};
    }""", t)


def test_the_stepper_loads_no_plotly_and_its_timeline_and_norms_follow_the_step(app_url, projector):
    page = projector(f"{app_url}/?scenario=classroom", 1280, 720)
    scripts = []
    page.on("request", lambda r: scripts.append(r.url))
    page.reload()
    wait_drawn(page)
    page.locator("[data-testid=bptt-norms] svg").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    assert not [u for u in scripts if "plotly" in u.lower()], [u for u in scripts if "plotly" in u.lower()]
    trace = run(parse({"scenario": "classroom"})[0].config).trace
    assert page.locator(".bptt-tl-cells rect").count() == trace.T_x
    # one arrow per link that carries something, an open circle where nothing does (into the first step)
    carried = [trace.step(t).inputs["da_prevt"] for t in range(trace.T_x)]
    assert page.locator(".bptt-tl-arrow").count() == 1 + sum(bool(np.any(c)) for c in carried)
    assert page.locator(".bptt-tl-stopped").count() == sum(not np.any(c) for c in carried)
    assert marks_of(page, 4) == {"fill": NOW_FILL, "label": "visible", "band": "0.35"}
    page.locator(".bptt-button[data-name=next]").click()
    assert page.locator(".bptt-heading").inner_text().endswith("t = 3")
    assert marks_of(page, 3) == {"fill": NOW_FILL, "label": "visible", "band": "0.35"}
    assert marks_of(page, 4)["fill"] == "rgb(76, 120, 168)" and marks_of(page, 4)["band"] == "0"  # done: blue
    assert not page.outside, page.outside


def test_a_large_run_steps_in_the_browser_and_prefetches_the_next_steps(app_url, projector):
    trace = run(parse({"scenario": "classroom", "n_x": "16", "n_a": "256", "m": "16", "T_x": "200"})[0].config).trace
    page = projector(f"{app_url}{LARGE}", 1280, 720)
    page.locator(DRAWN).first.wait_for(timeout=120_000)
    assert page.locator(".bptt-heading").inner_text().endswith("Step 1 of 200 — t = 199")
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    for step, t in enumerate((198, 197, 196), start=2):
        page.wait_for_timeout(400)  # a person's pace: the step after is here by then
        seen = page.evaluate("""() => {
            [...document.querySelectorAll('.bptt-button')].find(b => b.dataset.name === 'next').click();
            return {heading: document.querySelector('.bptt-heading').innerText,  // in the click's own task
                    shown: [...document.querySelectorAll('.bptt-plot canvas')].map(c => Number(c.dataset.bpttT))};
        }""")
        assert seen["heading"].endswith(f"Step {step} of 200 — t = {t}") and set(seen["shown"]) == {t}, seen
    # the drawn dWaa (256 × 256) is the trace's: its largest |value| at this step sits in the scale's end colour
    dWaa = trace.step(196).outputs["dWaa"]
    i, j = np.unravel_index(np.argmax(np.abs(dWaa)), dWaa.shape)
    page.locator('canvas[data-key="outputs.dWaa"]').scroll_into_view_if_needed()
    cell = page.evaluate("""([i, j]) => {
        const c = document.querySelector('canvas[data-key="outputs.dWaa"]');
        const x = Math.floor((j + 0.5) * c.width / 256), y = Math.floor((i + 0.5) * c.height / 256);
        return {rgb: [...c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)], t: Number(c.dataset.bpttT),
                zmax: Number(c.dataset.bpttZmax), pooled: c.dataset.bpttPooled, height: c.height};
    }""", [int(i), int(j)])
    assert cell["t"] == 196 and cell["pooled"] and cell["height"] < 256  # more cells than pixels: pooled
    # the pixel over the step's largest |value| shows it (a pooled block keeps its largest), not a neighbour's
    share = abs(dWaa[i, j]) / cell["zmax"]
    red, _, blue = cell["rgb"]
    assert (red > blue) == (dWaa[i, j] > 0) and min(cell["rgb"]) < 255 - 200 * share, (cell, share)
    # a jump past the window waits for its step, then draws it whole
    page.locator(".bptt-button[data-name=last]").click()
    page.wait_for_function("() => document.querySelector('.bptt-grid').dataset.bpttT === '0'", timeout=60_000)
    assert page.locator(".bptt-heading").inner_text().endswith("Step 200 of 200 — t = 0")
    assert set(page.evaluate("() => [...document.querySelectorAll('.bptt-plot canvas')]"
                             ".map(c => Number(c.dataset.bpttT))")) == {0}
    page.wait_for_url(re.compile(r"[?&]t=0"), timeout=5_000)
    assert not page.outside, page.outside


def test_play_walks_every_step_in_order_at_its_speed_and_stops_at_the_last(app_url, projector):
    page = projector(f"{app_url}/?scenario=classroom", 1280, 720)
    wait_drawn(page)
    page.select_option(".bptt-speed", "4")
    page.wait_for_timeout(1000)  # the opening's own messages are done
    played = page.evaluate("""async () => {
        const seen = [];
        const before = window.__wsSent;
        const grid = document.querySelector('.bptt-grid');
        const watch = new MutationObserver(() => seen.push([Number(grid.dataset.bpttT), performance.now()]));
        watch.observe(grid, {attributes: true, attributeFilter: ['data-bptt-t']});
        const start = performance.now();
        [...document.querySelectorAll('.bptt-button')].find(b => b.dataset.name === 'play').click();
        await new Promise(r => setTimeout(r, 2500));
        watch.disconnect();
        const play = [...document.querySelectorAll('.bptt-button')].find(b => b.dataset.name === 'play');
        return {seen: seen.map(([t, at]) => [t, at - start]), play: play.innerText, sent: window.__wsSent - before,
                heading: document.querySelector('.bptt-heading').innerText};
    }""")
    assert [t for t, _ in played["seen"]] == [3, 2, 1, 0], played  # each step once, in the loop's order
    gaps = np.diff([0.0] + [at for _, at in played["seen"]])
    assert np.all(gaps > 200) and np.all(gaps < 450), gaps  # 4 steps/s: a step every 250 ms
    assert played["heading"].endswith("Step 5 of 5 — t = 0") and played["play"] == "▶ Play"  # stopped at the end
    assert played["sent"] <= 4  # the server hears where play is (at most once a step), never once a frame


def test_the_step_saves_as_one_png_with_every_heatmap_where_the_page_draws_it(app_url, projector, tmp_path):
    from PIL import Image

    trace = run(parse({"scenario": "classroom"})[0].config).trace
    values = np.stack([trace.step(t).outputs["dWaa"] for t in trace.order])  # (T_x, n_a, n_a)
    k, i, j = np.unravel_index(np.argmax(np.abs(values)), values.shape)
    t = trace.order[k]
    page = projector(f"{app_url}/?scenario=classroom&t={t}", 1440, 900)
    wait_drawn(page)
    with page.expect_download() as download:
        page.locator(".bptt-button[data-name=png]").click()
    assert download.value.suggested_filename == f"bptt_rnn_classroom_t{t}.png"
    path = tmp_path / "step.png"
    download.value.save_as(path)
    download.value.save_as("/tmp/step.png")
    image = Image.open(path).convert("RGB")
    grid = page.locator(".bptt-grid").evaluate("g => g.getBoundingClientRect().toJSON()")
    ratio = page.evaluate("window.devicePixelRatio")
    assert image.size == (int(np.ceil(grid["width"] * ratio)), int(np.ceil(grid["height"] * ratio)))
    # the largest dWaa of the run, drawn in the scale's end colour, at the place the page draws it
    cell = page.evaluate(PIXEL, ["outputs.dWaa", int(i), int(j)])
    box = cell["box"]
    x = (box["x"] - grid["x"] + (j + 0.1) * box["width"] / cell["cols"]) * ratio
    y = (box["y"] - grid["y"] + (i + 0.1) * box["height"] / cell["rows"]) * ratio
    saved = image.getpixel((int(x), int(y)))
    assert all(abs(a - b) <= 2 for a, b in zip(saved, ENDS[int(np.sign(values[k, i, j]))])), saved
    # the panel's title is in the picture too: dark text above the canvas, where the page writes it
    caption = page.locator('figure[data-key="outputs.dWaa"] .bptt-title').evaluate("e => e.getBoundingClientRect().toJSON()")
    strip = image.crop(tuple(int(v * ratio) for v in (caption["x"] - grid["x"], caption["y"] - grid["y"],
                                                      caption["right"] - grid["x"], caption["bottom"] - grid["y"])))
    assert np.asarray(strip).sum(axis=2).min() < 200, "no title drawn above the heatmap"
