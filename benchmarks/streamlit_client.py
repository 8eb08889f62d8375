"""A small Streamlit client: speaks the app's websocket protocol with the protobufs streamlit ships.

    async with Session.open("http://127.0.0.1:8501", "?scenario=classroom") as s:
        page = await s.load()                      # the first full run of the page
        run = await s.click(s.button("Next step"))  # one click, timed until the run finishes

A browser does the same over the same websocket: it sends a BackMsg rerun_script (the query
string, the page, the widget that changed, the fragment the widget lives in) and receives
ForwardMsgs: deltas (the elements drawn), then script_finished. A run's `seconds` is the time
from sending the BackMsg to receiving script_finished, which is the server's share of a
click-to-redraw: the browser's own drawing happens on each student's machine and is measured
separately in a real browser (benchmarks/bench_browser.py).

The client sends the widget that changed, not every widget's value as a browser does; the
server keeps the others' values from the previous run, so the script does the same work.

When the server goes away (a replica killed behind nginx), a run comes back "disconnected";
`reconnect()` then does what the page does in a browser: it opens a new websocket to the same
address (with the route cookie the proxy gave it) and reruns the page from the URL it last had.
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

FINISHED = {  # ForwardMsg.script_finished values: which count as a completed run
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "interrupted by a rerun",
}
MAX_MESSAGE = 256 * 2**20  # plotly figures of a large run can be tens of MB
ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port nobody listens on right now (other servers may run alongside)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free 127.0.0.1 port, for as long as the `with` block lasts.

        with Server() as server:
            server.url, server.started_s, server.rss_mb(), server.cpu_s()
    """

    def __init__(self, app: str = "app.py", startup_timeout: float = 60.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app, self.startup_timeout = app, startup_timeout
        self.process = None
        self.started_s = None  # launch until /_stcore/health answers

    def __enter__(self) -> "Server":
        command = [sys.executable, "-m", "streamlit", "run", self.app, "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        started = time.monotonic()
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a pipe nobody reads would block a chatty server
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        while time.monotonic() - started < self.startup_timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}: {self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        self.started_s = time.monotonic() - started
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise TimeoutError(f"streamlit did not answer {self.url}/_stcore/health within {self.startup_timeout} s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()  # only the server we started, by its own pid
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        """What the server printed so far (its log: warnings, and tracebacks if any)."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        """Resident memory of the server process itself (its check children are short-lived and separate)."""
        return rss_mb(self.process.pid)

    def cpu_s(self, children: bool = False) -> float:
        """CPU seconds (user + system) the server has used so far, all its threads; with children=True,
        those of the check processes it started and reaped instead."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        first = 13 if children else 11  # utime, stime; then cutime, cstime (man 5 proc, counted after the name)
        return (int(fields[first]) + int(fields[first + 1])) / TICKS


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE / 2**20


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat), to tell whether a run shared the machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float
    status: str  # a FINISHED value, or "timeout" / "disconnected"
    messages: int = 0
    bytes: int = 0
    exceptions: list = field(default_factory=list)  # st.exception / uncaught error texts
    errors: list = field(default_factory=list)  # st.error texts
    warnings: list = field(default_factory=list)  # st.warning texts

    @property
    def ok(self) -> bool:
        return self.status in ("finished", "fragment finished") and not self.exceptions

    @property
    def disconnected(self) -> bool:
        return self.status.startswith("disconnected")


@dataclass
class Widget:
    """A widget on the page: enough to send a new value for it."""

    kind: str  # the Element oneof name: button, slider, toggle (checkbox), text_area, ...
    id: str
    label: str
    fragment_id: str
    proto: object


class Session:
    """One browser tab's worth of protocol: a websocket, the page's elements, its reruns."""

    def __init__(self, base_url: str, query: str = "", timeout: float = 60.0, page: str = ""):
        host = urlsplit(base_url)
        if host.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"only loopback servers are load-tested, not {host.hostname}")
        self.url = f"ws://{host.netloc}/_stcore/stream"
        self.query = query.lstrip("?")
        self.timeout = timeout
        self.page_hash = ""
        self.page_name = page  # the page's url path ("check"); "" is the default page
        self.elements = {}  # delta path -> (Element, fragment_id)
        self.ws = None
        self.cookie = None  # the proxy's route cookie (deploy/bptt.conf.template), sent back as a browser would
        self.reconnects = 0

    @classmethod
    def open(cls, base_url: str, query: str = "", timeout: float = 60.0, page: str = "") -> "Session":
        return cls(base_url, query, timeout, page)

    async def __aenter__(self) -> "Session":
        # permessage-deflate on, as browsers ask for it: the server compresses what it sends, as it would for them
        await self._connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def _connect(self) -> None:
        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await connect(self.url, subprotocols=["streamlit"], max_size=MAX_MESSAGE,
                                open_timeout=self.timeout, ping_interval=None, additional_headers=headers)
        for cookie in self.ws.response.headers.get_all("Set-Cookie"):
            if cookie.startswith("bptt_route="):
                self.cookie = cookie.split(";", 1)[0]

    async def reconnect(self, within: float = 60.0) -> Run:
        """A new websocket to the same address, then the page rerun from the URL this session last had.

        Retries until `within` seconds have passed (a proxy may need a moment to mark a dead replica down);
        the Run's seconds count from the first attempt to the end of the page's first run.
        """
        started, deadline = time.perf_counter(), time.perf_counter() + within
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - the old socket is gone already
            pass
        while True:
            try:
                await self._connect()
                break
            except Exception as error:  # noqa: BLE001 - refused, reset, 502 from the proxy: try again shortly
                if time.perf_counter() > deadline:
                    return Run(time.perf_counter() - started, f"disconnected ({type(error).__name__})")
                await asyncio.sleep(0.2)
        self.reconnects += 1
        self.elements = {}
        run = await self.load()
        run.seconds = time.perf_counter() - started
        return run

    async def load(self) -> Run:
        """The page as a browser first opens it: a full run with the URL's query string."""
        return await self._rerun()

    async def click(self, widget: Widget) -> Run:
        """Press a button (a trigger); reruns only its fragment when it lives in one."""
        return await self._rerun(widget, trigger_value=True)

    async def set(self, widget: Widget, **value) -> Run:
        """Change a widget, e.g. set(slider, double_array_value=[3]) or set(area, string_value=code)."""
        return await self._rerun(widget, **value)

    def widget(self, kind: str, label: str) -> Widget:
        """The one widget of `kind` whose label contains `label`."""
        matches = [w for w in self.widgets(kind) if label in w.label]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} {kind} widgets match {label!r}: {[w.label for w in self.widgets(kind)]}")
        return matches[0]

    def widgets(self, kind: str | None = None) -> list:
        found = []
        for element, fragment_id in self.elements.values():
            name = element.WhichOneof("type")
            proto = getattr(element, name) if name else None
            if proto is not None and hasattr(proto, "id") and proto.id and (kind is None or name == kind):
                found.append(Widget(name, proto.id, getattr(proto, "label", ""), fragment_id, proto))
        return found

    def button(self, label: str) -> Widget:
        """The button whose label contains `label` (fails loudly when the page has none or several)."""
        return self.widget("button", label)

    def texts(self, kind: str) -> list:
        """Body texts of the elements of one kind on the page (markdown, alert, exception, ...)."""
        out = []
        for element, _ in self.elements.values():
            if element.WhichOneof("type") == kind:
                proto = getattr(element, kind)
                out.append(getattr(proto, "body", "") or getattr(proto, "message", ""))
        return out

    async def _rerun(self, widget: Widget | None = None, **value) -> Run:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.page_name = self.page_name
        if widget is not None:
            w = state.widget_states.widgets.add()
            w.id = widget.id
            for name, v in value.items():
                if isinstance(v, list):
                    getattr(w, name).data.extend(v)
                else:
                    setattr(w, name, v)
            if widget.fragment_id:
                state.fragment_id = widget.fragment_id
        started = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
        except Exception as error:  # noqa: BLE001 - the server went away between runs
            return Run(time.perf_counter() - started, f"disconnected ({type(error).__name__})")
        return await self._until_finished(started)

    async def _until_finished(self, started: float) -> Run:
        run = Run(0.0, "timeout")
        deadline = started + self.timeout
        fresh = {}
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                break
            except Exception as error:  # noqa: BLE001 - any transport failure is a failed run, reported as such
                run.status = f"disconnected ({type(error).__name__})"
                break
            run.messages += 1
            run.bytes += len(data)
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "page_info_changed" and fm.page_info_changed.query_string is not None:
                self.query = fm.page_info_changed.query_string
            elif kind == "delta":
                self._delta(fm, fresh, run)
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "script_finished":
                status = FINISHED.get(fm.script_finished, str(fm.script_finished))
                if status == "interrupted by a rerun":
                    continue
                run.status = status
                break
        run.seconds = time.perf_counter() - started
        if run.status == "finished":
            self.elements = fresh
        else:
            self.elements.update(fresh)
        return run

    def _delta(self, fm: ForwardMsg, fresh: dict, run: Run) -> None:
        delta = fm.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        fresh[tuple(fm.metadata.delta_path)] = (element, delta.fragment_id)
        name = element.WhichOneof("type")
        if name == "exception":
            run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif name == "alert":
            body = element.alert.body
            fmt = element.alert.format
            if fmt == element.alert.ERROR:
                run.errors.append(body)
            elif fmt == element.alert.WARNING:
                run.warnings.append(body)
