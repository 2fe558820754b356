"""What `pipelines.run --local` costs over running the example's own command by hand.

    python -m benchmarks.local_run [--pairs 5] [--preset smoke]

Each pair runs, in alternating order, (a) `python -m pipelines.run --example nanogpt --preset P --local`
with a fresh output folder and (b) the same work done directly: in a fresh copy of the example folder
(without its generated data, as the build context has it), the preset's prepare command, then its
command with the same hyperparameters. Prints each pair, the median ratio a/b and the median overhead
a - b in seconds (goal: <= 3 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from configs.nanogpt import PRESETS  # noqa: E402
from steps.train.job.command import hyperparameter_args  # noqa: E402

EXAMPLE = ROOT / "examples" / "nanogpt"
GOAL_SECONDS = 3.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _timed(commands: list[list[str]], cwd: Path) -> float:
    start = time.perf_counter()
    for command in commands:
        done = subprocess.run(command, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            tail = done.stderr.decode()[-2000:]
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {tail}")
    return time.perf_counter() - start


def run_local(preset: str, work: Path) -> float:
    """Seconds for `pipelines.run --local` into a fresh output folder."""
    output = work / "local-out"
    command = [sys.executable, "-m", "pipelines.run", "--example", "nanogpt", "--preset", preset, "--local"]
    return _timed([[*command, "--output-dir", str(output)]], ROOT)


def run_direct(preset: str, work: Path) -> float:
    """Seconds for copying the example, its prepare command and its train command, by hand."""
    start = time.perf_counter()
    code = work / "direct"
    generated = shutil.ignore_patterns("*.bin", "meta.pkl", "logs", "out*", "__pycache__")
    shutil.copytree(EXAMPLE, code, ignore=generated)
    chosen = PRESETS[preset]
    data = chosen.model_dump(mode="json")
    commands = [list(step.command) for step in chosen.prepare]
    commands.append([*chosen.command, *hyperparameter_args(data, {})])
    copied = time.perf_counter() - start
    return copied + _timed(commands, code)


def main(argv: list[str] | None = None) -> int:
    """Run the pairs and print the ratio and the overhead."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.local_run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--preset", default="smoke")
    args = parser.parse_args(argv)
    ratios, overheads = [], []
    print(f"{'pair':>4}  {'order':<14}  {'run --local':>11}  {'direct':>8}  {'ratio':>6}  {'overhead':>8}")
    for pair in range(args.pairs):
        with tempfile.TemporaryDirectory(prefix="cvl-bench-") as work:
            local_first = pair % 2 == 0
            if local_first:
                local = run_local(args.preset, Path(work))
                direct = run_direct(args.preset, Path(work))
            else:
                direct = run_direct(args.preset, Path(work))
                local = run_local(args.preset, Path(work))
        ratios.append(local / direct)
        overheads.append(local - direct)
        order = "local, direct" if local_first else "direct, local"
        ratio, extra = local / direct, local - direct
        print(f"{pair + 1:>4}  {order:<14}  {local:>10.2f}s  {direct:>7.2f}s  {ratio:>6.2f}  {extra:>7.2f}s")
    ratio, overhead = statistics.median(ratios), statistics.median(overheads)
    print(f"median ratio {ratio:.2f}, median overhead {overhead:.2f} s (goal <= {GOAL_SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
