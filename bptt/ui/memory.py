"""The garbage collector, tuned for a server that reruns scripts all day.

Streamlit runs a full collection after every script run (runner.postScriptGC), fragment reruns
included. A full collection walks every object the process holds: after the first run that is
mostly streamlit's, plotly's and numpy's own modules (~70 ms of the ~95 ms a classroom click cost
the server), and later also every cached run and figure, so on a server that has seen many
configurations each click paid for a walk over all of them. .streamlit/config.toml turns that
off; instead

- freeze_once() moves what the first run imported into a generation no collection walks again,
  which makes Python's own full passes cheap too;
- collect_at_most_every() runs a full collection at the end of a full run when the last one is
  long enough ago, so cyclic garbage never piles up for long (the soak's memory stays flat).

    freeze_once(); collect_at_most_every(20.0)
"""

import gc
import threading
import time
from functools import cache

_last_collection = [time.monotonic()]
_lock = threading.Lock()


@cache
def freeze_once() -> int:
    """On the first call in this process: collect, then freeze every object left. Returns how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def collect_at_most_every(seconds: float) -> bool:
    """A full collection if the last one this function ran is at least `seconds` ago; whether it ran one."""
    with _lock:
        now = time.monotonic()
        if now - _last_collection[0] < seconds:
            return False
        _last_collection[0] = now
    gc.collect()
    return True
