"""The line of checks in one app process: a few run at once, a bounded number wait, each knows its place.

A class submitting together would otherwise start ten children on two cores and ten analyses under
one interpreter lock, and every stepping session would stall (benchmarks/load.py). Both sizes are
settings: BPTT_CHECK_WORKERS (checks at once, default 2) and BPTT_CHECK_QUEUE (waiting, default 30).
The web process runs none of a check itself: `check_elsewhere` waits for a turn, then hands the
source to a worker process (worker.py) and reads its report back as JSON.

    report = check_elsewhere(from_text(code), progress=lambda message, fraction: print(message))
"""

import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:  # the engine imports this module: these names load lazily where they are used
    from .report import Report
    from .source import Source

LOG = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the bptt package
WORKER = (sys.executable, "-m", "bptt.check.worker")  # the command of one check's trusted process
WORKER_S = 120.0  # a whole check, the sandbox's own limits included, takes ~1 s; beyond this the worker is stuck
REPORT_BYTES = 64 << 20  # the largest line the worker may write (a check's report is ~1 MB)


class Full(Exception):
    """More checks are waiting than the line holds: the student should try again in a moment."""


class Line:
    """At most `workers` holders at once; at most `size` waiting, served first come, first served."""

    def __init__(self, workers: int, size: int):
        self.workers, self.size = workers, size
        self.running, self.waiting = 0, deque()
        self.changed = threading.Condition()

    @contextmanager
    def turn(self, told: Callable[[int], None] = lambda place: None) -> Iterator[None]:
        """Wait for a turn, calling told(place) (1 = next) whenever the place in line changes."""
        ticket = object()
        with self.changed:
            if len(self.waiting) >= self.size and self.running >= self.workers:
                raise Full(f"{len(self.waiting)} checks are already waiting")
            self.waiting.append(ticket)
            last = None
            while not (self.running < self.workers and self.waiting[0] is ticket):
                place = self.waiting.index(ticket) + 1
                if place != last:
                    told(place)
                    last = place
                self.changed.wait()
            self.waiting.popleft()
            self.running += 1
            self.changed.notify_all()
        try:
            yield
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()


def ordinal(n: int) -> str:
    """ordinal(3) -> '3rd'"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _setting(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


LINE = Line(_setting("BPTT_CHECK_WORKERS", 2), _setting("BPTT_CHECK_QUEUE", 30))



def check_elsewhere(source: "Source", progress: Callable | None = None, worker: tuple = WORKER,
                    seconds: float = WORKER_S) -> "Report":
    """Wait in LINE, then check `source` in a worker process: its report, or one that says why there is none.

    check_elsewhere(from_text(code)).exit_code -> 0 ok, 1 a difference, 2 could not run (the checker failing too)

    The report's worker_pid names the process that judged it, never this one.
    """
    progress = progress or (lambda message, fraction: None)
    told = lambda place: progress(f"You are {ordinal(place)} in line: other students' code is being "  # noqa: E731
                                  "checked first…", 0.05)
    try:
        with LINE.turn(told):
            return _in_worker(source, progress, worker, seconds)
    except Full:
        return refused(source, "busy", "the checker is busy: too many students are waiting already. Try again in "
                       "a minute.", "Your code was not run: the checker is busy.")


def refused(source: "Source", kind: str, message: str, sentence: str) -> "Report":
    """A report with no verdict: the check did not happen, and `sentence` says so first."""
    from .report import Report  # lazy: the report's modules import this one through the engine

    return Report(source, error={"kind": kind, "message": message, "line": None}, summary=[sentence])


def _in_worker(source: "Source", progress: Callable, worker: tuple, seconds: float) -> "Report":
    """Run the worker on `source`, pass its progress on, decode its report; a clear failure for anything else."""
    from .worker import Garbled, decode_report

    failed = lambda why: refused(source, "checker", f"the checker's own process {why}; your code was not "  # noqa: E731
                                 "judged", "The checker itself failed: your code was not judged.")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryFile() as errors:
        try:
            child = subprocess.Popen(worker, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                     cwd=ROOT, env=env)
        except OSError as e:
            LOG.error("the check worker %s could not start: %s", worker, e)
            return failed("could not start")
        try:
            result, code = _read(child, source, progress, seconds)
        finally:  # the page's rerun stops this thread with an exception: the worker must not outlive its check
            if child.poll() is None:
                child.kill()
                child.wait()
        errors.seek(0)
        stderr = errors.read(20_000).decode("utf-8", "replace")
    if code == "late":
        LOG.error("the check worker ran over %.0f s", seconds)
        return failed(f"took more than {seconds:.0f} s")
    if result is None or code != 0:
        LOG.error("the check worker exited with %s and no report; it wrote: %s", code, stderr)
        return failed(f"stopped without a report (exit status {code})" if result is None
                      else f"exited with status {code}")
    try:
        report = decode_report(result["report"], source)
    except Garbled as e:
        LOG.error("the check worker's report was garbled: %s", e)
        return failed(f"sent back a report in a form the page cannot read ({e})")
    report.worker_pid = result.get("pid")
    return report


def _read(child: subprocess.Popen, source: "Source", progress: Callable, seconds: float) -> tuple:
    """(the worker's report line or None, its exit status or "late"), its progress passed on as it comes."""
    from .worker import encode_source

    lines = _lines(child)
    try:
        child.stdin.write(json.dumps({"source": encode_source(source)}).encode("utf-8"))
        child.stdin.close()
    except OSError:  # it died before reading its job: what it wrote and its exit status say why
        pass
    end, result = time.monotonic() + seconds, None
    while result is None:
        try:
            line = lines.get(timeout=max(0.0, end - time.monotonic()))
        except queue.Empty:
            return None, "late"
        if line is None:  # its output ended without a report
            break
        try:
            said = json.loads(line)
        except (ValueError, RecursionError):
            said = None
        if not isinstance(said, dict):
            break
        step = said.get("progress")
        if isinstance(step, list) and len(step) == 2 and isinstance(step[0], str) and \
                isinstance(step[1], (int, float)):
            progress(step[0], float(step[1]))
        elif "report" in said:
            result = said
        else:
            break
    try:
        return result, child.wait(timeout=max(0.0, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None, "late"


def _lines(child: subprocess.Popen) -> "queue.Queue":
    """The child's standard output, line by line, on a queue; None when it ends (or a line is far too long)."""
    lines = queue.Queue()

    def read():
        for line in iter(lambda: child.stdout.readline(REPORT_BYTES), b""):
            if not line.endswith(b"\n"):
                break  # cut at REPORT_BYTES or at the end: not a whole line the worker wrote
            lines.put(line)
        lines.put(None)
        for _ in iter(lambda: child.stdout.read(1 << 16), b""):
            pass  # drain, so a worker still writing is never blocked on a full pipe

    threading.Thread(target=read, daemon=True, name="check-worker-output").start()
    return lines
