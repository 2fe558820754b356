"""The training entry point in a temporary /opt/ml-shaped tree, with a tiny Python command.

It runs as the image runs it: its folder, as the build context carries it, alone (no `steps` package
around it), started as `python3 <folder> train`.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.define.staging import ENTRY_POINT
from steps.build_image.job.context import entry_files
from steps.train.job import command, supervise

TRAIN_PY = """\
import json, os, sys, time
args = sys.argv[1:]
print("ARGS " + json.dumps(args), flush=True)
print("ENV " + json.dumps({k: v for k, v in os.environ.items() if k.startswith(("SM_", "CVL_"))}), flush=True)
if "--sleep" in args:
    print("sleeping", flush=True)
    time.sleep(60)
if "--fail" in args:
    for i in range(200):
        print(f"noise line {i} " + "x" * 30)
    print("boom: the command failed", file=sys.stderr)
    sys.exit(3)
os.makedirs("logs", exist_ok=True)
with open("logs/ckpt.pt", "w") as f:
    f.write("checkpoint")
with open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.bin"), "w") as f:
    f.write("weights")
"""

PREPARE_PY = """\
import os
os.makedirs("data", exist_ok=True)
open("data/ready.txt", "w").write("ok")
print("prepared")
"""


def preset(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "command": ["python", "train.py"],
        "prepare": [{"command": ["python", "prepare.py"], "creates": "data/ready.txt"}],
        "hyperparameters": {"lr": 0.1, "compile": False, "name": "tiny", "epochs": 2},
        "argument_style": "--key=value",
        "checkpoint": {"dir": "logs", "resume_marker": "ckpt.pt", "resume_args": ["--resume"]},
        "keep": ["logs"],
        "environment": {"FROM_PRESET": "1"},
    }
    base.update(overrides)
    return base


class Tree:
    """An /opt/ml-shaped tree plus a code dir, and a way to run the entry point in it."""

    def __init__(self, root: Path) -> None:
        self.entry = install_entry(root / "opt" / "cvl")
        self.ml = root / "opt" / "ml"
        self.code = root / "code"
        self.code.mkdir(parents=True)
        (self.code / "train.py").write_text(TRAIN_PY)
        (self.code / "prepare.py").write_text(PREPARE_PY)
        (self.ml / "input" / "config").mkdir(parents=True)
        (self.ml / "model").mkdir()

    def configure(
        self, values: dict[str, str], the_preset: dict[str, Any], extra: list[str] | None = None
    ) -> None:
        hyperparameters = dict(
            values, cvl_preset=json.dumps(the_preset), cvl_extra_args=json.dumps(extra or [])
        )
        (self.ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(CVL_ML_ROOT=str(self.ml), CVL_CODE_DIR=str(self.code), CVL_NUM_GPUS="0")
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("CVL_NUM_PROCESSES", None)
        return env

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(self.entry), "train"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )


def install_entry(folder: Path) -> Path:
    """The entry point's folder as the image has it (`<folder>/cvl_entry`); returns its path."""
    for name, source in entry_files(ENTRY_POINT).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)
    return folder / "cvl_entry"


def command_args(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("ARGS "))
    return json.loads(line[len("ARGS ") :])


def command_env(stdout: str) -> dict[str, str]:
    line = next(line for line in stdout.splitlines() if line.startswith("ENV "))
    return json.loads(line[len("ENV ") :])


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_command_gets_hyperparameters_in_preset_order_with_python_bools(tree: Tree) -> None:
    tree.configure({"epochs": "5", "compile": "true", "lr": "0.01", "name": "big"}, preset(), extra=["--x=1"])
    done = tree.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert command_args(done.stdout) == ["--lr=0.01", "--compile=True", "--name=big", "--epochs=5", "--x=1"]

    tree.configure({"compile": "False"}, preset(argument_style="--key value", prepare=[]))
    done = tree.run()
    assert command_args(done.stdout)[:4] == ["--lr", "0.1", "--compile", "False"]
    assert "--resume" in command_args(done.stdout)  # the first run left a checkpoint


def test_render_value_converts_bools_only_for_bool_defaults() -> None:
    assert [command.render_value(v, False) for v in ("true", "True", "false", "FALSE")] == ["True"] * 2 + [
        "False"
    ] * 2
    assert command.render_value("true", "text") == "true"
    assert command.render_value("3", 1) == "3"
    assert command.render_value(True, False) == "True"


def test_success_keeps_folder_in_model_dir_and_checkpoints_land_in_ml_checkpoints(tree: Tree) -> None:
    tree.configure({}, preset())
    done = tree.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tree.ml / "model" / "logs" / "ckpt.pt").read_text() == "checkpoint"
    assert (tree.ml / "model" / "weights.bin").read_text() == "weights"
    assert (tree.code / "logs").is_symlink()
    assert (tree.ml / "checkpoints" / "ckpt.pt").is_file()
    assert not (tree.ml / "output" / "failure").exists()
    assert "prepared" in done.stdout


def test_resume_args_only_when_the_marker_exists(tree: Tree) -> None:
    tree.configure({}, preset())
    first = tree.run()
    assert "--resume" not in command_args(first.stdout)
    second = tree.run()
    assert command_args(second.stdout)[-1] == "--resume"
    assert "prepared" not in second.stdout  # `creates` exists now: prepare skipped


def test_failure_writes_reason_and_passes_exit_code_through(tree: Tree) -> None:
    tree.configure({}, preset(), extra=["--fail"])
    done = tree.run()
    assert done.returncode == 3
    reason = (tree.ml / "output" / "failure").read_text()
    assert len(reason) < 1024
    assert reason.startswith("`python train.py ")  # the whole command, up to the argument that broke it
    assert "--fail` exited with code 3" in reason.splitlines()[0]
    assert "boom: the command failed" in reason
    assert json.loads((tree.ml / "output" / "data" / "cvl-exit.json").read_text()) == {"exit_code": 3}
    assert not (tree.ml / "model" / "logs").exists()


def test_unreadable_config_fails_with_exit_1(tree: Tree) -> None:
    (tree.ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"lr": "1"}))
    done = tree.run()
    assert done.returncode == 1
    assert "cvl_preset" in (tree.ml / "output" / "failure").read_text()


def test_sagemaker_environment(tree: Tree) -> None:
    (tree.ml / "input" / "data" / "train").mkdir(parents=True)
    resources = {"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "ml.m5.xlarge"}
    (tree.ml / "input" / "config" / "resourceconfig.json").write_text(json.dumps(resources))
    tree.configure({"lr": "0.5"}, preset())
    done = tree.run()
    env = command_env(done.stdout)
    assert env["SM_MODEL_DIR"] == str(tree.ml / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(tree.ml / "output" / "data")
    assert env["SM_CHANNEL_TRAIN"] == str(tree.ml / "input" / "data" / "train")
    assert env["SM_CHECKPOINT_DIR"] == str(tree.ml / "checkpoints")
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_NUM_GPUS"] == "0"
    assert json.loads(env["SM_HPS"])["lr"] == "0.5"


def test_cvl_io_contract_points_into_the_model_dir_and_the_input_channel(tree: Tree) -> None:
    (tree.ml / "input" / "data" / "training").mkdir(parents=True)
    tree.configure({}, preset(prepare=[]))
    env = command_env(tree.run().stdout)
    assert env["CVL_OUTPUTS"] == str(tree.ml / "model" / "outputs")
    assert env["CVL_INPUTS"] == str(tree.ml / "input" / "data" / "training")

    (tree.ml / "input" / "data" / "extra").mkdir()  # two channels, neither named inputs/training/train
    (tree.ml / "input" / "data" / "training").rename(tree.ml / "input" / "data" / "other")
    assert "CVL_INPUTS" not in command_env(tree.run().stdout)


def test_files_the_run_writes_in_its_folder_come_back_with_the_model(tree: Tree) -> None:
    (tree.code / "src").mkdir()
    (tree.code / "src" / "run.py").write_text(
        "import os, sys\n"
        "os.makedirs('artifacts', exist_ok=True)\n"
        "open('artifacts/metrics.json', 'w').write('{}')\n"
        "os.makedirs('.cache', exist_ok=True)\n"
        "open('.cache/blob', 'w').write('x')\n"
        "import helper; print('cwd', os.path.basename(os.getcwd()), helper.VALUE)\n"
    )
    (tree.code / "helper.py").write_text("VALUE = 'from the code folder'\n")
    tree.configure({}, preset(command=["python", "run.py"], workdir="src", prepare=[], hyperparameters={}))
    done = tree.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cwd src from the code folder" in done.stdout  # workdir, and the code folder on PYTHONPATH
    assert (tree.ml / "model" / "src" / "artifacts" / "metrics.json").read_text() == "{}"
    assert not (tree.ml / "model" / "src" / ".cache").exists()  # caches stay behind
    assert not (tree.ml / "model" / "helper.py").exists()  # unchanged code stays behind


def test_distributed_command_wraps_python_in_torchrun() -> None:
    two_hosts = {"hosts": ["algo-1", "algo-2"], "current_host": "algo-2"}
    wrapped = command.distributed_command(["python", "train.py", "--a=1"], two_hosts, 4, "29500")
    assert wrapped == [
        "python",
        "-m",
        "torch.distributed.run",
        "--nnodes=2",
        "--node_rank=1",
        "--nproc_per_node=4",
        "--master_addr=algo-1",
        "--master_port=29500",
        "train.py",
        "--a=1",
    ]
    one_host = {"hosts": ["algo-1"], "current_host": "algo-1"}
    assert command.distributed_command(["python", "t.py"], one_host, 1, "1") == ["python", "t.py"]
    local = command.distributed_command(["bash", "run.sh"], one_host, 2, "1")
    assert "--master_addr=127.0.0.1" in local and local[-3:] == ["--no-python", "bash", "run.sh"]


def test_sigterm_is_forwarded_and_reported(tree: Tree) -> None:
    tree.configure({}, preset(prepare=[]), extra=["--sleep"])
    process = subprocess.Popen(
        [sys.executable, str(tree.entry)],
        env=tree.env(),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "sleeping" not in process.stdout.readline():
        pass
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in (tree.ml / "output" / "failure").read_text()


def _imported(nodes: list[ast.AST]) -> set[str]:
    """Top-level modules imported absolutely (`from .x import` is the folder's own; `.x` must be in it)."""
    return {
        alias.name.split(".")[0]
        for node in nodes
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }


def test_entry_point_is_python38_stdlib_only_and_keeps_no_shared_state() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    files = entry_files(ENTRY_POINT)
    assert {"cvl_entry/__main__.py", "cvl_entry/entry.py", "cvl_entry/supervise.py"} <= set(files)
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=name, feature_version=(3, 8))
        assert _imported(tree.body) <= stdlib, name
        # boto3 only inside functions, when the image has it (secrets fall back to stdlib SigV4 without it).
        assert _imported(list(ast.walk(tree))) <= stdlib | {"boto3", "botocore"}, name
        # The signal handler reaches the running command through its Supervisor, not module globals.
        assert not any(isinstance(node, ast.Global) for node in ast.walk(tree)), name
        assert name.removeprefix("cvl_entry/").removesuffix(".py") not in stdlib, f"{name} shadows the stdlib"
        own = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
        assert {f"cvl_entry/{module}.py" for module in own} <= set(files), name


def test_a_second_stop_signal_kills_the_command_outright() -> None:
    supervisor = supervise.Supervisor()
    sleeper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        preexec_fn=os.setpgrp,
    )
    assert sleeper.stdout is not None and sleeper.stdout.readline() == b"up\n"
    supervisor.child = sleeper
    supervisor.forward(signal.SIGTERM)
    time.sleep(0.2)
    assert sleeper.poll() is None  # the command ignores SIGTERM
    supervisor.forward(signal.SIGTERM)
    assert sleeper.wait(timeout=10) == -signal.SIGKILL
    assert supervisor.stopped_by == signal.SIGTERM


def test_a_long_command_is_shown_with_its_start_and_its_end() -> None:
    long = ["python", "train.py"] + [f"--option_{n}=value" for n in range(100)] + ["--bogus=1"]
    text = command.shown(long)
    assert len(text) <= command.SHOWN_COMMAND_LIMIT
    assert text.startswith("python train.py --option_0=value") and text.endswith(
        "--option_99=value --bogus=1"
    )
    assert " ... " in text
    assert command.shown(["python", "train.py", "--x=1"]) == "python train.py --x=1"
