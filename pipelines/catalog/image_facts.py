"""What an example's Dockerfile says about the job: GPU architecture it needs, whether it has python3,
and which instance types SageMaker training accepts (botocore's `TrainingInstanceType` enum).

Read from the text (no Docker here): the final stage's base image and the packages its `RUN` lines and
requirement files install. Unknown bases are taken as having python3 (never refuse a run that would work).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

import botocore.session
from botocore.model import StringShape

from configs.example import Resources, instance_for
from configs.instances import AMPERE

# Base images known to come without python3, and images known to bring it.
_NO_PYTHON_BASES = re.compile(
    r"^(docker\.io/)?(library/)?(node|ubuntu|debian|alpine|busybox|golang|rust|nginx|nvidia/cuda|scratch|"
    r"amazonlinux|eclipse-temurin|openjdk)(:|@|$)"
)
# `python3` installed as a package (`python3`, `python3-pip` pulls it, `python-is-python3`), or linked.
# A venv (`python3.11 -m venv /opt/venv`) or conda environment brings its own `python3` too, and
# `software-properties-common` (for add-apt-repository) depends on the distribution's python3.
_INSTALLS_PYTHON3 = re.compile(
    r"(?<![\w.])python3(?![.\w])|python-is-python3|-m\s+venv\b|\buv\s+venv\b|conda|mamba|micromamba"
    r"|software-properties-common"
)
_FLASH_ATTN = re.compile(r"flash[-_]attn", re.IGNORECASE)
_REQUIREMENTS = ("requirements*.txt", "pyproject.toml", "environment*.yml")


class ImageFacts(NamedTuple):
    """What the example's image needs and has."""

    compute_capability: float  # 0.0: any GPU; 8.0: Ampere or newer (flash-attn)
    missing_python3: str  # why the image has no python3, or "" when it has one (or may)


def _final_stage(dockerfile: str) -> tuple[str, str]:
    """(base image, text) of the Dockerfile's last stage."""
    stages = re.split(r"(?im)^\s*FROM\s+", dockerfile)
    if len(stages) < 2:
        return "", dockerfile
    last = stages[-1]
    words = [word for word in last.split("\n", 1)[0].split() if not word.startswith("--")]
    return (words[0] if words else ""), last


def image_facts(example_dir: Path) -> ImageFacts:
    """The facts of the image built from `example_dir`'s Dockerfile (and the requirement files it installs)."""
    dockerfile = example_dir / "Dockerfile"
    try:
        text = dockerfile.read_text("utf-8", "replace")
    except OSError:
        return ImageFacts(0.0, "")
    texts = [text]
    for pattern in _REQUIREMENTS:
        for path in sorted(example_dir.glob(pattern)):
            try:
                texts.append(path.read_text("utf-8", "replace"))
            except OSError:
                continue
    needs = AMPERE if any(_FLASH_ATTN.search(item) for item in texts) else 0.0
    base, stage = _final_stage(text)
    missing = ""
    if _NO_PYTHON_BASES.match(base.lower()) and not _INSTALLS_PYTHON3.search(stage):
        missing = (
            f"its image ({base}) has no python3, which the training entry point runs with: "
            "install python3 in the Dockerfile (e.g. apt-get install -y python3)"
        )
    return ImageFacts(needs, missing)


@cache
def training_instance_types() -> frozenset[str]:
    """Every instance type SageMaker training accepts, from botocore's service model."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.shape_for("TrainingInstanceType")
    assert isinstance(shape, StringShape)  # botocore models an enum as a string shape
    return frozenset(shape.enum)


def choose_instance(resources: Resources, facts: ImageFacts | None = None) -> str:
    """The cheapest training instance SageMaker accepts (botocore's enum) for `resources`, with GPUs of
    the architecture the image needs (flash-attn: Ampere or newer); ValueError when none fits."""
    needs = facts.compute_capability if facts else 0.0
    return instance_for(resources, needs, training_instance_types())
