"""What an update would change in a deployed pipeline, in words a reviewer reads in a pull request.

Parameters added, removed, or with a new type or default; steps added or removed; and for each step
kept, every field that changes, by its path in the step (`Arguments.ResourceConfig.VolumeSizeInGB:
50 -> 80`). A string field holding a JSON object (the preset, in `cvl_preset`) is compared inside.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_SHOWN = 60  # characters of a value shown before it is cut


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and fixed separators: byte-identical for equal content."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


def shown(value: Any) -> str:
    """A value as JSON, cut to a readable length."""
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def field_changes(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """`path: old -> new` for every leaf that differs (`added`/`removed` for keys one side lacks)."""
    if old == new:
        return
    old_object, new_object = _json_object(old), _json_object(new)
    if old_object is not None and new_object is not None:
        old, new = old_object, new_object
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                yield f"{where} added: {shown(new[key])}"
            elif key not in new:
                yield f"{where} removed (was {shown(old[key])})"
            else:
                yield from field_changes(old[key], new[key], where)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from field_changes(before, after, f"{path}[{index}]")
    else:
        yield f"{path or 'value'}: {shown(old)} -> {shown(new)}"


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("Name")): item for item in items}


def definition_changes(deployed: str, compiled: str) -> list[str]:
    """Every difference between a deployed definition and the compiled one, one line each."""
    old, new = json.loads(deployed), json.loads(compiled)
    lines: list[str] = []
    old_parameters, new_parameters = _by_name(old.get("Parameters", [])), _by_name(new.get("Parameters", []))
    for name in sorted(new_parameters.keys() - old_parameters.keys()):
        added = new_parameters[name]
        lines.append(
            f"parameter added: {name} ({added.get('Type')}, default {shown(added.get('DefaultValue'))})"
        )
    for name in sorted(old_parameters.keys() - new_parameters.keys()):
        lines.append(f"parameter removed: {name}")
    for name in sorted(old_parameters.keys() & new_parameters.keys()):
        before, after = old_parameters[name], new_parameters[name]
        if before.get("Type") != after.get("Type"):
            lines.append(f"parameter {name}: type {before.get('Type')} -> {after.get('Type')}")
        if before.get("DefaultValue") != after.get("DefaultValue"):
            lines.append(
                f"parameter {name}: default {shown(before.get('DefaultValue'))} -> {shown(after.get('DefaultValue'))}"
            )
    old_steps, new_steps = _by_name(old.get("Steps", [])), _by_name(new.get("Steps", []))
    lines += [f"step added: {name}" for name in new_steps if name not in old_steps]
    lines += [f"step removed: {name}" for name in old_steps if name not in new_steps]
    for name in (name for name in new_steps if name in old_steps):
        lines += [f"step {name}: {change}" for change in field_changes(old_steps[name], new_steps[name])]
    rest = ("Parameters", "Steps")
    old_rest = {key: value for key, value in old.items() if key not in rest}
    new_rest = {key: value for key, value in new.items() if key not in rest}
    lines += [f"pipeline: {change}" for change in field_changes(old_rest, new_rest)]
    return lines
