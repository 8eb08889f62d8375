"""The audit hook cannot be switched off from what a refusal hands out (red team #4, issue 11).

A refused call's traceback holds the hook's own frame. Before, its f_locals gave out helper
functions whose closure cells and __code__ could be rewritten so the hook allowed everything.
Now the hook is one function whose every name is bound to an immutable value.
"""

import dis
import itertools
import subprocess
import sys
from pathlib import Path

from bptt.check import guard

ROOT = Path(__file__).resolve().parent.parent
IMMUTABLE = (str, bytes, int, bool, tuple, frozenset, slice, type(None), type(len), type(str.startswith),
             type(str.__contains__), itertools.count)  # what the hook's closure may hold

ATTACK = r'''
import os, socket, sys, types
sys.path.insert(0, sys.argv[1])
from bptt.check import guard
guard.install(os.getcwd(), (), 3)

def frames():
    """Every frame of guard.py a refusal's traceback hands out, whatever it is called."""
    try:
        open("/no/such/file", "rb")
    except PermissionError as e:
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith("guard.py"):
                yield tb.tb_frame
            tb = tb.tb_next

def rewrite(value, depth=0):
    """Rewrite whatever is writable in value: cells, __code__, list items, dict entries, attributes."""
    allow = (lambda *a, **k: True).__code__
    if isinstance(value, types.FunctionType):
        value.__code__ = allow
        for cell in value.__closure__ or ():
            cell.cell_contents = lambda *a, **k: True
    elif isinstance(value, list):
        value[:] = [-10 ** 9] * len(value)
    elif isinstance(value, dict):
        value.clear()
    elif isinstance(value, (tuple, frozenset)) and depth < 3:
        for item in value:
            rewrite(item, depth + 1)
    for name in ("__init__", "__new__"):
        try:
            setattr(value, name, lambda *a, **k: None)
        except (AttributeError, TypeError):
            pass

found = list(frames())
for frame in found:
    mine = [v for k, v in frame.f_globals.items() if k != "__builtins__" and not isinstance(v, types.ModuleType)]
    for value in list(frame.f_locals.values()) + mine:
        rewrite(value)
    frame.f_locals.clear()
for name in list(vars(guard)):
    if name.isupper():
        setattr(guard, name, ())
class Liar:
    """isinstance believes __class__: an open descriptor to the hook, a path to FileIO."""
    __class__ = property(lambda self: int)

    def __fspath__(self):
        return "/etc/hostname"

said = [f"frames: {len(found)}"]
for what, attempt in (("listing /", lambda: os.listdir("/")), ("reading", lambda: open("/etc/hostname").read()),
                      ("socket", lambda: socket.socket()), ("writing", lambda: open("/tmp/x-guard", "w")),
                      ("lying descriptor", lambda: __import__("io").FileIO(Liar()).read())):
    try:
        attempt()
        said.append(f"{what}: done")
    except PermissionError:
        said.append(f"{what}: refused")
for i in range(5):
    try:
        open(os.path.join(os.getcwd(), f"f{i}"), "w").close()
    except PermissionError:
        said.append(f"files: {i}")
        break
print(" | ".join(said))
'''


def test_nothing_a_refusal_hands_out_can_switch_the_hook_off(tmp_path):
    """Cells, __code__, lists, dicts and the module's tables rewritten from the hook's frame: still refused.

    And an object whose __class__ claims int is no open descriptor: FileIO opened its __fspath__.
    """
    out = subprocess.run([sys.executable, "-I", "-c", ATTACK, str(ROOT)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin"})
    said = out.stdout.strip()
    assert said.startswith("frames: 1") and "done" not in said, (said, out.stderr[-2000:])
    assert "files: 3" in said, said


def immutable(value, depth: int = 0) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return depth < 4 and all(immutable(item, depth + 1) for item in value)
    if isinstance(value, type):
        return not value.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE: a class written in Python can be changed
    return isinstance(value, IMMUTABLE)


def test_the_hook_holds_only_immutable_values_and_looks_up_no_global():
    hook = guard.hook("/tmp", ("/usr",), 200)
    held = {name: cell.cell_contents for name, cell in zip(hook.__code__.co_freevars, hook.__closure__)}
    assert [name for name, value in held.items() if not immutable(value)] == []
    lookups = [i.opname for i in dis.get_instructions(hook) if "GLOBAL" in i.opname or "NAME" in i.opname
               or i.opname in ("MAKE_FUNCTION", "LOAD_CLOSURE")]
    assert lookups == []
