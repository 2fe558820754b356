"""Running `python -m pipelines.run --local` as a user does: a subprocess without AWS settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def local_run_env() -> dict[str, str]:
    """This process's environment without any AWS setting: a local run needs no credentials, config or
    region (and must not find the developer's)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def run_locally(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python -m pipelines.run --local ARGS...` from the project root; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--local", *args],
        cwd=ROOT,
        env=local_run_env() | {"PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
