"""Nagle's algorithm off on the server's sockets: the listener, its connections, and those it accepts later."""

import os
import socket

from bptt.ui.network import disable_nagle


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_disable_nagle_reaches_the_listener_its_connections_and_the_connections_it_accepts_later():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:  # proto 0, as streamlit binds it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        assert nodelay(accepted) == 0  # what asyncio leaves on a connection whose listener says proto 0
        fds = len(os.listdir("/proc/self/fd"))
        assert disable_nagle() >= 3
        assert len(os.listdir("/proc/self/fd")) == fds  # every duplicate it made is closed again
        assert nodelay(listener) == nodelay(accepted) == nodelay(client) == 1
        later_client = socket.create_connection(listener.getsockname())
        later, _ = listener.accept()
        assert nodelay(later) == 1  # copied from the listener: sessions that connect later need no second call
        for sock in (client, accepted, later_client, later):
            sock.close()
