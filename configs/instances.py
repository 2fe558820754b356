"""SageMaker training instance facts the tool needs offline: GPUs, their memory and architecture, price.

Which of these a pipeline may use is SageMaker's to say: `pipelines.catalog.instances` keeps only the
types botocore's `TrainingInstanceType` enum lists. The facts below are what the enum does not say.
"""

from __future__ import annotations

from typing import NamedTuple


class GpuFamily(NamedTuple):
    """A GPU instance family: its GPU, memory per GPU, CUDA compute capability (8.0 = Ampere) and
    architecture name."""

    gpu: str
    vram_gb_per_gpu: int
    compute_capability: float
    architecture: str


GPU_FAMILIES: dict[str, GpuFamily] = {
    "g4dn": GpuFamily("T4", 16, 7.5, "turing"),
    "p3": GpuFamily("V100", 16, 7.0, "volta"),
    "p3dn": GpuFamily("V100", 32, 7.0, "volta"),
    "g5": GpuFamily("A10G", 24, 8.6, "ampere"),
    "g6": GpuFamily("L4", 24, 8.9, "ada"),
    "g6e": GpuFamily("L40S", 48, 8.9, "ada"),
    "p4d": GpuFamily("A100", 40, 8.0, "ampere"),
    "p4de": GpuFamily("A100", 80, 8.0, "ampere"),
    "p5": GpuFamily("H100", 80, 9.0, "hopper"),
}
AMPERE = 8.0  # flash-attn 2 and bf16 kernels need compute capability 8.0 or newer


class InstanceSpec(NamedTuple):
    """A training instance type: GPUs (0 for CPU types), memory per GPU, vCPUs, host memory, price,
    and the GPUs' compute capability."""

    instance_type: str
    gpus: int
    vram_gb_per_gpu: int
    usd_per_hour: float
    vcpus: int = 4
    ram_gb: int = 16
    compute_capability: float = 0.0


# (type, GPUs, vCPUs, host GB, approximate us-east-1 on-demand training USD/h): the price only orders
# candidates, cheapest first (the cost estimate has its own table, steps/preflight/job/prices.py).
_GPU_SIZES = (
    ("ml.g4dn.xlarge", 1, 4, 16, 0.736),
    ("ml.g4dn.2xlarge", 1, 8, 32, 0.94),
    ("ml.g4dn.4xlarge", 1, 16, 64, 1.505),
    ("ml.g4dn.8xlarge", 1, 32, 128, 2.72),
    ("ml.g4dn.16xlarge", 1, 64, 256, 5.44),
    ("ml.g4dn.12xlarge", 4, 48, 192, 4.89),
    ("ml.g6.xlarge", 1, 4, 16, 1.01),
    ("ml.g6.2xlarge", 1, 8, 32, 1.22),
    ("ml.g6.4xlarge", 1, 16, 64, 1.66),
    ("ml.g6.8xlarge", 1, 32, 128, 2.52),
    ("ml.g6.16xlarge", 1, 64, 256, 4.24),
    ("ml.g6.12xlarge", 4, 48, 192, 5.67),
    ("ml.g6.24xlarge", 4, 96, 384, 7.49),
    ("ml.g6.48xlarge", 8, 192, 768, 16.6),
    ("ml.g5.xlarge", 1, 4, 16, 1.408),
    ("ml.g5.2xlarge", 1, 8, 32, 1.515),
    ("ml.g5.4xlarge", 1, 16, 64, 2.03),
    ("ml.g5.8xlarge", 1, 32, 128, 3.06),
    ("ml.g5.16xlarge", 1, 64, 256, 4.1),
    ("ml.g5.12xlarge", 4, 48, 192, 7.09),
    ("ml.g5.24xlarge", 4, 96, 384, 10.18),
    ("ml.g5.48xlarge", 8, 192, 768, 20.36),
    ("ml.g6e.xlarge", 1, 4, 32, 2.34),
    ("ml.g6e.2xlarge", 1, 8, 64, 2.84),
    ("ml.g6e.4xlarge", 1, 16, 128, 3.79),
    ("ml.g6e.8xlarge", 1, 32, 256, 5.72),
    ("ml.g6e.16xlarge", 1, 64, 512, 9.52),
    ("ml.g6e.12xlarge", 4, 48, 384, 13.12),
    ("ml.g6e.24xlarge", 4, 96, 768, 16.72),
    ("ml.g6e.48xlarge", 8, 192, 1536, 37.61),
    ("ml.p3.2xlarge", 1, 8, 61, 3.825),
    ("ml.p3.8xlarge", 4, 32, 244, 14.688),
    ("ml.p3.16xlarge", 8, 64, 488, 28.152),
    ("ml.p3dn.24xlarge", 8, 96, 768, 43.0),
    ("ml.p5.4xlarge", 1, 16, 256, 8.6),
    ("ml.p4d.24xlarge", 8, 96, 1152, 37.688),
    ("ml.p4de.24xlarge", 8, 96, 1152, 47.11),
    ("ml.p5.48xlarge", 8, 192, 2048, 113.07),
)


def _spec(instance_type: str, gpus: int, vcpus: int, ram_gb: int, usd: float) -> InstanceSpec:
    family = GPU_FAMILIES[instance_type.split(".")[1]]
    return InstanceSpec(
        instance_type, gpus, family.vram_gb_per_gpu, usd, vcpus, ram_gb, family.compute_capability
    )


GPU_INSTANCES: tuple[InstanceSpec, ...] = tuple(
    sorted((_spec(*size) for size in _GPU_SIZES), key=lambda instance: instance.usd_per_hour)
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


def smallest_gpu_instance(
    gpus: int,
    vram_gb: int,
    vcpus: int = 0,
    ram_gb: int = 0,
    *,
    compute_capability: float = 0.0,
    allowed: frozenset[str] | None = None,
) -> str:
    """Return the cheapest listed GPU instance with at least `gpus` GPUs of at least `vram_gb` GB each
    (and at least `vcpus` vCPUs, `ram_gb` GB of host memory and the given compute capability), among
    `allowed` types when given.

    Raises ValueError when no listed instance is large enough.
    """
    for instance in GPU_INSTANCES:
        if (
            instance.gpus >= gpus
            and instance.vram_gb_per_gpu >= vram_gb
            and instance.vcpus >= vcpus
            and instance.ram_gb >= ram_gb
            and instance.compute_capability >= compute_capability
            and (allowed is None or instance.instance_type in allowed)
        ):
            return instance.instance_type
    arch = f" of compute capability {compute_capability}+" if compute_capability else ""
    raise ValueError(
        f"no SageMaker GPU instance has {gpus} GPU(s){arch} with {vram_gb} GB each"
        + (f", {vcpus} vCPUs and {ram_gb} GB of memory" if vcpus or ram_gb else "")
        + ": lower resources in example.yaml or declare presets in configs/<example>.py"
    )


def smallest_cpu_instance(vcpus: int, ram_gb: int, allowed: frozenset[str] | None = None) -> str:
    """The cheapest listed CPU instance with `vcpus` vCPUs and `ram_gb` GB (the default when both are 0).

    Raises ValueError when no listed instance is large enough.
    """
    if not vcpus and not ram_gb:
        return DEFAULT_CPU_INSTANCE
    for instance in CPU_INSTANCES:
        if (
            instance.vcpus >= vcpus
            and instance.ram_gb >= ram_gb
            and (allowed is None or instance.instance_type in allowed)
        ):
            return instance.instance_type
    raise ValueError(
        f"no SageMaker CPU instance has {vcpus} vCPUs and {ram_gb} GB of memory: lower resources in example.yaml"
    )
