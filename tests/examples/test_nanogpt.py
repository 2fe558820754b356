"""End-to-end tests for examples/nanogpt (tiny CPU configs, run as subprocesses)."""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "nanogpt"
CONFIG = "config/train_shakespeare_char.py"
TINY = [
    "--device=cpu",
    "--compile=False",
    "--n_layer=2",
    "--n_head=2",
    "--n_embd=64",
    "--block_size=64",
    "--batch_size=12",
    "--eval_interval=10",
    "--eval_iters=5",
    "--log_interval=5",
    "--dropout=0.0",
]
ITER_RE = re.compile(r"^iter (\d+): loss (\d+\.\d{4}), time (\d+\.\d{2})ms$", re.M)
STEP_RE = re.compile(r"^step (\d+): train loss (\d+\.\d{4}), val loss (\d+\.\d{4})$", re.M)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # 2-core machine: avoid oversubscription
    env.pop("WORLD_SIZE", None)
    return env


def run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def train(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, "train.py", CONFIG, *TINY, *args)


def iters(stdout: str) -> list[int]:
    return [int(m.group(1)) for m in ITER_RE.finditer(stdout)]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the example with the dataset prepared."""
    dst = tmp_path_factory.mktemp("nanogpt") / "nanogpt"
    shutil.copytree(
        EXAMPLE_DIR,
        dst,
        ignore=shutil.ignore_patterns("*.bin", "meta.pkl", "out*", "logs", "__pycache__"),
    )
    proc = run(dst, "data/shakespeare_char/prepare.py")
    assert proc.returncode == 0, proc.stderr
    assert "vocab size: 65" in proc.stdout
    return dst


@pytest.fixture(scope="module")
def full_run(example: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Uninterrupted scratch run through iteration 20."""
    log_dir = example / "out-full"
    proc = train(example, "--max_iters=20", f"--log_dir={log_dir}")
    assert proc.returncode == 0, proc.stderr
    return log_dir, proc


def test_prepare_writes_uint16_bins_and_meta(example: Path) -> None:
    data = example / "data" / "shakespeare_char"
    with open(data / "meta.pkl", "rb") as f:
        meta = pickle.load(f)
    assert meta["vocab_size"] == 65
    assert len(meta["itos"]) == len(meta["stoi"]) == 65
    train_ids = np.fromfile(data / "train.bin", dtype=np.uint16)
    val_ids = np.fromfile(data / "val.bin", dtype=np.uint16)
    n_chars = len((data / "input.txt").read_text(encoding="utf-8"))
    assert len(train_ids) + len(val_ids) == n_chars
    assert len(train_ids) == int(0.9 * n_chars)
    assert int(max(train_ids.max(), val_ids.max())) == 64
    text = "".join(meta["itos"][int(i)] for i in train_ids[:200])
    assert text == (data / "input.txt").read_text(encoding="utf-8")[:200]


def test_tiny_training_run(full_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    log_dir, proc = full_run
    assert "starting at iteration 0" in proc.stdout
    assert iters(proc.stdout) == [0, 5, 10, 15, 20]
    assert [int(m.group(1)) for m in STEP_RE.finditer(proc.stdout)] == [0, 10, 20]
    assert (log_dir / "ckpt.pt").is_file()
    assert not (log_dir / "ckpt.pt.tmp").exists()
    log_text = (log_dir / "train_log.txt").read_text()
    assert ITER_RE.search(log_text) and STEP_RE.search(log_text)

    import torch

    ckpt = torch.load(log_dir / "ckpt.pt", map_location="cpu", weights_only=True)
    assert {"model", "optimizer", "model_args", "iter_num", "best_val_loss", "config"} <= set(ckpt)
    assert ckpt["iter_num"] == 20
    assert ckpt["model_args"]["vocab_size"] == 65
    assert ckpt["config"]["max_iters"] == 20


def test_generate_from_checkpoint(example: Path, full_run: tuple[Path, object]) -> None:
    import torch

    spec = importlib.util.spec_from_file_location("nanogpt_model", example / "model.py")
    assert spec is not None and spec.loader is not None
    model_mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = model_mod  # dataclasses resolve annotations via sys.modules
    try:
        spec.loader.exec_module(model_mod)
    finally:
        sys.modules.pop(spec.name, None)

    ckpt = torch.load(full_run[0] / "ckpt.pt", map_location="cpu", weights_only=True)
    model = model_mod.GPT(model_mod.GPTConfig(**ckpt["model_args"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    torch.manual_seed(0)
    out = model.generate(torch.zeros((2, 1), dtype=torch.long), 30, top_k=10)
    assert out.shape == (2, 31)
    assert 0 <= int(out.min()) and int(out.max()) < 65


def test_unknown_key_exits_2(example: Path) -> None:
    proc = run(example, "train.py", CONFIG, "--foo=1", "--device=cpu")
    assert proc.returncode == 2
    assert "unknown config key 'foo'" in proc.stderr
    assert proc.stderr.count("\n") == 1

    bad_cfg = example / "bad_config.py"
    bad_cfg.write_text("max_iters = 5\nlerning_rate = 1e-3\n")
    proc = run(example, "train.py", str(bad_cfg), "--device=cpu")
    assert proc.returncode == 2
    assert "unknown config key 'lerning_rate'" in proc.stderr


def test_wrong_type_exits_2(example: Path) -> None:
    proc = run(example, "train.py", CONFIG, "--max_iters=abc", "--compile=1")
    assert proc.returncode == 2
    assert "'max_iters' expects int, got 'abc'" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_resume_continues_after_last_iteration(
    example: Path, full_run: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    log_dir = example / "out-resume"
    first = train(example, "--max_iters=10", f"--log_dir={log_dir}")
    assert first.returncode == 0, first.stderr
    assert iters(first.stdout)[-1] == 10

    second = train(
        example, "--max_iters=20", "--init_from=resume", "--log_interval=1", f"--log_dir={log_dir}"
    )
    assert second.returncode == 0, second.stderr
    assert "resuming from iteration 10" in second.stdout
    assert "starting at iteration 11" in second.stdout
    resumed = iters(second.stdout)
    assert resumed[0] == 11 and resumed[-1] == 20
    # Same data order, model and optimizer state: identical to the uninterrupted run.
    full_stdout = full_run[1].stdout
    last_iter = next(m.group(0) for m in ITER_RE.finditer(full_stdout) if m.group(1) == "20")
    last_step = STEP_RE.findall(full_stdout)[-1]
    assert last_iter.split(",")[0] in second.stdout
    assert STEP_RE.findall(second.stdout)[-1] == last_step

    third = train(example, "--max_iters=20", "--init_from=resume", f"--log_dir={log_dir}")
    assert third.returncode == 0, third.stderr
    assert "already reached" in third.stdout
    assert iters(third.stdout) == []


def test_missing_data_exits_1(example: Path) -> None:
    proc = run(example, "train.py", CONFIG, "--dataset=nope", "--device=cpu")
    assert proc.returncode == 1
    assert "prepare.py" in proc.stderr


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_on_cpu(example: Path) -> None:
    log_dir = example / "out-ddp"
    proc = run(
        example,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        "train.py",
        CONFIG,
        *TINY,
        "--max_iters=6",
        "--eval_interval=3",
        f"--log_dir={log_dir}",
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "world_size=2" in proc.stdout
    assert iters(proc.stdout) == [0, 5, 6]  # rank 0 logs only
    assert (log_dir / "ckpt.pt").is_file()
