"""The DAG's assembly, the library behind the commands, and the commands (`python -m pipelines.<command>`).

Nothing is imported here: each command loads only what it needs (the SDK costs seconds).
`from pipelines import SageMakerRunner` imports the runner on first use, and the runner loads no SDK.
"""

from typing import Any

__all__ = [
    "SageMakerRunner",
    "bootstrap",
    "build",
    "catalog",
    "cli",
    "compile",
    "deploy",
    "execute",
    "pipelines_client",
    "preflight",
    "run",
    "runner",
    "status",
    "stop",
    "upsert",
    "validate",
]


def __getattr__(name: str) -> Any:
    """`SageMakerRunner`, imported when first asked for (PEP 562)."""
    if name == "SageMakerRunner":
        from pipelines.runner import SageMakerRunner

        return SageMakerRunner
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
