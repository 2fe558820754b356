"""What the example's `docker run` gave its command, reproduced in the job (stdlib only, Python >= 3.8).

- The preset's JSON, which a long preset carries in several hyperparameters (`cvl_preset`,
  `cvl_preset_2`, ...), joined in order.
- Its mount points: each container path of `Preset.mounts` (`/workspace`, `/cvlization_repo`) becomes a
  symlink to its folder in the code dir, so code that writes `/workspace/outputs` writes into the code
  dir, where the entry point collects what changed. On SageMaker a folder of the image at that path is
  moved aside (a `docker run` mount hid it too); on this machine (`--local`) nothing of the machine's is
  moved or replaced, and the links made are removed when the run ends.
- `PYTHONPATH` entries relative to the code dir (a vendored tree) made absolute.
- One process per host unless the preset asks for torchrun and the command does not launch its own.
- `--shm-size`, which no training job takes: a warning when this job's /dev/shm is smaller.
"""

from __future__ import annotations

import os
from typing import Any

PRESET_HYPERPARAMETER = "cvl_preset"
_LAUNCHERS = ("torchrun", "torch.distributed.run", "torch.distributed.launch", "accelerate", "deepspeed")


def pop_preset_text(values: dict[str, Any]) -> str:
    """Remove the preset's parts from the hyperparameters and return its JSON text (KeyError if absent)."""
    text = values.pop(PRESET_HYPERPARAMETER)
    index = 2
    while f"{PRESET_HYPERPARAMETER}_{index}" in values:
        text += values.pop(f"{PRESET_HYPERPARAMETER}_{index}")
        index += 1
    return text


def link_mounts(mounts: dict[str, str], code_dir: str, on_sagemaker: bool) -> tuple[list[str], list[str]]:
    """Make each mount point a symlink to its folder in `code_dir`; returns (the links and folders made,
    in order, and notes for the log)."""
    made: list[str] = []
    notes: list[str] = []
    for target in sorted(mounts, key=len):  # parents first: /workspace before /workspace/models
        folder = os.path.normpath(os.path.join(code_dir, mounts[target]))
        os.makedirs(folder, exist_ok=True)  # a folder the script made on the host (outputs/)
        if os.path.realpath(target) == os.path.realpath(folder):
            continue
        if not _clear(target, on_sagemaker, notes):
            continue
        try:
            made += _make_parents(os.path.dirname(target))
            os.symlink(folder, target, target_is_directory=True)
        except OSError as error:
            notes.append(
                f"cannot create mount point {target} ({error.strerror}); the command will not find it"
            )
            continue
        made.append(target)
        notes.append(f"mount point {target} -> {os.path.relpath(folder, code_dir)} (the code dir)")
    return made, notes


def _clear(target: str, on_sagemaker: bool, notes: list[str]) -> bool:
    """Make room for the link at `target`; False (with a note) when this machine's files are there."""
    if os.path.islink(target):
        if on_sagemaker or not os.path.exists(target):
            os.unlink(target)
            return True
        notes.append(f"mount point {target} is a link in use on this machine; left as it is")
        return False
    if not os.path.lexists(target):
        return True
    if os.path.isdir(target) and not os.listdir(target):
        os.rmdir(target)
        return True
    if on_sagemaker:
        os.rename(target, target.rstrip("/") + ".from-image")
        notes.append(f"{target} of the image moved to {target}.from-image (the script's mount hid it)")
        return True
    notes.append(f"{target} exists on this machine; not replaced, the command sees this machine's {target}")
    return False


def _make_parents(folder: str) -> list[str]:
    """Create `folder` and its missing parents; returns those created, outermost first."""
    missing: list[str] = []
    while folder and not os.path.lexists(folder):
        missing.insert(0, folder)
        folder = os.path.dirname(folder)
    for path in missing:
        os.mkdir(path)
    return missing


def unlink_mounts(made: list[str]) -> None:
    """Remove the links and folders `link_mounts` made (a local run leaves the machine as it found it)."""
    for path in reversed(made):
        if os.path.islink(path):
            os.unlink(path)
        elif os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)


def python_path(code_dir: str, *paths: str | None) -> str:
    """The code dir first, then each of `paths`' entries (the script's `PYTHONPATH`, the job's), those
    relative to the code dir (a vendored tree) made absolute, each once."""
    entries = [code_dir]
    for path in paths:
        for entry in (path or "").split(os.pathsep):
            if entry and entry != ".":
                entries.append(
                    entry if os.path.isabs(entry) else os.path.normpath(os.path.join(code_dir, entry))
                )
    return os.pathsep.join(dict.fromkeys(entries))


def launches_itself(command: list[str]) -> bool:
    """True when the command starts its own distributed launcher (torchrun, accelerate, deepspeed),
    also inside a `bash -c` program."""
    words = [word for field in command for word in field.split()]
    return any(os.path.basename(word) in _LAUNCHERS for word in words)


def runs_under_torchrun(preset: dict[str, Any], command: list[str]) -> bool:
    """True for a torchrun preset whose command does not launch itself: otherwise the command runs once
    per host, as a `docker run` ran it, its process seeing every GPU."""
    return preset.get("distribution") == "torchrun" and not launches_itself(command)


# bandit B108: /dev/shm is only measured (os.statvfs), never written.
def shared_memory_note(preset: dict[str, Any], shm: str = "/dev/shm") -> str:  # nosec B108
    """A warning when this job's /dev/shm is smaller than the script's `--shm-size`, else ""."""
    wanted = preset.get("shm_size_gb")
    try:
        stats = os.statvfs(shm)
    except OSError:
        return ""
    have = stats.f_frsize * stats.f_blocks / (1 << 30)
    if not wanted or have >= wanted:
        return ""
    return (
        f"warning: /dev/shm is {have:.1f} GB here, the script's docker run asked --shm-size {wanted} GB: "
        "data loader workers that share tensors may fail (lower num_workers if they do)"
    )
