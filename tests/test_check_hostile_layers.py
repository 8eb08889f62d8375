"""The operating system's layers alone, with no audit hook at all: what code past the guard still meets (issue 11).

Red team #6, #9 and #10 switched the hook off and found, under unshare and limits, other checks'
processes and folders, abstract unix sockets and 127.0.0.1 shared between checks, files left in
/run/lock, and under bubblewrap 20 000 empty files in a /tmp bounded only in bytes. Here a plain
script runs under each layer's own prefix (sandbox.prefix), as the check's own uid, with no hook:
the layers that promise to keep checks apart must do it by themselves.
"""

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from bptt.check import Limits, sandbox

NAME = "bptt-hostile-layers"
PORT = 47_322
SCRIPT = r'''
import json, os, socket, sys, time
uid, gid, role, name, port = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
if os.getuid() == 0:
    os.setgroups([]); os.setgid(gid); os.setuid(uid)
if role == "first":
    unix = socket.socket(socket.AF_UNIX); unix.bind(b"\0" + name.encode()); unix.listen(1)
    tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port)); tcp.listen(1)
    open(os.path.join(os.getcwd(), name), "w").close()
    print("ready", flush=True)
    time.sleep(6)
    sys.exit(0)
said = {}
for family, address in ((socket.AF_UNIX, b"\0" + name.encode()), (socket.AF_INET, ("127.0.0.1", port))):
    try:
        s = socket.socket(family); s.settimeout(1); s.connect(address); said[family.name] = "met"
    except OSError:
        said[family.name] = "alone"
others = []
for pid in os.listdir("/proc"):
    try:
        if pid.isdigit() and int(pid) != os.getpid() and b"\0first\0" in open(f"/proc/{pid}/cmdline", "rb").read():
            others.append(pid)
    except OSError:
        pass
said["others"] = others
said["reached"] = []
for pid in others:  # a neighbour's job (its code) on fd 0, its environment, its memory, its results pipe
    for what in ("fd/0", "environ", "mem"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                f.read(100)
            said["reached"].append(f"{what} of {pid}")
        except OSError:
            pass
    for fd in range(3, 12):
        try:
            os.write(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY), b"garbage")
            said["reached"].append(f"fd {fd} of {pid}")
        except OSError:
            pass
said["folders"] = []
for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    try:
        inner = [os.path.join(folder, d) for d in os.listdir(folder) if d.startswith("bptt-check-")]
    except OSError:
        inner = []
    if any(os.path.exists(os.path.join(f, name)) for f in [folder, *inner]):
        said["folders"].append(folder)
made = 0
try:
    for made in range(1, 20_001):
        os.close(os.open(os.path.join(os.getcwd(), f"f{made}"), os.O_CREAT | os.O_WRONLY, 0o600))
    made += 1
except OSError:
    pass
said["made"] = made - 1
said["left"] = []
for folder in ("/run/lock", "/var/lock", "/var/tmp", "/dev/shm", "/dev/mqueue"):
    try:
        open(os.path.join(folder, name), "w").close()
        said["left"].append(folder)
    except OSError:
        pass
print(json.dumps(said), flush=True)
'''


@pytest.fixture(params=[level for level in sandbox.LEVELS if level != "limits"])
def layer(request, monkeypatch):
    """Only the layers that promise to keep checks apart on their own: bubblewrap, and unshare as root."""
    monkeypatch.setenv(sandbox.ISOLATION_VARIABLE, request.param)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    found = sandbox.isolation()
    if found.level != request.param:
        pytest.skip(f"{request.param} is not available on this machine")
    if found.level == "unshare" and not sandbox._in_own_tmp(found):
        pytest.skip("unshare without private mounts (not root): docs/CHECK.md says what it does not stop")
    return found


@pytest.fixture(params=sandbox.LEVELS)
def any_layer(request, monkeypatch):
    """Every layer, the limits alone too: as root, the check's own uid keeps neighbours apart under any of them."""
    monkeypatch.setenv(sandbox.ISOLATION_VARIABLE, request.param)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    found = sandbox.isolation()
    if found.level != request.param:
        pytest.skip(f"{request.param} is not available on this machine")
    if found.level != "bubblewrap" and os.getuid() != 0:
        pytest.skip("without bubblewrap and without root, checks share one user: docs/CHECK.md says so")
    return found


def start(layer, limits: Limits, role: str, stack: contextlib.ExitStack) -> subprocess.Popen:
    uid, gid = stack.enter_context(sandbox._own_user())
    folder = stack.enter_context(sandbox._private_folder(uid, gid))
    own = sandbox._in_own_tmp(layer)
    argv = [*sandbox.prefix(layer, limits, folder, uid, gid), sandbox.interpreter(), "-I", "-S", "-c", SCRIPT,
            str(uid), str(gid), role, NAME, str(PORT)]
    process = subprocess.Popen(argv, cwd=None if own else folder, env=sandbox.minimal_environment(folder),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    stack.callback(lambda: (sandbox._kill_group(process.pid), process.wait()))
    return process


def leftovers() -> list:
    return [str(p) for p in (Path(f) / NAME for f in sandbox.SHARED_FOLDERS) if p.exists()]


def remove_leftovers() -> None:
    for path in leftovers():
        Path(path).unlink(missing_ok=True)  # /var/lock is /run/lock


def run_pair(layer, limits: Limits) -> dict:
    """What the second of two checks running at once reached, the first holding its sockets and a file.

    "outlived" is what it left in the machine's shared folders (then removed: no sweep runs here).
    """
    remove_leftovers()
    try:
        with contextlib.ExitStack() as stack:
            first = start(layer, limits, "first", stack)
            assert first.stdout.readline().strip() == "ready", first.stderr.read()
            second = start(layer, limits, "second", stack)
            out, err = second.communicate(timeout=60)
        lines = out.strip().splitlines()
        assert lines, err[-2000:]
        return {**json.loads(lines[-1]), "outlived": leftovers()}
    finally:
        remove_leftovers()


def test_with_no_hook_two_checks_cannot_meet_see_each_other_or_leave_files_behind(layer):
    said = run_pair(layer, Limits())
    assert said["AF_UNIX"] == "alone" and said["AF_INET"] == "alone", said
    assert said["others"] == [] and said["folders"] == [] and said["left"] == [] and said["outlived"] == [], said


def test_with_no_hook_a_check_cannot_create_more_files_than_its_limit(layer):
    """Empty files take no bytes of a tmpfs: the kernel's inode bound on the check's /tmp stops them."""
    if layer.level == "bubblewrap" and os.getuid() != 0:
        pytest.skip("as an ordinary user bubblewrap's /tmp is bounded in bytes only: docs/CHECK.md says so")
    limits = Limits()
    said = run_pair(layer, limits)
    assert 0 < said["made"] <= limits.files, said


def test_with_no_hook_a_check_cannot_read_a_neighbours_job_memory_or_pipe(any_layer):
    """/proc/<pid>/fd/0 is a running check's job (its code), /mem its memory, /fd/N its results pipe."""
    said = run_pair(any_layer, Limits())
    assert said["reached"] == [], said
    if any_layer.level != "limits":
        assert said["others"] == [], said
    else:
        assert said["others"] != [], said  # in sight, out of reach: the test can fail
