"""What the child process refuses to do once the student's code runs, enforced by an audit hook.

An audit hook sees every socket, process, file open and ctypes call Python makes and can veto
it by raising. It is a guard against accidents and casual attempts, not a security boundary on
its own: the boundary is the separate process with its limits (docs/CHECK.md). Called only in
the child, after the harness has imported everything it needs.
"""

import os
import sys

# events refused outright: network, new processes, signals to others, native code, walking the heap
REFUSED = (
    "socket.", "subprocess.", "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "os.putenv", "os.unsetenv", "os.setxattr", "os.removexattr",
    "pty.", "ctypes.", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "resource.setrlimit",
    "resource.prlimit", "sys.addaudithook", "_thread.start_new_thread", "webbrowser.", "urllib.",
    "http.", "ftplib.", "smtplib.", "imaplib.", "poplib.", "nntplib.", "telnetlib.", "mmap.",
    "os.chdir", "os.symlink", "os.link",
)
WHY = {
    "socket.": "opening network connections", "urllib.": "opening network connections",
    "http.": "opening network connections", "ctypes.": "calling native code through ctypes",
    "subprocess.": "starting other programs", "os.system": "starting other programs",
    "os.exec": "starting other programs", "os.posix_spawn": "starting other programs",
    "os.spawn": "starting other programs", "os.fork": "starting new processes",
    "os.chdir": "changing the working folder", "os.symlink": "creating links", "os.link": "creating links",
}
# events that change the file system: allowed inside the working directory only. The working
# directory never changes (os.chdir is refused) and links cannot be made, so an absolute path
# means what realpath says it means.
PATH_EVENTS = {
    "os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "os.mkfifo": (0,), "os.mknod": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,), "shutil.move": (1,),
    "shutil.chown": (0,),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Refused(PermissionError):
    """Raised inside the student's code when it tries something the checker forbids."""


def install(workdir: str, readable: tuple) -> None:
    """From now on: no network, no processes, writes only under workdir, reads only under `readable`.

    install("/tmp/bptt-check-x", ("/usr/lib/python3.11", ...))
    """
    workdir = os.path.realpath(workdir)
    readable = tuple(os.path.realpath(p) for p in readable) + (workdir, f"/proc/{os.getpid()}")
    inside = _inside

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None))[:3]
            if isinstance(path, int) or path is None:
                return  # an already open descriptor
            path = os.fsdecode(path)
            if not os.path.isabs(path):
                raise Refused(_relative(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS
            )
            real = os.path.realpath(path)
            if writing and not inside(real, (workdir,)):
                raise Refused(f"the checker does not allow writing outside its temporary folder (tried {path!r})")
            if not writing and not inside(real, readable) and real not in ("/dev/null", "/dev/urandom", "/dev/zero"):
                raise Refused(f"the checker does not allow reading files outside its folder (tried {path!r})")
            return
        for prefix in REFUSED:
            if event.startswith(prefix):
                raise Refused(f"the checker does not allow {_why(event)} ({event})")
        positions = PATH_EVENTS.get(event)
        if positions:
            for i in positions:
                target = args[i] if i < len(args) else None
                if not isinstance(target, (str, bytes, os.PathLike)):
                    continue
                target = os.fsdecode(target)
                if not os.path.isabs(target):
                    raise Refused(_relative(target))
                if not inside(os.path.realpath(target), (workdir,)):
                    raise Refused(f"the checker does not allow changing files outside its temporary folder ({event})")

    sys.addaudithook(hook)


def _why(event: str) -> str:
    for prefix, words in WHY.items():
        if event.startswith(prefix):
            return words
    return "this operation"


def _relative(path: str) -> str:
    # the audit event does not say whether a dir_fd was given, and the kernel resolves a relative path
    # against it: os.open("root/etc/passwd", dir_fd=<fd of /proc/self>) is /etc/passwd, not ./root/etc/passwd
    return (f"the checker does not allow relative file paths (tried {path!r}); your functions should not need "
            "files at all. If you must, use an absolute path such as os.path.join(os.getcwd(), name)")


def _inside(path: str, roots: tuple) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)
