"""The line of checks in one app process: a few run at once, a bounded number wait, each knows its place.

A class submitting together would otherwise start ten children on two cores and ten analyses under
one interpreter lock, and every stepping session would stall (benchmarks/load.py). Both sizes are
settings: BPTT_CHECK_WORKERS (checks at once, default 2) and BPTT_CHECK_QUEUE (waiting, default 30).

    with LINE.turn(lambda place: print(f"you are {ordinal(place)} in line")):
        ...  # run the check
"""

import os
import threading
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator


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
