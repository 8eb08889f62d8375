"""The separate process a submission runs in, its limits, and reading its results back safely.

The child gets a fresh temporary folder as its working directory, a minimal environment (none
of the app's variables), a wall-clock limit enforced here and CPU, memory and file-size limits
it sets on itself before importing anything (harness.py). As root it drops to `nobody`; it
then cannot start a single process. Where `unshare -n` works it has no network at all.
Results come back as an .npz of plain numbers, checked member by member before any array is
built, and a size-capped JSON file. Nothing from the child is ever unpickled.
"""

import errno
import functools
import json
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
WRAPPER_VARIABLE = "BPTT_CHECK_WRAPPER"  # e.g. a bubblewrap command line; see docs/CHECK.md
SIGNALS = {signal.SIGSEGV: "a segmentation fault", signal.SIGBUS: "a bus error", signal.SIGILL: "an illegal "
           "instruction", signal.SIGABRT: "an abort", signal.SIGFPE: "a floating-point exception"}


@dataclass(frozen=True)
class Limits:
    """What one check may use. Limits(wall_s=2) for tests of runaway code."""

    wall_s: float = 10.0  # seconds of real time, sleeping included
    cpu_s: int = 10  # seconds of CPU time
    memory_mb: int = 512  # address space; numpy itself needs ~150 MB, the course's arrays a few kB
    file_mb: int = 16  # largest file the child may write, results included
    output_keep: int = 20_000  # characters of the student's printed output shown back
    output_limit: int = 1_000_000  # printing more than this many characters is an error
    results_mb: int = 64  # largest total of result arrays read back


@dataclass(frozen=True)
class Outcome:
    """What came back from the child: results, or why there are none."""

    arrays: dict = field(default_factory=dict)  # flat name -> float64 array
    meta: dict = field(default_factory=dict)  # the harness's JSON facts
    error: dict | None = None  # {"kind", "message", "line"} when the child failed as a whole
    stderr: str = ""
    seconds: float = 0.0


def sandbox_ids() -> tuple:
    """(uid, gid) the child runs as when the app runs as root."""
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


@functools.lru_cache(maxsize=1)
def network_isolation() -> tuple:
    """The command prefix that gives the child no network, or () where the system does not allow it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        ok = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return ()
    return (unshare, "-n") if ok else ()


def minimal_environment(workdir: str) -> dict:
    """Only what Python and numpy need; none of the app's variables."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def command(workdir: str, limits: Limits) -> list:
    python = [sys.executable, "-I", "-B", HARNESS, workdir, str(limits.memory_mb), str(limits.cpu_s),
              str(limits.file_mb)]
    wrapper = os.environ.get(WRAPPER_VARIABLE, "").strip()
    if wrapper:
        return [part.replace("{workdir}", workdir) for part in shlex.split(wrapper)] + python
    return [*network_isolation(), *python]


def run(code: str, probe_arrays: dict, job: dict, limits: Limits = Limits()) -> Outcome:
    """Run the harness on `code` in a fresh folder and read back what it wrote.

    outcome = run(source.code, arrays, {"probes": [...]}); outcome.error or outcome.arrays
    """
    workdir = tempfile.mkdtemp(prefix="bptt-check-")
    uid, gid = sandbox_ids()
    started = time.monotonic()
    try:
        with open(os.path.join(workdir, "submission.py"), "w", encoding="utf-8") as f:
            f.write(code)
        np.savez(os.path.join(workdir, "probes.npz"), **probe_arrays)
        job = {**job, "uid": uid, "gid": gid, "output_keep": limits.output_keep, "output_limit": limits.output_limit}
        with open(os.path.join(workdir, "job.json"), "w") as f:
            json.dump(job, f)
        if os.getuid() == 0:
            os.chown(workdir, uid, gid)  # the child, once it is nobody, writes its results here
        os.chmod(workdir, 0o700)
        stdout_path, stderr_path = os.path.join(workdir, "stdout.txt"), os.path.join(workdir, "stderr.txt")
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            process = subprocess.Popen(
                command(workdir, limits), cwd=workdir, env=minimal_environment(workdir), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True, close_fds=True,
            )
            timed_out = False
            try:
                process.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process.pid)
                process.wait()
        stderr = _read_text(stderr_path, limits.output_keep)
        seconds = time.monotonic() - started
        error = _process_error(process.returncode, timed_out, limits, stderr)
        if error is None:
            try:
                arrays = load_arrays(os.path.join(workdir, "results.npz"), limits.results_mb << 20)
                meta = load_meta(os.path.join(workdir, "results.json"))
            except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError) as e:
                return Outcome(error=_unreadable(e), stderr=stderr, seconds=seconds)
            return Outcome(arrays, meta, None, stderr, seconds)
        return Outcome(error=error, stderr=stderr, seconds=seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the child leads its own session: this ends anything it left behind
    except (ProcessLookupError, PermissionError):
        pass


def open_regular(path: str):
    """A binary file object for `path`, only if it is a regular file: never a link or a FIFO the child left.

    The child owns the folder: it could replace results.json with a link to a file only the app may read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO must not block the parent
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{os.path.basename(path)} is a link, not a regular file") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{os.path.basename(path)} is not a regular file")
    return os.fdopen(fd, "rb")


def _read_text(path: str, limit: int) -> str:
    try:
        with open_regular(path) as f:
            return f.read(limit).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


def _process_error(returncode: int, timed_out: bool, limits: Limits, stderr: str) -> dict | None:
    """The error of a child that did not finish normally, in the report's terms; None when it did."""
    line = _faulthandler_line(stderr)
    if timed_out:
        return {"kind": "timeout", "message": f"your code ran longer than the {limits.wall_s:g} s allowed: look for a "
                "loop that never ends, or a sleep.", "line": line}
    if returncode == -signal.SIGXCPU:
        return {"kind": "timeout", "message": f"your code used more than {limits.cpu_s} s of CPU time: look for a "
                "loop that never ends.", "line": line}
    if returncode == -signal.SIGKILL:
        return {"kind": "memory", "message": "the checker's process was killed, most likely for using too much "
                f"memory (the limit is {limits.memory_mb} MB).", "line": line}
    if returncode == -signal.SIGXFSZ:
        return {"kind": "output", "message": f"your code wrote a file larger than {limits.file_mb} MB.", "line": line}
    if returncode < 0:
        name = SIGNALS.get(-returncode, f"signal {-returncode}")
        return {"kind": "runtime", "message": f"the process running your code crashed with {name}. This happens "
                "with ctypes, with unlimited recursion, or with a bug in a native library.", "line": line}
    if returncode != 0:
        if "MemoryError" in stderr:
            return {"kind": "memory", "message": f"your code ran out of memory (the limit is {limits.memory_mb} MB).",
                    "line": line}
        return {"kind": "runtime", "message": f"the process running your code ended early with exit status "
                f"{returncode}: remove calls to sys.exit(), os._exit() or quit() from your functions.", "line": line}
    return None


def _faulthandler_line(stderr: str) -> int | None:
    """The student's innermost line in a faulthandler dump ('File "submission.py", line 12 in ...')."""
    for row in stderr.splitlines():
        if 'File "submission.py", line ' in row:
            try:
                return int(row.split('File "submission.py", line ')[1].split()[0])
            except (IndexError, ValueError):
                pass
    return None


def _unreadable(e: Exception) -> dict:
    if isinstance(e, FileNotFoundError):
        return {"kind": "runtime", "message": "your code ended the process before the check finished (os._exit(), "
                "or a crash in a native library): nothing came back. Remove such calls from your functions.",
                "line": None}
    message = f"the results that came back could not be read safely ({type(e).__name__}: {str(e)[:200]})."
    return {"kind": "output", "message": message, "line": None}


def load_arrays(path: str, max_bytes: int) -> dict:
    """Every member of an .npz as a float64 array, each header checked before its data is read.

    A member must be a plain .npy of numbers (no object dtype, so no pickles), its declared size
    must fit the bytes actually stored, and the total must stay under max_bytes.
    """
    arrays, total = {}, 0
    with open_regular(path) as raw, zipfile.ZipFile(raw) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"unexpected member {info.filename!r}")
            total += info.file_size
            if total > max_bytes:
                raise ValueError("the results are larger than allowed")
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f, max_header_size=10_000)
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise ValueError(f"{info.filename} holds {dtype}, not plain numbers")
                count = int(np.prod(shape, dtype=np.int64))
                if count * dtype.itemsize > info.file_size:
                    raise ValueError(f"{info.filename} declares more data than it holds")
                data = f.read(count * dtype.itemsize)
            array = np.frombuffer(data, dtype=dtype, count=count)
            array = array.reshape(shape, order="F" if fortran else "C").astype(np.float64)
            arrays[info.filename[: -len(".npy")]] = array
    return arrays


def load_meta(path: str, max_bytes: int = 8 << 20) -> dict:
    with open_regular(path) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError("results.json is larger than allowed")
    meta = json.loads(data.decode("utf-8"))
    if not isinstance(meta, dict):
        raise ValueError("results.json does not hold an object")
    return meta
