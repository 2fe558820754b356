"""Test harness: the moto server on loopback, its extensions, and the network guard."""

__all__ = [
    "codebuild",
    "faults",
    "iam_simulator",
    "moto_server",
    "network",
    "preflight_world",
    "quotas",
    "sagemaker_api",
    "sagemaker_pipelines",
    "training_jobs",
    "transient",
]
