"""What the child process refuses to do once the student's code runs, enforced by an audit hook.

An audit hook sees every socket, process, file open and ctypes call Python makes and can veto
it by raising. It is the second layer, against accidents and casual attempts: the wall is the
operating system's (bubblewrap's view of the files, the uid, the rlimits; docs/CHECK.md).
Everything the hook consults is captured when it is installed, in its own closure, so replacing
`os.path.realpath`, `guard.REFUSED` or a builtin afterwards changes nothing; code that writes
raw memory (numpy can) can still switch it off. Called only in the child, after the harness has
imported everything it needs.
"""

import os
import stat
import sys

# events refused outright: network, new processes, signals to others, native code, walking the heap
REFUSED = (
    "socket.", "subprocess.", "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "os.putenv", "os.unsetenv", "os.setxattr",
    "os.removexattr", "pty.", "ctypes.", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "resource.setrlimit", "resource.prlimit", "sys.addaudithook", "_thread.start_new_thread", "webbrowser.",
    "urllib.", "http.", "ftplib.", "smtplib.", "imaplib.", "poplib.", "nntplib.", "telnetlib.", "mmap.",
    "os.chdir", "os.symlink", "os.link",
)
WHY = {
    "socket.": "opening network connections", "urllib.": "opening network connections",
    "http.": "opening network connections", "ctypes.": "calling native code through ctypes",
    "subprocess.": "starting other programs", "os.system": "starting other programs",
    "os.exec": "starting other programs", "os.posix_spawn": "starting other programs",
    "os.spawn": "starting other programs", "os.fork": "starting new processes",
    "os.kill": "signalling other processes", "signal.pthread_kill": "signalling other processes",
    "os.chdir": "changing the working folder", "os.symlink": "creating links", "os.link": "creating links",
}
# events that change the file system: allowed inside the working directory only. The working
# directory never changes (os.chdir is refused) and links cannot be made, so an absolute path
# means what the resolution below says it means.
PATH_EVENTS = {
    "os.remove": (0,), "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,), "os.chmod": (0,),
    "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "os.mkfifo": (0,), "os.mknod": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,), "shutil.move": (1,),
    "shutil.chown": (0,),
}
LISTING_EVENTS = ("os.listdir", "os.scandir", "glob.glob")  # reading a folder's names is reading
CREATING_EVENTS = ("os.mkdir", "os.mkfifo", "os.mknod", "shutil.copyfile", "shutil.copytree")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
DEVICES = ("/dev/null", "/dev/urandom", "/dev/zero")
MAX_LINKS = 40  # as the kernel: a loop of links ends here


class Refused(PermissionError):
    """Raised inside the student's code when it tries something the checker forbids."""


def install(workdir: str, readable: tuple, max_files: int = 200) -> None:
    """From now on: no network, no processes, writes only under workdir, reads only under `readable`.

    install("/tmp", ("/usr/lib/python3.11", ...)); at most max_files files or folders created.
    """
    hook = _hook(workdir, readable, max_files)
    sys.addaudithook(hook)


def _hook(workdir: str, readable: tuple, max_files: int):
    """The hook, every name it uses bound here: later assignments to this module, os or builtins change nothing.

    Paths, modes and flags are read through the base types' own methods (str.__contains__,
    int.__and__), never through methods a subclass the student wrote could override, and a path
    must be a string or bytes: a PathLike's __fspath__ could answer the hook differently from the
    call it guards.
    """
    resolve = _resolver(os.lstat, os.readlink, stat.S_ISLNK)
    workdir = resolve(os.path.abspath(workdir))
    readable = tuple(resolve(os.path.abspath(p)) for p in readable) + (workdir, f"/proc/{os.getpid()}")
    writable = (workdir,)
    refused, why, path_events, listing, creating, devices = REFUSED, dict(WHY), dict(PATH_EVENTS), \
        LISTING_EVENTS, CREATING_EVENTS, DEVICES
    isinstance_, type_, len_, tuple_, str_, bytes_, int_ = isinstance, type, len, tuple, str, bytes, int
    starts, contains, rstrip, characters, octets = str.startswith, str.__contains__, str.rstrip, str.__getitem__, \
        bytes.__getitem__
    decode, flags_and, write_flags, whole = bytes.decode, int.__and__, WRITE_FLAGS, slice(None)
    why_of, relative, refusal, created = _why, _relative, Refused, [0]

    def inside(path: str, roots: tuple) -> bool:
        for root in roots:
            if path == root or starts(path, rstrip(root, "/") + "/"):
                return True
        return False

    def text(target) -> str:
        if isinstance_(target, str_):
            return characters(target, whole)  # a subclass's characters, as the kernel will get them
        if isinstance_(target, bytes_):
            return decode(octets(target, whole), "utf-8", "surrogateescape")
        raise refusal(f"the checker accepts file paths only as plain strings (got a {type_(target).__name__})")

    def absolute(target) -> str:
        path = text(target)
        if not starts(path, "/"):
            raise refusal(relative(path))
        return resolve(path)

    def count(what: str) -> None:
        created[0] += 1
        if created[0] > max_files:
            raise refusal(f"the checker allows at most {max_files} files or folders to be created ({what})")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple_(args) + (None, None))[:3]
            if path is None or isinstance_(path, int_):
                return  # an already open descriptor
            real = absolute(path)
            writing = False
            if isinstance_(mode, str_):
                mode = text(mode)
                writing = contains(mode, "w") or contains(mode, "a") or contains(mode, "x") or contains(mode, "+")
            if isinstance_(flags, int_) and flags_and(flags, write_flags):
                writing = True
            if writing and not inside(real, writable):
                raise refusal(f"the checker does not allow writing outside its temporary folder (tried {real!r})")
            if not writing and not inside(real, readable) and real not in devices:
                raise refusal(f"the checker does not allow reading files outside its folder (tried {real!r})")
            if writing:
                count(f"opening {real!r} for writing")
            return
        for prefix in refused:
            if starts(event, prefix):
                raise refusal(f"the checker does not allow {why_of(event, why)} ({event})")
        if event in listing:
            target = args[0] if len_(args) else None
            if target is not None and not isinstance_(target, int_) and not inside(absolute(target), readable):
                raise refusal(f"the checker does not allow listing folders outside its own ({event})")
            return
        positions = path_events.get(event)
        if positions:
            for i in positions:
                target = args[i] if i < len_(args) else None
                if target is not None and not isinstance_(target, int_) and not inside(absolute(target), writable):
                    raise refusal(f"the checker does not allow changing files outside its temporary folder ({event})")
            if event in creating:
                count(event)

    return hook


def _resolver(lstat, readlink, is_link):
    """resolve(path) -> the path the kernel would reach, links followed, from primitives bound now.

    os.path.realpath is Python code that looks up os.lstat and its own helpers at every call,
    so one assignment by the student's code would change its answers; this does not.
    """
    join, split, starts, refusal, max_links = "/".join, str.split, str.startswith, Refused, MAX_LINKS

    def resolve(path: str) -> str:
        done, pending, links = [], split(path, "/")[::-1], 0
        while pending:
            name = pending.pop()
            if name == "" or name == ".":
                continue
            if name == "..":
                if done:
                    done.pop()
                continue
            here = "/" + join(done + [name])
            try:
                mode = lstat(here).st_mode
            except (OSError, ValueError):
                done.append(name)  # does not exist (yet): nothing further to follow
                continue
            if not is_link(mode):
                done.append(name)
                continue
            links += 1
            if links > max_links:
                raise refusal(f"the path {path!r} goes through too many links")
            target = readlink(here)
            if starts(target, "/"):
                done = []
            pending.extend(split(target, "/")[::-1])
        return "/" + join(done)

    return resolve


def _why(event: str, why: dict) -> str:
    for prefix, words in why.items():
        if event.startswith(prefix):
            return words
    return "this operation"


def _relative(path: str) -> str:
    # the audit event does not say whether a dir_fd was given, and the kernel resolves a relative path
    # against it: os.open("root/etc/passwd", dir_fd=<fd of /proc/self>) is /etc/passwd, not ./root/etc/passwd
    return (f"the checker does not allow relative file paths (tried {path!r}); your functions should not need "
            "files at all. If you must, use an absolute path such as os.path.join(os.getcwd(), name)")
