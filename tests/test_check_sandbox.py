"""The child process: every hostile submission ends in a clear error, within limits, harming nothing, at every layer."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bptt.check import Limits, check, from_file, sandbox
from bptt.check.sandbox import network_isolation

SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"
HOSTILE = SUBMISSIONS / "hostile"
LIMITS = Limits(wall_s=2.5, cpu_s=2)  # for runaway code; everything else gets the defaults, room on a loaded machine
ROOT = Path(__file__).resolve().parent.parent


def run(name: str, limits: Limits = Limits(), folder: Path = HOSTILE):
    path = folder / f"{name}.py"
    return check(from_file(path.name, path.read_bytes()), limits)


@pytest.fixture(params=sandbox.LEVELS)
def layer(request, monkeypatch):
    """Each layer the machine offers, strongest first: a weaker one must still hold what it promises."""
    monkeypatch.setenv(sandbox.ISOLATION_VARIABLE, request.param)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    if sandbox.isolation().level != request.param:
        pytest.skip(f"{request.param} is not available on this machine")
    return request.param


@pytest.mark.parametrize("name, kind, words", [
    ("infinite_loop", "timeout", "loop that never ends"),
    ("long_sleep", "timeout", "or a sleep"),
    ("memory_bomb", "memory", "MemoryError"),
    ("fork_bomb", "runtime", "starting new processes"),
    ("deep_recursion", "runtime", "RecursionError"),
    ("open_socket", "runtime", "network"),
    ("print_100mb", "output", "printed 100,000,001 characters"),
    ("object_arrays", "output", "dtype object"),
    ("sys_exit", "runtime", "sys.exit(3)"),
    ("os_exit", "runtime", "os._exit"),
    ("ctypes_segfault", "runtime", "ctypes"),
    ("raw_segfault", "runtime", "segmentation fault"),
])
def test_hostile_code_gets_a_clear_error_of_the_right_kind(name, kind, words):
    limits = LIMITS if kind == "timeout" else Limits()
    report = run(name, limits)
    assert report.exit_code == 2
    assert report.error["kind"] == kind and words in report.error["message"], report.error
    assert report.seconds < limits.wall_s + 2


@pytest.mark.parametrize("folder, name, status, kind", [
    (SUBMISSIONS / "correct", "rnn_course_style", 0, None),
    (SUBMISSIONS / "bugs", "missing-da-t", 1, None),
    # a CS231n file that starts `from __future__ import ...`: a module Python finds only in its own folder
    (Path(__file__).parent / "corpus_cs231n", "bug_no_dprev_h_skeleton", 1, None),
    (HOSTILE, "long_sleep", 2, "timeout"),
    (HOSTILE, "raw_segfault", 2, "runtime"),
    (HOSTILE, "os_exit", 2, "runtime"),
])
def test_every_layer_gives_the_same_verdicts(layer, folder, name, status, kind):
    report = run(name, LIMITS if kind == "timeout" else Limits(), folder)
    assert report.exit_code == status, report.error
    assert (report.error or {}).get("kind") == kind


def test_unbounded_recursion_is_stopped_by_a_limit():
    assert run("unlimited_recursion", LIMITS).error["kind"] in ("timeout", "memory", "runtime")


def test_the_child_sees_none_of_the_apps_environment(monkeypatch):
    monkeypatch.setenv("BPTT_TEST_SECRET", "hunter2")
    message = run("read_env").error["message"]
    assert "hunter2" not in message and "BPTT_TEST_SECRET" not in message
    assert message.startswith("RuntimeError: absent | HOME LANG")
    assert "parent environ refused" in message  # /proc/<parent>/environ is out of reach too


def test_writing_outside_the_temporary_folder_never_reaches_the_machines_tmp(layer):
    """Refused by the guard on disk; under bubblewrap and unshare's mounts /tmp is the check's own, gone with it."""
    target = Path("/tmp/bptt-check-escape.txt")
    target.unlink(missing_ok=True)
    report = run("write_outside")
    assert report.exit_code != 0
    if sandbox.working_folder(sandbox.isolation(), "on disk") != sandbox.SANDBOX_TMP:
        assert report.error["kind"] == "runtime" and "writing outside" in report.error["message"]
    assert not target.exists()


@pytest.mark.parametrize("name, words", [
    ("dir_fd_escape", "changing the working folder (os.chdir)"),
    ("proc_dir_fd", "relative file paths (tried 'root/tmp/bptt-check-secret.txt')"),
    ("symlink_out", "creating links (os.symlink)"),
])
def test_paths_that_resolve_elsewhere_than_the_guard_thinks_are_refused(name, words):
    """A relative path means what its dir_fd, working folder or link folder says, not what realpath says."""
    secret, escape = Path("/tmp/bptt-check-secret.txt"), Path("/tmp/bptt-check-escape.txt")
    secret.write_text("s3cr3t-token")
    secret.chmod(0o644)  # readable by anyone: only the guard and the sandbox stand in the way
    escape.unlink(missing_ok=True)
    try:
        report = run(name)
    finally:
        secret.unlink()
    assert report.error["kind"] == "runtime" and words in report.error["message"], report.error
    assert "s3cr3t-token" not in report.error["message"]
    assert not escape.exists()


def test_a_replaced_savez_writing_pickles_changes_nothing():
    """The results never travel as .npz any more: the pickle is never written, let alone loaded."""
    marker = Path("/tmp/bptt-check-unpickled")
    marker.unlink(missing_ok=True)
    report = run("forged_pickle")
    assert report.exit_code in (1, 2) and not report.ok
    assert not marker.exists()


def test_a_segfault_still_names_the_students_line():
    report = run("raw_segfault")
    assert report.source.code.split("\n")[report.error["line"] - 1].strip() == "faulthandler._sigsegv()"


def test_no_process_can_be_started_once_the_limits_are_set():
    """RLIMIT_NPROC, the OS layer under the audit hook: a fork that got past the hook still fails."""
    script = (
        "import os, sys; sys.path.insert(0, 'bptt/check'); from harness import drop_privileges\n"
        f"drop_privileges({sandbox.UIDS[-1]}, {sandbox.UIDS[-1]})\n"
        "try:\n    pid = os.fork()\nexcept BlockingIOError:\n    print('refused')\nelse:\n"
        "    os._exit(0) if pid == 0 else print('forked')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "refused", out.stderr


def test_the_server_keeps_serving_while_a_check_times_out():
    """A runaway check blocks only its own caller: another check runs to completion meanwhile."""
    good = SUBMISSIONS / "correct" / "rnn_course_style.py"
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(run, "infinite_loop", LIMITS)
        fast = pool.submit(check, from_file(good.name, good.read_bytes()))
        assert fast.result().exit_code == 0
        assert slow.result().error["kind"] == "timeout"


def test_a_check_that_fills_its_folder_is_stopped_and_leaves_nothing(layer):
    """A thousand 1 MB files and chmod 000 folders: the disk quota or the file count stops it, and it is all removed."""
    report = run("many_files")
    assert report.exit_code == 2, report.error
    assert any(words in report.error["message"] for words in
               ("No space left", "at most 200 files", "more than the 32 MB")), report.error
    assert not list(Path(sandbox.tempfile.gettempdir()).glob("bptt-check-*/locked*"))


def test_removing_a_folder_opens_chmod_000_folders_and_follows_no_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    outside.chmod(0o755)
    tree = tmp_path / "check"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "file").write_text("x")
    (tree / "up").symlink_to(outside)
    (tree / "a" / "b").chmod(0)
    (tree / "a").chmod(0)
    sandbox.remove_tree(str(tree))
    assert not tree.exists()
    assert (outside / "keep.txt").read_text() == "keep" and stat.S_IMODE(outside.stat().st_mode) == 0o755


def test_the_isolation_in_force_is_named_in_one_sentence(monkeypatch):
    monkeypatch.delenv(sandbox.ISOLATION_VARIABLE, raising=False)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    layer = sandbox.isolation()
    assert layer.level in sandbox.LEVELS and layer.description.startswith("Each check runs")
    if sandbox.shutil.which("bwrap"):
        assert layer.level == "bubblewrap" and "bubblewrap sandbox" in layer.description


def test_without_bubblewrap_the_sentence_says_so_and_the_next_layer_runs(monkeypatch):
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    monkeypatch.delenv(sandbox.ISOLATION_VARIABLE, raising=False)
    monkeypatch.setattr(sandbox, "_bubblewrap_problem", lambda root: "bubblewrap is not installed here (the Debian "
                        "package bubblewrap)")
    sandbox._isolation.cache_clear()
    try:
        layer = sandbox.isolation()
        assert layer.level == ("unshare" if network_isolation() else "limits")
        assert layer.description.startswith("bubblewrap is not installed here (the Debian package bubblewrap). Each")
        assert run("missing-da-t", folder=SUBMISSIONS / "bugs").exit_code == 1
    finally:
        sandbox._isolation.cache_clear()


def test_an_administrators_wrapper_is_used_and_named(monkeypatch, tmp_path):
    mark = tmp_path / "wrapped"
    wrapper = tmp_path / "wrap.sh"
    wrapper.write_text(f'#!/bin/sh\ntouch {mark}\nexec "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv(sandbox.WRAPPER_VARIABLE, f"{wrapper}")
    layer = sandbox.isolation()
    assert layer.level == "wrapper" and str(wrapper) in layer.description
    assert run("missing-da-t", folder=SUBMISSIONS / "bugs").exit_code == 1
    assert mark.exists()


@pytest.mark.skipif(os.getuid() != 0 or not sandbox.shutil.which("bwrap"), reason="root's uid switch, with bwrap")
def test_a_wrapper_that_leaves_root_unable_to_step_down_runs_nothing(monkeypatch):
    """bubblewrap with a user namespace as root maps only uid 0: the code must not run as that root.

    The app's own folder is bound back over the empty /tmp: a checkout under /tmp (a worktree)
    otherwise has no harness to start, and the child ends with Python's own exit status 2.
    """
    monkeypatch.setenv(sandbox.WRAPPER_VARIABLE, "bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp "
                       f"--ro-bind {ROOT} {ROOT} --bind {{workdir}} {{workdir}} --unshare-all --die-with-parent "
                       "--new-session --")
    report = run("write_outside")
    assert report.exit_code == 2 and "could not give your code its own user id" in report.error["message"]


@pytest.mark.skipif(os.environ.get("BPTT_CHECK_WRAPPER") is not None, reason="a wrapper replaces unshare")
def test_the_child_has_no_network_namespace_route_when_unshare_is_available():
    prefix = network_isolation()
    if not prefix:
        pytest.skip("unshare -n is not permitted here; the audit hook still refuses sockets")
    out = subprocess.run([*prefix, sys.executable, "-c", "import socket; print(socket.if_nameindex())"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[(1, 'lo')]"
