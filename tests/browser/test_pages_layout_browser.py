"""Every page but the stepper, in a real chromium at 1024×768, 1280×720 and 1440×900, RNN, LSTM and GRU, with and
without ?present=1: no two text boxes overlap, none runs past its chart or its box, no request leaves the app's host.

Inside each plotly chart its titles, axis titles, annotations, legend entries and colour-bar text must not overlap
one another (tick labels are checked against those, not against each other) and must lie inside the chart's SVG.
On the page, headings, captions and code blocks must not overlap, and none may be wider than its box unless it
scrolls there visibly. The stepper has its own test (test_projector_browser.py). The lesson sets its own cell per
step, so it is opened at its first, a middle (the LSTM), the GRU's and its last step instead of per cell.
Screenshots land in artifacts/screenshots/pages-*.png.
"""

from urllib.parse import urlparse

import pytest

SIZES = [(1024, 768), (1280, 720), (1440, 900)]
CELLS = ["rnn", "lstm", "gru"]
PAGES = ([f"/{page}?cell={cell}" for page in ("gradient_flow", "itemized", "gallery") for cell in CELLS]
         + [f"/lesson?lesson={number}" for number in (1, 8, 9, 11)] + ["/check?"])
LOCAL = ("127.0.0.1",)

# done once the page has stopped running, has its title, and every plotly chart has drawn its SVG
READY = """() => {
    const running = document.querySelector('[data-testid="stStatusWidget"]');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return !running && !!document.querySelector('[data-testid="stMain"] h1')
        && charts.every(c => c.querySelector('.main-svg .infolayer'));
}"""

PROBLEMS = """() => {
    const box = e => e.getBoundingClientRect();
    const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
        && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const shown = e => { const r = box(e); return r.width > 0 && r.height > 0 && e.textContent.trim(); };
    const name = e => e.textContent.trim().slice(0, 60);
    const out = [];
    document.querySelectorAll('[data-testid="stPlotlyChart"]').forEach((chart, k) => {
        const drawn = chart.querySelector('.main-svg');
        if (!drawn) { out.push(['not drawn', k]); return; }  // streamlit is drawing it again: READY once more
        const svg = box(drawn);
        const isTick = t => t.closest('.xtick, .ytick, .cbaxis');
        const words = [...chart.querySelectorAll('.infolayer text, .annotation text')]
            .filter(t => shown(t) && !isTick(t));
        const ticks = [...chart.querySelectorAll('.xtick text, .ytick text, .cbaxis text')].filter(shown);
        for (const t of [...words, ...ticks]) {
            const r = box(t);
            if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1)
                out.push(['past its chart', k, name(t)]);
        }
        for (let i = 0; i < words.length; i++) {
            for (let j = i + 1; j < words.length; j++)
                if (!words[i].contains(words[j]) && meets(box(words[i]), box(words[j])))
                    out.push(['overlap in chart', k, name(words[i]), name(words[j])]);
            for (const t of ticks)
                if (meets(box(words[i]), box(t))) out.push(['overlap in chart', k, name(words[i]), name(t)]);
        }
        // a heatmap prints its values only where they fit: two values never run into each other
        const values = [...chart.querySelectorAll('.heatmaplayer text')].filter(shown);
        for (let i = 0; i < values.length; i++)
            for (let j = i + 1; j < values.length; j++)
                if (meets(box(values[i]), box(values[j]))) out.push(['values overlap', k, name(values[i]), name(values[j])]);
    });
    const main = document.querySelector('[data-testid="stMain"]');
    const texts = [...main.querySelectorAll('h1, h2, h3, h4, [data-testid="stCaptionContainer"], '
                                            + '[data-testid="stCode"] pre')].filter(shown);
    for (const e of texts) {
        const style = getComputedStyle(e);
        const scrolls = ['auto', 'scroll'].includes(style.overflowX);
        if (e.scrollWidth > e.clientWidth + 1 && !scrolls) out.push(['cut', name(e)]);
        const own = box(e.parentElement);
        if (box(e).right > own.right + 1) out.push(['past its box', name(e)]);
    }
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
        if (!texts[i].contains(texts[j]) && !texts[j].contains(texts[i]) && meets(box(texts[i]), box(texts[j])))
            out.push(['overlap on the page', name(texts[i]), name(texts[j])]);
    return out;
}"""


@pytest.fixture(scope="module")
def contexts(browser):
    """One browser context per window size, shared by the module's tests; closed at its end."""
    made = {}

    def at(width: int, height: int):
        if (width, height) not in made:
            made[width, height] = browser.new_context(viewport={"width": width, "height": height})
        return made[width, height]

    yield at
    for context in made.values():
        context.close()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("present", [0, 1])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_overlaps_or_is_cut_and_nothing_leaves_the_host(app_url, contexts, screenshot_dir, size, present,
                                                                path):
    page = contexts(*size).new_page()
    outside = []
    page.on("request", lambda r: urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).hostname not in LOCAL and outside.append(r.url))
    try:
        page.goto(f"{app_url}{path}&present={present}")
        page.wait_for_function(READY, timeout=120_000, polling=500)
        page.wait_for_timeout(700)  # plotly's automargin redraws once after the first draw
        page.wait_for_function(READY, timeout=60_000, polling=500)
        problems = page.evaluate(PROBLEMS)
        for _ in range(3):
            if not any(kind == "not drawn" for kind, *_ in problems):
                break
            page.wait_for_function(READY, timeout=60_000, polling=500)
            page.wait_for_timeout(700)
            problems = page.evaluate(PROBLEMS)
        name = path.strip("/?").replace("?", "-").replace("=", "").replace("&", "-")
        page.screenshot(path=str(screenshot_dir / f"pages-{name}-present{present}-{size[0]}x{size[1]}.png"))
        assert not problems, problems[:12]
        assert not outside, outside
    finally:
        page.close()
