"""A count and a bar for long `upsert --all` runs: drawn on a terminal, silent when piped or with `--json`."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_WIDTH = 30


class Bar:
    """`[#########.....] 12/40 cvl-x-train` on one line of `stream` (stderr), redrawn as pipelines finish.

    Draws only when `enabled` (by default: when the stream is a terminal); safe to advance from threads.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.done = 0
        self._drawn = 0
        self._lock = threading.Lock()

    def advance(self, count: int = 1, label: str = "") -> None:
        """Count `count` more pipelines done (the last one named `label`) and redraw."""
        if count <= 0:
            return
        with self._lock:
            self.done = min(self.total, self.done + count)
            if self.enabled:
                filled = _WIDTH * self.done // max(self.total, 1)
                line = f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {self.done}/{self.total} {label}"[:100]
                self.stream.write("\r" + line.ljust(self._drawn))
                self.stream.flush()
                self._drawn = len(line)

    def close(self) -> None:
        """Erase the bar, so what follows starts on a clean line."""
        with self._lock:
            if self.enabled and self._drawn:
                self.stream.write("\r" + " " * self._drawn + "\r")
                self.stream.flush()
                self._drawn = 0
