"""Which parts of the CVlization repository an example needs shipped with its code.

154 CVlization examples import the repository's `cvlization` package (its scripts mount the repository
at `/cvlization_repo` with `PYTHONPATH` on it, or mount `cvlization/` into `/workspace`); a few import
`cvl.core`. Those paths go into the build context beside the example's code, at the same relative
path, so `import cvlization` works in the image and in `--local` alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = "cvlization"
CVL_CORE = ("cvl/__init__.py", "cvl/_version.py", "cvl/core")
_IMPORTS_PACKAGE = re.compile(rb"^\s*(?:from|import)\s+cvlization\b", re.MULTILINE)
_IMPORTS_CVL_CORE = re.compile(
    rb"^\s*(?:from|import)\s+cvl\.core\b|^\s*from\s+cvl\s+import\s+core\b", re.MULTILINE
)
# A script that mounts the repository or its package, or puts it on PYTHONPATH.
_SCRIPT_USES_PACKAGE = re.compile(rb"/cvlization_repo|/cvlization[,\"'\s]|PYTHONPATH=[^\s]*cvlization")
_SCAN_LIMIT = 1 << 20  # source files larger than this are data, not code
_NOT_SHIPPED = re.compile(r"(^|/)(__pycache__|\.[^/]+)(/|$)|\.py[co]$")


def repository_root(folder: Path) -> Path | None:
    """The nearest folder above `folder` holding the `cvlization` package, or None."""
    for parent in folder.resolve().parents:
        if (parent / PACKAGE / "__init__.py").is_file():
            return parent
    return None


def _sources(folder: Path) -> Iterator[Path]:
    for current, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".sh")):
                yield Path(current) / name


def shipped_paths(example: Any) -> tuple[str, ...]:
    """The repository paths `example` needs: `cvlization` and, when imported, `cvl.core`'s files.

    Only paths that exist under the example's repository root are named; an example that has its own
    `cvlization` folder ships nothing.
    """
    root: Path | None = example.repo_root
    if root is None or (example.path / PACKAGE).exists():
        return ()
    uses_package = uses_core = False
    for source in _sources(example.path):
        try:
            if source.stat().st_size > _SCAN_LIMIT:
                continue
            text = source.read_bytes()
        except OSError:
            continue
        if b"cvl" not in text:
            continue
        if source.suffix == ".py":
            uses_package = uses_package or (b"cvlization" in text and bool(_IMPORTS_PACKAGE.search(text)))
            uses_core = (
                uses_core
                or (b"cvl.core" in text or b"from cvl import" in text)
                and bool(_IMPORTS_CVL_CORE.search(text))
            )
        else:
            uses_package = uses_package or bool(_SCRIPT_USES_PACKAGE.search(text))
        if uses_package and uses_core:
            break
    # The package itself may import cvl.core (CVlization's dataset builders do): then it needs it too.
    uses_core = uses_core or (uses_package and package_imports_core(root))
    wanted = ([PACKAGE] if uses_package else []) + (list(CVL_CORE) if uses_core else [])
    return tuple(path for path in wanted if (root / path).exists())


@cache
def package_imports_core(root: Path) -> bool:
    """True when a module of the repository's `cvlization` package imports `cvl.core`."""
    for source in _sources(root / PACKAGE):
        if source.suffix == ".py" and _IMPORTS_CVL_CORE.search(source.read_bytes()):
            return True
    return False


def shipped_files(root: Path, paths: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(relative name, file) for every file under the shipped `paths` of repository `root`, sorted.

    Caches and hidden files are left out; symlinked folders are not followed.
    """
    found: list[tuple[str, Path]] = []
    for relative in paths:
        start = root / relative
        if start.is_file():
            found.append((relative, start))
            continue
        for current, subfolders, files in os.walk(start):
            subfolders[:] = [
                name for name in subfolders if not name.startswith(".") and name != "__pycache__"
            ]
            for name in files:
                name_in_repo = (Path(current) / name).relative_to(root).as_posix()
                if not _NOT_SHIPPED.search(name_in_repo):
                    found.append((name_in_repo, Path(current) / name))
    return sorted(found)
