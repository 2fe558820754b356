"""The commands (`python -m pipelines.<command>`) and, in sub-packages by lifecycle, the library behind them.

`catalog` (example tree -> presets), `define` (presets -> definitions), `deploy` (definitions -> pipelines),
`operate` (pipelines -> executions), `local` (executions on this machine), `cli` (what commands share).

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
    "define",
    "deploy",
    "examples",
    "local",
    "operate",
    "preflight",
    "run",
    "runner",
    "status",
    "stop",
    "upsert",
]


def __getattr__(name: str) -> Any:
    """`SageMakerRunner`, imported when first asked for (PEP 562)."""
    if name == "SageMakerRunner":
        from pipelines.runner import SageMakerRunner

        return SageMakerRunner
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
