"""Send each message the moment it is written: TCP_NODELAY on the server's sockets.

Streamlit binds its listening socket without naming the protocol (proto 0), and asyncio turns
Nagle's algorithm off only on sockets whose proto says TCP, so the websocket to every browser
kept Nagle on. A rerun writes dozens of small messages, and with Nagle each one after the first
waited for the browser's delayed ACK: about 40 ms on every click (a classroom click's server
round trip went from 48 ms to 16 ms). Linux copies TCP_NODELAY from a listening socket to each
connection it accepts, so setting it once, on every TCP socket the process holds, covers the
sessions that connect later too.

    disable_nagle()  # 2: the listening socket and the first visitor's connection
"""

import os
import socket
import stat
from functools import cache


def disable_nagle() -> int:
    """Set TCP_NODELAY on every TCP socket this process holds; returns how many. Needs /proc (Linux)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return 0
    done = 0
    for fd in fds:
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            copy = os.dup(fd)  # a duplicate of the server's socket: closing it leaves the server's open
        except OSError:  # closed meanwhile
            continue
        try:
            sock = socket.socket(fileno=copy)
        except OSError:  # a socket python cannot wrap
            os.close(copy)
            continue
        with sock:
            if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    done += 1
                except OSError:  # not ours to change: leave it as it is
                    pass
    return done


@cache
def disable_nagle_once() -> int:
    """disable_nagle() on the first call in this process only (every visitor's first run calls it).

    Two passes: a connection accepted while the first pass ran, before the listening socket had the
    option to hand on, is in the second pass's list; every later one inherits it.
    """
    disable_nagle()
    return disable_nagle()
