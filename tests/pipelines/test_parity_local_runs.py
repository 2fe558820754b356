"""`run --local` of fixture examples whose scripts rely on what their `docker run` gave them: a vendored
tree on PYTHONPATH, outputs written to the /workspace mount point, a script argument choosing the stages
of a program too long for one hyperparameter. Each run's outputs come back with the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.local_run import run_locally

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cvl_repo" / "examples"


def local(example: str, preset: str, output: Path) -> str:
    finished = run_locally(
        *("--example", example, "--preset", preset, "--examples-root", str(FIXTURES)),
        *("--output-dir", str(output)),
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return finished.stdout


def test_a_vendored_tree_on_pythonpath_imports(tmp_path: Path) -> None:
    printed = local("clipgen", "predict", tmp_path)
    assert "wrote 3 frames to outputs/clip.txt" in printed
    clip = (tmp_path / "model" / "outputs" / "clip.txt").read_text().splitlines()
    assert clip == ["frame 0: a red ball", "frame 1: a red ball", "frame 2: a red ball"]


def test_outputs_written_to_the_workspace_mount_point_come_back(tmp_path: Path) -> None:
    existed = Path("/workspace").exists()
    printed = local("masklora", "train", tmp_path)
    assert "trained 2 epochs; adapter in /workspace/outputs" in printed  # the code's own default
    adapter = json.loads((tmp_path / "model" / "outputs" / "adapter.json").read_text())
    assert adapter == {"epochs": 2, "weights": [0.5, 0.25]}  # --epochs 2: the preset's script argument
    assert Path("/workspace").exists() == existed  # the mount point was this run's, and is gone


def test_a_script_argument_chooses_the_stages_of_a_long_program(tmp_path: Path) -> None:
    printed = local("stagechat", "train-sft", tmp_path)
    assert "prepare: mkdir -p outputs" in printed  # the script's host `mkdir -p`, made in the job
    report = (tmp_path / "model" / "outputs" / "report.txt").read_text()
    assert report == "sft: 20 steps\nsft-eval: 5 steps\n"  # `train.sh sft`: the sft stage only
