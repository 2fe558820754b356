"""Every command's `--help` and the Python API load without the SageMaker SDK (seconds to import), torch or pandas.

Each case runs in a fresh interpreter with `-X importtime`, which lists on stderr every module imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_import_graph import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
# The SDK (seconds to import), and what it or a local training run would bring: none is needed to parse flags.
HEAVY = {"sagemaker", "torch", "pandas"}


def _imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )
    modules = {
        line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    return done, modules


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_loads_no_sdk(command: str) -> None:
    done, modules = _imported("-m", f"pipelines.{command}", "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: python -m pipelines." in done.stdout
    assert "pipelines.cli.command" in modules  # the listing is real: it saw the command's own imports
    assert _top_level(modules) & HEAVY == set()


def test_python_api_loads_no_sdk() -> None:
    done, modules = _imported(
        "-c", "from pipelines import SageMakerRunner; SageMakerRunner(region='us-east-1')"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pipelines.runner" in modules
    assert _top_level(modules) & HEAVY == set()
