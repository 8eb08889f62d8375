"""The separate process a submission runs in, what keeps it apart, and the one channel its results come back on.

Where bubblewrap works (the default, `isolation()` says which layer is in force), every check
runs in its own sandbox: a read-only view of only what Python, numpy and the bptt package need,
a private /tmp of `Limits.disk_mb` as its working folder, its own process, network, IPC and user
namespaces, killed with the app. When the app runs as root each check also gets its own uid from
an unused range, so two checks are two users even without bubblewrap. Where bubblewrap is
missing, the strongest layer left stands in: unshare (as root its own processes, mounts, IPC and
network, a /tmp bounded in bytes and files, the other shared folders emptied; else only no
network and a private folder on disk), else only the process and its limits. Under every layer
the child limits its own CPU, memory, file size, open files and processes, and an audit hook
refuses files, sockets and processes (guard.py, the second layer).

The child gets its job as one frame on stdin and sends its results as one frame on a pipe only
this process reads, with a token it learns after the student's module has loaded (channel.py).
Nothing the child's folder holds is ever read back.
"""

import contextlib
import fcntl
import functools
import grp
import os
import pwd
import secrets
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from . import channel

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
PACKAGE = os.path.dirname(os.path.dirname(HARNESS))  # the bptt package: the one part of the app a check sees
WRAPPER_VARIABLE = "BPTT_CHECK_WRAPPER"  # a command line every child starts under; see docs/CHECK.md
ISOLATION_VARIABLE = "BPTT_CHECK_ISOLATION"  # "unshare" or "limits": use no stronger layer than this
LEVELS = ("bubblewrap", "unshare", "limits")  # strongest first
UIDS = range(1_500_000_000, 1_500_000_064)  # one per check running at once when the app is root; unused by anyone
SIGNALS = {signal.SIGSEGV: "a segmentation fault", signal.SIGBUS: "a bus error", signal.SIGILL: "an illegal "
           "instruction", signal.SIGABRT: "an abort", signal.SIGFPE: "a floating-point exception"}
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # what any program on the machine needs
SANDBOX_TMP = "/tmp"  # the check's working folder inside bubblewrap and unshare's mounts: a private tmpfs
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")  # anyone may write there
# unshare as root: the child's own processes (and /proc), mounts, IPC, network and host name
NAMESPACES = ("--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--ipc", "--net", "--uts", "--")
# run in those namespaces, as root, before the harness: a tmpfs bounded in bytes and inodes ($1, its mount
# options) is the check's working folder ($2: /tmp itself); the folders anyone may write ($3) are covered by
# empty read-only ones. Not exec: the harness must not be the namespace's pid 1, which ignores signals it
# has no handler for (SIGXCPU, a segfault's SIGSEGV re-raised by faulthandler); the shell reports 128 + N.
PRIVATE_MOUNTS = (
    'mount -t tmpfs -o "$1" bptt-check "$2" || exit 97; for folder in $3; do '
    'mount -t tmpfs -o ro,size=4k,nr_inodes=2,mode=0755 bptt-check-empty "$folder" || exit 97; done; '
    'cd "$2" || exit 97; shift 3; "$@"; exit $?'
)
# bubblewrap as root: the check's /tmp, bounded in inodes too (bubblewrap's --size bounds bytes only), is a
# tmpfs mounted over its folder on disk ($2) in a mount namespace of its own, then bound by bubblewrap
BOUNDED_TMP = 'mount -t tmpfs -o "$1" bptt-check "$2" || exit 97; shift 2; exec "$@"'
UNMOUNTABLE = 97  # the shell above could not mount: the checker's set-up, not the student's code


@dataclass(frozen=True)
class Limits:
    """What one check may use. Limits(wall_s=2) for tests of runaway code."""

    wall_s: float = 10.0  # seconds of real time, sleeping included
    cpu_s: int = 10  # seconds of CPU time
    memory_mb: int = 512  # address space; numpy itself needs ~150 MB, the course's arrays a few kB
    file_mb: int = 16  # largest file the child may write
    disk_mb: int = 32  # all the files of one check together (the private /tmp's size under bubblewrap)
    files: int = 200  # files and folders one check may create
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


@dataclass(frozen=True)
class Isolation:
    """The layer that keeps checks apart on this machine, in one plain sentence for the page and the CLI."""

    level: str  # "bubblewrap", "unshare", "limits", or "wrapper" (BPTT_CHECK_WRAPPER)
    description: str
    command: tuple = ()  # the prefix the child starts under (bubblewrap's options are built per check)


def isolation() -> Isolation:
    """What keeps a check apart here; probed once per setting. isolation().description -> 'Each check runs …'"""
    return _isolation(os.environ.get(ISOLATION_VARIABLE, "").strip().lower(),
                      os.environ.get(WRAPPER_VARIABLE, "").strip(), os.getuid() == 0)


@functools.lru_cache(maxsize=8)
def _isolation(ceiling: str, wrapper: str, root: bool) -> Isolation:
    own = " as its own user" if root else ""
    reach = "its user may read" if root else "the app's user may read"
    limits = "Inside, CPU, memory, file and process limits and an audit hook apply."
    if wrapper:
        return Isolation("wrapper", f"Each check runs{own} under the administrator's wrapper "
                         f"({shlex.split(wrapper)[0]}), in a separate process. {limits}", tuple(shlex.split(wrapper)))
    levels = LEVELS[LEVELS.index(ceiling):] if ceiling in LEVELS else LEVELS
    problem = _bubblewrap_problem(root) if "bubblewrap" in levels else ""
    if problem is None:
        return Isolation("bubblewrap", f"Each check runs{own} in its own bubblewrap sandbox: it sees only Python, "
                         "numpy and the bptt package, read-only, and a private temporary folder, with no network "
                         f"and no other process. {limits}", (shutil.which("bwrap"),))
    missing = f"{problem}. " if problem else ""
    if "unshare" in levels and network_isolation():
        private = (", no other process in sight and a temporary folder of its own, gone with it"
                   if _mounts_privately(network_isolation()) else "")
        return Isolation("unshare", f"{missing}Each check runs{own} in a separate process with no network{private}; "
                         f"the files {reach} are kept from it only by an audit hook. {limits}", network_isolation())
    return Isolation("limits", f"{missing}Each check runs{own} in a separate process; the network and the files "
                     f"{reach} are kept from it only by an audit hook that determined code can switch off. {limits}")


def _bubblewrap_problem(root: bool) -> str | None:
    """Why bubblewrap cannot sandbox a check here, in words for the page; None when a trial sandbox started."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed here (the Debian package bubblewrap)"
    try:
        probe = [bwrap, *bubblewrap_options(Limits(), root), "--", "/usr/bin/true"]
        failed = subprocess.run(probe, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return f"bubblewrap could not be started ({type(e).__name__})"
    if failed.returncode:
        said = failed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason given"]
        return f"bubblewrap cannot make a sandbox here ({said[0][:120]})"
    return None


@functools.lru_cache(maxsize=1)
def network_isolation() -> tuple:
    """The unshare prefix that gives the child no network, or () where the system does not allow it.

    As root (where private mounts work), also its own pid, mount, IPC and UTS namespaces: no other
    check's process, socket or folder in sight (`private_mounts` then makes its temporary folders).
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    full = (unshare, *NAMESPACES)
    trials = ((full, [*full, *private_mounts(Limits(), os.getuid(), os.getgid(), SANDBOX_TMP), "true"]),
              ((unshare, "-n"), [unshare, "-n", "true"]))
    for prefix, trial in trials:
        try:
            if subprocess.run(trial, capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    return ()


def _mounts_privately(prefix: tuple) -> bool:
    return "--mount" in prefix


def _tmpfs_options(limits: Limits, uid: int, gid: int, mode: str = "0700") -> str:
    """A tmpfs of disk_mb holding at most `files` files and folders (its own root is one more), the check's."""
    return f"size={limits.disk_mb}m,nr_inodes={limits.files + 1},mode={mode},uid={uid},gid={gid}"


def private_mounts(limits: Limits, uid: int, gid: int, workdir: str) -> list:
    """The shell that, inside unshare's namespaces, mounts the check's own folder and empties the shared ones.

    Its own folder is /tmp itself, unless what the child needs lives under /tmp (an app installed
    there): then its folder on disk, and /tmp stays in sight (other checks' folders are other uids').
    """
    covered = [f for f in _shared_folders() if f != workdir]
    return ["/bin/sh", "-c", PRIVATE_MOUNTS, "sh", _tmpfs_options(limits, uid, gid), workdir, " ".join(covered)]


def _shared_folders() -> list:
    """The folders anyone may write that unshare's mounts can cover: real folders holding nothing the child needs."""
    needed = _needed()
    return [f for f in SHARED_FOLDERS if os.path.isdir(f) and not os.path.islink(f) and " " not in f
            and not any(_under(os.path.realpath(n), os.path.realpath(f)) for n in needed)]


def _needed() -> list:
    """What the child's Python needs to see: its installation, numpy and the bptt package."""
    return [os.path.realpath(sys.base_prefix), os.path.dirname(interpreter()), *numpy_paths(), PACKAGE]


def interpreter() -> str:
    """The Python the child runs: the base interpreter itself, so no virtual environment's folder is needed."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def numpy_paths() -> tuple:
    """numpy's package folder and its bundled libraries' folder (numpy.libs), where they exist."""
    package = os.path.dirname(os.path.realpath(np.__file__))
    return tuple(p for p in (package, package + ".libs") if os.path.isdir(p))


def bubblewrap_options(limits: Limits, root: bool, tmp: str | None = None) -> list:
    """bwrap's options for one check: a read-only view of the system, Python, numpy and bptt; a private /tmp.

    As root, bubblewrap keeps only the rights to change uid, which the harness uses to become the
    check's own user before any student code runs; otherwise a user namespace, closed behind it.
    /tmp is bubblewrap's own tmpfs of disk_mb, or the folder `tmp` (bounded_tmp's tmpfs) when given.
    """
    options = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
               "--unshare-uts", "--unshare-cgroup-try"]
    if root:
        options += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        options += ["--unshare-user", "--disable-userns"]
    binds = []
    for path in SYSTEM:
        if os.path.islink(path):
            options += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            binds.append(path)
    options += ["--proc", "/proc", "--dev", "/dev"]
    options += ["--bind", tmp, SANDBOX_TMP] if tmp else ["--perms", "1777", "--size", str(limits.disk_mb << 20),
                                                         "--tmpfs", SANDBOX_TMP]
    for path in _needed() + [p for p in ("/etc/ld.so.cache",) if os.path.exists(p)]:
        if not any(_under(path, b) for b in binds):
            binds = [b for b in binds if not _under(b, path)] + [path]
    made = set()
    for path in sorted(binds):
        for ancestor in _ancestors(path):
            if ancestor not in made and not any(_under(ancestor, b) for b in binds):
                options += ["--perms", "0755", "--dir", ancestor]  # else bubblewrap copies /root's 0700
                made.add(ancestor)
        options += ["--ro-bind", path, path]
    return options + ["--remount-ro", "/", "--chdir", SANDBOX_TMP]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _ancestors(path: str) -> list:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def minimal_environment(workdir: str) -> dict:
    """Only what Python and numpy need; none of the app's variables."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def command(layer: Isolation, limits: Limits, results_fd: int, token_fd: int, workdir: str, uid: int,
            gid: int) -> list:
    python = [interpreter(), "-I", "-S", "-B", HARNESS, str(results_fd), str(token_fd), str(limits.memory_mb),
              str(limits.cpu_s), str(limits.file_mb), os.path.dirname(numpy_paths()[0])]
    return [*prefix(layer, limits, workdir, uid, gid), *python]


def prefix(layer: Isolation, limits: Limits, workdir: str, uid: int, gid: int) -> list:
    """What the child's Python starts under for this layer: bubblewrap, unshare and its mounts, or a wrapper.

    prefix(isolation(), Limits(), folder, uid, gid) + [python, ...]; `workdir` is the check's folder on
    disk (the mount point of its /tmp under bubblewrap as root), uid and gid the check's own.
    """
    if layer.level == "bubblewrap":
        unshare = shutil.which("unshare")
        if os.getuid() != 0 or unshare is None:
            return [*layer.command, *bubblewrap_options(limits, os.getuid() == 0), "--"]
        # 1777 as bubblewrap's own: the harness is a root without CAP_DAC_OVERRIDE until it becomes uid
        bounded = [unshare, "--mount", "--", "/bin/sh", "-c", BOUNDED_TMP, "sh",
                   _tmpfs_options(limits, uid, gid, "1777"), workdir]
        return [*bounded, *layer.command, *bubblewrap_options(limits, True, workdir), "--"]
    if _in_own_tmp(layer):
        return [*layer.command, *private_mounts(limits, uid, gid, working_folder(layer, workdir))]
    return [part.replace("{workdir}", workdir) for part in layer.command]


def _in_own_tmp(layer: Isolation) -> bool:
    """True when the child works in a tmpfs of its own, bounded by the kernel and gone with it.

    Under bubblewrap, and under unshare's private mounts (as root); never under a wrapper.
    """
    return layer.level == "bubblewrap" or (layer.level == "unshare" and _mounts_privately(layer.command))


def working_folder(layer: Isolation, folder: str) -> str:
    """The child's working folder as it sees it: its private /tmp, else its folder on disk."""
    if layer.level == "bubblewrap" or (_in_own_tmp(layer) and SANDBOX_TMP in _shared_folders()):
        return SANDBOX_TMP
    return folder


def run(code: str, probe_arrays: dict, job: dict, limits: Limits = Limits()) -> Outcome:
    """Run the harness on `code` in a fresh sandbox and read back the one frame it sends.

    outcome = run(source.code, arrays, {"probes": [...]}); outcome.error or outcome.arrays
    """
    layer = isolation()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        uid, gid = stack.enter_context(_own_user())
        folder = stack.enter_context(_private_folder(uid, gid))  # under bubblewrap as root, where its /tmp is mounted
        own_tmp, workdir = _in_own_tmp(layer), working_folder(layer, folder)
        facts = {"job": job, "code": code, "uid": uid, "gid": gid, "max_files": limits.files,
                 "output_keep": limits.output_keep, "output_limit": limits.output_limit}
        stdin = _job_file(channel.encode(facts, probe_arrays, channel.NO_TOKEN))
        stack.callback(os.close, stdin)
        log = stack.enter_context(tempfile.TemporaryFile())  # the child's stderr: a segfault's line, a crash
        results_r, results_w = os.pipe()
        stack.callback(os.close, results_r)
        token_r, token_w = os.pipe()
        token = secrets.token_bytes(channel.TOKEN_BYTES)
        try:
            os.write(token_w, token)  # 32 bytes: the pipe holds them until the harness asks
            process = subprocess.Popen(
                command(layer, limits, results_w, token_r, folder, uid, gid), cwd=None if own_tmp else workdir,
                env=minimal_environment(workdir), stdin=stdin, stdout=log, stderr=log,
                pass_fds=(results_w, token_r), start_new_session=True, close_fds=True,
            )
        finally:  # closed once, here: another thread may be handed the same numbers the moment they are free
            _close(results_w, token_r, token_w)  # the child holds the only write end now: its exit ends the stream
        try:
            data, problem = _collect(process, results_r, started + limits.wall_s, _bounds(limits).frame_bytes,
                                     None if own_tmp else workdir, limits)
        finally:
            _kill_group(process.pid)
            process.wait()
            if uid != os.getuid() and layer.level != "bubblewrap":
                _sweep(uid)
        log.seek(0)
        stderr = log.read(limits.output_keep).decode("utf-8", "replace")
    seconds = time.monotonic() - started
    returncode = process.returncode
    if own_tmp and returncode > 128:
        returncode = 128 - returncode  # bubblewrap, and the shell under unshare, report a child killed by N as 128 + N
    error = _process_error(returncode, problem, limits, stderr)
    if error is not None:
        return Outcome(error=error, stderr=stderr, seconds=seconds)
    if not data:
        return Outcome(error={"kind": "runtime", "message": "your code ended the process before the check finished "
                              "(os._exit(), or a crash in a native library): nothing came back. Remove such calls "
                              "from your functions.", "line": None}, stderr=stderr, seconds=seconds)
    try:
        meta, arrays = channel.decode(data, token, _bounds(limits))
        _check_harness_facts(meta)
    except channel.ChannelError as e:
        return Outcome(error=_unreadable(e), stderr=stderr, seconds=seconds)
    return Outcome(arrays, meta, None, stderr, seconds)


def _bounds(limits: Limits) -> channel.Bounds:
    return channel.Bounds(array_bytes=limits.results_mb << 20)


def _check_harness_facts(meta: dict) -> None:
    """The two facts the harness itself writes: what the student printed, and how much."""
    if not isinstance(meta.get("stdout", ""), str) or type(meta.get("stdout_chars", 0)) is not int:
        raise channel.ChannelError("their printed output is not text")


def _collect(process: subprocess.Popen, fd: int, deadline: float, limit: int, folder: str | None,
             limits: Limits) -> tuple:
    """(bytes read from the results pipe, None | "timeout" | "too-large" | "disk"), reading while the child runs.

    Reading as it arrives keeps a child that sends much from blocking on a full pipe; the limit
    stops a child that sends more than any honest check could. A folder on disk (no bubblewrap,
    so no size-limited tmpfs) is measured ten times a second against the disk quota.
    """
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", "timeout"
        if folder is not None and _over_quota(folder, limits):
            return b"", "disk"
        if not select.select([fd], [], [], min(left, 0.1) if folder is not None else left)[0]:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break  # every write end is closed: the child has ended, or closed it and may still run
        size += len(chunk)
        if size > limit:
            return b"", "too-large"
        chunks.append(chunk)
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0.001))
    except subprocess.TimeoutExpired:
        return b"", "timeout"
    return b"".join(chunks), None


def _over_quota(folder: str, limits: Limits) -> bool:
    """True once the folder holds more than disk_mb or more than `files` entries; stops counting there."""
    entries, size, pending = 0, 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    info = entry.stat(follow_symlinks=False)
                    size += info.st_blocks * 512
                    if entries > limits.files or size > limits.disk_mb << 20:
                        return True
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
        except OSError:
            continue
    return False


def _job_file(frame: bytes) -> int:
    """A read-only descriptor of the job, in memory: nothing on disk that another check could find."""
    try:
        fd = os.memfd_create("bptt-check-job", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        temporary = tempfile.TemporaryFile()
        fd = os.dup(temporary.fileno())
        temporary.close()
    try:
        view = memoryview(frame)
        while view:
            view = view[os.write(fd, view):]
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)  # the child cannot write its job
    finally:
        os.close(fd)


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


@contextlib.contextmanager
def _own_user():
    """(uid, gid) for one check: as root, a uid of UIDS no other check holds right now; else this process's own.

    When every uid is held, the check waits for the first to be free rather than share it.
    """
    if os.getuid() != 0:
        yield os.getuid(), os.getgid()
        return
    folder, free = _slot_folder(), [uid for uid in UIDS if not _taken(uid)]
    for attempt, uid in enumerate(free + free[:1]):
        fd = os.open(os.path.join(folder, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if attempt < len(free) else 0))
        except OSError:
            os.close(fd)
            continue
        try:
            yield uid, uid
        finally:
            os.close(fd)
        return


@functools.lru_cache(maxsize=None)
def _taken(uid: int) -> bool:
    """True when the machine knows this uid or gid: then it belongs to someone, and a check must not run as it."""
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False


@functools.lru_cache(maxsize=1)
def _slot_folder() -> str:
    """A folder only root can write, holding one lock per uid in use: checks in other processes see them too."""
    for folder in ("/run/bptt-check", os.path.join(tempfile.gettempdir(), "bptt-check-uids")):
        try:
            os.makedirs(folder, 0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return folder
    return tempfile.mkdtemp(prefix="bptt-check-uids-")  # this process's checks at least stay apart


@contextlib.contextmanager
def _private_folder(uid: int, gid: int):
    """A fresh folder on disk that only the check's user may enter, removed whatever the child left in it."""
    workdir = tempfile.mkdtemp(prefix="bptt-check-")
    try:
        if uid != os.getuid():
            os.chown(workdir, uid, gid)
        os.chmod(workdir, 0o700)
        yield workdir
    finally:
        remove_tree(workdir)


def remove_tree(path: str) -> None:
    """Remove a folder the child wrote, even the folders it made unreadable (chmod 000); links are not followed."""
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    for folder, subfolders, _ in os.walk(path):
        for name in subfolders:  # opened before os.walk goes in, so it can go in
            inner = os.path.join(folder, name)
            if not os.path.islink(inner):
                try:
                    os.chmod(inner, 0o700)
                except OSError:
                    pass
    shutil.rmtree(path, ignore_errors=True)


def _sweep(uid: int) -> None:
    """What a check's own user left in the machine's shared temporary folders (possible only past the guard)."""
    for folder in {os.path.realpath(f) for f in (tempfile.gettempdir(), *SHARED_FOLDERS)}:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    remove_tree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the child leads its own session: this ends anything it left behind
    except (ProcessLookupError, PermissionError):
        pass


def _process_error(returncode: int, problem: str | None, limits: Limits, stderr: str) -> dict | None:
    """The error of a child that did not finish normally, in the report's terms; None when it did."""
    line = _faulthandler_line(stderr)
    if problem == "timeout":
        return {"kind": "timeout", "message": f"your code ran longer than the {limits.wall_s:g} s allowed: look for a "
                "loop that never ends, or a sleep.", "line": line}
    if problem == "disk":
        return {"kind": "output", "message": f"your code wrote more than the {limits.disk_mb} MB or the "
                f"{limits.files} files a check may leave in its folder.", "line": line}
    if problem == "too-large":
        return {"kind": "output", "message": f"your code's process sent back more than the {limits.results_mb} MB "
                "of results any check needs; the checker stopped reading.", "line": line}
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
    if returncode == UNMOUNTABLE:
        return {"kind": "runtime", "message": "the checker could not make the private temporary folder your code "
                "runs in, so it did not run it (a problem of the checker's set-up, not of your code).", "line": line}
    if returncode == 87:  # harness.UNSWITCHABLE: the checker's set-up, not the student's code
        return {"kind": "runtime", "message": "the checker could not give your code its own user id, so it did not "
                "run it; the administrator's BPTT_CHECK_WRAPPER does not allow it (docs/CHECK.md).", "line": line}
    if returncode == 86:  # harness.UNSENDABLE
        return {"kind": "output", "message": "what your code returned or left behind could not be sent back as "
                "plain numbers and text (was a module the checker uses replaced?).", "line": line}
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


def _unreadable(e: channel.ChannelError) -> dict:
    return {"kind": "output", "message": f"the results that came back from the process running your code were "
            f"refused: {e}. Code that writes to the checker's own channel, or replaces the modules it uses, gets "
            "this error instead of a verdict.", "line": None}
