"""Real-browser fixtures: `streamlit run app.py` on a free loopback port, and a Playwright chromium page.

    def test_loads(app_url, page):
        page.goto(app_url)

Screenshots go to artifacts/screenshots/ (git-ignored; CI keeps them as artifacts).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; other servers may run alongside)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, env: dict | None = None) -> subprocess.Popen:
    """streamlit run app.py on 127.0.0.1:port, headless, quiet, its own process group; env: variables to add.

    start_app(free_port(), {"PYTHONDONTWRITEBYTECODE": "1"})
    """
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=os.environ | (env or {}))


def wait_healthy(base_url: str, process: subprocess.Popen, timeout: float = STARTUP_TIMEOUT_S) -> float:
    """Seconds until /_stcore/health answers ok; fails with the server's output if it dies or hangs."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{process.stdout.read().decode()}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"streamlit did not answer {base_url}/_stcore/health within {timeout} s")


def stop_app(process: subprocess.Popen) -> None:
    """Terminate the server we started (by its own pid), then kill it if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def app_url():
    """The base URL of a fresh `streamlit run app.py`, stopped at the end of the session."""
    port = free_port()
    process = start_app(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process)
        yield base_url
    finally:
        stop_app(process)


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/test.sh installs Debian's)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh 1400×1000 page; console errors are collected on page.console_errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves a full-page PNG under artifacts/screenshots/ and returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # streamlit scrolls inside its own container, so a full-page shot needs a viewport as tall as the page
        size = page.viewport_size
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
            "[data-testid=\"stAppViewContainer\"], section.main')].map(e => e.scrollHeight), 0)"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 12000))})
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(size)
        return path

    return take


@pytest.fixture
def screenshot_dir() -> Path:
    """artifacts/screenshots/, for a test that takes its own screenshots of several pages."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
