"""The app started as scripts/app.sh starts it (no command-line flags beyond the port): the project's own
.streamlit/config.toml keeps it offline and quiet, and app.py's server sends Streamlit's scripts gzipped."""

import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, free_port, stop_app, wait_healthy

HEATMAP = "[data-testid=bptt-stepper] canvas[data-bptt-t]"


@pytest.fixture(scope="module")
def plain_url():
    """`streamlit run app.py` with only a port and address: every other setting is the project's config.toml."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                "--server.address", "127.0.0.1"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        yield url
    finally:
        stop_app(process)


@pytest.fixture
def opened(plain_url, browser):
    """The default page in a fresh context (an empty cache), drawn, with every request and response it made."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests, responses = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: responses.append(response))
    page.goto(plain_url + "/")
    page.locator(HEATMAP).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # anything sent after the first draw (statistics would go now)
    yield page, requests, responses
    context.close()


def test_the_page_asks_no_host_but_its_own(opened, plain_url):
    page, requests, _ = opened
    own = urlsplit(plain_url).netloc
    outside = [url for url in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")
               and urlsplit(url).netloc != own]
    assert requests and outside == []


def test_students_see_no_deploy_button_and_no_developer_menu(opened):
    page, _, _ = opened
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0
    page.locator("[data-testid=stMainMenu]").click()
    menu = page.locator("[data-testid=stMainMenuPopover]").inner_text()
    assert "Rerun" not in menu and "Clear cache" not in menu and "Developer" not in menu


def test_streamlit_s_large_scripts_arrive_gzipped(opened):
    _, _, responses = opened
    scripts = [r for r in responses if "/static/js/" in r.url and r.url.endswith(".js")]
    large = [r for r in scripts if len(r.body()) > 100_000]  # the body as the page reads it, unpacked
    assert len(large) >= 3  # index, protobuf, react-dom at least
    assert all(r.headers.get("content-encoding") == "gzip" for r in large), \
        [(r.url.rsplit("/", 1)[-1], r.headers.get("content-encoding")) for r in large]
