"""The DAG's assembly and the user commands (`python -m pipelines.<command>`).

Nothing is imported here: each command loads only what it needs (the SDK costs seconds).
"""

__all__ = [
    "bootstrap",
    "build",
    "catalog",
    "cli",
    "compile",
    "preflight",
    "run",
    "runner",
    "upsert",
    "validate",
]
