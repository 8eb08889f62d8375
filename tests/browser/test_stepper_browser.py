"""The step-through page stepping on the server, in a real chromium against `streamlit run app.py`: load, step,
bug, play (a classroom-sized run steps in the browser unless stepping=server: test_projector_browser.py).

Screenshots of every state land in artifacts/screenshots/ for a person (and CI) to look at.
"""

import re

CHART = '[data-testid="stPlotlyChart"]'
DRAWN = f"{CHART} .main-svg"  # plotly has drawn the figure, not just received it
EXCEPTION = '[data-testid="stException"]'


def heading(page) -> str:
    return page.locator("h3", has_text="Step").first.inner_text()


def wait_for_heading(page, text: str, timeout: float = 15_000) -> None:
    page.locator("h3", has_text=text).first.wait_for(timeout=timeout)


def open_page(page, url: str, charts: int = 1) -> None:
    """The page stepping on the server (tests/browser/test_projector_browser.py steps in the browser)."""
    page.goto(url + ("&" if "?" in url else "/?") + "stepping=server")
    page.locator(DRAWN).nth(charts - 1).wait_for(timeout=60_000)
    wait_for_heading(page, "Step")


def assert_healthy(page) -> None:
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(CHART).count() == 1  # the heatmaps, one figure (the timeline and norms are SVG)
    assert page.locator(DRAWN).count() >= 1  # plotly draws a chart in several layers
    assert page.locator("[data-testid=bptt-timeline] svg").count() == 1
    assert page.locator("[data-testid=bptt-norms] svg").count() == 1


def test_load_shows_the_course_example_with_charts(app_url, page, screenshot):
    open_page(page, app_url)
    assert "Step 1 of 4 — t = 3" in heading(page)
    assert page.get_by_text("[-2.07101689 -0.59255627  0.02466855  0.01483317]").count() >= 1
    assert_healthy(page)
    screenshot("stepper-default")


def test_step_buttons_keyboard_and_url(app_url, page, screenshot):
    open_page(page, app_url)
    page.get_by_role("button", name=re.compile("Next step")).click()
    wait_for_heading(page, "Step 2 of 4 — t = 2")
    cell = page.locator(".bptt-tl-cells rect").nth(2)  # the server's stylesheet marks it on the SVG timeline
    page.wait_for_function("c => getComputedStyle(c).fill === 'rgb(245, 133, 24)'", arg=cell.element_handle())
    page.wait_for_url(re.compile(r"[?&]t=2"))
    page.locator("h1").click()  # focus the page, not a widget, so the arrow key reaches the shortcut
    page.keyboard.press("ArrowRight")  # Next, as its button's arrow says
    wait_for_heading(page, "Step 3 of 4 — t = 1")
    page.get_by_role("button", name=re.compile("First step")).click()
    wait_for_heading(page, "Step 1 of 4 — t = 3")
    assert_healthy(page)
    screenshot("stepper-stepped")


def test_famous_bug_toggle_zeroes_the_flow(app_url, page, screenshot):
    open_page(page, f"{app_url}/?t=2")
    page.get_by_text("Forget to add").click()
    page.get_by_text("Every gradient is exactly zero").first.wait_for(timeout=30_000)
    page.wait_for_url(re.compile(r"bug=missing-da-t"))
    page.locator(DRAWN).first.wait_for(timeout=30_000)  # the rerun's chart, not only its banner
    assert "t = 2" in heading(page)
    assert_healthy(page)
    screenshot("stepper-missing-da-t")


def test_play_walks_to_the_last_step(app_url, page, screenshot):
    open_page(page, f"{app_url}/?scenario=classroom")
    page.get_by_text("▶ Play").click()
    wait_for_heading(page, "Step 5 of 5 — t = 0", timeout=30_000)
    assert page.locator(EXCEPTION).count() == 0
    screenshot("stepper-played")


def test_a_bug_that_raises_shows_numpys_message_not_a_traceback(app_url, page, screenshot):
    page.goto(f"{app_url}/?bug=no-transpose-wax&stepping=server")
    page.get_by_text("not aligned").first.wait_for()
    assert page.locator(EXCEPTION).count() == 0
    screenshot("stepper-raises")


def test_presenter_layout_hides_the_sidebar(app_url, page, screenshot):
    open_page(page, f"{app_url}/?present=1&bug=missing-da-t")
    assert not page.locator('section[data-testid="stSidebar"]').is_visible()
    assert page.locator(EXCEPTION).count() == 0
    screenshot("stepper-presenter")


def test_large_run_pools_heatmaps(app_url, page, screenshot):
    open_page(page, f"{app_url}/?scenario=classroom&n_a=256&T_x=200&m=16&n_x=16")
    assert "Step 1 of 200" in heading(page)
    assert page.get_by_text("pooled").count() >= 1
    assert_healthy(page)
    screenshot("stepper-large")
