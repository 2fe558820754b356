"""Benchmark: `upsert --all` over a tree of N generated examples, beside a bare SDK script, one moto server.

All in one run, against one moto server on loopback (preflight on, as a user runs it):

1. one pipeline re-upserted with nothing changed: `pipelines.upsert --example tree-000 --preset train`
   against `bare_sdk_upsert.py` re-sending its pipeline, alternating (goal: ratio <= 0.3);
2. `upsert --all` over 1 and over N examples, cold (every pipeline created) then again with nothing
   changed: seconds per extra pipeline (goals: <= 0.3 s created, <= 0.1 s unchanged), beside the bare
   script upserting 1 and N pipelines in one process.

    python benchmarks/tree.py [N] [--pairs 5] [--rounds 2]

At scale (`benchmarks/tree_scale.py`): a tree in the real CVlization tree's shape (`--shape real`, N
examples, default 232: `benchmarks/tree_shape.py`) or a real examples root (`--examples-root`, e.g. a
CVlization checkout's `examples/`), all created, unchanged, and dry runs cold and again; with
`--baseline DIR` (a checkout of the code before) before and after side by side:

    python benchmarks/tree.py --shape real [N] [--baseline DIR]
    python benchmarks/tree.py --examples-root ~/CVlization/examples [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.tree_scale import measure, report  # noqa: E402
from benchmarks.tree_shape import real_shape_tree  # noqa: E402
from benchmarks.upsert import bench_account, delete_pipelines, timed  # noqa: E402

BARE = [sys.executable, str(ROOT / "benchmarks" / "bare_sdk_upsert.py")]
UPSERT = [sys.executable, "-m", "pipelines.upsert"]

EXAMPLE_YAML = """name: tree-{index:03d}
capability: perception/image_classification
modalities: [images]
datasets: [generated]
stability: experimental
image: tree-{index:03d}
description: Generated example {index} for the tree benchmark
resources:
  gpu: 1
  vram_gb: 16
  disk_gb: 50
presets:
  train:
    description: Train for one epoch
    command: python train.py --epochs 1 --seed {index}
tags: [generated]
"""
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /workspace\nRUN pip install numpy\nCOPY . .\n"
TRAIN = "import argparse\n\nparser = argparse.ArgumentParser()\nparser.add_argument('--epochs', type=int)\n"


def generated_tree(count: int, into: Path) -> Path:
    """An examples root of `count` small examples in CVlization's layout, `tree-000` ... (a `train` preset each)."""
    root = into / f"tree-{count}"
    for index in range(count):
        folder = root / "examples" / "generated" / f"tree_{index:03d}"
        folder.mkdir(parents=True)
        (folder / "example.yaml").write_text(EXAMPLE_YAML.format(index=index))
        (folder / "Dockerfile").write_text(DOCKERFILE)
        (folder / "train.py").write_text(TRAIN + f"SEED = {index}\n")
    return root


def median_of(runs: int, measure) -> float:  # noqa: ANN001
    return statistics.median(measure() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "n", nargs="?", type=int, help="examples in the big tree (default 40; real shape 232)"
    )
    parser.add_argument("--pairs", type=int, default=5, help="alternating single-pipeline pairs")
    parser.add_argument("--rounds", type=int, default=2, help="repeats of each --all measurement")
    parser.add_argument("--shape", choices=("tiny", "real"), default="tiny", help="the generated examples")
    parser.add_argument("--examples-root", type=Path, help="measure this examples root at scale instead")
    parser.add_argument("--baseline", type=Path, help="at scale: a checkout of the code before, measured too")
    args = parser.parse_args()
    if args.shape == "real" or args.examples_root:
        at_scale(args.examples_root, args.n or 232, args.baseline)
        return
    args.n = args.n or 40

    server, env = bench_account()

    with tempfile.TemporaryDirectory() as scratch:
        small, big = generated_tree(1, Path(scratch)), generated_tree(args.n, Path(scratch))
        ours_all = {
            size: [*UPSERT, "--all", "--examples-root", str(root)]
            for size, root in ((1, small), (args.n, big))
        }
        bare_all = {size: [*BARE, *(f"bare-tree-{i:03d}" for i in range(size))] for size in (1, args.n)}

        # 1. One pipeline, unchanged: ours against the bare script re-sending the same pipeline.
        one = [*UPSERT, "--example", "tree-000", "--preset", "train", "--examples-root", str(small)]
        timed(one, env)  # creates it, and warms the OS file cache (the SDK's first import reads ~250 MB)
        timed(bare_all[1], env)
        ours_s, bare_s = [], []
        for _ in range(args.pairs):
            ours_s.append(timed(one, env))
            bare_s.append(timed(bare_all[1], env))
        ratio = statistics.median(o / b for o, b in zip(ours_s, bare_s, strict=True))
        print(f"one pipeline, unchanged re-upsert: ours median {statistics.median(ours_s):.2f} s, "
              f"bare SDK median {statistics.median(bare_s):.2f} s -> ratio {ratio:.2f} (goal <= 0.3)")  # fmt: skip

        # 2. --all over 1 and N examples: cold creates, then unchanged re-upserts; the bare script beside.
        def cold(command: list[str]) -> float:
            delete_pipelines(env)
            return timed(command, env)

        rows = []
        for label, commands in (("upsert --all", ours_all), ("bare SDK loop", bare_all)):
            created = {
                size: median_of(args.rounds, lambda c=command: cold(c)) for size, command in commands.items()
            }
            timed(commands[args.n], env)  # everything exists now
            unchanged = {
                size: median_of(args.rounds, lambda c=command: timed(c, env))
                for size, command in commands.items()
            }
            rows.append((label, created, unchanged))
        delete_pipelines(env)

    n = args.n
    print(
        f"\n{'':16}{'created: 1':>12}{f'{n}':>9}{'per extra':>11}{'unchanged: 1':>15}{f'{n}':>9}{'per extra':>11}"
    )
    for label, created, unchanged in rows:
        per_created = (created[n] - created[1]) / (n - 1)
        per_unchanged = (unchanged[n] - unchanged[1]) / (n - 1)
        print(f"{label:16}{created[1]:>11.2f}s{created[n]:>8.2f}s{per_created:>10.3f}s"
              f"{unchanged[1]:>14.2f}s{unchanged[n]:>8.2f}s{per_unchanged:>10.3f}s")  # fmt: skip
    print("goals for upsert --all: <= 0.3 s per extra pipeline created, <= 0.1 s unchanged")
    server.stop()


def at_scale(examples_root: Path | None, count: int, baseline: Path | None) -> None:
    """The whole-tree figures (`tree_scale.py`) over `examples_root`, or a generated tree of `count`."""
    server, env = bench_account()
    versions = ({"before": baseline.resolve()} if baseline else {}) | {"after": ROOT}
    with tempfile.TemporaryDirectory() as scratch:
        root = examples_root or real_shape_tree(count, Path(scratch) / "shape")
        print(f"{root}: load {os.getloadavg()} at the start", file=sys.stderr)
        figures = measure(root.resolve(), versions, env, Path(scratch))
        print(f"load {os.getloadavg()} at the end", file=sys.stderr)
    report(figures)
    server.stop()


if __name__ == "__main__":
    main()
