"""SageMaker training instance facts the tool needs offline: GPUs per instance and GPU memory."""

from __future__ import annotations

from typing import NamedTuple


class GpuInstance(NamedTuple):
    """A GPU training instance type: how many GPUs it has and how much memory each GPU has."""

    instance_type: str
    gpus: int
    vram_gb_per_gpu: int
    usd_per_hour: float


# Approximate us-east-1 on-demand training prices: used only to order candidates, cheapest first.
GPU_INSTANCES: tuple[GpuInstance, ...] = tuple(
    sorted(
        (
            GpuInstance("ml.g4dn.xlarge", 1, 16, 0.74),
            GpuInstance("ml.g5.xlarge", 1, 24, 1.41),
            GpuInstance("ml.g6e.xlarge", 1, 48, 2.34),
            GpuInstance("ml.g4dn.12xlarge", 4, 16, 4.89),
            GpuInstance("ml.g5.12xlarge", 4, 24, 7.09),
            GpuInstance("ml.g6e.12xlarge", 4, 48, 13.12),
            GpuInstance("ml.g5.48xlarge", 8, 24, 20.36),
            GpuInstance("ml.p4d.24xlarge", 8, 40, 37.69),
            GpuInstance("ml.p4de.24xlarge", 8, 80, 47.11),
            GpuInstance("ml.p5.48xlarge", 8, 80, 113.07),
        ),
        key=lambda instance: instance.usd_per_hour,
    )
)
_GPUS_BY_TYPE = {instance.instance_type: instance.gpus for instance in GPU_INSTANCES} | {
    "ml.p3.2xlarge": 1,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    "ml.g4dn.2xlarge": 1,
    "ml.g4dn.4xlarge": 1,
    "ml.g4dn.8xlarge": 1,
    "ml.g5.2xlarge": 1,
    "ml.g5.4xlarge": 1,
    "ml.g5.8xlarge": 1,
    "ml.g5.16xlarge": 1,
    "ml.g5.24xlarge": 4,
    "ml.g6.xlarge": 1,
    "ml.g6.12xlarge": 4,
    "ml.g6.48xlarge": 8,
}


def gpus_per_instance(instance_type: str) -> int:
    """Return the number of GPUs of a SageMaker instance type (0 for CPU types and unknown ones)."""
    return _GPUS_BY_TYPE.get(instance_type, 0)


def smallest_gpu_instance(gpus: int, vram_gb: int) -> str:
    """Return the cheapest listed GPU instance with at least `gpus` GPUs of at least `vram_gb` GB each.

    Raises ValueError when no listed instance is large enough.
    """
    for instance in GPU_INSTANCES:
        if instance.gpus >= gpus and instance.vram_gb_per_gpu >= vram_gb:
            return instance.instance_type
    raise ValueError(
        f"no SageMaker GPU instance has {gpus} GPU(s) with {vram_gb} GB each: "
        "lower resources.gpu/vram_gb in example.yaml or declare presets in configs/<example>.py"
    )
