"""The seed-runner-compatible Python API, against the moto server: overrides, spot, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from configs.nanogpt import PRESETS
from pipelines.runner import RunFailed, SageMakerRunner, with_spot
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.pipelines.test_run_remote import (
    PIPELINE,
    account,
    exit_record,
    started,
    succeeded,
    training,
    training_job,
)

__all__ = ["account"]  # the fixture, shared with the run tests


def test_with_spot_revalidates_the_preset() -> None:
    smoke = PRESETS["smoke"]
    assert with_spot(smoke, None, None) is smoke
    spot = with_spot(smoke, True, None)
    assert spot.spot and spot.max_wait_minutes == smoke.max_run_minutes * 2
    assert with_spot(spot, False, None).max_wait_minutes is None
    with pytest.raises(ValueError, match="max_wait_minutes"):
        with_spot(smoke, True, smoke.max_run_minutes - 1)


def test_run_maps_onto_parameters_and_the_preset(account: Any, tmp_path: Path) -> None:
    job_arn = training_job()
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), succeeded]))
    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION, bucket=BUCKET)
    result = runner.run(
        example="nanogpt",
        preset="smoke",
        args=["--seed=3"],
        instance_type="ml.m5.2xlarge",
        output_path=f"s3://{BUCKET}/elsewhere/",
        spot=True,
        max_wait_minutes=90,
        output_dir=tmp_path,
    )
    assert result.pipeline == PIPELINE
    assert result.model_dir == tmp_path / "model" and (tmp_path / "model" / "logs" / "ckpt.pt").is_file()

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    definition = json.loads(sagemaker.describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"])
    train = next(step for step in definition["Steps"] if step["Name"] == "Train")["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"]["MaxWaitTimeInSeconds"] == 90 * 60
    arn = sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"
    ]
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
        "PipelineParameters"
    ]
    assert {p["Name"]: p["Value"] for p in parameters} == {
        "InstanceType": "ml.m5.2xlarge",
        "OutputPath": f"s3://{BUCKET}/elsewhere",
        "ExtraArgs": '["--seed=3"]',
    }


def test_a_failed_run_raises_with_the_exit_code(account: Any) -> None:
    job_arn = training_job()

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure="AlgorithmError: `python train.py` exited with code 3: ...")
        script.finish("Failed")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    exit_record(3)
    with pytest.raises(RunFailed) as raised:
        SageMakerRunner(role_arn=ROLE_ARN, region=REGION, bucket=BUCKET).run(
            example="nanogpt", preset="smoke"
        )
    assert raised.value.exit_code == 3
