"""The script the checker's child process runs: the student's functions on every probe, every step recorded.

Started only by bptt/check/sandbox.py as `python -I -B harness.py WORKDIR MEMORY_MB CPU_S FILE_MB`.
It limits itself, imports what it needs, reads WORKDIR/submission.py, job.json and probes.npz,
drops root, installs the guard, then runs the student's code. Results go to results.npz
(plain float arrays, read back with allow_pickle=False) and results.json; nothing is pickled.
What runs on each probe, and what is recorded, is probe_runs.py's.
"""

import os
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def limit_self(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    """Memory, CPU time, file size and core dumps, before anything else runs."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))


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
    WORKDIR = sys.argv[1]
    limit_self(*(int(v) for v in sys.argv[2:5]))
    sys.path[:] = [ROOT] + [p for p in sys.path if os.path.realpath(p or ".") != HERE]

import faulthandler  # noqa: E402  (the limits come first, on purpose)
import importlib  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402

from bptt.check import guard  # noqa: E402
from bptt.check.probe_runs import FILENAME, Results, load_submission, run_probes  # noqa: E402

PRELOAD = ("math", "copy", "random", "itertools", "functools", "collections", "operator", "time", "string", "re",
           "typing", "dataclasses", "warnings", "socket", "ctypes", "encodings.idna")


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


def load_probes(workdir: str, job: dict) -> list:
    with np.load(os.path.join(workdir, "probes.npz"), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    probes = []
    for spec in job["probes"]:
        prefix = spec["prefix"]
        probe = {key: arrays[prefix + key] for key in ("x", "a0", "da", "dc")}
        probe["parameters"] = {n[len(prefix) + 2:]: v for n, v in arrays.items() if n.startswith(prefix + "p.")}
        probe.update({key: value for key, value in spec.items() if key != "prefix"})  # cell, and any flags
        probes.append(probe)
    return probes


def readable_roots() -> tuple:
    """Where the student's code may still read: Python's own files and the bptt package, not the app's folder."""
    return tuple(p for p in sys.path[1:] if p and os.path.isdir(p)) + (os.path.join(ROOT, "bptt"),)


def main() -> None:
    workdir = WORKDIR
    with open(os.path.join(workdir, "job.json")) as f:
        job = json.load(f)
    with open(os.path.join(workdir, FILENAME), encoding="utf-8") as f:
        code = f.read()
    probes = load_probes(workdir, job)
    for module in PRELOAD:  # once the process is `nobody`, Python's own folder may be out of reach
        importlib.import_module(module)
    faulthandler.enable(file=sys.__stderr__)  # a segfault still names the student's line on stderr
    drop_privileges(job["uid"], job["gid"])
    guard.install(workdir, readable_roots())
    stdout = CappedText(job["output_keep"])
    sys.stdout = sys.stderr = stdout
    results = Results()
    with np.errstate(all="ignore"):
        ns = load_submission(code, results)
        if ns is not None:
            run_probes(ns, probes, results, lambda: stdout.total > job["output_limit"])
    results.meta["stdout"] = stdout.text()
    results.meta["stdout_chars"] = stdout.total
    np.savez(os.path.join(workdir, "results.npz"), **results.arrays)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results.meta, f)
    os._exit(0)  # the student's atexit handlers and threads get no turn after the results


if __name__ == "__main__":
    main()
