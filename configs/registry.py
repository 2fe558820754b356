"""The preset registry, built by walking the `configs` package for the modules that declare `PRESETS`.

A module is an example's when its source assigns `PRESETS` at its top level: the source is read, not
imported, so the machinery beside the presets is never loaded to find out what it is, and a new
module needs no list kept by hand.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from configs.errors import BadInput
from configs.preset import Preset

PRESETS_NAME = "PRESETS"


def declares_presets(source: Path) -> bool:
    """Whether the module at `source` assigns `PRESETS` at its top level (read, not imported)."""
    for node in ast.parse(source.read_bytes(), filename=str(source)).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == PRESETS_NAME for target in targets):
            return True
    return False


def preset_modules() -> list[str]:
    """The names of the `configs` modules that declare presets, in the order `pkgutil` lists them."""
    found = []
    package = sys.modules[__name__.rpartition(".")[0]]  # configs, imported before any of its modules
    for module_info in pkgutil.iter_modules(package.__path__):
        spec = module_info.module_finder.find_spec(f"configs.{module_info.name}", None)
        origin = spec.origin if spec is not None else None
        if origin and origin.endswith(".py") and declares_presets(Path(origin)):
            found.append(module_info.name)
    return found


@cache
def declared_presets() -> MappingProxyType[str, MappingProxyType[str, Preset]]:
    """Map example name -> preset name -> `Preset` for every `configs/<example>.py` declaring `PRESETS`.

    The module name is the example name with `-` and `.` written as `_`; a module may set `EXAMPLE`
    to name its example explicitly.
    """
    found: dict[str, MappingProxyType[str, Preset]] = {}
    for name in preset_modules():
        try:
            module = importlib.import_module(f"configs.{name}")
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or error.title
            raise BadInput(f"configs/{name}.py: {field}: {first['msg']}") from None
        presets = getattr(module, PRESETS_NAME, None)
        if not isinstance(presets, dict):
            raise BadInput(f"configs/{name}.py: {PRESETS_NAME} must map preset names to Preset objects")
        example_name = getattr(module, "EXAMPLE", name)
        found[example_name] = MappingProxyType(dict(presets))
    return MappingProxyType(found)
