"""Pack an example folder into a deterministic build-context zip; its sha256 names the image.

The zip (CodeBuild's S3 source takes a zip) holds the example folder as Docker would send it
(honouring `.dockerignore`), with the rendered Dockerfile in place of the example's and the
training entry point's folder beside it. Entries are sorted, with fixed times and permissions and no
folder entries, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from steps.build_image.job.dockerfile import ENTRY_NAME, render_dockerfile
from steps.build_image.job.dockerignore import DockerIgnore, read_patterns

TAG_LENGTH = 24
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_CHUNK = 1 << 20
_UNIX = 3  # ZipInfo.create_system for Unix, so unzip honours the permission bits
# A file whose first 256 KiB deflate by less than 10% (weights, archives, media) is stored as is:
# deflating it costs seconds per 100 MB and saves nothing. Decided from content only: deterministic.
_SAMPLE = 256 << 10
_STORE_ABOVE = 0.9
# Our entry point must reach the build even if the example's rules would exclude its name.
_DOCKERIGNORE_FOOTER = f"\n# added by cvl-pipelines: the entry point is part of every build\n!{ENTRY_NAME}\n"


class BadContext(ValueError):
    """The example folder cannot be packed as it is (the user can fix it)."""


class PackedContext(NamedTuple):
    """A packed build context: the zip, its sha256, how many files and how many bytes went in."""

    data: bytes
    digest: str
    files: int
    bytes_in: int


def image_tag(digest: str) -> str:
    """The image tag for a context digest: its first 24 hex characters (96 bits)."""
    return digest[:TAG_LENGTH]


def context_files(example_path: Path, ignore: DockerIgnore) -> Iterator[tuple[str, Path]]:
    """The (context-relative path, file) pairs Docker would send, unsorted; folders are not entries.

    Excluded folders are not even listed when no `!` pattern could re-include something in them.
    Symlinks to files are sent as the files they point to; symlinks to folders are not followed.
    """
    pending = [("", example_path)]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if ignore.excluded(relative) and not ignore.may_reinclude_below(relative):
                        continue
                    pending.append((relative + "/", Path(entry.path)))
                elif entry.is_file() and not ignore.excluded(relative):
                    yield relative, Path(entry.path)


def _compress_type(sample: bytes) -> int:
    if sample and len(zlib.compress(sample, 1)) > _STORE_ABOVE * len(sample):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED  # at zlib's default level (6), fixed


def _zip_info(name: str, size: int, executable: bool, sample: bytes) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.create_system = _UNIX
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    info.compress_type = _compress_type(sample)
    info.file_size = size  # lets zipfile pick ZIP64 up front for a file over 2 GiB
    return info


def entry_files(entry_folder: Path) -> dict[str, Path]:
    """The entry point's modules (the folder's `*.py`, caches left out), by their name in the context."""
    return {f"{ENTRY_NAME}/{path.name}": path for path in sorted(entry_folder.glob("*.py"))}


def pack_context(
    example_path: Path, entry_folder: Path, shipped: Sequence[tuple[str, Path]] = ()
) -> PackedContext:
    """Pack `example_path` with the rendered Dockerfile and the entry point's folder (as `cvl_entry/`).

    `shipped` (name in the context, file) adds files from outside the folder, such as the repository's
    `cvlization` package; the example's own files win over them.

    Files are streamed into the zip in 1 MiB chunks, never read whole; incompressible ones are stored,
    not deflated. BadContext when the folder has no Dockerfile or its `.dockerignore` has a pattern
    Docker would reject.
    """
    dockerfile = example_path / "Dockerfile"
    if not dockerfile.is_file():
        raise BadContext(f"{example_path} has no Dockerfile: the image is built from it (add one)")
    ignore_file = example_path / ".dockerignore"
    ignore_text = ignore_file.read_text("utf-8") if ignore_file.is_file() else None
    try:
        ignore = DockerIgnore(read_patterns(ignore_text or ""))
    except ValueError as error:
        raise BadContext(f"{ignore_file}: {error}") from None

    generated = {"Dockerfile": render_dockerfile(dockerfile.read_text("utf-8")).encode("utf-8")}
    if ignore_text is not None:
        generated[".dockerignore"] = (ignore_text.rstrip("\n") + "\n" + _DOCKERIGNORE_FOOTER).encode("utf-8")
    entries: dict[str, Path | bytes] = dict(shipped)
    entries.update(
        {name: path for name, path in context_files(example_path, ignore) if name not in generated}
    )
    entries.update(generated)
    entries = {name: source for name, source in entries.items() if not name.startswith(f"{ENTRY_NAME}/")}
    entries.update(entry_files(entry_folder))

    buffer = io.BytesIO()
    bytes_in = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            source = entries[name]
            if isinstance(source, bytes):
                zf.writestr(_zip_info(name, len(source), False, source[:_SAMPLE]), source)
                bytes_in += len(source)
                continue
            with source.open("rb") as reader:
                status = os.fstat(reader.fileno())
                sample = reader.read(_SAMPLE)
                info = _zip_info(name, status.st_size, bool(status.st_mode & stat.S_IXUSR), sample)
                with zf.open(info, "w") as writer:
                    writer.write(sample)
                    shutil.copyfileobj(reader, writer, _CHUNK)
            bytes_in += status.st_size
    data = buffer.getvalue()
    return PackedContext(data, hashlib.sha256(data).hexdigest(), len(entries), bytes_in)
