"""A generated examples tree in the real CVlization tree's shape, for `benchmarks/tree.py --shape real`.

CVlization (828f33c): 232 examples, 6,069 files, 84 MB; 318 presets offered; presets are shell scripts
that `docker run` the example's image (a `build.sh` beside them is not offered); 154 examples use the
repository's `cvlization` package (212 files, 2 MB), shipped in their build contexts. Here, per example:
`example.yaml` (build and train presets; predict and test too on every fifth example: 326 offered for
232), the scripts, a Dockerfile, requirements and README, `src/` of 1 to 110 modules and `data/` of
10 KB to 1.2 MB of incompressible bytes (a fifth of the examples each size); every other example
imports `cvlization` (212 generated modules). 232 examples: 8,400 files, 69 MB.
"""

from __future__ import annotations

import random
from pathlib import Path

SRC_FILES = (1, 3, 6, 14, 110)
DATA_BYTES = (10_000, 30_000, 80_000, 250_000, 1_200_000)
PACKAGE_FILES = 212

EXAMPLE_YAML = """name: shape-{index:03d}
docker: shape_{index:03d}
capability: perception/image_classification
modalities: [images]
datasets: [generated]
stability: experimental
resources:
  gpu: 1
  vram_gb: 16
  disk_gb: 50
presets:
  build:
    script: build.sh
    description: Build the Docker image
  train:
    script: train.sh
    description: Train the model
{extra}tags: [generated]
description: Generated example {index} in the real tree's shape
"""
EXTRA_PRESETS = """  predict:
    script: predict.sh
    description: Predict with the trained model
  test:
    script: test.sh
    description: Smoke test
"""
BUILD_SH = """#!/usr/bin/env bash
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
docker build -t "${{CVL_IMAGE:-shape_{index:03d}}}" "$SCRIPT_DIR"
"""
RUN_SH = """#!/usr/bin/env bash
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd)"
IMG="${{CVL_IMAGE:-shape_{index:03d}}}"

docker run --rm --gpus=all --shm-size 16G \\
\t--workdir /workspace \\
\t--mount "type=bind,src=${{SCRIPT_DIR}},dst=/workspace" \\
\t--mount "type=bind,src=${{REPO_ROOT}},dst=/cvlization_repo,readonly" \\
\t--env "PYTHONPATH=/cvlization_repo" \\
\t--env "PYTHONUNBUFFERED=1" \\
\t"$IMG" \\
\tpython {program} "$@"
"""
DOCKERFILE = (
    "FROM pytorch/pytorch:2.2.0-cuda12.1-cudnn8-runtime\nWORKDIR /workspace\nCOPY requirements.txt .\n"
)
DOCKERFILE += "RUN pip install -r requirements.txt\nCOPY . .\n"


def _module(rng: random.Random, name: str) -> str:
    lines = [f'"""Module {name} of a generated example."""', "", "import math", ""]
    for number in range(rng.randint(20, 80)):
        lines += [
            f"def step_{number}(x):",
            f"    return math.sqrt(abs(x) + {rng.random():.6f}) * {number}",
            "",
        ]
    return "\n".join(lines)


def _write_package(root: Path, rng: random.Random) -> None:
    package = root / "cvlization"
    for index in range(PACKAGE_FILES):
        folder = package / f"part_{index % 12}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()
        (folder / f"module_{index}.py").write_text(_module(rng, f"cvlization.part_{index % 12}.m{index}"))
    (package / "__init__.py").write_text('"""A generated stand-in for the cvlization package."""\n')


def real_shape_tree(count: int, into: Path, seed: int = 0) -> Path:
    """Write `count` examples in the real tree's shape under `into/examples` (the repository root is
    `into`, holding the `cvlization` package); return the examples root."""
    rng = random.Random(seed)
    _write_package(into, rng)
    for index in range(count):
        folder = into / "examples" / "perception" / f"shape_{index:03d}"
        (folder / "src").mkdir(parents=True)
        (folder / "data").mkdir()
        several = index % 5 == 0
        (folder / "example.yaml").write_text(
            EXAMPLE_YAML.format(index=index, extra=EXTRA_PRESETS if several else "")
        )
        scripts = {
            "build.sh": BUILD_SH.format(index=index),
            "train.sh": RUN_SH.format(index=index, program="train.py"),
        }
        if several:
            scripts["predict.sh"] = RUN_SH.format(index=index, program="predict.py")
            scripts["test.sh"] = RUN_SH.format(index=index, program="train.py --smoke")
        for name, text in scripts.items():
            (folder / name).write_text(text)
            (folder / name).chmod(0o755)
        uses = "import cvlization\n" if index % 2 == 0 else ""
        (folder / "train.py").write_text(f"{uses}from src import module_0\n\nprint(module_0.step_1(2.0))\n")
        (folder / "predict.py").write_text(f"{uses}print('predict {index}')\n")
        (folder / "Dockerfile").write_text(DOCKERFILE)
        (folder / "requirements.txt").write_text("numpy\ntorch\ntorchvision\n")
        (folder / "README.md").write_text(f"# Example {index}\n\n" + "Generated text. " * 200)
        for number in range(SRC_FILES[index % len(SRC_FILES)]):
            (folder / "src" / f"module_{number}.py").write_text(_module(rng, f"src.module_{number}"))
        size = DATA_BYTES[(index // len(SRC_FILES)) % len(DATA_BYTES)]
        (folder / "data" / "weights.bin").write_bytes(rng.randbytes(size))
    return into / "examples"
