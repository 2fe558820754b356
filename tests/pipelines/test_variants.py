"""Variant pipelines: named by what they fix, reused for the same values, the shared one left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configs import BadInput, resolve_target
from configs.nanogpt import PRESETS
from pipelines.catalog.offers import resolve
from pipelines.define.compile import compile_staged
from pipelines.define.staging import stage
from pipelines.define.variants import FixedFields, apply, variant_name
from tests.conftest import BUCKET, REGION, ROLE_ARN

SMOKE = PRESETS["smoke"]
ROOT = Path(__file__).resolve().parents[2]


def test_the_presets_own_values_are_the_preset_and_other_values_a_stable_variant() -> None:
    same = apply(SMOKE, FixedFields(spot=False, max_run_minutes=30, volume_size_gb=SMOKE.volume_size_gb))
    assert variant_name("smoke", SMOKE, same, None) == "smoke"
    spot = apply(SMOKE, FixedFields(spot=True))
    assert (spot.spot, spot.max_wait_minutes) == (True, 60)  # no max wait given: twice the max run
    name = variant_name("smoke", SMOKE, spot, None)
    assert name.startswith("smoke-v") and len(name) == len("smoke-v") + 8
    assert variant_name("smoke", SMOKE, apply(SMOKE, FixedFields(spot=True)), None) == name
    assert (
        variant_name("smoke", SMOKE, apply(SMOKE, FixedFields(spot=True, max_wait_minutes=90)), None) != name
    )
    command = apply(SMOKE, FixedFields(entry_command="torchrun --nproc_per_node=4 train.py"))
    assert command.command == ("torchrun", "--nproc_per_node=4", "train.py")
    assert variant_name("smoke", SMOKE, SMOKE, "123.dkr.ecr.us-east-1.amazonaws.com/cvl-x:1") != "smoke"


def test_values_the_preset_refuses_are_bad_input() -> None:
    with pytest.raises(BadInput, match="max_wait_minutes"):
        apply(SMOKE, FixedFields(spot=True, max_wait_minutes=10))
    with pytest.raises(BadInput):
        apply(SMOKE, FixedFields(max_run_minutes=0))


def test_a_given_image_trains_on_it_without_a_build_step() -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cvl-nanogpt:given"
    example, preset = resolve(ROOT / "examples", "nanogpt", "smoke")
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET)
    definition = json.loads(compile_staged(stage(example, "smoke-vimage", preset, target, image)).definition)
    assert [step["Name"] for step in definition["Steps"]] == ["Preflight", "Train"]
    train = definition["Steps"][1]["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"] == image
