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
    import gzip
    from contextlib import asynccontextmanager

    import anyio

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
        it would compress again at every request, and each browser fetches these content-hashed files only once.
        A classroom's browsers all fetch them at the start of a lesson over one shared Wi-Fi, where a third of the
        bytes is the better trade. Since a content-hashed path's body never changes, each one is compressed once
        per process (in a worker thread) and kept: 60 students arriving at once cost one compression per file,
        not sixty. Only scripts, styles and such are kept, never HTML: a made-up path under /static/ gets
        Streamlit's index page, and a stream of them must not grow the memory; what is kept is bounded by the
        static folder (about 7 MB compressed) and by KEEP_AT_MOST paths. Fonts, images, HTML and anything but a
        plain 200 go out as Streamlit sent them; a conditional or ranged request goes through Starlette's gzip.
        """

        TEXT = (b"text/javascript", b"text/css", b"application/javascript", b"application/json", b"image/svg+xml")
        KEEP_AT_MOST = 1000  # Streamlit's static folder holds about 320 such files

        def __init__(self, inner) -> None:
            self.inner = inner
            self.gzip = GZipMiddleware(inner, minimum_size=1024, compresslevel=6)
            self.kept = {}  # path -> (response start message, compressed body)

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] != "http" or "/static/" not in scope.get("path", ""):
                return await self.inner(scope, receive, send)
            asked = dict(scope.get("headers", []))
            plain = scope.get("method") == "GET" and not {b"if-none-match", b"if-modified-since", b"range"} & set(asked)
            if not plain or b"gzip" not in asked.get(b"accept-encoding", b""):
                return await self.gzip(scope, receive, send)
            kept = self.kept.get(scope["path"]) or await self._compress(scope, receive, send)
            if kept is not None:
                await send(kept[0])
                await send({"type": "http.response.body", "body": kept[1]})

        async def _compress(self, scope, receive, send):
            """Run the request, keep its response compressed if it is text worth it; else send it as it came."""
            messages = []

            async def capture(message) -> None:
                messages.append(message)

            await self.inner(scope, receive, capture)
            start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
            headers = dict(start.get("headers", []))
            text = headers.get(b"content-type", b"").startswith(self.TEXT)
            full = len(self.kept) >= self.KEEP_AT_MOST
            if start.get("status") != 200 or b"content-encoding" in headers or not text or len(body) < 1024 or full:
                for message in messages:
                    await send(message)
                return None
            packed = await anyio.to_thread.run_sync(gzip.compress, body, 6)
            headers.update({b"content-encoding": b"gzip", b"content-length": str(len(packed)).encode(),
                            b"vary": b"Accept-Encoding"})
            self.kept[scope["path"]] = kept = ({**start, "headers": list(headers.items())}, packed)
            return kept

    app = st.App(__file__, lifespan=_lifespan, middleware=[Middleware(CompressedScripts)])
