"""Pydantic configs: presets, example metadata, deploy settings. Imports nothing heavier than pydantic."""

from configs.errors import BadInput
from configs.example import Example, Resources, default_preset
from configs.preset import Checkpoint, Prepare, Preset
from configs.registry import declared_presets
from configs.settings import DeployTarget, examples_root, region_from, resolve_target

__all__ = [
    "BadInput",
    "Checkpoint",
    "DeployTarget",
    "Example",
    "Prepare",
    "Preset",
    "Resources",
    "declared_presets",
    "default_preset",
    "examples_root",
    "region_from",
    "resolve_target",
]
