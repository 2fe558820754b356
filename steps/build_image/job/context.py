"""Build contexts: what Docker would be sent for an example, its digest, and its deterministic zip.

The context holds the example folder as Docker would send it (honouring `.dockerignore`), with the
rendered Dockerfile in place of the example's and the training entry point's folder beside it. Its digest is a
sha256 over each entry's name, executable bit and content sha256, in name order: known by reading the
files, never by compressing them (`build_context`), and computed again from the bytes written when the
context is packed (`BuildContext.pack`) or unzipped (`archive_digest`), so all three agree. The image tag is
the digest's first 24 hex characters. The zip (CodeBuild's S3 source takes a zip) is packed only to be
uploaded: entries sorted, fixed times and permissions, no folder entries.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, Union

from steps.build_image.job.dockerfile import ENTRY_NAME, render_dockerfile
from steps.build_image.job.dockerignore import DockerIgnore, read_patterns
from steps.build_image.job.file_digests import FileDigests

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


# A context entry's source: a file, or bytes we generate (the rendered Dockerfile and .dockerignore).
Source = Union[Path, bytes]  # noqa: UP007 (`Path | bytes` at run time is 3.10+; the job runs 3.9)
_DIGEST_VERSION = b"cvl-context-v1\0"


class ContextChanged(BadContext):
    """The example's files changed between reading and packing: the packed zip has another digest."""


class PackedContext(NamedTuple):
    """A packed build context: the zip, its digest, how many files and how many bytes went in."""

    data: bytes
    digest: str
    files: int
    bytes_in: int


class BuildContext(NamedTuple):
    """A build context known by its entries (name -> source, sorted by name) and their digest; not packed."""

    entries: tuple[tuple[str, Source], ...]
    digest: str
    files: int
    bytes_in: int

    def pack(self) -> PackedContext:
        """The zip of these entries; `ContextChanged` when the files no longer have this digest."""
        packed = pack_entries(self.entries)
        if packed.digest != self.digest:
            raise ContextChanged(
                f"the build context changed while it was being read (digest {self.digest[:12]} became "
                f"{packed.digest[:12]}): run the command again once the example's files are settled"
            )
        return packed


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


class _Digest:
    """The running context digest: each entry's name, executable bit and content sha256, in name order."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256(_DIGEST_VERSION)

    def add(self, name: str, executable: bool, content_sha256: bytes) -> None:
        self._sha.update(name.encode("utf-8") + (b"\0x" if executable else b"\0-") + content_sha256)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def entry_files(entry_folder: Path) -> dict[str, Path]:
    """The entry point's modules (the folder's `*.py`, caches left out), by their name in the context."""
    return {f"{ENTRY_NAME}/{path.name}": path for path in sorted(entry_folder.glob("*.py"))}


def context_entries(
    example_path: Path, entry_folder: Path, shipped: Sequence[tuple[str, Path]] = ()
) -> tuple[tuple[str, Source], ...]:
    """The entries of `example_path`'s context, by name: its files as Docker would send them, the
    rendered Dockerfile, the entry point's folder (as `cvl_entry/`) and `shipped` (name in the context,
    file: e.g. the repository's `cvlization` package; the example's own files win over them).

    BadContext when the folder has no Dockerfile or its `.dockerignore` has a pattern Docker would reject.
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
    entries: dict[str, Source] = dict(shipped)
    entries.update(
        {name: path for name, path in context_files(example_path, ignore) if name not in generated}
    )
    entries.update(generated)
    entries = {name: source for name, source in entries.items() if not name.startswith(f"{ENTRY_NAME}/")}
    entries.update(entry_files(entry_folder))
    return tuple(sorted(entries.items()))


def digest_entries(
    entries: tuple[tuple[str, Source], ...], digests: FileDigests | None = None
) -> BuildContext:
    """The context of `entries` with its digest, from the files' contents: nothing is compressed."""
    digests = digests or FileDigests()
    running, bytes_in = _Digest(), 0
    for name, source in entries:
        if isinstance(source, bytes):
            running.add(name, False, hashlib.sha256(source).digest())
            bytes_in += len(source)
        else:
            found = digests.of(source)
            running.add(name, found.executable, found.sha256)
            bytes_in += found.size
    return BuildContext(entries, running.hexdigest(), len(entries), bytes_in)


def build_context(
    example_path: Path,
    entry_folder: Path,
    shipped: Sequence[tuple[str, Path]] = (),
    digests: FileDigests | None = None,
) -> BuildContext:
    """The context of `example_path` (see `context_entries`) and its digest, without packing it."""
    return digest_entries(context_entries(example_path, entry_folder, shipped), digests)


def pack_entries(entries: tuple[tuple[str, Source], ...]) -> PackedContext:
    """Zip `entries` (streamed in 1 MiB chunks, never read whole; incompressible files stored, not
    deflated) and compute their digest from the bytes written."""
    buffer = io.BytesIO()
    running, bytes_in = _Digest(), 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, source in entries:
            if isinstance(source, bytes):
                zf.writestr(_zip_info(name, len(source), False, source[:_SAMPLE]), source)
                running.add(name, False, hashlib.sha256(source).digest())
                bytes_in += len(source)
                continue
            with source.open("rb") as reader:
                status = os.fstat(reader.fileno())
                executable = bool(status.st_mode & stat.S_IXUSR)
                sample = reader.read(_SAMPLE)
                sha, size = hashlib.sha256(sample), len(sample)
                with zf.open(_zip_info(name, status.st_size, executable, sample), "w") as writer:
                    writer.write(sample)
                    for chunk in iter(lambda: reader.read(_CHUNK), b""):
                        writer.write(chunk)
                        sha.update(chunk)
                        size += len(chunk)
            running.add(name, executable, sha.digest())
            bytes_in += size
    return PackedContext(buffer.getvalue(), running.hexdigest(), len(entries), bytes_in)


def pack_context(
    example_path: Path, entry_folder: Path, shipped: Sequence[tuple[str, Path]] = ()
) -> PackedContext:
    """Pack `example_path`'s context (see `context_entries`) into its zip."""
    return pack_entries(context_entries(example_path, entry_folder, shipped))


def archive_digest(data: bytes) -> str:
    """The digest of a packed context, from its entries (names, executable bits, contents)."""
    running = _Digest()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in sorted(archive.infolist(), key=lambda entry: entry.filename):
            sha = hashlib.sha256()
            with archive.open(info) as reader:
                for chunk in iter(lambda: reader.read(_CHUNK), b""):
                    sha.update(chunk)
            running.add(info.filename, bool((info.external_attr >> 16) & stat.S_IXUSR), sha.digest())
    return running.hexdigest()
