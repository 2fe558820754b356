"""The preset registry, built by walking the `configs` package for example modules."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import MappingProxyType

from pydantic import ValidationError

from configs.errors import BadInput
from configs.preset import Preset

# Modules of this package that hold machinery, not an example's presets.
_NOT_EXAMPLES = frozenset({"credentials", "errors", "example", "instances", "preset", "registry", "settings"})


@cache
def declared_presets() -> MappingProxyType[str, MappingProxyType[str, Preset]]:
    """Map example name -> preset name -> `Preset` for every `configs/<example>.py` declaring `PRESETS`.

    The module name is the example name with `-` and `.` written as `_`; a module may set `EXAMPLE`
    to name its example explicitly.
    """
    import configs

    found: dict[str, MappingProxyType[str, Preset]] = {}
    for module_info in pkgutil.iter_modules(configs.__path__):
        if module_info.name in _NOT_EXAMPLES or module_info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"configs.{module_info.name}")
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or error.title
            raise BadInput(f"configs/{module_info.name}.py: {field}: {first['msg']}") from None
        presets = getattr(module, "PRESETS", None)
        if not isinstance(presets, dict):
            continue
        example_name = getattr(module, "EXAMPLE", module_info.name)
        found[example_name] = MappingProxyType(dict(presets))
    return MappingProxyType(found)
