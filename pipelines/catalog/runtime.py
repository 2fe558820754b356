"""What surrounds the command of a `docker run` in the job: mounts, `PYTHONPATH`, and what cannot follow.

A preset script's `docker run` gives its command mounts (the example folder at `/workspace`, the
repository at `/cvlization_repo`, host caches, folders beside the example), an environment and a
working folder. The job has the example's code folder with the shipped package beside it, so:

- a mount of the example folder, of a folder in it, or of the repository (or its shipped package)
  becomes a mount point the job creates (`Preset.mounts`: container path -> path in the code folder);
  the training entry point links it, and what the command writes there is collected with the model;
- a host cache (`~/.cache/huggingface`) is left out: the job downloads into the image's own cache;
- CVL's I/O mount (`/mnt/cvl/workspace`) is the job's `CVL_INPUTS`/`CVL_OUTPUTS`;
- anything else (a folder beside the example, a host folder) cannot follow: the preset is flagged.

`PYTHONPATH` entries under a mount become paths of the code folder; image paths (`/opt/<repo>`) stay.
A flag says why the job may not do what `docker run` did; `upsert --strict` refuses flagged presets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from configs.preset import Prepare
from pipelines.catalog.bash.interpret import Call
from pipelines.catalog.bash.words import known
from pipelines.catalog.docker_run import DockerRun
from pipelines.catalog.paths import PathMap

CVL_IO_MOUNT = "/mnt/cvl/workspace"  # CVlization's runner folder: the job's CVL_INPUTS/CVL_OUTPUTS instead
_CACHE = re.compile(r"(^|/)\.?cache(/|$)|huggingface|/\.torch|/\.triton|/\.keras|/root/\.")
# bandit B108: paths a script mounts from its host, compared as text; nothing here writes a temp file.
_SYSTEM = ("/dev", "/proc", "/sys", "/tmp/.X11-unix", "/etc/localtime", "/etc/timezone")  # nosec B108
_SCRIPT_FILE = re.compile(r"^[\w./-]+\.(py|sh|ipynb)$")
_INTERPRETERS = re.compile(r"^(python[0-9.]*|bash|sh|uv|torchrun|accelerate|deepspeed)$")


class Flag(NamedTuple):
    """Why the job may not do what the script's `docker run` did: a kind (for counting) and the detail."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class Runtime(NamedTuple):
    """The mounts the job creates, the `PYTHONPATH` it sets (or None), and the flags."""

    mounts: dict[str, str]
    pythonpath: str | None
    flags: list[Flag]


def _relative_to_root(example_dir: str, host_path: str) -> str:
    return os.path.relpath(host_path, example_dir)


def _shown(paths: PathMap, host_path: str) -> str:
    """A host path as people should see it: relative to the example folder when that is short."""
    relative = os.path.relpath(host_path, paths.example_dir)
    return (
        relative
        # bandit B108: a host path compared as text, not a temp file.
        if relative.count("..") <= 6 and not host_path.startswith(("/tmp", "/mnt", "/data"))  # nosec B108
        else host_path
    )


def runtime_of(run: DockerRun, paths: PathMap) -> Runtime:
    """The mounts, `PYTHONPATH` and flags of `run` (its path map knows its mounts and working folder)."""
    mounts: dict[str, str] = {}
    flags: list[Flag] = []
    for source, target in run.mounts:
        target = os.path.normpath(target) if target.startswith("/") else target
        if not known(target) or not target.startswith("/") or target == CVL_IO_MOUNT:
            continue
        if not known(source) or not source.startswith("/"):
            if not _CACHE.search(target) and known(source):
                flags.append(Flag("host mount", f"mounts the named volume {source} at {target}"))
            elif not _CACHE.search(target):
                flags.append(Flag("host mount", f"mounts a host folder known only when it runs at {target}"))
            continue
        source = os.path.normpath(source)
        code = paths.in_code(source)
        if code is not None:
            mounts[target] = code
        elif paths.repo_root and source.startswith(paths.repo_root + "/"):
            outside = _relative_to_root(paths.example_dir, source)
            flags.append(
                Flag(
                    "mount outside the example",
                    f"mounts {outside} at {target}: the job has only the example folder",
                )
            )
        elif _CACHE.search(source) or _CACHE.search(target) or source.startswith(_SYSTEM):
            continue  # a host cache or device: the job downloads into the image's own cache
        else:
            flags.append(Flag("host mount", f"mounts a host folder ({_shown(paths, source)}) at {target}"))
    return Runtime(_without_nested(mounts), _pythonpath(run, paths, flags), flags)


def _without_nested(mounts: dict[str, str]) -> dict[str, str]:
    """Mounts that another mount already provides (`/workspace/data` of the folder at `/workspace`) go."""
    kept: dict[str, str] = {}
    for target in sorted(mounts, key=len):
        parent = next((outer for outer in kept if target.startswith(outer.rstrip("/") + "/")), None)
        if parent is not None:
            implied = os.path.normpath(os.path.join(kept[parent], os.path.relpath(target, parent)))
            if implied == os.path.normpath(mounts[target]):
                continue
        kept[target] = mounts[target]
    return dict(sorted(kept.items()))


def _pythonpath(run: DockerRun, paths: PathMap, flags: list[Flag]) -> str | None:
    value = next((value for name, value in reversed(run.env) if name == "PYTHONPATH"), None)
    if value is None or not known(value):
        return None
    entries: list[str] = []
    for entry in value.split(":"):
        if not entry or entry.startswith("$"):
            continue
        host = paths.host(entry) if entry.startswith("/") else None
        if host is None:
            entries.append(entry)  # a path of the image (/opt/<repo>), or relative to the working folder
            continue
        code = paths.in_code(host)
        if code is not None:
            entries.append(code)
        # else: behind a mount the job cannot have, flagged with that mount
    return ":".join(dict.fromkeys(entries)) or None


def missing_files(
    command: Sequence[str], example_dir: Path, workdir: str | None, prepared: bool
) -> list[Flag]:
    """A flag for the script file the command runs when the example folder lacks it (nothing prepares it)."""
    if prepared or not command:
        return []
    fields = list(command)
    while fields and (_INTERPRETERS.match(os.path.basename(fields[0])) or fields[0] in ("run", "-u")):
        fields.pop(0)
        while fields and fields[0].startswith("-") and fields[0] not in ("-m", "-c"):
            fields.pop(0)
    if not fields or not _SCRIPT_FILE.match(fields[0]) or fields[0].startswith("/"):
        return []
    path = example_dir / (workdir or "") / fields[0]
    if path.exists():
        return []
    return [Flag("missing file", f"runs {fields[0]}, which is not in the example folder")]


def host_paths_in(text: str, *folders: Path | None) -> list[str]:
    """The host folders (each also without its leading `/`) that occur in `text`: a definition must hold
    none (they would name this machine's checkout)."""
    found = []
    for folder in folders:
        if folder is None:
            continue
        for form in {str(folder), str(folder.resolve())}:
            bare = form.lstrip("/")
            if bare.count("/") >= 1 and (form in text or bare in text):
                found.append(form)
    return found


def image_workdir(run: DockerRun, paths: PathMap) -> list[Flag]:
    """A flag when the command worked in a folder of the image (`-w /opt/x`): the job runs in the code dir."""
    workdir = run.workdir
    if workdir and known(workdir) and workdir.startswith("/") and paths.host(workdir) is None:
        return [
            Flag("image workdir", f"runs in the image's folder {workdir}; the job runs in the code folder")
        ]
    return []


def host_folders(calls: list[Call], paths: PathMap, workdir: str | None) -> list[Prepare]:
    """The folders of the example folder a script makes on the host before its `docker run` (`mkdir -p
    "$SCRIPT_DIR/outputs"`, which the command then writes into), as prepare steps that make them."""
    made: list[Prepare] = []
    for call in calls:
        if os.path.basename(call.argv[0]) != "mkdir":
            continue
        for word in call.argv[1:]:
            if word.startswith("-") or not known(word) or not word.startswith("/"):
                continue
            code = paths.in_code(os.path.normpath(word))
            if code and code != "." and not code.startswith(paths.shipped_roots()):
                made.append(
                    Prepare(command=["mkdir", "-p", os.path.relpath(code, workdir or ".")], creates=code)
                )
    return made
