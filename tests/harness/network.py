"""Guards that make a test fail if code reaches outside loopback (or anywhere, when fully blocked)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager


class NetworkBlocked(RuntimeError):
    """Raised by a guarded socket that tried to connect where the test forbids it."""


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # AF_UNIX sockets stay on the machine


@contextmanager
def only_loopback() -> Iterator[list[object]]:
    """Refuse every connection that is not to loopback; yields the list of refused addresses."""
    refused: list[object] = []
    # Whatever is installed now (perhaps an outer guard) is what this guard defers to and restores.
    _real_connect, _real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            refused.append(address)
            raise NetworkBlocked(f"test tried to reach {address!r} outside loopback")
        return _real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        if not _is_loopback(address):
            refused.append(address)
            raise NetworkBlocked(f"test tried to reach {address!r} outside loopback")
        return _real_connect_ex(sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    try:
        yield refused
    finally:
        socket.socket.connect, socket.socket.connect_ex = _real_connect, _real_connect_ex  # type: ignore[method-assign]


@contextmanager
def no_network() -> Iterator[list[object]]:
    """Refuse every connection, loopback included; yields the list of attempted addresses."""
    attempted: list[object] = []
    _real_connect, _real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: object) -> None:
        attempted.append(address)
        raise NetworkBlocked(f"network is blocked in this test, but code tried {address!r}")

    def connect_ex(sock: socket.socket, address: object) -> int:
        attempted.append(address)
        raise NetworkBlocked(f"network is blocked in this test, but code tried {address!r}")

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    try:
        yield attempted
    finally:
        socket.socket.connect, socket.socket.connect_ex = _real_connect, _real_connect_ex  # type: ignore[method-assign]
