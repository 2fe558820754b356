"""S3 for a local run: a folder, `<root>/<bucket>/<key>`, that stands in for every S3 URI the DAG uses.

The SDK's local executor reads property files through the session, and our local jobs read their
inputs and write their outputs here; nothing is sent anywhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` as (bucket, key); ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} has no bucket")
    return bucket, key


class LocalS3:
    """A folder holding objects by bucket and key; prefixes are folders."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, uri: str) -> Path:
        """The local path of an object or prefix."""
        bucket, key = split_uri(uri)
        path = (self.root / bucket / key.strip("/")).resolve()
        if self.root.resolve() not in (path, *path.parents):
            raise ValueError(f"{uri!r} points outside the local S3 folder")
        return path

    def put(self, uri: str, data: bytes) -> None:
        """Write one object."""
        path = self.path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def read(self, bucket: str, key: str) -> bytes:
        """One object's bytes; FileNotFoundError names the URI when it does not exist."""
        path = self.path(f"s3://{bucket}/{key}")
        if not path.is_file():
            raise FileNotFoundError(f"s3://{bucket}/{key} does not exist in the local run's S3 folder")
        return path.read_bytes()

    def exists(self, uri: str) -> bool:
        """Whether an object or a non-empty prefix exists."""
        path = self.path(uri)
        return path.is_file() or (path.is_dir() and any(path.iterdir()))

    def download(self, uri: str, destination: Path) -> None:
        """Copy an object (into `destination/`) or everything under a prefix (into `destination`)."""
        source = self.path(uri)
        destination.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copy2(source, destination / source.name)
        elif source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            raise FileNotFoundError(f"{uri} does not exist in the local run's S3 folder")

    def upload(self, source: Path, uri: str) -> None:
        """Copy a folder's content under a prefix (as a processing output's EndOfJob upload does)."""
        destination = self.path(uri)
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        elif source.is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
