"""`run --fallback`: no quota room on the chosen type -> the cheapest type that fits and has room."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from pipelines import run
from tests.conftest import REGION
from tests.harness import quotas, sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.pipelines.test_run_remote import PIPELINE, account, started

__all__ = ["account"]

SMOKE = ["--example", "nanogpt", "--preset", "smoke"]  # ml.m5.xlarge, on demand


def _started_with() -> dict[str, str]:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    (summary,) = sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    found = sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=summary["PipelineExecutionArn"]
    )
    return {p["Name"]: p["Value"] for p in found["PipelineParameters"]}


@pytest.mark.slow
def test_fallback_starts_on_the_cheapest_type_with_room_and_says_why(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    quotas.set_sagemaker_quota("ml.m5.4xlarge for training job usage", 1)
    quotas.set_sagemaker_quota("ml.m5.2xlarge for training job usage", 1)
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started]))
    assert run.main([*SMOKE, "--fallback", "--no-wait", "--json"]) == 0
    captured = capsys.readouterr()
    outcome = json.loads(captured.out)
    assert outcome["fallback"].startswith("fallback: 'ml.m5.xlarge for training job usage' (")
    assert "running on ml.m5.2xlarge instead of ml.m5.xlarge (room for 1, $0.46/h" in outcome["fallback"]
    assert outcome["fallback"] in captured.err
    assert _started_with()["InstanceType"] == "ml.m5.2xlarge"


@pytest.mark.slow
def test_without_fallback_the_zero_quota_stops_the_run_with_the_ranked_list(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    quotas.set_sagemaker_quota("ml.m5.2xlarge for training job usage", 1)
    assert run.main(SMOKE) == 1
    err = capsys.readouterr().err
    assert "instance types with room for this run, cheapest first:" in err
    assert (
        "ml.m5.2xlarge on-demand: room for 1, $0.46/h: python -m pipelines.run --example nanogpt "
        "--preset smoke --set InstanceType=ml.m5.2xlarge"
    ) in err
    assert boto3.client("sagemaker", region_name=REGION).list_pipelines()["PipelineSummaries"] == []


def test_fallback_is_bad_input_for_a_local_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main([*SMOKE, "--local", "--fallback"]) == 2
    assert capsys.readouterr().err == (
        "error: --fallback applies to SageMaker runs: a --local run has no instance quota\n"
    )
