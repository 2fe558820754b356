"""The instance facts the Preflight job ranks alternatives with, as plain rows it can read without `configs`.

One source: `configs/instances.py` (GPU count, memory per GPU, vCPUs, host memory, price, each family's
architecture). This module renders the rows into the run facts (`run.json`), because the
Preflight job runs in an image that has neither pydantic nor this package.
"""

from __future__ import annotations

from configs.instances import CPU_INSTANCES, GPU_FAMILIES, GPU_INSTANCES

# The order that matters (a CUDA build runs forward, on later ones) is the ranking's: steps/preflight/job/alternatives.py.
ARCHITECTURE_BY_FAMILY = {family: facts.architecture for family, facts in GPU_FAMILIES.items()}


def architecture_of(instance_type: str) -> str:
    """The GPU architecture of an `ml.<family>.<size>` type ("" for CPU types and unknown families)."""
    parts = instance_type.split(".")
    return ARCHITECTURE_BY_FAMILY.get(parts[1], "") if len(parts) == 3 else ""


def instance_rows() -> list[list[object]]:
    """Every listed training type as `[type, gpus, GB per GPU, vCPUs, GB RAM, USD/h, architecture]`."""
    return [
        [spec.instance_type, spec.gpus, spec.vram_gb_per_gpu, spec.vcpus, spec.ram_gb, spec.usd_per_hour]
        + [architecture_of(spec.instance_type)]
        for spec in (*GPU_INSTANCES, *CPU_INSTANCES)
    ]
