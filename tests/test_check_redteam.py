"""The red team's attacks on the check (issue 11), each a submission in fixtures/submissions/redteam/.

Each one is written against the checker as it is, by someone who has read its code, and is not
covered by test_check_hostile*.py or test_check_sandbox.py. The contract, whatever the attack:
a wrong submission (the famous forum bug, da[:, :, t] never added) never gets ok / exit 0;
hostile code gets a clear error (exit 2, exactly one JSON object on stdout, no traceback) or
the right verdict; the parent stays small; two checks cannot reach each other.
"""

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bptt.check import Limits, check, from_file, from_text, sandbox

REDTEAM = Path(__file__).parent / "fixtures" / "submissions" / "redteam"
ROOT = Path(__file__).resolve().parent.parent


def run(name: str, limits: Limits = Limits()):
    path = REDTEAM / f"{name}.py"
    return check(from_file(path.name, path.read_bytes()), limits)


def cli(name: str, timeout: float = 60) -> tuple:
    """(exit status, the one JSON object) of `python -m bptt check FILE --json`, a hang or a traceback failing."""
    try:
        out = subprocess.run([sys.executable, "-m", "bptt", "check", str(REDTEAM / f"{name}.py"), "--json"],
                             cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the check of {name} was still running after {timeout:g} s: the parent is not bounded")
    assert "Traceback" not in out.stdout + out.stderr, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, out.stdout[-2000:]
    return out.returncode, json.loads(lines[0])


def test_a_fake_fatal_error_cannot_cut_the_check_down_to_the_notebooks_example():
    """The child stops after a probe whose record shows MemoryError or exit; so did the parent, judging probe 1 alone.

    The fatal error sits in a function the parent never saw defined (a def in a class body made
    global), so it is no finding either: the memorised answer to the course example passed, and
    the summary said "on all 5 inputs, 1 of them drawn at random".
    """
    status, report = cli("truncate_probes")
    assert status in (1, 2) and report["ok"] is False, report["summary"]


def test_a_memory_error_in_the_run_with_the_course_cell_cannot_cut_the_check_short():
    """Plain top-level defs only: rnn_backward raises MemoryError on its second call (the run with the course's cell).

    The child stops after that probe; the parent stopped reading too, and never counts an error
    of that run ("loop"), so the memorised first probe alone passed.
    """
    status, report = cli("truncate_in_sight")
    assert status in (1, 2) and report["ok"] is False, report["summary"]


def test_a_padded_recording_costs_the_parent_no_more_than_a_normal_check():
    """450 000 empty call records and 15 000 tiny arrays, all within the channel's bounds: the parent must stay fast.

    compare.loop_run scanned every array of the run once per recorded call (calls x arrays).
    """
    status, report = cli("quadratic_parent", timeout=60)
    assert status in (1, 2) and report["ok"] is False


def test_the_guard_cannot_be_switched_off_from_its_own_traceback():
    """The hook's frame, reached from a refusal's traceback, must not hand out anything that changes its answers."""
    report = run("unhook_guard")
    assert report.exit_code == 2 and report.error["kind"] == "runtime", report.error
    message = report.error["message"]
    assert "listing /: done" not in message and "socket: done" not in message, message


def test_memory_files_do_not_let_a_check_hold_more_than_its_memory_limit():
    """os.memfd_create raises no audit event and RLIMIT_AS does not count the files' pages: 16 MB each, 20 000 fds."""
    limits = Limits()
    report = run("memfd_hoard", limits)
    assert report.exit_code == 2, report.error
    held = re.search(r"held (\d+) MB", report.error["message"])
    assert report.error["kind"] == "memory" or (held and int(held.group(1)) <= limits.memory_mb), report.error


@pytest.mark.xfail(strict=True, reason="by design (docs/CHECK.md, Grading integrity): the reference is within reach in "
                   "the child, so a file whose def is the famous bug but whose decorator calls the reference passes")
def test_a_decorator_that_calls_the_reference_does_not_pass_the_famous_bug():
    report = run("reference_behind_decorator")
    assert not report.ok


@pytest.fixture(params=sandbox.LEVELS)
def layer(request, monkeypatch):
    monkeypatch.setenv(sandbox.ISOLATION_VARIABLE, request.param)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    if sandbox.isolation().level != request.param:
        pytest.skip(f"{request.param} is not available on this machine")
    return request.param


def test_two_checks_at_once_cannot_talk_or_see_each_other(layer):
    """Two copies, guard switched off as in unhook_guard.py: an abstract unix socket, 127.0.0.1, /proc, /tmp."""
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: run("rendezvous"), range(2)))
    for report in reports:
        message = report.error["message"]
        assert "met" not in message, message
        assert "other checks seen: []" in message and "other folders seen: []" in message, message


def test_the_text_report_prints_no_terminal_control_sequences():
    """A teacher grading in a terminal: the student's message may not set the clipboard (OSC 52) or clear the screen."""
    out = subprocess.run([sys.executable, "-m", "bptt", "check", str(REDTEAM / "terminal_escapes.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out.stdout), repr(out.stdout)


@pytest.mark.parametrize("mode", [
    "liar", "moving", "float16", "complex", "bool", "structured", "zero-d", "reversed", "strided", "empty", "nan",
    "inf", "huge-int", "matrix", "masked", "memmap-like", "lying-dict", "odd-keys", "huge-dict",
])
def test_the_famous_bugs_gradients_in_any_odd_form_never_pass(mode):
    code = (REDTEAM / "odd_returns.py").read_text().replace('MODE = "plain"', f"MODE = {mode!r}")
    report = check(from_text(code))
    assert report.exit_code in (1, 2) and not report.ok, report.to_json()
    json.dumps(report.to_json())
    report.to_text()


@pytest.mark.parametrize("mode", [
    "huge-numbers", "wrong-types", "negative", "bool-cache", "cell-steps", "load-error", "stdout", "skipped",
])
def test_records_rewritten_in_the_child_before_the_harness_sends_them_never_pass(mode):
    code = (REDTEAM / "forged_records.py").read_text().replace('MODE = "huge-numbers"', f"MODE = {mode!r}")
    report = check(from_text(code))
    assert report.exit_code in (1, 2) and not report.ok, report.to_json()
    assert len(json.dumps(report.to_json())) < 1_000_000
    report.to_text()


def test_the_printed_output_kept_is_capped_in_the_parent_too():
    """The child's CappedText is the student's to edit: 1.5 MB of 'printed output' reached the report (and the page)."""
    code = (REDTEAM / "forged_records.py").read_text().replace('MODE = "huge-numbers"', 'MODE = "stdout"')
    limits = Limits()
    report = check(from_text(code), limits)
    assert len(report.stdout) <= limits.output_keep


@pytest.mark.parametrize("mode", [
    "alarm", "scribble", "mutate", "finalizer", "exit-in-handler", "keyboard-at-load", "generator-exit-at-load",
    "atexit-thread",
])
def test_signals_finalizers_and_threads_aimed_at_the_harnesss_frame_never_pass(mode):
    code = (REDTEAM / "interrupts.py").read_text().replace('MODE = "alarm"', f"MODE = {mode!r}")
    report = check(from_text(code))
    assert report.exit_code in (1, 2) and not report.ok, report.to_json()
    if report.exit_code == 1:  # the famous bug's own verdict
        assert report.divergence.function == "rnn_backward"
    json.dumps(report.to_json())


def test_a_neighbour_past_the_guard_cannot_read_another_checks_code_memory_or_pipe(layer):
    """/proc/<pid>/fd/0 is a running check's job (its code), /mem its memory, /fd/N its results pipe."""
    if layer != "bubblewrap" and os.getuid() != 0:
        pytest.skip("without bubblewrap and without root, checks share one user: docs/CHECK.md says so")
    victim = Path(__file__).parent / "fixtures" / "submissions" / "hostile" / "slow_correct.py"
    with ThreadPoolExecutor(2) as pool:
        honest = pool.submit(check, from_file(victim.name, victim.read_bytes()))
        time.sleep(0.2)
        attacker = pool.submit(run, "steal_neighbours_job")
        assert honest.result().exit_code == 0, honest.result().error
        message = attacker.result().error["message"]
        # the guard now holds (its switch-off fails: the listing is refused), or, past it, nothing was reached;
        # tests/test_check_hostile_layers.py runs the same reads under each layer with no guard at all
        assert "reached: []" in message or "the checker does not allow" in message, attacker.result().error


def test_the_parent_holds_a_small_multiple_of_the_largest_frame():
    """56 MB of extra arrays, under the 64 MB the parent reads: its peak stays within three times that."""
    driver = (
        "from pathlib import Path; from bptt.check import check, from_file\n"
        f"p = Path({str(REDTEAM / 'big_frame.py')!r})\n"
        "kb = lambda key: int(next(l for l in open('/proc/self/status') if l.startswith(key)).split()[1])\n"
        "before = kb('VmRSS')  # not ru_maxrss: after vfork and exec it keeps the forking process's peak\n"
        "report = check(from_file(p.name, p.read_bytes()))\n"
        "print(report.exit_code, (kb('VmHWM') - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", driver], cwd=ROOT, capture_output=True, text=True, timeout=120)
    status, grown_mb = map(int, out.stdout.split())
    assert status == 1 and grown_mb < 3 * Limits().results_mb, (status, grown_mb)


def test_a_check_past_the_guard_cannot_create_more_files_than_its_limit(layer):
    """Empty files cost a tmpfs no bytes: under bubblewrap the file count was the guard's alone."""
    limits = Limits()
    report = run("inode_fill", limits)
    assert report.exit_code == 2, report.error
    made = re.search(r"made (\d+) files", report.error["message"])
    assert made is None or int(made.group(1)) <= limits.files, report.error


def test_nothing_a_check_writes_outlives_it_in_any_world_writable_folder(layer):
    """/tmp, /var/tmp and /dev/shm are swept for the check's uid; /run/lock was not."""
    left = [Path(folder) / "bptt-redteam-left-behind" for folder in ("/run/lock", "/var/lock", "/tmp", "/var/tmp",
                                                                      "/dev/shm", "/dev/mqueue")]
    for path in left:
        path.unlink(missing_ok=True)
    try:
        report = run("left_behind")
        assert report.exit_code == 2, report.error
        assert [str(p) for p in left if p.exists()] == [], report.error
    finally:
        for path in left:
            path.unlink(missing_ok=True)
