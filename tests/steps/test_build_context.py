from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from steps.build_image.job import context as context_module
from steps.build_image.job.context import (
    BadContext,
    ContextChanged,
    archive_digest,
    build_context,
    image_tag,
    pack_context,
)
from steps.build_image.job.dockerignore import DockerIgnore, read_patterns
from steps.build_image.job.file_digests import FileDigests

DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\n"


def make_example(root: Path, dockerignore: str | None = "data\n*.log\n!keep.log\n") -> Path:
    example = root / "demo"
    (example / "data").mkdir(parents=True)
    (example / "src").mkdir()
    (example / "Dockerfile").write_text(DOCKERFILE)
    (example / "train.py").write_text("print('training')\n")
    (example / "src" / "model.py").write_text("WEIGHTS = 3\n")
    (example / "data" / "big.bin").write_bytes(os.urandom(4096))
    (example / "run.log").write_text("noise\n")
    (example / "keep.log").write_text("kept\n")
    run_sh = example / "run.sh"
    run_sh.write_text("#!/bin/sh\npython train.py\n")
    run_sh.chmod(0o755)
    if dockerignore is not None:
        (example / ".dockerignore").write_text(dockerignore)
    return example


@pytest.fixture
def entry(tmp_path: Path) -> Path:
    folder = tmp_path / "entry"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "__main__.py").write_text("print('entry')\n")
    (folder / "__pycache__" / "__main__.cpython-312.pyc").write_bytes(b"cache")
    return folder


def names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def test_context_holds_what_docker_would_send_plus_our_files(tmp_path: Path, entry: Path) -> None:
    packed = pack_context(make_example(tmp_path), entry)
    assert names(packed.data) == [
        ".dockerignore",
        "Dockerfile",
        "cvl_entry/__main__.py",
        "keep.log",
        "run.sh",
        "src/model.py",
        "train.py",
    ]
    assert packed.files == 7
    with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
        assert "ENTRYPOINT" in archive.read("Dockerfile").decode()
        assert archive.read("cvl_entry/__main__.py") == (entry / "__main__.py").read_bytes()
        # The rules stay in the context (docker build applies them again) and let our entry point in.
        assert archive.read(".dockerignore").decode().rstrip().endswith("!cvl_entry")
        modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
        assert modes["run.sh"] == 0o755 and modes["train.py"] == 0o644
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_incompressible_files_are_stored_and_text_is_deflated(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path, dockerignore=None)
    (example / "train.py").write_text("for step in range(10):\n    print(step)\n" * 100)
    with zipfile.ZipFile(io.BytesIO(pack_context(example, entry).data)) as archive:
        assert archive.getinfo("data/big.bin").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("train.py").compress_type == zipfile.ZIP_DEFLATED
        assert archive.testzip() is None


def test_packing_twice_gives_the_same_bytes(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    first = pack_context(example, entry)
    assert pack_context(example, entry).data == first.data
    for path in example.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    (example / "train.py").chmod(0o600)  # only the executable bit is kept
    again = pack_context(example, entry)
    assert again.digest == first.digest
    assert image_tag(again.digest) == first.digest[:24]


def test_a_changed_file_changes_the_digest(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    before = pack_context(example, entry).digest
    (example / "src" / "model.py").write_text("WEIGHTS = 4\n")
    assert pack_context(example, entry).digest != before


def test_the_digest_read_from_the_files_is_the_one_packed_and_the_one_unzipped(
    tmp_path: Path, entry: Path
) -> None:
    example = make_example(tmp_path)
    package = tmp_path / "repo" / "cvlization"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VERSION = 1\n")
    shipped = [("cvlization/__init__.py", package / "__init__.py")]

    known = build_context(example, entry, shipped)
    packed = pack_context(example, entry, shipped)

    assert known.digest == packed.digest == archive_digest(packed.data)
    assert (known.files, known.bytes_in) == (packed.files, packed.bytes_in)
    assert known.pack().data == packed.data
    assert names(packed.data) == [name for name, _ in known.entries]


def test_the_executable_bit_is_part_of_the_digest_as_it_is_of_the_zip(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    before = build_context(example, entry).digest
    (example / "train.py").chmod(0o755)
    after = build_context(example, entry)
    assert after.digest != before
    assert after.digest == archive_digest(after.pack().data)


def _same_size_edit_times_restored(path: Path, text: str) -> None:
    times = path.stat()
    assert len(text.encode()) == times.st_size
    path.write_text(text)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert path.stat().st_mtime_ns == times.st_mtime_ns


def test_a_file_changed_right_after_its_read_is_read_again_whatever_its_times(
    tmp_path: Path, entry: Path
) -> None:
    # Within the file system's time stamp tick a rewrite may keep even ctime: fresh files are not
    # remembered, so the edit is seen.
    example = make_example(tmp_path)
    digests = FileDigests()
    first = build_context(example, entry, digests=digests)
    _same_size_edit_times_restored(example / "src" / "model.py", "WEIGHTS = 4\n")
    after = build_context(example, entry, digests=digests)
    assert after.digest != first.digest
    assert after.digest == pack_context(example, entry).digest


def test_a_settled_file_is_read_once_until_it_changes_even_with_its_times_restored(
    tmp_path: Path, entry: Path
) -> None:
    example = make_example(tmp_path)
    digests = FileDigests(settle_seconds=0.2)
    time.sleep(0.3)  # every file of the example is now settled
    first = build_context(example, entry, digests=digests)
    reads = digests.reads
    assert build_context(example, entry, digests=digests).digest == first.digest
    assert digests.reads == reads  # remembered: nothing read again

    _same_size_edit_times_restored(example / "src" / "model.py", "WEIGHTS = 4\n")
    after = build_context(example, entry, digests=digests)
    assert digests.reads == reads + 1  # the edited file only
    assert after.digest != first.digest
    assert after.digest == pack_context(example, entry).digest


def test_files_changed_after_their_digest_are_never_packed_under_it(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    known = build_context(example, entry)
    (example / "train.py").write_text("print('changed')\n")
    with pytest.raises(ContextChanged, match="run the command again"):
        known.pack()


def test_an_ignored_file_changes_nothing(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    before = pack_context(example, entry)
    (example / "data" / "big.bin").write_bytes(os.urandom(8192))
    (example / "data" / "new.bin").write_bytes(b"more")
    (example / "other.log").write_text("more noise\n")
    after = pack_context(example, entry)
    assert after.digest == before.digest and after.data == before.data


def test_the_example_dockerfile_and_entry_point_change_the_digest(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    before = pack_context(example, entry).digest
    (entry / "__main__.py").write_text("print('entry v2')\n")
    after_entry = pack_context(example, entry).digest
    (example / "Dockerfile").write_text(DOCKERFILE + "RUN pip install numpy\n")
    assert len({before, after_entry, pack_context(example, entry).digest}) == 3


def test_dockerfile_and_dockerignore_are_sent_even_when_ignored(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path, dockerignore="Dockerfile\n.dockerignore\n*.py\n")
    listed = names(pack_context(example, entry).data)
    assert {"Dockerfile", ".dockerignore", "cvl_entry/__main__.py"} <= set(listed)
    assert "train.py" not in listed and "src/model.py" in listed  # `*.py` is the root's .py files only


def test_without_dockerignore_everything_is_sent(tmp_path: Path, entry: Path) -> None:
    listed = names(pack_context(make_example(tmp_path, dockerignore=None), entry).data)
    assert "data/big.bin" in listed and "run.log" in listed and ".dockerignore" not in listed


def test_missing_dockerfile_is_bad_context(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path)
    (example / "Dockerfile").unlink()
    with pytest.raises(BadContext, match="no Dockerfile"):
        pack_context(example, entry)


def test_ignored_folders_are_not_walked(tmp_path: Path, entry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = make_example(tmp_path, dockerignore="data\n!src/keep.txt\n")
    (example / "data" / "deep").mkdir()
    walked: list[str] = []
    real_scandir = os.scandir

    def scandir(path: Path) -> os.ScandirIterator[os.DirEntry[str]]:
        if Path(path).is_relative_to(example):  # os.scandir is patched for all: the entry folder's too
            walked.append(Path(path).relative_to(example).as_posix())
        return real_scandir(path)

    monkeypatch.setattr(context_module.os, "scandir", scandir)
    pack_context(example, entry)
    assert "data" not in walked and "data/deep" not in walked
    assert "src" in walked


# Docker's rules, one case each: (patterns, path, excluded?)
RULES = [
    (["data"], "data/x/y.bin", True),  # a folder match excludes everything below it
    (["data"], "src/data/file", False),  # ... but only at the root: patterns are relative to it
    (["/data"], "data/file", True),  # a leading / is the context root
    (["./data/"], "data/file", True),  # ./ and trailing / are cleaned away
    (["*.log"], "a.log", True),
    (["*.log"], "sub/a.log", False),  # * never crosses /
    (["**/*.log"], "sub/deeper/a.log", True),  # ** spans folders ...
    (["**/*.log"], "a.log", True),  # ... including none
    (["a/**/b"], "a/b", True),
    (["a/**/b"], "a/x/y/b", True),
    (["a/**"], "a/x/y", True),
    (["?.txt"], "a.txt", True),
    (["?.txt"], "ab.txt", False),
    (["*", "!keep.txt"], "keep.txt", False),  # ! re-includes
    (["*", "!keep.txt", "keep*"], "keep.txt", True),  # the last match wins
    (["data", "!data/keep.txt"], "data/keep.txt", False),
    (["data", "!data/keep.txt"], "data/other.txt", True),
    (["data", "!data/**/*.json"], "data/a/b.json", False),
    (["data/*/x"], "data/a/x", True),
    (["data/*/x"], "data/a/b/x", False),
    (["[ab].txt"], "b.txt", True),
    (["[ab].txt"], "c.txt", False),
    (["a.b"], "axb", False),  # . is literal
    (["\\*.txt"], "*.txt", True),  # backslash escapes
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), RULES)
def test_dockerignore_rules(patterns: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(read_patterns("\n".join(patterns))).excluded(path) is excluded


def test_dockerignore_file_syntax() -> None:
    text = "\ufeff# a comment\n\n  build/  \n!  build/keep \n #not a comment\n"
    assert read_patterns(text) == ["build", "!build/keep", "#not a comment"]


def test_reinclusion_below_a_folder_is_detected() -> None:
    rules = DockerIgnore(["data", "!data/keep/*.txt", "!other/x"])
    assert rules.may_reinclude_below("data")
    assert rules.may_reinclude_below("data/keep")
    assert not rules.may_reinclude_below("data/drop")
    assert not rules.may_reinclude_below("logs")
    assert DockerIgnore(["data", "!**/keep"]).may_reinclude_below("data/any")


def test_invalid_pattern_is_bad_context(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path, dockerignore="!\n")
    with pytest.raises(BadContext, match="illegal exclusion"):
        pack_context(example, entry)


def test_the_entry_point_folder_is_ours_alone(tmp_path: Path, entry: Path) -> None:
    example = make_example(tmp_path, dockerignore=None)
    (example / "cvl_entry").mkdir()
    (example / "cvl_entry" / "stale.py").write_text("print('not ours')\n")
    listed = names(pack_context(example, entry).data)
    assert [name for name in listed if name.startswith("cvl_entry/")] == ["cvl_entry/__main__.py"]
