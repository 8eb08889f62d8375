"""freeze_once: what exists at the first call leaves the collector's generations; what comes later does not."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import gc
from bptt.ui.memory import freeze_once

def tracked(obj):
    return any(o is obj for o in gc.get_objects())  # the generations a collection walks

old = [[] for _ in range(3)]
assert tracked(old)
assert freeze_once() > 0
assert not tracked(old) and not tracked(old[0])  # frozen: no later collection walks it
new = []
assert tracked(new)
freeze_once()
assert tracked(new)  # a second call freezes nothing more: later garbage is still collected
print("ok")
"""


def test_freeze_once_takes_what_exists_out_of_every_collection_once():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_collect_at_most_every_frees_cyclic_garbage_and_then_waits():
    import gc
    import weakref

    from bptt.ui.memory import collect_at_most_every

    class Node:
        pass

    gc.disable()  # only this function may collect while the test runs
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only a collection frees it
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None
        assert collect_at_most_every(0.0)
        assert gone() is None
        assert not collect_at_most_every(3600.0)  # one just ran
    finally:
        gc.enable()
