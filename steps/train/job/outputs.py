"""What a job leaves behind: the failure records SageMaker and `run` read, and the files kept with the model."""

from __future__ import annotations

import json
import os
import shutil
import signal
from typing import Any

from .log import log

# SageMaker truncates FailureReason at 1024 characters. A copy of steps.common.limits.FAILURE_REASON_LIMIT
# (this folder ships alone into the example's image); tests/steps/test_limits.py keeps them equal.
FAILURE_LIMIT = 1024
# Written to <ml>/output/data (uploaded as output.tar.gz) when the job fails: the exit code as data.
EXIT_RECORD = "cvl-exit.json"


def failure_reason(what: str, code: int, tail: list[str], stopped_by: int | None = None) -> str:
    """`what exited with code N` (and the stop signal received, if any) plus as many of the last log
    lines as fit SageMaker's limit."""
    head = f"{what} exited with code {code}"
    if stopped_by is not None:
        head += f" (stopped by {signal.Signals(stopped_by).name})"
    lines: list[str] = []
    budget = FAILURE_LIMIT - len(head) - 16
    for line in reversed(tail):
        if len(line) + 1 > budget:
            if not lines:  # the last line alone is too long: keep its end, where errors usually are
                lines.append("..." + line[-(budget - 4) :])
            break
        lines.insert(0, line)
        budget -= len(line) + 1
    return "\n".join([head, *lines])


def fail(root: str, reason: str, code: int) -> int:
    """Write `reason` to `<ml>/output/failure` (SageMaker's FailureReason) and `{"exit_code": code}` to
    `<ml>/output/data/cvl-exit.json` (where `run` reads the code), and return `code`."""
    os.makedirs(os.path.join(root, "output", "data"), exist_ok=True)
    with open(os.path.join(root, "output", "failure"), "w") as handle:
        handle.write(reason[:FAILURE_LIMIT])
    with open(os.path.join(root, "output", "data", EXIT_RECORD), "w") as handle:
        json.dump({"exit_code": code}, handle)
    log(reason.splitlines()[0])
    return code


def keep_folders(preset: dict[str, Any], code_dir: str, model_dir: str) -> None:
    """Copy each kept folder of the code dir into the model dir, under its own name."""
    os.makedirs(model_dir, exist_ok=True)
    for folder in preset.get("keep", []):
        source = os.path.join(code_dir, folder)
        if not os.path.isdir(source):
            log(f"warning: kept folder {folder} does not exist; nothing copied")
            continue
        target = os.path.join(model_dir, os.path.basename(folder.rstrip("/")))
        shutil.copytree(source, target, dirs_exist_ok=True)
        log(f"kept {folder} -> {destination(target, model_dir)}")


def destination(path: str, model_dir: str) -> str:
    """Where `path`, inside the model dir, ends up: under `CVL_MODEL_DESTINATION` when the runner says
    (a local run's output folder), else the path itself (SageMaker packs the model dir as model.tar.gz)."""
    final = os.environ.get("CVL_MODEL_DESTINATION")
    if not final:
        return path
    relative = os.path.relpath(path, model_dir)
    return final if relative == "." else os.path.join(final, relative)


def snapshot(code_dir: str) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file in the code folder, hidden folders and caches left out."""
    files: dict[str, tuple[int, int]] = {}
    for folder, subfolders, names in os.walk(code_dir):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            try:
                status = os.stat(path)
            except OSError:
                continue
            files[os.path.relpath(path, code_dir)] = (status.st_mtime_ns, status.st_size)
    return files


def keep_changes(before: dict[str, tuple[int, int]], code_dir: str, model_dir: str) -> int:
    """Copy the files the run created or changed in the code folder into the model dir, at the same
    relative path (`artifacts/metrics.json` -> `<model>/artifacts/metrics.json`); returns how many."""
    copied = 0
    for relative, state in snapshot(code_dir).items():
        target = os.path.join(model_dir, relative)
        if before.get(relative) == state or os.path.exists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(code_dir, relative), target)
        copied += 1
    return copied
