"""The Preflight step checks what the execution launches: the pipeline's InstanceType, InstanceCount and
OutputPath reach its container as arguments, resolved by the service from the execution's parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from configs import resolve_target
from configs.nanogpt import PRESETS
from pipelines.catalog.offers import resolve
from pipelines.define.compile import compile_pipeline
from pipelines.define.staging import base_facts
from steps.preflight.job.quota import increase_command
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world
from tests.harness.moto_server import MotoServer
from tests.harness.quotas import quota_code, set_sagemaker_quota
from tests.steps.test_preflight import run_container

P4D = "ml.p4d.24xlarge for training job usage"


def resolved(value: Any, parameters: dict[str, str]) -> str:
    """A definition expression evaluated as the service does for one execution (Get, Std:Join)."""
    if isinstance(value, str):
        return value
    if "Get" in value:
        return parameters[value["Get"].removeprefix("Parameters.")]
    join = value["Std:Join"]
    return join["On"].join(resolved(item, parameters) for item in join["Values"])


def preflight_arguments(definition: dict[str, Any], overrides: dict[str, str]) -> tuple[str, ...]:
    """The Preflight job's container arguments for an execution started with `overrides`."""
    # The service renders parameters as text, a Boolean as JSON does (true, false).
    defaults = {
        p["Name"]: json.dumps(p["DefaultValue"])
        if isinstance(p["DefaultValue"], bool)
        else str(p["DefaultValue"])
        for p in definition["Parameters"]
    }
    step = next(step for step in definition["Steps"] if step["Name"] == "Preflight")
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    return tuple(resolved(argument, defaults | overrides) for argument in arguments)


@pytest.mark.slow
def test_an_overridden_instance_type_without_quota_fails_the_step_naming_it(
    aws: MotoServer, tmp_path: Path
) -> None:
    preflight_world.ready_account(ROLE_ARN, BUCKET)
    set_sagemaker_quota("ml.m5.xlarge for training job usage", 1)  # the preset's own type would pass
    set_sagemaker_quota(P4D, 0)
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET)
    example, preset = resolve(Path(__file__).resolve().parents[2] / "examples", "nanogpt", "smoke")
    definition = json.loads(compile_pipeline(example, "smoke", preset, target).definition)
    arguments = preflight_arguments(definition, {"InstanceType": "ml.p4d.24xlarge"})
    assert arguments == (
        "--instance-type",
        "ml.p4d.24xlarge",
        "--instance-count",
        "1",
        "--output-path",
        f"s3://{BUCKET}/nanogpt/smoke",
        "--fallback",
        "false",
    )

    facts = base_facts("nanogpt", "smoke", target)
    done = run_container(PRESETS["smoke"].model_dump_json(), facts, tmp_path, aws.endpoint, arguments)
    assert done.returncode == 1, done.stdout + done.stderr
    reason = (tmp_path / "opt/ml/output/message").read_text()
    assert reason.startswith(f"Preflight failed: [quota] '{P4D}' ({quota_code(P4D)}) is 0 in us-east-1")
    assert increase_command(quota_code(P4D), 1, REGION) in reason
    assert "cost: ml.p4d.24xlarge x1 for at most 30 min: worst case $18.84" in done.stdout  # the job log

    defaults = preflight_arguments(definition, {})
    assert (
        run_container(PRESETS["smoke"].model_dump_json(), facts, tmp_path, aws.endpoint, defaults).returncode
        == 0
    )
