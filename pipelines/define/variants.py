"""Variant pipelines: what a runner call fixes at upsert time never changes the shared pipeline.

Spot, max run/wait, volume, the image and the command are fixed in a pipeline's definition (the SDK's
`Compute` and `StoppingCondition` refuse pipeline variables for them). The pipeline `cvl-<example>-
<preset>` is what Studio and schedules run, so a call that asks for other values runs a variant,
`cvl-<example>-<preset>-v<8 hex>`, named by a hash of those values: the same values always reuse the
same variant, and the shared pipeline's definition is left as its preset says.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from typing import Any, NamedTuple

from configs import BadInput, Preset

INPUT_CHANNEL = "training"  # the seed runner's channel for `input_path`


class FixedFields(NamedTuple):
    """What a runner call asks for that a pipeline fixes at upsert time (None: the preset's)."""

    spot: bool | None = None
    max_wait_minutes: int | None = None
    max_run_minutes: int | None = None
    volume_size_gb: int | None = None
    entry_command: str | None = None
    image_uri: str | None = None
    input_channel: bool = False  # the preset has no `training` channel: the variant adds one


def apply(preset: Preset, fixed: FixedFields, input_path: str | None = None) -> Preset:
    """The preset with the call's fixed fields; spot without a max wait gets twice the max run."""
    update: dict[str, Any] = {}
    if fixed.max_run_minutes is not None:
        update["max_run_minutes"] = fixed.max_run_minutes
    if fixed.volume_size_gb is not None:
        update["volume_size_gb"] = fixed.volume_size_gb
    if fixed.entry_command is not None:
        command = shlex.split(fixed.entry_command)
        if not command:
            raise BadInput("entry_command is empty: give the training command, e.g. 'python train.py'")
        update["command"] = command
    spot = preset.spot if fixed.spot is None else fixed.spot
    if fixed.spot is not None or fixed.max_wait_minutes is not None:
        update["spot"] = spot
        max_run = update.get("max_run_minutes", preset.max_run_minutes)
        update["max_wait_minutes"] = (fixed.max_wait_minutes or max_run * 2) if spot else None
    if fixed.input_channel and input_path:
        update["channels"] = {**preset.channels, INPUT_CHANNEL: input_path}
    return preset.replace(**update) if update else preset


def _fixed_part(preset: Preset) -> dict[str, Any]:
    return {
        "spot": preset.spot,
        "max_wait_minutes": preset.max_wait_minutes,
        "max_run_minutes": preset.max_run_minutes,
        "volume_size_gb": preset.volume_size_gb,
        "command": preset.command,
        "channels": sorted(preset.channels),
    }


def variant_name(preset_name: str, preset: Preset, chosen: Preset, image_uri: str | None) -> str:
    """`preset_name` when `chosen` fixes what `preset` fixes (and no image is given), else
    `<preset_name>-v<8 hex of the fixed values>`."""
    if _fixed_part(chosen) == _fixed_part(preset) and image_uri is None:
        return preset_name
    fixed = json.dumps(_fixed_part(chosen) | {"image_uri": image_uri}, sort_keys=True)
    return f"{preset_name}-v{hashlib.sha256(fixed.encode()).hexdigest()[:8]}"
