"""Pipeline names: `cvl-<example>-<preset>`, as SageMaker accepts them."""

from __future__ import annotations

import re

from configs import BadInput
from configs.preset import MODEL_PACKAGE_GROUP_PATTERN, Register

PIPELINE_PREFIX = "cvl-"
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")


def pipeline_name(example: str, preset: str) -> str:
    """`cvl-<example>-<preset>`, with characters SageMaker rejects in pipeline names made `-`."""
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", f"{PIPELINE_PREFIX}{example}-{preset}").strip("-")
    if not _NAME_PATTERN.match(name):
        raise BadInput(
            f"pipeline name {name!r} is not valid for SageMaker: shorten the example or preset name"
        )
    return name


def model_package_group(example: str, register: Register) -> str:
    """The model package group a gated preset registers into: its own, else `cvl-<example>`."""
    if register.group is not None:
        return register.group
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", f"{PIPELINE_PREFIX}{example}").strip("-")
    if not MODEL_PACKAGE_GROUP_PATTERN.match(name):
        raise BadInput(
            f"model package group {name!r} is not valid for SageMaker (1-63 letters, digits, '-'): "
            "name one in the preset's register.group"
        )
    return name
