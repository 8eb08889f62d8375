"""A CS231n deep link in a real browser: the sidebar switch, the homework's code on the cards, its names on the
charts, and the notation kept when the switch goes back to the course.

Screenshots: artifacts/screenshots/notation-*.png (1024×768 and 1440×900)
"""

from urllib.parse import parse_qs, urlparse

import pytest
from test_teaching_browser import assert_no_errors, assert_offline, requests, settle  # noqa: F401 (a fixture)

from bptt import BUGS
from bptt.figures.gallery import diff_text
from bptt.notation import bug_lines

# each chart title as one line of text: a title wrapped to its chart (spec.fit_titles) is drawn as several tspans
TITLES = """() => [...document.querySelectorAll('.gtitle')].map(e => {
    const lines = [...e.querySelectorAll('tspan.line')].map(t => t.textContent);
    return lines.length ? lines.join(' ') : e.textContent;
})"""

SIZES = {"1024": {"width": 1024, "height": 768}, "1440": {"width": 1440, "height": 900}}


@pytest.fixture(scope="module", autouse=True)
def through_the_front_door(browser, app_url):
    """Open "/" once first, so that a deep link runs through app.py (see test_teaching_browser.py)."""
    context = browser.new_context()
    context.new_page().goto(app_url, wait_until="networkidle")
    context.close()


def query(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


@pytest.mark.parametrize("size", SIZES)
def test_a_cs231n_gallery_link_shows_the_homeworks_code(size, page, app_url, screenshot):
    page.set_viewport_size(SIZES[size])
    page.goto(f"{app_url}/gallery?scenario=classroom&cell=rnn&notation=cs231n")
    page.get_by_role("heading", name="Bug gallery").wait_for(timeout=60_000)
    settle(page, sum(1 for b in BUGS if b.cell == "rnn" and not b.raises))
    assert_no_errors(page)
    assert page.get_by_role("radio", name="CS231n (rnn_step_backward)").is_checked()
    first = next(b for b in BUGS if b.cell == "rnn")
    card = page.locator(f".st-key-card-{first.id}")
    for line in diff_text(bug_lines(first.id, "cs231n")).splitlines():
        assert line in card.locator("code.language-diff").inner_text()
    assert "RNN: rnn_backward and rnn_step_backward" in page.locator(".st-key-gallery-index").inner_text()
    screenshot(f"notation-gallery-{size}")
    assert query(page)["notation"] == "cs231n"


def test_the_switch_goes_back_to_the_course_and_the_link_follows(page, app_url, requests):
    page.goto(f"{app_url}/itemized?scenario=classroom&notation=cs231n")
    settle(page, 5)
    titles = page.evaluate(TITLES)
    assert any("dWh, as rnn_backward returns it" in t for t in titles), titles
    page.get_by_text("Course (rnn_cell_backward)").click()
    page.wait_for_function("() => !location.search.includes('notation')", timeout=30_000)
    settle(page, 5)
    page.wait_for_function(f"() => ({TITLES})().some(t => t.includes('dWaa, as rnn_backward returns it'))",
                           timeout=30_000)
    assert_no_errors(page)
    assert_offline(requests, app_url)
