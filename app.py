"""The BPTT visual debugger: streamlit run app.py

Streamlit reads this file twice over. `streamlit run app.py` first imports it as a module to find `app`,
the server (the `else` branch at the bottom); then every session runs it as its script (`__main__`):
one line per page, the first one is the page a visitor lands on.
"""

import threading
from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
WARM_UP = "bptt-warm-up"  # the thread that imports the default page's modules while the first browser loads

if __name__ == "__main__":
    for thread in threading.enumerate():
        if thread.name == WARM_UP:
            thread.join(60)  # the first session waits for the warm-up rather than import alongside it

    from bptt.ui.memory import collect_at_most_every, freeze_once
    from bptt.ui.network import disable_nagle_once
    from bptt.ui.widget_values import forgive_odd_widget_values_once

    disable_nagle_once()  # every click's messages leave at once, not 40 ms apart (bptt/ui/network.py)
    forgive_odd_widget_values_once()  # a widget value no browser would send reads as none, on every page

    # The favicon travels inside the page as an SVG data URL: a Material icon would be fetched from Google's font
    # server, which an offline classroom (and the browser tests' no-outside-requests check) does not have.
    st.set_page_config(page_title="BPTT debugger", page_icon=HERE / "bptt" / "ui" / "favicon.svg", layout="wide")

    pages = [
        st.Page("pages/stepper.py", title="Step through", icon=":material/footprint:", default=True),
        st.Page("pages/gradient_flow.py", title="Gradient flow", icon=":material/trending_down:"),
        st.Page("pages/gallery.py", title="Bug gallery", icon=":material/bug_report:"),
        st.Page("pages/itemized.py", title="Itemized gradients", icon=":material/stacked_bar_chart:"),
        st.Page("pages/lesson.py", title="Lesson", icon=":material/school:"),
        st.Page("pages/check.py", title="Check your code", icon=":material/fact_check:"),
    ]

    st.navigation(pages).run()
    freeze_once()  # the first run has imported what every run needs: the collector need not walk it again
    collect_at_most_every(20.0)  # cyclic garbage from the runs since (bptt/ui/memory.py)
else:
    from contextlib import asynccontextmanager

    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware

    def _warm_up() -> None:
        from bptt.ui.startup import import_all  # here, not above: the bptt package loads numpy

        import_all(HERE / "app.py", HERE / "pages" / "stepper.py")

    @asynccontextmanager
    async def _lifespan(_app):
        threading.Thread(target=_warm_up, name=WARM_UP, daemon=True).start()
        yield None

    class CompressedScripts:
        """gzip for Streamlit's own scripts and styles under /static/, which Streamlit sends uncompressed.

        Streamlit's gzip skips /static/ on purpose (streamlit/web/server/starlette/starlette_gzip_middleware.py):
        it compresses again at every request, and each browser fetches these content-hashed files only once. A
        classroom's browsers all fetch them at the start of a lesson over one shared Wi-Fi, where a third of the
        bytes is the better trade. Starlette compresses a body over 128 kB in a worker thread, so the event loop
        keeps serving; fonts and images it leaves as they are.
        """

        def __init__(self, inner) -> None:
            self.inner = inner
            self.gzip = GZipMiddleware(inner, minimum_size=1024, compresslevel=6)

        async def __call__(self, scope, receive, send) -> None:
            static = scope["type"] == "http" and "/static/" in scope.get("path", "")
            await (self.gzip if static else self.inner)(scope, receive, send)

    app = st.App(__file__, lifespan=_lifespan, middleware=[Middleware(CompressedScripts)])
