"""Kinds of reason a declared preset is not offered, for counting them (`pipelines.examples`)."""

from __future__ import annotations

_REASON_KINDS = (
    ("builds the image", "build"),
    ("server", "server"),
    ("is not in the example folder", "missing script"),
    ("not a shell script", "not a shell script"),
    ("on the host", "runs on the host"),
    ("runs no `docker run`", "no docker run"),
    ("exits with", "exits before running"),
    ("no SageMaker", "too big for any instance"),
    ("secret", "secret on the command line"),
    ("known only when", "value known only at run time"),
    ("entrypoint", "image entrypoint arguments only"),
    ("-- ARGS", "command given by the user"),
    ("cannot be read as bash", "unreadable script"),
    ("upstream image", "upstream image"),
    ("outside the example folder", "needs files outside the example folder"),
    ("per hyperparameter", "command too long for SageMaker"),
    ("no Dockerfile", "no Dockerfile"),
    ("this machine's path", "host path in the definition"),
    ("has no python3", "no python3 in the image"),
)


def reason_kind(reason: str) -> str:
    """A short name for why a preset is not offered (for counting them)."""
    return next((kind for marker, kind in _REASON_KINDS if marker in reason), "other")
