"""Every command's --help words the shared flags, defaults and environment variables one way."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every command: each module at the top of pipelines/ with a `main` (the runner is the Python API).
COMMANDS: dict[str, Callable[[list[str] | None], int]] = {
    path.stem: importlib.import_module(f"pipelines.{path.stem}").main
    for path in sorted((ROOT / "pipelines").glob("*.py"))
    if path.stem not in ("__init__", "runner")
}


def help_of(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        COMMANDS[name](["--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_words_json_defaults_and_variables_one_way(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(name, capsys)
    assert "--json stdout is one JSON document (progress and tables go to stderr)" in text
    if name != "examples":  # the one command that calls no AWS
        assert "--region REGION AWS region (default: AWS_DEFAULT_REGION)" in text
    # A default is always "(default: X)"; an environment variable only ever appears as such a default.
    assert not re.search(r"\(default [^:]|default=|defaults to", text), text
    for variable in re.findall(r"\b(?:AWS|SAGEMAKER|CVL)_[A-Z_]+\b", text):
        assert f"(default: {variable}" in text, variable


def test_runs_usage_line_shows_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of("run", capsys)
    usage, options = text.split(" options: ", 1)
    options = options.split(" -- ARGS:")[0]  # the epilog's example is the training command's flag
    flags = set(re.findall(r"(--[a-z-]+)", options)) - {"--help"}
    assert flags and all(flag in usage for flag in flags), flags - set(re.findall(r"--[a-z-]+", usage))
    assert "-- ARGS..." in usage
