"""The README's screenshots of the step-through page, taken again: python docs/images/screenshots.py

Starts `streamlit run app.py` on a free port (the browser tests' helpers), opens each view in chromium at
its size, waits for the heatmaps and the timeline, and writes the PNGs beside this file.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "browser"))
import conftest as server  # noqa: E402  (the browser tests' server and chromium helpers)
from playwright.sync_api import sync_playwright  # noqa: E402

HEATMAP = "[data-testid=bptt-stepper] canvas[data-bptt-t]"
TIMELINE = "[data-testid=bptt-timeline] svg"
SHOTS = {  # file: (width, height, query)
    "stepper.png": (1440, 900, "?bug=missing-da-t&t=2"),
    "stepper-projector.png": (1024, 768, "?present=1&scenario=classroom&cell=lstm&t=2"),
    "stepper-presenter.png": (1280, 720, "?bug=missing-da-t&t=2&present=1"),
}


def main() -> int:
    port = server.free_port()
    process = server.start_app(port)
    try:
        base = f"http://127.0.0.1:{port}/"
        server.wait_healthy(base.rstrip("/"), process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=server.CHROMIUM, args=server.CHROMIUM_ARGS)
            for name, (width, height, query) in SHOTS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(base + query)
                page.locator(HEATMAP).first.wait_for(timeout=120_000)
                if "present=1" not in query:
                    page.locator(TIMELINE).first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)  # the web fonts and the last layout pass
                page.screenshot(path=HERE / name)
                print(f"wrote docs/images/{name}: {page.locator('.bptt-heading').inner_text()}")
                page.close()
            browser.close()
    finally:
        server.stop_app(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
