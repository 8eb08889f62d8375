"""The script the checker's child process runs: the student's functions on every probe, sent back on a pipe.

Started only by bptt/check/sandbox.py as
`python -I -S -B harness.py RESULTS_FD TOKEN_FD MEMORY_MB CPU_S FILE_MB [PATH...]`, its job
(the code, the probes, who to become) as one channel frame on stdin. It limits itself, reads
the job, imports what it needs, builds the writer of its results from functions captured before
any student code exists, drops root, installs the guard and loads the student's file. Only then
does it read this check's token from TOKEN_FD; it runs the probes and writes one frame, token
first, to RESULTS_FD, the write end of a pipe the parent reads. Nothing is written to a file the
parent reads back. What runs on each probe, and what is recorded, is probe_runs.py's.
"""

import os
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
UNSENDABLE = 86  # exit status when the results could not be written: the parent says so in plain words
UNSWITCHABLE = 87  # exit status when root could not become the check's own uid (a wrapper's user namespace)
MIN_OPEN_FILES = 16  # numpy's import and the harness hold at most 8 descriptors at once


def limit_self(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    """Memory, CPU time, file size, open files and core dumps, before anything else runs.

    A memory file (os.memfd_create raises no audit event) holds pages that belong to no address
    space until mapped, so RLIMIT_AS never counts them; each is at most file_mb (RLIMIT_FSIZE), and
    the open-file limit makes all of them together at most the memory limit once more.
    """
    open_files = max(MIN_OPEN_FILES, memory_mb // max(file_mb, 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))


def drop_privileges(uid: int, gid: int) -> None:
    """Root gives up its rights (the folder was handed to uid); then no process can be started at all.

    RLIMIT_NPROC does not bind root, so it is set after the switch; for any other user it binds
    as it is. 0 means even one fork or thread fails: a fork bomb ends at its first fork.
    """
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


if __name__ == "__main__":
    RESULTS_FD, TOKEN_FD = int(sys.argv[1]), int(sys.argv[2])
    limit_self(*(int(v) for v in sys.argv[3:6]))
    sys.path[:] = [ROOT, *sys.argv[6:]] + [p for p in sys.path if os.path.realpath(p or ".") != HERE]

import faulthandler  # noqa: E402  (the limits come first, on purpose)
import importlib  # noqa: E402

import numpy as np  # noqa: E402

from bptt.check import channel, guard  # noqa: E402
from bptt.check.probe_runs import Results, load_submission, run_probes  # noqa: E402

# __future__ too: a notebook's `from __future__ import division` is not skipped like other imports (it must stay first)
PRELOAD = ("__future__", "math", "copy", "random", "itertools", "functools", "collections", "operator", "time",
           "string", "re", "typing", "dataclasses", "warnings", "socket", "ctypes", "encodings.idna", "zipfile")
JOB_BYTES = 64 << 20  # the parent's job frame: the code (≤ 200 000 characters) and a few kB of probes


class CappedText:
    """A stdout that keeps the first `keep` characters and only counts the rest."""

    def __init__(self, keep: int):
        self.keep, self.parts, self.kept, self.total = keep, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        self.total += len(text)
        if self.kept < self.keep:
            self.parts.append(text[: self.keep - self.kept])
            self.kept += len(self.parts[-1])
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "".join(self.parts)


def read_job(fd: int) -> tuple:
    """(facts, arrays) of the parent's job frame on fd, read to its end."""
    chunks, size = [], 0
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
        size += len(chunk)
        if size > JOB_BYTES:
            raise SystemExit("the job is larger than the checker sends")
    bounds = channel.Bounds(header_bytes=JOB_BYTES, array_bytes=JOB_BYTES)
    return channel.decode(b"".join(chunks), channel.NO_TOKEN, bounds)


def load_probes(arrays: dict, job: dict) -> list:
    probes = []
    for spec in job["probes"]:
        prefix = spec["prefix"]
        if spec.get("notation") == "cs231n":  # the sibling homework's bare arrays, batch first
            probe = {key: arrays[prefix + key] for key in ("x", "h0", "Wx", "Wh", "b", "dh", "dc")}
        else:
            probe = {key: arrays[prefix + key] for key in ("x", "a0", "da", "dc")}
            probe["parameters"] = {n[len(prefix) + 2:]: v for n, v in arrays.items() if n.startswith(prefix + "p.")}
        probe.update({key: value for key, value in spec.items() if key != "prefix"})  # cell, and any flags
        probes.append(probe)
    return probes


def readable_roots() -> tuple:
    """Where the student's code may still read: Python's own files, numpy and the bptt package, not the app's folder."""
    return tuple(p for p in sys.path[1:] if p and os.path.isdir(p)) + (os.path.join(ROOT, "bptt"),)


def token_reader(fd: int):
    """read() -> this check's token, from functions captured now: a later `os.read = ...` cannot answer for it."""
    read, close, size = os.read, os.close, channel.TOKEN_BYTES

    def token() -> bytes:
        try:
            return read(fd, size)
        except OSError:
            return b""  # the student's code closed it: the frame then carries no valid token
        finally:
            try:
                close(fd)
            except OSError:
                pass

    return token


def main() -> None:
    facts, arrays = read_job(0)
    job, code = facts["job"], facts["code"]
    probes = load_probes(arrays, job)
    for module in PRELOAD:  # once the process is not root, Python's own folder may be out of reach
        importlib.import_module(module)
    # captured before any student code exists: replacing these names later changes nothing here
    send, token, leave, run = channel.writer(RESULTS_FD), token_reader(TOKEN_FD), os._exit, run_probes
    faulthandler.enable(file=sys.__stderr__)  # a segfault still names the student's line on stderr
    try:
        drop_privileges(facts["uid"], facts["gid"])
    except OSError as e:  # never run the student's code as a root that could not step down
        print(f"cannot become uid {facts['uid']}: {e}", file=sys.__stderr__, flush=True)
        leave(UNSWITCHABLE)
    guard.install(os.getcwd(), readable_roots(), facts["max_files"])
    stdout = CappedText(facts["output_keep"])
    sys.stdout = sys.stderr = stdout
    results = Results()
    with np.errstate(all="ignore"):
        ns = load_submission(code, results)
        secret = token()  # only now: whatever the student's module wrote into the pipe cannot carry it
        if ns is not None:
            run(ns, probes, results, lambda: stdout.total > facts["output_limit"])
    results.meta["stdout"] = stdout.text()
    results.meta["stdout_chars"] = stdout.total
    try:
        send(secret, results.meta, results.arrays)
    except (TypeError, ValueError, OSError, RecursionError, MemoryError):
        leave(UNSENDABLE)
    leave(0)  # the student's atexit handlers and threads get no turn after the results


if __name__ == "__main__":
    main()
