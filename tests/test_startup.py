"""app.py as the server: Streamlit finds its st.App, the warm-up imports the default page's modules, scripts go out gzipped."""

import ast
import asyncio
import gzip
import importlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit import config
from streamlit.web.server.app_discovery import discover_asgi_app

from bptt.ui.startup import LAZY, imported_by

ROOT = Path(__file__).resolve().parent.parent
BODY = b"console.log('a script');\n" * 400  # 10 kB: over the 1 kB below which gzip does not pay


def test_streamlit_run_serves_app_py_through_its_st_app():
    """Without it, `streamlit run app.py` would run no warm-up and send every script uncompressed, silently."""
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"


def test_imported_by_names_every_absolute_import_once_in_order(tmp_path):
    script = tmp_path / "page.py"
    script.write_text("import os, json\nfrom bptt.ui import controls, panels\nfrom . import sibling\n"
                      "def f():\n    import os\n    from bptt.catalog import get_bug\n")
    assert imported_by(script) == ["os", "json", "bptt.ui", "bptt.ui.controls", "bptt.ui.panels",
                                   "bptt.catalog", "bptt.catalog.get_bug"]


def test_the_warm_up_leaves_nothing_for_the_first_run_of_the_default_page_to_import():
    """In a fresh interpreter: after import_all, running the stepper's imports and the lazy ones loads no new module."""
    stepper = ROOT / "pages" / "stepper.py"
    code = (
        "import ast, sys; from pathlib import Path; from bptt.ui.startup import import_all, imported_by, LAZY\n"
        f"done = import_all(Path({str(ROOT / 'app.py')!r}), Path({str(stepper)!r}))\n"
        "before = set(sys.modules)\n"
        f"tree = ast.parse(Path({str(stepper)!r}).read_text())\n"
        "tree.body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]\n"
        "exec(compile(tree, 'stepper', 'exec'))\n"
        "import numpy as np; np.random.seed(1)\n"
        "from PIL import Image, ImageFile; from streamlit.material_icon_names import ALL_MATERIAL_ICONS\n"
        "print(len(done)); print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, new = out.stdout.splitlines()
    assert int(count) >= len(LAZY) + 5  # it went through the page's imports, not stopping at the first
    assert new == "[]"


@pytest.fixture
def compressed(monkeypatch):
    """app.py's CompressedScripts around an inner app that answers every request with BODY as JavaScript."""
    monkeypatch.setattr(config, "_main_script_path", None)  # st.App pins it for the process: leave it as it was
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    app = importlib.import_module("app")  # as `streamlit run` imports it: the server branch

    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["path"])
        status = 404 if "missing" in scope["path"] else 200
        kind = getattr(middleware, "inner_type", b"text/javascript")  # a test may make it answer with another type
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(BODY)).encode())]})
        await send({"type": "http.response.body", "body": BODY})

    middleware = app.CompressedScripts(inner)
    middleware.calls = calls  # the paths the inner app was asked for, in order
    yield middleware
    sys.modules.pop("app", None)  # no later test finds this import of it


def ask(middleware, path: str, accept: str, extra: tuple = ()) -> tuple:
    """(headers, body) of a GET through the middleware; extra: more (name, value) request headers."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": ([(b"accept-encoding", accept.encode())] if accept else []) + list(extra), "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": "", "http_version": "1.1"}
    # a thread of its own: in a full run Playwright's sync API keeps an event loop running in this one
    worker = threading.Thread(target=asyncio.run, args=(middleware(scope, receive, send),))
    worker.start()
    worker.join(30)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_a_script_under_static_goes_out_gzipped_to_a_browser_that_accepts_it(compressed):
    headers, body = ask(compressed, "/static/js/index.abc123.js", "gzip, deflate, br")
    assert headers["content-encoding"] == "gzip"
    assert len(body) < len(BODY) / 5 and gzip.decompress(body) == BODY


def test_a_class_arriving_at_once_costs_one_compression_per_file(compressed):
    """Every browser after the first gets the kept compressed body: the inner app serves the file once."""
    first = ask(compressed, "/static/js/index.abc123.js", "gzip")
    again = ask(compressed, "/static/js/index.abc123.js", "gzip, br")
    assert compressed.calls == ["/static/js/index.abc123.js"]
    assert again == first and gzip.decompress(again[1]) == BODY
    assert again[0]["content-length"] == str(len(again[1])) and again[0]["vary"] == "Accept-Encoding"


def test_a_missing_file_goes_out_as_it_came_and_is_not_kept(compressed):
    for _ in range(2):
        headers, body = ask(compressed, "/static/js/missing.js", "gzip")
        assert "content-encoding" not in headers and body == BODY
    assert compressed.calls == ["/static/js/missing.js"] * 2


def test_made_up_paths_answered_with_the_index_page_are_never_kept(compressed):
    """Streamlit answers an unknown /static/ path with its HTML page: a stream of them must not grow the memory."""
    compressed.inner_type = b"text/html"
    for n in range(3):
        ask(compressed, f"/static/js/made-up-{n}.js", "gzip")
    assert compressed.kept == {}


@pytest.mark.parametrize("header", [(b"if-none-match", b'"abc"'), (b"range", b"bytes=0-99")])
def test_a_conditional_or_ranged_request_is_answered_afresh_every_time(compressed, header):
    ask(compressed, "/static/js/index.abc123.js", "gzip")
    ask(compressed, "/static/js/index.abc123.js", "gzip", (header,))
    assert compressed.calls == ["/static/js/index.abc123.js"] * 2


@pytest.mark.parametrize("path", ["/static/js/index.abc123.js", "/_stcore/health", "/"])
def test_nothing_is_compressed_for_a_client_that_does_not_accept_gzip(compressed, path):
    headers, body = ask(compressed, path, "")
    assert "content-encoding" not in headers and body == BODY


@pytest.mark.parametrize("path", ["/_stcore/health", "/", "/media/abc.png"])
def test_only_streamlit_s_static_files_go_through_the_added_gzip(compressed, path):
    """Streamlit's own middleware decides for every other route, as it did before."""
    headers, body = ask(compressed, path, "gzip")
    assert "content-encoding" not in headers and body == BODY


@pytest.mark.parametrize("script", ["app.py", *sorted(p.name for p in (ROOT / "pages").glob("*.py"))])
def test_no_page_writes_a_bare_value_as_magic_does_since_the_config_turns_magic_off(script):
    """.streamlit/config.toml sets runner.magicEnabled = false: a value alone on a line would show nothing."""
    path = ROOT / script if script == "app.py" else ROOT / "pages" / script
    bare = [node.lineno for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Expr)
            and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))
            and not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))]
    assert bare == [], f"{script} line {bare}: write it with st.write, magic is off"
