"""A GRU deep link in a real browser: the gradient-flow page draws three cells and truncation, the gallery the
GRU's bugs, the stepper the GRU's code.

Screenshots: artifacts/screenshots/gru-*.png (1024×768 and 1440×900)
"""

import pytest
from test_notation_browser import SIZES, TITLES, query
from test_teaching_browser import assert_no_errors, assert_offline, requests, settle  # noqa: F401 (a fixture)

from bptt.catalog import bugs_for


@pytest.fixture(scope="module", autouse=True)
def through_the_front_door(browser, app_url):
    """Open "/" once first, so that a deep link runs through app.py (see test_teaching_browser.py)."""
    context = browser.new_context()
    context.new_page().goto(app_url, wait_until="networkidle")
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_flow_page_puts_the_gru_beside_the_others_and_cuts_it(size, page, app_url, requests, screenshot):
    page.set_viewport_size(SIZES[size])
    page.goto(f"{app_url}/gradient_flow?cell=gru&scenario=exploding&truncate=5")
    page.get_by_role("heading", name="Gradient flow").wait_for(timeout=60_000)
    settle(page, 6)  # three cells, then three truncated runs
    assert_no_errors(page)
    titles = page.evaluate(TITLES)
    assert "GRU" in titles and "GRU, truncated" in titles, titles
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Cut: da_prevt into t = 19, 14, 9, 4" in text
    screenshot(f"gru-flow-{size}")
    assert query(page)["truncate"] == "5"
    assert_offline(requests, app_url)


def test_the_gallery_shows_every_gru_bug(page, app_url):
    page.goto(f"{app_url}/gallery?scenario=classroom&cell=gru")
    page.get_by_role("heading", name="Bug gallery").wait_for(timeout=60_000)
    settle(page, 1)
    assert_no_errors(page)
    index = page.locator(".st-key-gallery-index").inner_text()
    assert "GRU: gru_backward and gru_cell_backward" in index
    for bug in bugs_for("gru"):
        assert bug.title in index
        assert page.locator(f".st-key-card-{bug.id}").count() == 1


def test_the_stepper_opens_the_gru_with_its_code(page, app_url, screenshot):
    page.set_viewport_size(SIZES["1440"])
    page.goto(f"{app_url}/?cell=gru&scenario=classroom&stepping=server")
    page.locator(".bptt-code").first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    assert_no_errors(page)
    assert page.get_by_role("radio", name="GRU").is_checked()
    assert "def gru_backward" in page.locator(".bptt-code").first.inner_text()
    screenshot("gru-stepper-1440")
