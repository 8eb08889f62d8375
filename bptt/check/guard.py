"""What the child process refuses to do once the student's code runs, enforced by an audit hook.

An audit hook sees every socket, process, file open and ctypes call Python makes and can veto
it by raising. It is the second layer, against accidents and casual attempts: the wall is the
operating system's (bubblewrap's view of the files, the uid, the rlimits; docs/CHECK.md).
The hook is one function. Everything it consults is bound when it is installed, and all of it
is immutable (strings, tuples, C builtins, a counter that only counts up): a refusal's traceback
hands the student the hook's frame, and nothing in that frame can change what the hook answers.
Code that writes raw memory (numpy can) can still switch it off. Called only in the child, after
the harness has imported everything it needs.
"""

import itertools
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
WHY = (
    ("socket.", "opening network connections"), ("urllib.", "opening network connections"),
    ("http.", "opening network connections"), ("ctypes.", "calling native code through ctypes"),
    ("subprocess.", "starting other programs"), ("os.system", "starting other programs"),
    ("os.exec", "starting other programs"), ("os.posix_spawn", "starting other programs"),
    ("os.spawn", "starting other programs"), ("os.fork", "starting new processes"),
    ("os.kill", "signalling other processes"), ("signal.pthread_kill", "signalling other processes"),
    ("os.chdir", "changing the working folder"), ("os.symlink", "creating links"), ("os.link", "creating links"),
    ("", "this operation"),
)
# events that change the file system: allowed inside the working directory only. The working
# directory never changes (os.chdir is refused) and links cannot be made, so an absolute path
# means what the resolution below says it means.
PATH_EVENTS = (
    ("os.remove", (0,)), ("os.rename", (0, 1)), ("os.rmdir", (0,)), ("os.mkdir", (0,)), ("os.chmod", (0,)),
    ("os.chown", (0,)), ("os.truncate", (0,)), ("os.utime", (0,)), ("os.mkfifo", (0,)), ("os.mknod", (0,)),
    ("shutil.rmtree", (0,)), ("shutil.copyfile", (1,)), ("shutil.copytree", (1,)), ("shutil.move", (1,)),
    ("shutil.chown", (0,)),
)
LISTING_EVENTS = frozenset(("os.listdir", "os.scandir", "glob.glob"))  # reading a folder's names is reading
CREATING_EVENTS = frozenset(("os.mkdir", "os.mkfifo", "os.mknod", "shutil.copyfile", "shutil.copytree"))
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
DEVICES = frozenset(("/dev/null", "/dev/urandom", "/dev/zero"))
MAX_LINKS = 40  # as the kernel: a loop of links ends here


def install(workdir: str, readable: tuple, max_files: int = 200) -> None:
    """From now on: no network, no processes, writes only under workdir, reads only under `readable`.

    install("/tmp", ("/usr/lib/python3.11", ...)); at most max_files files or folders created.
    """
    sys.addaudithook(hook(workdir, readable, max_files))


def hook(workdir: str, readable: tuple, max_files: int):
    """The audit hook: one function whose every name is bound here, to values no one can change afterwards.

    No helper functions (their closures and __code__ would be the student's to rewrite once a
    traceback hands them out), no dict or list, no globals looked up at call time; the file count
    is an itertools.count, which can only go up. Paths, modes and flags are read through the base
    types' own methods (str.__contains__, int.__and__), never through methods a subclass the
    student wrote could override; types are read with type(), never isinstance (which believes an
    object's own `__class__`: FileIO(obj) with `__class__ = int` and an `__fspath__` passed as an open
    descriptor). A path must be a string or bytes: a PathLike's __fspath__ could answer the hook
    differently from the call it guards. Links are followed with os.lstat
    and os.readlink themselves, not with os.path.realpath (Python code that looks its helpers up
    at every call). A refusal is a plain PermissionError.
    """
    workdir = os.path.realpath(workdir)  # no student code exists yet: realpath is still the real one
    readable = tuple(os.path.realpath(p) for p in readable) + (workdir, f"/proc/{os.getpid()}")
    writable = (workdir,)
    refused, why, path_events, listing, creating, devices, max_links = REFUSED, WHY, PATH_EVENTS, LISTING_EVENTS, \
        CREATING_EVENTS, DEVICES, MAX_LINKS
    issubclass_, type_, tuple_, str_, bytes_, int_, len_, next_, denied, missing = issubclass, type, tuple, str, \
        bytes, int, len, next, PermissionError, (OSError, ValueError)
    starts, ends, contains, characters, octets, decode, split, join = str.startswith, str.endswith, \
        str.__contains__, str.__getitem__, bytes.__getitem__, bytes.decode, str.split, "/".join
    flags_and, write_flags, whole, lstat, readlink, is_link = int.__and__, WRITE_FLAGS, slice(None), os.lstat, \
        os.readlink, stat.S_ISLNK
    created = itertools.count(1)

    def audit(event: str, args: tuple) -> None:
        # which paths the event touches, each with where it must lie
        if event == "open":
            path, mode, flags = (tuple_(args) + (None, None))[:3]
            if path is None or issubclass_(type_(path), int_):
                return  # an already open descriptor
            writing = issubclass_(type_(flags), int_) and flags_and(flags, write_flags) != 0
            if issubclass_(type_(mode), str_):
                mode = characters(mode, whole)
                writing = writing or contains(mode, "w") or contains(mode, "a") or contains(mode, "x") or \
                    contains(mode, "+")
            targets, roots, scope = (path,), writable if writing else readable, "writing" if writing else "reading"
        elif event in listing:
            targets, roots, scope = (args[0] if len_(args) else None,), readable, "listing"
        else:
            for prefix in refused:
                if starts(event, prefix):
                    for start, words in why:
                        if starts(event, start):
                            raise denied(f"the checker does not allow {words} ({event})")
            targets, roots, scope = [], writable, "changing"
            for name, positions in path_events:
                if event == name:
                    for i in positions:
                        if i < len_(args):
                            targets.append(args[i])
        for target in targets:
            if target is None or issubclass_(type_(target), int_):
                continue
            if issubclass_(type_(target), str_):
                path = characters(target, whole)  # a subclass's characters, as the kernel will get them
            elif issubclass_(type_(target), bytes_):
                path = decode(octets(target, whole), "utf-8", "surrogateescape")
            else:
                raise denied("the checker accepts file paths only as plain strings")
            if not starts(path, "/"):
                # the audit event does not say whether a dir_fd was given, and the kernel resolves a relative
                # path against it: os.open("root/etc/passwd", dir_fd=<fd of /proc/self>) is /etc/passwd
                raise denied(f"the checker does not allow relative file paths (tried {path!r}); your functions "
                             "should not need files at all. If you must, use an absolute path such as "
                             "os.path.join(os.getcwd(), name)")
            done, pending, links = [], split(path, "/")[::-1], 0  # the path the kernel would reach, links followed
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
                    kind = lstat(here).st_mode
                except missing:
                    done.append(name)  # does not exist (yet): nothing further to follow
                    continue
                if not is_link(kind):
                    done.append(name)
                    continue
                links += 1
                if links > max_links:
                    raise denied(f"the path {path!r} goes through too many links")
                link = readlink(here)
                if starts(link, "/"):
                    done = []
                pending.extend(split(link, "/")[::-1])
            real = "/" + join(done)
            if scope == "reading" and real in devices:
                continue
            for root in roots:
                if real == root or starts(real, root if ends(root, "/") else root + "/"):
                    break
            else:
                if scope == "writing":
                    raise denied(f"the checker does not allow writing outside its temporary folder (tried {real!r})")
                if scope == "reading":
                    raise denied(f"the checker does not allow reading files outside its folder (tried {real!r})")
                if scope == "listing":
                    raise denied(f"the checker does not allow listing folders outside its own ({event})")
                raise denied(f"the checker does not allow changing files outside its temporary folder ({event})")
        if (event == "open" and scope == "writing") or event in creating:
            if next_(created) > max_files:
                raise denied(f"the checker allows at most {max_files} files or folders to be created ({event})")

    return audit
