"""A moto server in this process, on 127.0.0.1, spoken to over real HTTP through AWS_ENDPOINT_URL.

In process (ThreadedMotoServer), so the harness can extend moto's backends where moto lacks an API.
"""

from __future__ import annotations

import socket
import urllib.request

from moto.server import ThreadedMotoServer

ACCOUNT = "123456789012"  # moto's default account


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """A started moto server; `endpoint` is its URL, `reset()` empties every backend."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Empty every moto backend (moto's own reset API, over HTTP)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def stop(self) -> None:
        """Stop the server thread."""
        self._server.stop()
