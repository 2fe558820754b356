"""Content digests of files, each file read once per command while it stays the same (stdlib only)."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import NamedTuple

_CHUNK = 1 << 20


class FileDigest(NamedTuple):
    """A file's content sha256 (raw), its size, and whether its owner may execute it."""

    sha256: bytes
    size: int
    executable: bool


class FileDigests:
    """Reads and hashes files, each at most once per instance while its status stays the same.

    Examples of one tree share files (the repository's `cvlization` package goes into 154 contexts);
    one instance serves one command, so a file is read once however many contexts hold it. A file is
    remembered by device, inode, size, mode, mtime and ctime as stat saw it both before and after the
    read. Any write sets ctime to the clock's time, and nothing else can set it (`os.utime` restores
    mtime, and moves ctime too), but the clock the file system stamps with ticks coarsely (a jiffy; a
    second or two on some file systems): a file changed within `settle_seconds` before its read could
    change again under the same stamp, so it is not remembered, nor is one whose status moved while read.
    """

    def __init__(self, settle_seconds: float = 2.0) -> None:
        self._known: dict[tuple[object, ...], FileDigest] = {}
        self._lock = threading.Lock()
        self._settle_ns = int(settle_seconds * 1e9)
        self.reads = 0

    @staticmethod
    def _key(path: Path, status: os.stat_result) -> tuple[object, ...]:
        return (
            str(path), status.st_dev, status.st_ino, status.st_size,
            status.st_mode, status.st_mtime_ns, status.st_ctime_ns,
        )  # fmt: skip

    def of(self, path: Path) -> FileDigest:
        """The digest of `path`'s content as it is now (read unless this instance already read it so)."""
        key = self._key(path, os.stat(path))
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        sha, started_ns = hashlib.sha256(), time.time_ns()
        with path.open("rb") as reader:
            before = os.fstat(reader.fileno())
            for chunk in iter(lambda: reader.read(_CHUNK), b""):
                sha.update(chunk)
            after = os.fstat(reader.fileno())
        found = FileDigest(sha.digest(), after.st_size, bool(after.st_mode & stat.S_IXUSR))
        with self._lock:
            self.reads += 1
            settled = after.st_ctime_ns <= started_ns - self._settle_ns
            if settled and self._key(path, before) == self._key(path, after) == key:
                self._known[key] = found
        return found
