"""The examples tree: every folder with an `example.yaml`, read into `Example`s, one bad file at a time.

A file that cannot be read is reported for its example only (`Unreadable`); the rest of the tree stays
usable. Examples are found by `name` or by folder path under the root (exact, then suffix), as
CVlization's `cvl run` finds them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from configs import BadInput, Example
from configs.example import ExampleFile, normalise_resources
from pipelines.catalog.shipping import repository_root

EXAMPLE_FILE = "example.yaml"
# Folders that never hold examples (tool and cache folders). `data` is NOT one of them:
# CVlization has examples under `examples/agentic/data/`.
_SKIPPED_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv", "venv", "site-packages"})
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Unreadable(NamedTuple):
    """An example folder whose `example.yaml` cannot be read, and why (one line, naming the file)."""

    folder: str
    path: Path
    reason: str


class Tree(NamedTuple):
    """The examples under a root: the readable ones by name, and the unreadable ones."""

    root: Path
    examples: dict[str, Example]
    unreadable: list[Unreadable]


def example_files(root: Path) -> list[Path]:
    """Every `example.yaml` under `root` (not below another example's folder), sorted."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        if EXAMPLE_FILE in files and Path(folder) != root:
            found.append(Path(folder) / EXAMPLE_FILE)
            subfolders[:] = []
            continue
        subfolders[:] = [
            name for name in subfolders if name not in _SKIPPED_DIRS and not name.startswith(".")
        ]
    return sorted(found)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def load_example(example_file: Path, root: Path | None = None) -> Example:
    """Read one `example.yaml` into an `Example`; an unreadable one is `BadInput` naming the file."""
    try:
        # bandit B506 (yaml.load): _Loader is yaml's (C)SafeLoader, which builds plain data only.
        raw: Any = yaml.load(example_file.read_text("utf-8"), Loader=_Loader)  # nosec B506
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BadInput(f"{example_file}{where}: not valid YAML: fix the file's syntax") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{example_file}: cannot be read: {error}") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise BadInput(f"{example_file}: needs a mapping with at least `name:`")
    root = root or example_file.parent.parent
    folder = example_file.parent
    try:
        parsed = ExampleFile.model_validate(raw)
        return Example(
            name=parsed.name,
            path=folder,
            folder=folder.relative_to(root).as_posix() if folder.is_relative_to(root) else folder.name,
            description=" ".join(parsed.description.split()),
            image=parsed.image_name(),
            resources=normalise_resources(raw),
            presets=parsed.declared_presets(),
            sagemaker=parsed.sagemaker or {},
            repo_root=repository_root(folder),
        )
    except ValidationError as error:
        raise BadInput(f"{example_file}: {_first_error(error)}") from None


def read_tree(root: Path) -> Tree:
    """Every example under `root`; unreadable files and every folder of a name claimed twice are `Unreadable`."""
    claims: dict[str, list[Example]] = {}
    unreadable: list[Unreadable] = []
    for example_file in example_files(root):
        folder = example_file.parent.relative_to(root).as_posix()
        try:
            example = load_example(example_file, root)
        except BadInput as error:
            unreadable.append(Unreadable(folder, example_file.parent, str(error)))
            continue
        claims.setdefault(example.name, []).append(example)
    examples: dict[str, Example] = {}
    for name, claimants in claims.items():
        if len(claimants) == 1:
            examples[name] = claimants[0]
            continue
        # Neither wins: which one would depend on the order folders are listed in.
        folders = ", ".join(claimant.folder for claimant in claimants)
        for claimant in claimants:
            reason = (
                f"{claimant.path / EXAMPLE_FILE}: the name {name!r} is claimed by {len(claimants)} folders "
                f"({folders}); neither is used: rename all but one in their example.yaml"
            )
            unreadable.append(Unreadable(claimant.folder, claimant.path, reason))
    return Tree(root, examples, sorted(unreadable, key=lambda entry: entry.folder))


def find_example(tree: Tree, identifier: str) -> Example:
    """The example named `identifier`, or at that folder path under the root (exact, then suffix).

    `BadInput` when nothing matches (listing the known names), when a suffix matches several folders,
    or when the match is an unreadable file (with its reason).
    """
    wanted = identifier.strip().removeprefix("examples/").strip("/")
    by_folder: dict[str, Example | Unreadable] = {
        example.folder: example for example in tree.examples.values()
    }
    by_folder.update({entry.folder: entry for entry in tree.unreadable})
    if wanted in tree.examples:
        return tree.examples[wanted]
    match = by_folder.get(wanted)
    if match is None:
        suffixed = [entry for folder, entry in sorted(by_folder.items()) if folder.endswith("/" + wanted)]
        if len(suffixed) > 1:
            folders = ", ".join(_folder_of(entry) for entry in suffixed)
            raise BadInput(
                f"example {identifier!r} matches several folders ({folders}): give more of the path"
            )
        match = suffixed[0] if suffixed else None
    if match is None:
        known = ", ".join(sorted(tree.examples)) or "none"
        raise BadInput(f"unknown example {identifier!r} under {tree.root} (known: {known})")
    if isinstance(match, Unreadable):
        raise BadInput(match.reason)
    return match


def _folder_of(entry: Example | Unreadable) -> str:
    return entry.folder
