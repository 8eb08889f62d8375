"""The child process: every hostile submission ends in a clear error, within limits, harming nothing."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bptt.check import Limits, check, engine, from_file, sandbox
from bptt.check.sandbox import load_arrays, load_meta, network_isolation, run as run_child

HOSTILE = Path(__file__).parent / "fixtures" / "submissions" / "hostile"
LIMITS = Limits(wall_s=2.5, cpu_s=2)
ROOT = Path(__file__).resolve().parent.parent


def run(name: str):
    path = HOSTILE / f"{name}.py"
    return check(from_file(path.name, path.read_bytes()), LIMITS)


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
    report = run(name)
    assert report.exit_code == 2
    assert report.error["kind"] == kind and words in report.error["message"], report.error
    assert report.seconds < LIMITS.wall_s + 2


def test_unbounded_recursion_is_stopped_by_a_limit():
    assert run("unlimited_recursion").error["kind"] in ("timeout", "memory", "runtime")


def test_the_child_sees_none_of_the_apps_environment(monkeypatch):
    monkeypatch.setenv("BPTT_TEST_SECRET", "hunter2")
    message = run("read_env").error["message"]
    assert "hunter2" not in message and "BPTT_TEST_SECRET" not in message
    assert message.startswith("RuntimeError: absent | HOME LANG")
    assert "parent environ refused" in message  # /proc/<parent>/environ is out of reach too


def test_writing_outside_the_temporary_folder_is_refused():
    target = Path("/tmp/bptt-check-escape.txt")
    target.unlink(missing_ok=True)
    report = run("write_outside")
    assert report.error["kind"] == "runtime" and "writing outside" in report.error["message"]
    assert not target.exists()


@pytest.mark.parametrize("name, words", [
    ("dir_fd_escape", "changing the working folder (os.chdir)"),
    ("proc_dir_fd", "relative file paths (tried 'root/tmp/bptt-check-secret.txt')"),
    ("symlink_out", "creating links (os.symlink)"),
])
def test_paths_that_resolve_elsewhere_than_the_guard_thinks_are_refused(name, words, tmp_path):
    """A relative path means what its dir_fd, working folder or link folder says, not what realpath says."""
    secret, escape = Path("/tmp/bptt-check-secret.txt"), Path("/tmp/bptt-check-escape.txt")
    secret.write_text("s3cr3t-token")
    secret.chmod(0o644)  # readable by `nobody`: only the guard stands in the way
    escape.unlink(missing_ok=True)
    try:
        report = run(name)
    finally:
        secret.unlink()
    assert report.error["kind"] == "runtime" and words in report.error["message"], report.error
    assert "s3cr3t-token" not in report.error["message"]
    assert not escape.exists()


def test_forged_pickled_results_are_never_unpickled():
    marker = Path("/tmp/bptt-check-unpickled")
    marker.unlink(missing_ok=True)
    report = run("forged_pickle")
    assert report.error["kind"] == "output" and "not plain numbers" in report.error["message"]
    assert not marker.exists()


def test_a_segfault_still_names_the_students_line():
    report = run("raw_segfault")
    assert report.source.code.split("\n")[report.error["line"] - 1].strip() == "faulthandler._sigsegv()"


def test_no_process_can_be_started_once_the_limits_are_set():
    """RLIMIT_NPROC, the OS layer under the audit hook: a fork that got past the hook still fails."""
    script = (
        "import os, sys; sys.path.insert(0, 'bptt/check'); from harness import drop_privileges\n"
        "drop_privileges(65534, 65534)\n"
        "try:\n    pid = os.fork()\nexcept BlockingIOError:\n    print('refused')\nelse:\n"
        "    os._exit(0) if pid == 0 else print('forked')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "refused", out.stderr


def test_the_server_keeps_serving_while_a_check_times_out():
    """A runaway check blocks only its own caller: another check runs to completion meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    good = Path(__file__).parent / "fixtures" / "submissions" / "correct" / "rnn_course_style.py"
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(run, "infinite_loop")
        fast = pool.submit(check, from_file(good.name, good.read_bytes()))
        assert fast.result().exit_code == 0
        assert slow.result().error["kind"] == "timeout"


def _npz(tmp_path, **arrays) -> Path:
    path = tmp_path / "r.npz"
    np.savez(path, **arrays)
    return path


def test_results_reader_accepts_plain_numbers(tmp_path):
    arrays = load_arrays(str(_npz(tmp_path, a=np.arange(6).reshape(2, 3), b=np.ones(2, dtype=np.float32))), 1 << 20)
    assert arrays["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and arrays["b"].dtype == np.float64


def test_results_reader_refuses_object_arrays_without_unpickling(tmp_path):
    with pytest.raises(ValueError, match="not plain numbers"):
        load_arrays(str(_npz(tmp_path, a=np.array([{"x": 1}], dtype=object))), 1 << 20)


def test_results_reader_refuses_a_header_that_claims_more_than_it_holds(tmp_path):
    """A forged header declaring a huge shape must not make the parent allocate it."""
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    member.write(np.zeros(4).tobytes())
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.npy", member.getvalue())
    with pytest.raises(ValueError, match="declares more data than it holds"):
        load_arrays(str(path), 1 << 20)


def test_results_reader_refuses_too_much_data(tmp_path):
    with pytest.raises(ValueError, match="larger than allowed"):
        load_arrays(str(_npz(tmp_path, a=np.zeros(100_000))), 1 << 16)


@pytest.mark.parametrize("make", ["symlink", "fifo", "directory"])
@pytest.mark.parametrize("load", [lambda p: load_arrays(p, 1 << 20), load_meta])
def test_results_reader_reads_only_regular_files(make, load, tmp_path):
    """The child owns its folder: a results file it turned into a link must not make the parent read another file."""
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": "s3cr3t-token"}')
    path = tmp_path / "results"
    {"symlink": lambda: path.symlink_to(secret), "fifo": lambda: os.mkfifo(path), "directory": path.mkdir}[make]()
    with pytest.raises(ValueError, match="not a regular file"):
        load(str(path))


def test_a_results_link_left_by_the_child_ends_in_an_output_error(monkeypatch, tmp_path):
    """End to end: the child's results.json is a link to a file the parent can read; the report says so instead."""
    secret = tmp_path / "secret.json"
    secret.write_text('{"probes": [], "stdout": "s3cr3t-token"}')
    real_popen = subprocess.Popen
    network_isolation()  # cached now: the patched Popen below stands only for the child

    def popen(args, cwd, **kwargs):  # stands in for a child that got past the guard
        script = f"import os, numpy; numpy.savez('results.npz'); os.symlink({str(secret)!r}, 'results.json')"
        return real_popen([sys.executable, "-c", script], cwd=cwd, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    outcome = run_child("def rnn_backward(da, caches):\n    return {}\n", {}, {"probes": []}, LIMITS)
    assert outcome.error["kind"] == "output" and "results.json is a link" in outcome.error["message"], outcome.error
    assert outcome.meta == {}


@pytest.mark.parametrize("written", ["Infinity", "NaN", '"many"'])
def test_a_tampered_results_number_is_an_output_error_not_a_traceback(written, monkeypatch, tmp_path):
    """results.json is the child's to write: JSON's Infinity reaches int() as float('inf')."""
    path = tmp_path / "results.json"
    path.write_text('{"stdout_chars": %s, "probes": []}' % written)
    monkeypatch.setattr(engine.sandbox, "run", lambda *args: sandbox.Outcome({}, load_meta(str(path))))
    report = check(from_file("hw.py", b"def rnn_backward(da, caches):\n    return {}\n"))
    assert report.exit_code == 2
    assert report.error["kind"] == "output" and "malformed" in report.error["message"], report.error


@pytest.mark.skipif(os.environ.get("BPTT_CHECK_WRAPPER") is not None, reason="a wrapper replaces unshare")
def test_the_child_has_no_network_namespace_route_when_unshare_is_available():
    prefix = network_isolation()
    if not prefix:
        pytest.skip("unshare -n is not permitted here; the audit hook still refuses sockets")
    out = subprocess.run([*prefix, sys.executable, "-c", "import socket; print(socket.if_nameindex())"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[(1, 'lo')]"
