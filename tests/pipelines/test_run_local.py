"""`python -m pipelines.run --local` end to end on the bundled nanogpt `smoke` preset (subprocesses)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import run
from pipelines.local import session
from tests.harness.local_run import local_run_env
from tests.harness.signals import default_sigint

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ITER = re.compile(r"^\s*iter (\d+): loss", re.M)


def local_run(output_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipelines.run", "--example", "nanogpt", "--preset", "smoke", "--local"]
    return subprocess.run(
        [*command, "--output-dir", str(output_dir), *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env() -> dict[str, str]:
    env = local_run_env()
    env["OMP_NUM_THREADS"] = "1"  # two cores: keep torch from oversubscribing them
    return env


def session_processes(session_id: int) -> list[int]:
    """The processes of a session (the runner started with start_new_session=True, and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def kill_session(session_id: int) -> None:
    """SIGKILL every process of a session: the runner, the entry point and the training command, at once,
    as a spot interruption takes the whole instance away."""
    for pid in session_processes(session_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_run(output_dir: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "pipelines.run", "--example", "nanogpt", "--preset", "smoke", "--local"]
    return subprocess.Popen(
        [*command, "--output-dir", str(output_dir), *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 600) -> list[str]:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if marker in line or not line:
            break
    return seen


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The README's first command's run, as a newcomer makes it: from their folder, default output folder."""
    workdir = tmp_path_factory.mktemp("smoke")
    command = [sys.executable, "-m", "pipelines.run", "--example", "nanogpt", "--preset", "smoke", "--local"]
    done = subprocess.run(
        command,
        cwd=workdir,
        env=_env() | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    model = re.search(r"^model: (outputs/cvl-nanogpt-smoke/\d{8}-\d{6})/model$", done.stdout, re.M)
    return (workdir / model.group(1) if model else workdir / "no-model-line"), done


def test_smoke_trains_and_leaves_model_and_checkpoint(
    smoke: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    output_dir, done = smoke
    assert done.returncode == 0, done.stdout + done.stderr
    assert (output_dir / "model" / "logs" / "ckpt.pt").is_file(), done.stdout
    assert (output_dir / "model" / "logs" / "train_log.txt").is_file()
    assert (output_dir / "checkpoints" / "ckpt.pt").is_file()
    assert ITER.findall(done.stdout)[-1] == "40"

    import torch

    checkpoint = torch.load(output_dir / "model" / "logs" / "ckpt.pt", map_location="cpu", weights_only=True)
    assert checkpoint["iter_num"] == 40


def test_smoke_runs_preflight_and_build_before_train(
    smoke: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    states = re.findall(r"^==> (\w+): (\w+)", smoke[1].stdout, re.M)
    # Preflight and BuildImage are independent (either may go first); Train depends on both.
    assert sorted(states[:4]) == sorted(
        [
            ("Preflight", "Executing"),
            ("Preflight", "Succeeded"),
            ("BuildImage", "Executing"),
            ("BuildImage", "Succeeded"),
        ]
    )
    assert states[4:] == [("Train", "Executing"), ("Train", "Succeeded")]
    for step in ("Preflight", "BuildImage"):
        assert states.index((step, "Executing")) + 1 == states.index((step, "Succeeded"))
    assert re.search(
        r"^==> Train: Succeeded in [\d.]+ s|^==> Train: Succeeded in \d+ min", smoke[1].stdout, re.M
    )
    assert "local/cvl-nanogpt:" in smoke[1].stdout
    assert "    cost      ml.m5.xlarge x1 for at most 30 min: worst case $0.12 — estimate" in smoke[1].stdout


def test_wrongly_typed_or_unknown_parameter_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--example", "nanogpt", "--preset", "smoke", "--local"]
    assert run.main([*base, "--set", "max_iters=abc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == "error: --set max_iters='abc': max_iters is of type Integer\n"

    assert run.main([*base, "--set", "max_iter=3"]) == 2
    err = capsys.readouterr().err
    # The closest few by name, not all 21: max_iters first.
    assert err.startswith("error: --set max_iter: no such parameter; the closest: max_iters (Integer), ")
    assert err.count("(") == 3
    assert run.main([*base, "--set", "device="]) == 2
    assert "device= is empty" in capsys.readouterr().err
    assert run.main([*base, "--set", "ExtraArgs=--seed=1"]) == 2
    assert "JSON list of strings" in capsys.readouterr().err


def test_in_process_run_connects_to_nothing_off_the_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[object] = []
    on_machine = session._on_machine
    monkeypatch.setattr(
        session, "_on_machine", lambda address: checked.append(address) or on_machine(address)
    )
    connect = socket.socket.connect
    argv = ["--example", "nanogpt", "--preset", "smoke", "--local", "--output-dir", str(tmp_path)]
    code = run.main([*argv, "--set", "max_iters=0", "--set", "eval_iters=1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "==> Train: Succeeded" in out and (tmp_path / "model" / "logs" / "ckpt.pt").is_file()
    assert [address for address in checked if not on_machine(address)] == []
    assert socket.socket.connect is connect  # the run's guard handed back the one it found


def test_failing_command_fails_the_run_with_its_exit_code(tmp_path: Path) -> None:
    done = local_run(tmp_path / "out", "--", "--bogus_key=1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "==> Train: Failed" in done.stdout
    assert "exited with code 2" in done.stderr
    # The summary shows the command whole, through the argument that broke it.
    (summary,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert "--bogus_key=1` exited with code 2" in summary
    assert "last lines of the training log:" in done.stderr
    assert "unknown config key 'bogus_key'" in done.stderr
    assert not (tmp_path / "out" / "model").exists()


def test_killed_run_resumes_from_the_checkpoint_folder(tmp_path: Path) -> None:
    output_dir = tmp_path / "out"
    first = start_run(output_dir)
    try:
        seen = read_until(first, "saved checkpoint at iteration 20")
    finally:
        kill_session(first.pid)
        first.wait(timeout=60)
    assert any("saved checkpoint at iteration 20" in line for line in seen), "".join(seen)
    assert not any("iter 40:" in line for line in seen)

    second = local_run(output_dir)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "checkpoint folder" in second.stdout and "training resumes from it" in second.stdout
    assert "--init_from=resume" in second.stdout
    assert "resuming from iteration 20" in second.stdout
    assert "starting at iteration 21" in second.stdout
    iterations = [int(n) for n in ITER.findall(second.stdout)]
    assert iterations[0] > 20 and iterations[-1] == 40


def test_instance_count_2_trains_with_two_processes(tmp_path: Path) -> None:
    done = local_run(
        tmp_path / "out", "--set", "InstanceCount=2", "--set", "max_iters=10", "--set", "eval_interval=5"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 host(s) x 2 process(es)" in done.stdout
    assert "torch.distributed.run --nnodes=1 --node_rank=0 --nproc_per_node=2" in done.stdout
    # Rank 0 logs; the gloo all-reduce of every iteration needs rank 1 too.
    assert "DDP: world_size=2, backend=gloo" in done.stdout
    assert ITER.findall(done.stdout)[-1] == "10"
    assert (tmp_path / "out" / "model" / "logs" / "ckpt.pt").is_file()


def test_ctrl_c_stops_the_training_processes_and_exits_130(tmp_path: Path) -> None:
    # Long enough that the interrupt always lands mid-training (40 iterations take well under a second).
    process = start_run(tmp_path / "out", "--set", "max_iters=100000", "--set", "lr_decay_iters=100000")
    try:
        seen = read_until(process, "iter 5:")
        assert any("iter 5:" in line for line in seen), "".join(seen)
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends to the runner (its jobs have their own groups)
        rest, _ = process.communicate(timeout=120)
    finally:
        kill_session(process.pid)
    assert process.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest
    assert session_processes(process.pid) == []
    assert not (tmp_path / "out" / "model").exists()


def _plotted(page: str) -> dict[str, list[float]]:
    """Each metric plot's y values, as plotly's figure data in the page holds them."""
    import json as json_module

    found: dict[str, list[float]] = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S):
        for trace in json_module.loads(match.group(1)):
            if trace.get("type") == "scatter":
                found[trace["name"]] = trace["y"]
    return found


def test_smoke_writes_a_report_whose_plots_hold_the_series_its_log_printed(
    smoke: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    output_dir, done = smoke
    assert f"\nreport: {output_dir.relative_to(output_dir.parents[2])}/report.html\n" in done.stdout
    page = (output_dir / "report.html").read_text()
    printed = [float(value) for value in re.findall(r"iter \d+: loss ([0-9.]+)", done.stdout)]
    validated = [float(value) for value in re.findall(r"val loss ([0-9.]+)", done.stdout)]
    plotted = _plotted(page)
    assert plotted["loss"] == printed and len(printed) >= 8
    assert plotted["val_loss"] == validated
    assert "<h2>Parameters</h2>" in page and "<td>max_iters</td><td>40</td>" in page
    assert "cost: ml.m5.xlarge x1 for at most 30 min" in page
    assert f"<td>loss</td><td>{printed[-1]:.6g}</td>" in page  # the final metric
    assert "<script src=" not in page  # self-contained: plotly.js is inline, nothing is fetched


def sections(lines: list[str]) -> dict[str, list[str]]:
    """Output lines by where they appear: before the steps, within each step (from its `==> X:
    Executing` to its `==> X: Succeeded`), after them."""
    found: dict[str, list[str]] = {"before": [], "after": []}
    where = "before"
    for line in lines:
        step = re.match(r"^==> (\w+): (\w+)", line)
        if step and step.group(2) == "Executing":
            where = step.group(1)
        found.setdefault(where, []).append(line)
        if step and step.group(2) != "Executing":
            where = "after"
    return found


def readme_sample() -> list[str]:
    """The README's "what the first command prints" block."""
    readme = (ROOT / "README.md").read_text()
    fence = "--preset smoke --local\n```\n"
    after_first_command = readme[readme.index(fence) + len(fence) :]
    block = re.search(r"\n```\n(.*?)\n```", after_first_command, re.S)
    assert block is not None
    return block.group(1).splitlines()


def test_the_readme_shows_what_the_first_command_prints(
    smoke: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    # Each sample line matches a real line (`…` stands for what varies: ids, timings, elided lines),
    # in order within its part; Preflight and BuildImage run in parallel, so their order is free.
    sample, real = sections(readme_sample()), sections(smoke[1].stdout.splitlines())
    assert sample.keys() == real.keys() == {"before", "Preflight", "BuildImage", "Train", "after"}
    assert [part for part in real if part not in ("before", "after")][-1] == "Train"
    for part, wanted in sample.items():
        lines = iter(real[part])
        for line in wanted:
            if line.strip() == "…":
                continue
            pattern = re.compile(".*".join(re.escape(piece) for piece in line.split("…")))
            assert any(pattern.fullmatch(candidate) for candidate in lines), (
                f"README line not seen in order in {part}: {line!r}\n" + "\n".join(real[part])
            )
