"""The running command: started in its own process group, its output copied (secrets masked), and the
stop signals the job receives forwarded to it."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

TAIL_LINES = 40


class Supervisor:
    """Owns the command running now and the first stop signal received; one per job.

    `install()` makes SIGTERM and SIGINT stop the running command (a second one kills it outright);
    `stopped_by` tells the job not to start the next command once a stop was asked for.
    """

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.stopped_by: int | None = None
        self._masked: list[bytes] = []

    def install(self) -> None:
        """Forward SIGTERM and SIGINT to the running command."""
        signal.signal(signal.SIGTERM, self.forward)
        signal.signal(signal.SIGINT, self.forward)

    def mask_values(self, values: Iterable[str]) -> None:
        """Replace each of `values` (secret values) by `***` in everything the commands print from now on."""
        self._masked += [value.encode("utf-8") for value in values if value]

    def mask(self, raw: bytes) -> bytes:
        """`raw` with every secret value replaced by `***`."""
        for value in self._masked:
            raw = raw.replace(value, b"***")
        return raw

    def forward(self, signum: int, _frame: Any = None) -> None:
        """The signal handler: pass `signum` to the command's process group (SIGKILL the second time)."""
        forwarded = signal.SIGKILL if self.stopped_by is not None else signum
        self.stopped_by = self.stopped_by or signum
        child = self.child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, forwarded)
            except (ProcessLookupError, PermissionError):
                pass

    def stream(self, command: list[str], cwd: str, env: dict[str, str]) -> tuple[int, list[str]]:
        """Run `command`, copying its output (stdout and stderr) to ours line by line.

        Returns its exit code (128 + N when killed by signal N) and the last lines it printed.
        """
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        # Its own process group, so a forwarded signal reaches torchrun's workers and shell children too.
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=os.setpgrp
        )
        self.child = child
        assert child.stdout is not None
        for raw in iter(child.stdout.readline, b""):
            raw = self.mask(raw)
            sys.stdout.buffer.write(raw)
            sys.stdout.flush()
            tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
        code = child.wait()
        self.child = None
        return (128 - code if code < 0 else code), list(tail)
