"""Pack a 500 MB example folder whose 450 MB `data/` is in `.dockerignore`: ours vs a naive zip.

The naive zip is sm-docker's way: every file of the folder into a ZIP_DEFLATED archive, `.dockerignore`
not consulted. Ours is `pack_context` (honours `.dockerignore`, skips the ignored folder unread, stores
incompressible files instead of deflating them, deterministic, sha256 included). A naive ZIP_STORED
zip separates the two effects. All run on the same folder in one process; ratios are naive / ours.
The data is os.urandom: incompressible, like model weights and packed datasets.

    python benchmarks/context.py [--total-mb 500] [--ignored-mb 450]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.define.staging import ENTRY_POINT  # noqa: E402
from steps.build_image.job.context import pack_context  # noqa: E402

CHUNK = 8 << 20
MB = 1_000_000


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        while size > 0:
            out.write(os.urandom(min(CHUNK, size)))
            size -= CHUNK


def make_example(root: Path, total_mb: int, ignored_mb: int) -> Path:
    """An example folder: code, 450 MB of data shards (ignored), the rest as kept binary files."""
    example = root / "bigexample"
    (example / "src").mkdir(parents=True)
    (example / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /workspace\nRUN pip install numpy\nCOPY . .\n"
    )
    (example / ".dockerignore").write_text("data\n**/__pycache__\n*.log\n")
    for i in range(50):
        (example / "src" / f"module_{i:02d}.py").write_text(f"def f{i}(x):\n    return x * {i}\n" * 200)
    shard, ignored = 64 * MB, ignored_mb * MB
    for i in range(0, ignored, shard):
        write_random(example / "data" / f"shard_{i // shard:03d}.bin", min(shard, ignored - i))
    code = sum(p.stat().st_size for p in example.rglob("*") if p.is_file() and "data" not in p.parts)
    write_random(example / "assets" / "weights.bin", total_mb * MB - ignored - code)
    return example


def naive_zip(folder: Path, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """sm-docker's context: every file, deflated, no rules."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def timed(function, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def row(label: str, seconds: float, read: int, data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = len(archive.infolist())
    print(f"{label:30}{seconds:>9.2f}{read / MB:>11.1f}{len(data) / MB:>10.1f}{files:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mb", type=int, default=500)
    parser.add_argument("--ignored-mb", type=int, default=450)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cvl-bench-") as tmp:
        example, made = timed(make_example, Path(tmp), args.total_mb, args.ignored_mb)
        size = sum(p.stat().st_size for p in example.rglob("*") if p.is_file())
        print(
            f"example folder: {size / MB:.0f} MB, {args.ignored_mb} MB of it in .dockerignore "
            f"(made in {made:.1f} s)"
        )

        packed, ours = timed(pack_context, example, ENTRY_POINT)
        naive, theirs = timed(naive_zip, example)
        stored, stored_seconds = timed(naive_zip, example, zipfile.ZIP_STORED)

        print(f"{'':30}{'time s':>9}{'read MB':>11}{'zip MB':>10}{'files':>7}")
        row("pack_context (ours, hashed)", ours, packed.bytes_in, packed.data)
        row("naive zip, deflated (sm-docker)", theirs, size, naive)
        row("naive zip, stored", stored_seconds, size, stored)
        print(
            f"naive/ours: {theirs / ours:.1f}x the time, {len(naive) / len(packed.data):.1f}x the bytes "
            f"to upload (naive stored: {stored_seconds / ours:.1f}x the time)"
        )


if __name__ == "__main__":
    main()
