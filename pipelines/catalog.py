"""Which examples exist (folders with an `example.yaml`) and which presets each has."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from configs import BadInput, Example, Preset, declared_presets, default_preset

EXAMPLE_FILE = "example.yaml"
_SKIPPED_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv", "data"})


def _example_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and path.name not in _SKIPPED_DIRS and not path.name.startswith("."):
            if (path / EXAMPLE_FILE).is_file():
                found.append(path / EXAMPLE_FILE)
            else:
                found.extend(_example_files(path))
    return found


def load_example(example_file: Path) -> Example:
    """Read one `example.yaml`; a malformed one is `BadInput` naming the file."""
    try:
        raw = yaml.safe_load(example_file.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BadInput(f"{example_file}{where}: not valid YAML: fix the file's syntax") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise BadInput(f"{example_file}: needs a mapping with at least `name:`")
    presets = raw.get("presets") or {}
    descriptions = {
        str(name): str((value or {}).get("description", "")) if isinstance(value, dict) else str(value or "")
        for name, value in (presets.items() if isinstance(presets, dict) else [])
    }
    try:
        return Example(
            name=raw["name"],
            path=example_file.parent,
            description=str(raw.get("description", "")),
            resources=raw.get("resources") or {},
            preset_descriptions=descriptions,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise BadInput(f"{example_file}: {field}: {first['msg']}") from None


def discover(root: Path) -> dict[str, Example]:
    """Every example under `root` by name; two folders declaring one name is `BadInput`."""
    examples: dict[str, Example] = {}
    for example_file in _example_files(root):
        example = load_example(example_file)
        if example.name in examples:
            raise BadInput(
                f"two examples are named {example.name!r}: {examples[example.name].path} and {example.path}; "
                "rename one in its example.yaml"
            )
        examples[example.name] = example
    return examples


def presets_of(example: Example) -> dict[str, Preset]:
    """The example's declared presets, or the derived `train` preset when it has no config module."""
    declared = declared_presets().get(example.name)
    if declared:
        return dict(declared)
    return {"train": default_preset(example)}


def resolve(root: Path, example_name: str, preset_name: str) -> tuple[Example, Preset]:
    """The example and preset by name; unknown names are `BadInput` listing the known ones."""
    examples = discover(root)
    if example_name not in examples:
        known = ", ".join(sorted(examples)) or "none"
        raise BadInput(f"unknown example {example_name!r} under {root} (known: {known})")
    example = examples[example_name]
    presets = presets_of(example)
    if preset_name not in presets:
        raise BadInput(
            f"unknown preset {preset_name!r} for {example_name} (known: {', '.join(sorted(presets))})"
        )
    return example, presets[preset_name]


def all_pairs(root: Path) -> list[tuple[Example, str, Preset]]:
    """Every (example, preset name, preset) under `root`, sorted by name."""
    return [
        (example, name, preset)
        for _, example in sorted(discover(root).items())
        for name, preset in sorted(presets_of(example).items())
    ]
