"""SageMaker training instance facts the tool needs offline: GPUs per instance and GPU memory."""

from __future__ import annotations

from typing import NamedTuple


class InstanceSpec(NamedTuple):
    """A training instance type: GPUs (0 for CPU types), memory per GPU, vCPUs, host memory, price."""

    instance_type: str
    gpus: int
    vram_gb_per_gpu: int
    usd_per_hour: float
    vcpus: int = 4
    ram_gb: int = 16


# Approximate us-east-1 on-demand training prices: used only to order candidates, cheapest first.
GPU_INSTANCES: tuple[InstanceSpec, ...] = tuple(
    sorted(
        (
            InstanceSpec("ml.g4dn.xlarge", 1, 16, 0.74, 4, 16),
            InstanceSpec("ml.g4dn.2xlarge", 1, 16, 0.94, 8, 32),
            InstanceSpec("ml.g5.xlarge", 1, 24, 1.41, 4, 16),
            InstanceSpec("ml.g5.2xlarge", 1, 24, 1.52, 8, 32),
            InstanceSpec("ml.g5.4xlarge", 1, 24, 2.03, 16, 64),
            InstanceSpec("ml.g6e.xlarge", 1, 48, 2.34, 4, 32),
            InstanceSpec("ml.g6e.2xlarge", 1, 48, 2.84, 8, 64),
            InstanceSpec("ml.g4dn.12xlarge", 4, 16, 4.89, 48, 192),
            InstanceSpec("ml.g5.12xlarge", 4, 24, 7.09, 48, 192),
            InstanceSpec("ml.g6e.12xlarge", 4, 48, 13.12, 48, 384),
            InstanceSpec("ml.g5.48xlarge", 8, 24, 20.36, 192, 768),
            InstanceSpec("ml.p4d.24xlarge", 8, 40, 37.69, 96, 1152),
            InstanceSpec("ml.p4de.24xlarge", 8, 80, 47.11, 96, 1152),
            InstanceSpec("ml.p5.48xlarge", 8, 80, 113.07, 192, 2048),
        ),
        key=lambda instance: instance.usd_per_hour,
    )
)
CPU_INSTANCES: tuple[InstanceSpec, ...] = (
    InstanceSpec("ml.m5.large", 0, 0, 0.12, 2, 8),
    InstanceSpec("ml.m5.xlarge", 0, 0, 0.23, 4, 16),
    InstanceSpec("ml.m5.2xlarge", 0, 0, 0.46, 8, 32),
    InstanceSpec("ml.m5.4xlarge", 0, 0, 0.92, 16, 64),
    InstanceSpec("ml.m5.12xlarge", 0, 0, 2.76, 48, 192),
    InstanceSpec("ml.m5.24xlarge", 0, 0, 5.53, 96, 384),
)
DEFAULT_CPU_INSTANCE = "ml.m5.xlarge"
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


def smallest_gpu_instance(gpus: int, vram_gb: int, vcpus: int = 0, ram_gb: int = 0) -> str:
    """Return the cheapest listed GPU instance with at least `gpus` GPUs of at least `vram_gb` GB each
    (and at least `vcpus` vCPUs and `ram_gb` GB of host memory).

    Raises ValueError when no listed instance is large enough.
    """
    for instance in GPU_INSTANCES:
        if (
            instance.gpus >= gpus
            and instance.vram_gb_per_gpu >= vram_gb
            and instance.vcpus >= vcpus
            and instance.ram_gb >= ram_gb
        ):
            return instance.instance_type
    raise ValueError(
        f"no SageMaker GPU instance has {gpus} GPU(s) with {vram_gb} GB each"
        + (f", {vcpus} vCPUs and {ram_gb} GB of memory" if vcpus or ram_gb else "")
        + ": lower resources in example.yaml or declare presets in configs/<example>.py"
    )


def smallest_cpu_instance(vcpus: int, ram_gb: int) -> str:
    """The cheapest listed CPU instance with `vcpus` vCPUs and `ram_gb` GB (the default when both are 0).

    Raises ValueError when no listed instance is large enough.
    """
    if not vcpus and not ram_gb:
        return DEFAULT_CPU_INSTANCE
    for instance in CPU_INSTANCES:
        if instance.vcpus >= vcpus and instance.ram_gb >= ram_gb:
            return instance.instance_type
    raise ValueError(
        f"no SageMaker CPU instance has {vcpus} vCPUs and {ram_gb} GB of memory: lower resources in example.yaml"
    )
