"""Which preset fields become pipeline parameters, with their types and defaults.

Pure data (no SDK import), so `run --set` can check names and types without loading the SDK.
"""

from __future__ import annotations

import json
from typing import Literal, NamedTuple

from configs import Preset

ParameterType = Literal["String", "Integer", "Float", "Boolean"]


class ParameterSpec(NamedTuple):
    """One pipeline parameter: its name, SageMaker type, default, and the preset field it comes from."""

    name: str
    type: ParameterType
    default: str | int | float | bool
    source: str


def default_output_path(bucket: str, example: str, preset_name: str) -> str:
    """Where a run's outputs go unless the preset or a parameter says otherwise."""
    return f"s3://{bucket}/{example}/{preset_name}"


def parameter_type(value: object) -> ParameterType:
    """The SageMaker parameter type for a preset value (bool is checked before int: True is an int)."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    return "String"


def parameter_specs(preset: Preset, output_path: str) -> list[ParameterSpec]:
    """Every pipeline parameter of a preset's pipeline, in definition order."""
    specs = [
        ParameterSpec("InstanceType", "String", preset.instance_type, "instance_type"),
        ParameterSpec("InstanceCount", "Integer", preset.instance_count, "instance_count"),
        ParameterSpec("InstanceFallback", "Boolean", preset.instance_fallback, "instance_fallback"),
        ParameterSpec("OutputPath", "String", (preset.output_path or output_path).rstrip("/"), "output_path"),
        ParameterSpec("ExtraArgs", "String", json.dumps([]), "run -- ARGS"),
    ]
    specs += [
        ParameterSpec(name, parameter_type(value), value, f"hyperparameters.{name}")
        for name, value in preset.hyperparameters.items()
    ]
    specs += [
        ParameterSpec(f"Env_{name}", "String", value, f"environment.{name}")
        for name, value in preset.environment.items()
    ]
    specs += [
        ParameterSpec(f"Input_{name}", "String", uri, f"channels.{name}")
        for name, uri in preset.channels.items()
    ]
    return specs


def parse_override(spec: ParameterSpec, text: str) -> str | int | float | bool:
    """Parse a `--set NAME=VALUE` value as the parameter's type; ValueError says what was expected."""
    if spec.type == "Integer":
        return int(text)
    if spec.type == "Float":
        return float(text)
    if spec.type == "Boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"expected true or false, got {text!r}")
        return lowered == "true"
    return text
