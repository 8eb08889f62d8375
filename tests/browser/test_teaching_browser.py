"""The teaching pages in a real browser: each page loads and draws, the lesson clicks through, the
presenter layout fills the screen, and nothing is fetched from outside the teacher's laptop.

Screenshots: artifacts/screenshots/teaching-*.png
"""

from urllib.parse import parse_qs, urlparse

import pytest

from bptt import BUGS
from bptt.lessons import LESSON

PAGES = {  # url path -> (what the page must show, charts it must draw at least)
    "gradient_flow": ("Gradient flow", 2),
    "gallery?scenario=classroom": ("Bug gallery", sum(1 for b in BUGS if not b.raises)),
    "itemized?scenario=classroom": ("Itemized gradients", 5),
    "lesson?lesson=1": (LESSON[0].title, 4),
}


@pytest.fixture(scope="module", autouse=True)
def through_the_front_door(browser, app_url):
    """Open "/" once first: until app.py has run st.navigation, Streamlit serves a deep link from the pages/
    folder without app.py (see test_a_deep_link_on_a_fresh_server_runs_app_py)."""
    context = browser.new_context()
    context.new_page().goto(app_url, wait_until="networkidle")
    context.close()


@pytest.fixture
def requests(page, app_url):
    """Every URL the page asks for; the app must work offline, so all of them must be the app's own."""
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def settle(page, charts: int = 1, timeout: float = 60_000) -> None:
    """Wait until the script has finished its run and at least `charts` charts are drawn, all of them complete."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function(
        "n => { const c = [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')];"
        " return c.length >= n && c.every(e => e.querySelector('.main-svg')); }", arg=charts, timeout=timeout)


def assert_no_errors(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def assert_offline(requests: list, app_url: str) -> None:
    outside = [url for url in requests if not url.startswith((app_url, "data:", "blob:"))]
    assert outside == [], outside


@pytest.mark.parametrize("path", PAGES)
def test_each_teaching_page_loads_and_draws(path, page, app_url, requests, screenshot):
    heading, charts = PAGES[path]
    page.goto(f"{app_url}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    settle(page, charts)
    assert_no_errors(page)
    screenshot(f"teaching-{path.split('?')[0]}")
    assert_offline(requests, app_url)


def lesson_number(page) -> int:
    return int(parse_qs(urlparse(page.url).query)["lesson"][0])


def test_click_through_the_whole_lesson(page, app_url, requests, screenshot):
    page.goto(f"{app_url}/lesson?lesson=1")
    for number, step in enumerate(LESSON, start=1):
        page.get_by_role("heading", name=step.title).first.wait_for(timeout=60_000)
        settle(page)
        assert lesson_number(page) == number
        assert_no_errors(page)
        screenshot(f"teaching-lesson-{number:02d}")
        if number < len(LESSON):
            page.get_by_role("button", name="Next ▶").click()
    assert page.get_by_role("button", name="Next ▶").is_disabled()
    page.get_by_role("button", name="◀ Back").click()
    page.get_by_role("heading", name=LESSON[-2].title).first.wait_for(timeout=60_000)
    assert lesson_number(page) == len(LESSON) - 1
    assert_offline(requests, app_url)


def test_the_arrow_keys_turn_the_lesson_pages(page, app_url):
    page.goto(f"{app_url}/lesson?lesson=2")
    page.get_by_role("heading", name=LESSON[1].title).first.wait_for(timeout=60_000)
    settle(page)
    page.locator("h1").first.click()  # focus the page, not a widget or the address bar, so the key reaches it
    page.keyboard.press("ArrowRight")
    page.get_by_role("heading", name=LESSON[2].title).first.wait_for(timeout=60_000)
    settle(page)
    page.locator("h1").first.click()
    page.keyboard.press("ArrowLeft")
    page.get_by_role("heading", name=LESSON[1].title).first.wait_for(timeout=60_000)


def test_a_lesson_step_opens_the_debugger_in_its_state(page, app_url):
    page.goto(f"{app_url}/lesson?lesson=5")
    page.get_by_role("heading", name=LESSON[4].title).first.wait_for(timeout=60_000)
    settle(page)
    page.get_by_text("Open this in the step-through debugger").click()
    page.wait_for_url(lambda url: "bug=missing-da-prev" in url, timeout=60_000)  # the default page: "/"
    page.get_by_role("heading", name="Step through backprop through time").wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.locator("[data-testid=bptt-timeline] svg").first.wait_for(timeout=60_000)  # the stepper draws no plotly
    query = parse_qs(urlparse(page.url).query)
    assert query["bug"] == ["missing-da-prev"] and query["t"] == ["3"] and query["scenario"] == ["classroom"]
    assert page.locator('[data-testid="stException"]').count() == 0


def layout(page) -> dict:
    return page.evaluate("""() => {
        const sidebar = document.querySelector('[data-testid="stSidebar"]');
        const text = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMarkdown"] p')];
        const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
        const main = document.querySelector('[data-testid="stMainBlockContainer"]');
        return {
            sidebar: !!sidebar && sidebar.getBoundingClientRect().width > 0 && getComputedStyle(sidebar).display !== 'none',
            font: Math.max(...text.map(p => parseFloat(getComputedStyle(p).fontSize))),
            widest: Math.max(...charts.map(c => c.getBoundingClientRect().width)),
            main: main.getBoundingClientRect().width,
            width: window.innerWidth,
        };
    }""")


@pytest.mark.parametrize("path, heading", [
    ("lesson?lesson=6", LESSON[5].title),
    ("gradient_flow?scenario=exploding", "Gradient flow"),
    ("itemized?scenario=classroom", "Itemized gradients"),
    ("gallery?cell=lstm&scenario=classroom", "Bug gallery"),
])
def test_the_presenter_layout_hides_the_sidebar_and_fills_the_screen(path, heading, page, app_url, screenshot):
    page.goto(f"{app_url}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    settle(page)
    normal = layout(page)
    page.goto(f"{app_url}/{path}&present=1")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    settle(page)
    presented = layout(page)
    screenshot(f"teaching-present-{path.split('?')[0]}")
    assert normal["sidebar"] and not presented["sidebar"]
    assert presented["font"] >= 1.25 * normal["font"]
    assert presented["main"] >= 0.9 * presented["width"]  # the page's content spans the screen
    assert presented["widest"] > normal["widest"]  # and the figures grow with it
    assert_no_errors(page)


def test_a_deep_link_on_a_fresh_server_runs_app_py(browser):
    """Streamlit would run pages/lesson.py alone here (bptt/ui/entry.py says why); it must go through app.py."""
    from tests.browser.conftest import free_port, start_app, stop_app, wait_healthy
    port = free_port()
    process = start_app(port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/lesson?lesson=2")
        page.get_by_role("heading", name=LESSON[1].title).first.wait_for(timeout=60_000)
        settle(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Step through" in nav and "Lesson" in nav  # app.py's page titles, not the file names
    finally:
        stop_app(process)
