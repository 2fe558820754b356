"""The entry point reproduces what an example's `docker run` gave its command: mount points, a
`PYTHONPATH` into the code dir, one process (no torchrun around a single-GPU command), a preset too long
for one hyperparameter. Run as the image runs it (the entry folder alone, `python3 <folder> train`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from configs import Preset
from steps.common.limits import HYPERPARAMETER_LIMIT
from steps.train.factory import preset_hyperparameters
from steps.train.job import mounts
from tests.steps.test_train_entry import Tree

WRITES_TO_THE_MOUNT = """\
import json, os, sys
mount = sys.argv[1]
os.makedirs(os.path.join(mount, "outputs"), exist_ok=True)
with open(os.path.join(mount, "outputs", "adapter.json"), "w") as handle:
    json.dump({"written_to": mount}, handle)
import vendored
print("ARGV " + json.dumps(sys.argv[2:]))
print("VENDORED " + vendored.NAME)
print("PYTHONPATH " + os.environ["PYTHONPATH"])
"""


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    made = Tree(tmp_path)
    (made.code / "run.py").write_text(WRITES_TO_THE_MOUNT)
    (made.code / "vendor").mkdir()
    (made.code / "vendor" / "vendored.py").write_text("NAME = 'from vendor/'\n")
    return made


def run(tree: Tree, the_preset: dict[str, Any], **env: str) -> subprocess.CompletedProcess[str]:
    hyperparameters = {"cvl_extra_args": "[]", **preset_parts(the_preset)}
    (tree.ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    return subprocess.run(
        [sys.executable, str(tree.entry), "train"],
        env=tree.env() | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def preset_parts(the_preset: dict[str, Any]) -> dict[str, str]:
    """The hyperparameters the Train step gives the job for this preset."""
    return preset_hyperparameters(Preset.model_validate(the_preset))


def test_the_mount_point_exists_writes_there_are_kept_and_the_link_goes_after_a_local_run(
    tree: Tree, tmp_path: Path
) -> None:
    workspace = tmp_path / "machine" / "workspace"  # stands for /workspace (a local run is not root)
    the_preset = {
        "command": ["python", "run.py", str(workspace)],
        "mounts": {str(workspace): "."},
        "environment": {"PYTHONPATH": ".:vendor"},
    }
    done = run(tree, the_preset)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"mount point {workspace} -> . (the code dir)" in done.stdout
    # Written through the mount point: in the code dir, so collected with the model.
    kept = json.loads((tree.ml / "model" / "outputs" / "adapter.json").read_text())
    assert kept == {"written_to": str(workspace)}
    assert "VENDORED from vendor/" in done.stdout
    path = next(line for line in done.stdout.splitlines() if line.startswith("PYTHONPATH "))
    assert path.split(" ", 1)[1].split(os.pathsep)[:2] == [str(tree.code), str(tree.code / "vendor")]
    # A local run leaves the machine as it found it: the link and the folders made for it are gone.
    assert not workspace.exists() and not workspace.parent.exists()


def test_a_folder_of_this_machine_at_the_mount_point_is_left_alone_locally(
    tree: Tree, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("the user's")
    made, notes = mounts.link_mounts({str(taken): "."}, str(tree.code), on_sagemaker=False)
    assert made == [] and "exists on this machine; not replaced" in notes[0]
    assert (taken / "mine.txt").read_text() == "the user's"


def test_on_sagemaker_a_folder_of_the_image_is_moved_aside_as_the_mount_hid_it(
    tree: Tree, tmp_path: Path
) -> None:
    image_folder = tmp_path / "workspace"
    image_folder.mkdir()
    (image_folder / "from_image.txt").write_text("image")
    made, _ = mounts.link_mounts({str(image_folder): "models"}, str(tree.code), on_sagemaker=True)
    assert made == [str(image_folder)]
    assert os.path.realpath(image_folder) == str(tree.code / "models")
    assert (tmp_path / "workspace.from-image" / "from_image.txt").read_text() == "image"


def test_a_single_process_command_is_not_wrapped_in_torchrun_on_a_multi_gpu_host(tree: Tree) -> None:
    tree.configure({}, {"command": ["python", "train.py"], "distribution": "none"})
    done = subprocess.run(
        [sys.executable, str(tree.entry), "train"],
        env=tree.env() | {"CVL_NUM_GPUS": "8", "CVL_NUM_PROCESSES": "8"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cvl-entry: running: python train.py" in done.stdout
    assert "1 process(es), 8 GPU(s)" in done.stdout


@pytest.mark.parametrize(
    ("preset", "wrapped"),
    [
        ({"distribution": "torchrun", "command": ["python", "train.py"]}, True),
        ({"distribution": "torchrun", "command": ["torchrun", "--nproc_per_node=8", "train.py"]}, False),
        ({"distribution": "torchrun", "command": ["bash", "-c", "pip install x && torchrun t.py"]}, False),
        ({"distribution": "torchrun", "command": ["accelerate", "launch", "t.py"]}, False),
        ({"command": ["python", "predict.py"]}, False),
    ],
)
def test_torchrun_only_for_presets_that_ask_and_do_not_launch_their_own(preset, wrapped) -> None:
    assert mounts.runs_under_torchrun(preset, preset["command"]) is wrapped


def test_a_preset_longer_than_one_hyperparameter_travels_in_parts_and_runs(tree: Tree) -> None:
    program = "; ".join(f"echo step {index} >> steps.txt" for index in range(300))
    the_preset = {"command": ["bash", "-c", program + "; wc -l < steps.txt"]}
    parts = preset_parts(the_preset)
    assert list(parts) == ["cvl_preset"] + [f"cvl_preset_{index}" for index in range(2, len(parts) + 1)]
    assert len(parts) > 1 and all(len(part) <= HYPERPARAMETER_LIMIT for part in parts.values())
    done = run(tree, the_preset)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\n300\n" in done.stdout
    assert (tree.ml / "model" / "steps.txt").read_text().count("\n") == 300


def test_a_shared_memory_smaller_than_the_scripts_shm_size_is_said(tree: Tree) -> None:
    shm = os.statvfs("/dev/shm")
    have_gb = shm.f_frsize * shm.f_blocks / (1 << 30)
    tree.configure({}, {"command": ["python", "train.py"], "shm_size_gb": int(have_gb) + 1000})
    done = subprocess.run(
        [sys.executable, str(tree.entry), "train"], env=tree.env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"asked --shm-size {int(have_gb) + 1000} GB" in done.stdout
    assert mounts.shared_memory_note({"shm_size_gb": 1}) == ""  # enough: nothing said
