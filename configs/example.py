"""An example folder's `example.yaml` (CVlization layout) and the preset derived from it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from configs.instances import smallest_gpu_instance
from configs.preset import Frozen, Preset


class Resources(BaseModel):
    """What an example says it needs; other CVlization keys are tolerated."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    gpu: int = Field(default=0, ge=0)
    vram_gb: int = Field(default=0, ge=0)
    disk_gb: int = Field(default=30, ge=1)


class Example(Frozen):
    """One example folder: its name (from `example.yaml`), where it lives, and what it needs."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    path: Path
    description: str = ""
    resources: Resources = Resources()
    preset_descriptions: dict[str, str] = {}


def default_preset(example: Example) -> Preset:
    """The `train` preset of an example without a config module: `python train.py` on what it asks for."""
    resources = example.resources
    if resources.gpu > 0 or resources.vram_gb > 0:
        instance_type = smallest_gpu_instance(max(resources.gpu, 1), resources.vram_gb)
    else:
        instance_type = "ml.m5.xlarge"
    return Preset(
        description=f"python train.py on {instance_type} (derived from example.yaml resources)",
        command=["python", "train.py"],
        instance_type=instance_type,
        volume_size_gb=max(resources.disk_gb, 30),
    )
