"""A verdict no submission can forge, and checks that cannot see each other (issue 11).

Every forgery below is built on the famous forum bug (da[:, :, t] never added): the check must
still say "differs" (exit 1) or give a clear error (exit 2), never ok. Before the results came
back on the parent's pipe, the first three answered ok, exit 0.
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bptt.check import Limits, check, from_file, from_text, sandbox

HOSTILE = Path(__file__).parent / "fixtures" / "submissions" / "hostile"
ROOT = Path(__file__).resolve().parent.parent


def run(name: str, limits: Limits = Limits()):
    path = HOSTILE / f"{name}.py"
    return check(from_file(path.name, path.read_bytes()), limits)


@pytest.fixture(params=sandbox.LEVELS)
def layer(request, monkeypatch):
    monkeypatch.setenv(sandbox.ISOLATION_VARIABLE, request.param)
    monkeypatch.delenv(sandbox.WRAPPER_VARIABLE, raising=False)
    if sandbox.isolation().level != request.param:
        pytest.skip(f"{request.param} is not available on this machine")
    return request.param


def still_the_famous_bug(report) -> None:
    assert report.exit_code == 1 and not report.ok, report.error
    first = report.divergence
    assert (first.function, first.t, first.quantity) == ("rnn_backward", first.probe.T_x - 1, "da_next")


@pytest.mark.parametrize("name", [
    "forge_json_dump", "patch_json", "patch_numpy", "patch_os", "patch_sys", "patch_builtins", "patch_main",
    "patch_io",
])
def test_replacing_what_the_harness_uses_leaves_the_famous_bug_differing(name):
    """json, numpy, os, sys, builtins, __main__ and io replaced while the module loads: the writer was built before."""
    still_the_famous_bug(run(name))


@pytest.mark.parametrize("name", ["forge_results_files", "fake_results_exit0", "exit0_no_output"])
def test_results_left_in_the_folder_then_exit_0_are_never_read(name, layer):
    report = run(name)
    assert report.exit_code == 2 and report.error["kind"] == "runtime", report.error
    assert "nothing came back" in report.error["message"]


@pytest.mark.parametrize("name, words", [
    ("forge_frame", "do not carry this check's token"),
    ("forge_frame_at_load", "do not carry this check's token"),  # ahead of the harness's own frame
    ("forge_deep", "nested deeper than"),
    ("forge_huge_count", "more than the 64 MB allowed"),
])
def test_a_forged_frame_on_the_results_pipe_is_a_clear_error(name, words):
    report = run(name)
    assert report.exit_code == 2 and report.error["kind"] == "output", report.error
    assert words in report.error["message"]
    assert report.seconds < 5


def test_a_valid_frame_with_no_evidence_is_never_a_pass():
    """The token read out of its pipe at load: the frame is accepted, and the missing evidence fails it.

    Waits on the engine counting missing evidence as a failure (issue 10/11, the diagnosis side).
    """
    report = run("steal_token")
    assert not report.ok and report.exit_code in (1, 2), report.to_json()


def test_a_neighbour_that_kills_what_it_finds_leaves_the_victims_verdict_right(layer):
    """pidfd_open and pidfd_send_signal raise no audit event: only another uid or a pid namespace stops them."""
    if layer != "bubblewrap" and os.getuid() != 0:
        pytest.skip("without bubblewrap and without root, checks share one user: docs/CHECK.md says so")
    with ThreadPoolExecutor(2) as pool:
        attacker = pool.submit(run, "signal_neighbours")
        time.sleep(0.3)
        victim = pool.submit(run, "slow_correct")
        assert victim.result().exit_code == 0, victim.result().error
        assert not attacker.result().ok


def test_code_past_the_guard_cannot_see_read_write_or_signal_another_check(layer, tmp_path):
    """The OS layer alone: a stand-in for code that switched the guard off runs beside a real check."""
    if layer != "bubblewrap" and os.getuid() != 0:
        pytest.skip("without bubblewrap and without root, checks share one user: docs/CHECK.md says so")
    secret = _world_readable_secret()
    try:
        with ThreadPoolExecutor(1) as pool:
            victim = pool.submit(run, "slow_correct")
            time.sleep(0.3)
            said = _unguarded(layer, [str(secret), str(ROOT / "README.md")], tmp_path)
            assert victim.result().exit_code == 0, victim.result().error
    finally:
        secret.unlink()
    assert said["other checks killed"] == "[]" and said["other check folders entered"] == "[]", said
    assert said["other check folders written"] == "[]", said
    if layer == "bubblewrap":  # its own pid namespace and view of the files: nothing of the machine's is there
        assert said["other checks seen"] == "[]" and said["secrets read"] == "[]", said


@pytest.mark.parametrize("target", ["readme", "tmp"])
def test_every_path_to_the_apps_files_is_closed_inside_a_check(target, layer):
    """/proc/<pid>/root and /cwd, inherited descriptors, links, dir_fd and ctypes, from a real check."""
    secret = ROOT / "README.md" if target == "readme" else _world_readable_secret()
    try:
        code = (HOSTILE / "read_app_files.py").read_text().replace("/path/of/the/apps/secret", str(secret))
        report = check(from_text(code))
        content = secret.read_text()[:200]
    finally:
        if target == "tmp":
            secret.unlink()
    assert report.exit_code == 2 and report.error["kind"] == "runtime", report.error
    message = report.error["message"]
    assert "refused" in message and content[:40] not in message and content[-40:] not in message


def _world_readable_secret() -> Path:
    path = Path("/tmp") / f"bptt-app-secret-{secrets.token_hex(4)}"
    path.write_text(f"the app's secret {secrets.token_hex(16)}\n")
    path.chmod(0o644)  # any user may read it: only the check's view of the files hides it
    return path


def _unguarded(layer: str, paths: list, tmp_path: Path) -> dict:
    """What unguarded_neighbour.py could do, run in place of the harness under `layer`, in its own process."""
    package = tmp_path / "app" / "bptt"
    shutil.copytree(ROOT / "bptt", package, ignore=shutil.ignore_patterns("__pycache__"))
    script = package / "check" / "unguarded_neighbour.py"
    shutil.copy(HOSTILE / "unguarded_neighbour.py", script)
    driver = (
        "import sys; from bptt.check import sandbox\n"
        f"sandbox.HARNESS, sandbox.PACKAGE = {str(script)!r}, {str(package)!r}\n"
        f"out = sandbox.run({chr(10).join(paths)!r}, {{}}, {{'probes': []}}, sandbox.Limits(wall_s=8))\n"
        "print(out.stderr)\n"
    )
    env = {**os.environ, sandbox.ISOLATION_VARIABLE: layer}
    out = subprocess.run([sys.executable, "-c", driver], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    said = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    assert "secrets read" in said, out.stdout + out.stderr
    return said
