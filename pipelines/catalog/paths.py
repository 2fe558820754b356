"""Container paths of a `docker run` as paths of the job's code folder.

A preset script mounts the example folder (usually at `/workspace`) and the repository (at
`/cvlization_repo`, or its `cvlization/` at `/workspace/cvlization`). In the job the example's files are
the code folder and the shipped package sits beside them (`cvlization/`, `cvl/`), so a path under a
mount of either becomes a path relative to the command's working folder. Paths of other mounts (host
caches, the user's work dir) are left as they are; a path into the repository outside the shipped
package, or a host path outside the example folder, cannot be followed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pipelines.catalog.shipping import CVL_CORE, PACKAGE

DEFAULT_MOUNTS = (("/workspace", "example"), ("/cvlization_repo", "repository"))
_SHIPPED_ROOTS = (PACKAGE, CVL_CORE[0].split("/")[0])
_ABSOLUTE = re.compile(r"(?<![\w.:/-])/[^\s,:;=\"']*")


class OutsideExample(ValueError):
    """A path the job cannot have: outside the example folder and the shipped package."""


class PathMap:
    """Maps container and host paths of one `docker run` to paths relative to its working folder."""

    def __init__(
        self, example_dir: Path, repo_root: Path | None, mounts: tuple[tuple[str, str], ...]
    ) -> None:
        self.example_dir = str(example_dir.resolve())
        self.repo_root = str(repo_root) if repo_root else None
        targets: dict[str, str] = {}
        for container, source in DEFAULT_MOUNTS:
            host = self.example_dir if source == "example" else self.repo_root
            if host:
                targets[container] = host
        for source, target in mounts:
            if target.startswith("/") and source.startswith("/"):
                targets[os.path.normpath(target)] = os.path.normpath(source)
        # Longest first: /workspace/test_images wins over /workspace.
        self.targets = sorted(targets.items(), key=lambda item: -len(item[0]))
        self.workdir: str | None = None

    def host(self, container_path: str) -> str | None:
        """The host path behind `container_path`, when a mount provides it."""
        for target, source in self.targets:
            if container_path == target or container_path.startswith(target + "/"):
                return source + container_path[len(target) :]
        return None

    def in_code(self, host_path: str) -> str | None:
        """`host_path` as a path of the code folder (relative to it), or None when the job lacks it."""
        path = os.path.normpath(host_path)
        if path == self.example_dir or path.startswith(self.example_dir + "/"):
            return os.path.relpath(path, self.example_dir)
        if self.repo_root and path.startswith(self.repo_root + "/"):
            inside = os.path.relpath(path, self.repo_root)
            if inside.split("/")[0] in _SHIPPED_ROOTS:
                return inside
        if self.repo_root and path == self.repo_root:
            return "."
        return None

    @staticmethod
    def shipped_roots() -> tuple[str, ...]:
        """The top folders of the shipped package in the code folder (`cvlization`, `cvl`)."""
        return _SHIPPED_ROOTS

    def set_workdir(self, container_workdir: str | None) -> str | None:
        """Set the command's working folder from `-w`; returns it relative to the code folder (None: the
        code folder itself, also for a folder of the image outside any mount)."""
        host = self.host(container_workdir) if container_workdir else None
        code = self.in_code(host) if host else None
        if host and code is None:
            raise OutsideExample(f"its working folder {container_workdir} is outside the example folder")
        self.workdir = None if code in (None, ".") else code
        return self.workdir

    def field(self, text: str) -> str:
        """`text` with every mounted or host path made relative to the working folder."""
        return _ABSOLUTE.sub(self._one, text)

    def _one(self, match: re.Match[str]) -> str:
        path = match.group(0)
        candidate = self.host(path) or path
        if not (self._inside(candidate, self.example_dir) or self._inside(candidate, self.repo_root)):
            return path  # a path of the image, or of a host cache mount: as it is
        code = self.in_code(candidate)
        if code is None:
            raise OutsideExample(f"uses {path}, which is outside the example folder and the shipped package")
        return os.path.relpath(code, self.workdir or ".")

    @staticmethod
    def _inside(path: str, folder: str | None) -> bool:
        path = os.path.normpath(path)
        return bool(folder) and (path == folder or path.startswith(f"{folder}/"))
