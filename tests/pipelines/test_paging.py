"""Listings longer than one page: executions beyond ListPipelineExecutions' 100 a page, pipelines beyond
ListPipelines' 100 a page, and permission simulations beyond SimulatePrincipalPolicy's 100 results a page."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from pipelines import status
from steps.preflight.job.check_support import Context, Parallel
from steps.preflight.job.iam import Need, simulate
from tests.conftest import REGION, ROLE_ARN
from tests.harness import iam_simulator, sagemaker_pipelines

DEFINITION = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []})


@pytest.fixture
def sagemaker(aws: Any) -> Any:
    sagemaker_pipelines.install()
    sagemaker_pipelines.reset()
    return boto3.client("sagemaker", region_name=REGION)


def _pipeline(sagemaker: Any, name: str) -> None:
    sagemaker.create_pipeline(PipelineName=name, PipelineDefinition=DEFINITION, RoleArn=ROLE_ARN)


def _listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert status.main([*args, "--json"]) == 0
    return [execution["arn"] for execution in json.loads(capsys.readouterr().out)["executions"]]


@pytest.mark.slow  # a hundred and more pipelines or executions made first
def test_status_reads_executions_past_the_first_page(
    sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipeline(sagemaker, "cvl-paging-train")
    started = [
        sagemaker.start_pipeline_execution(PipelineName="cvl-paging-train")["PipelineExecutionArn"]
        for _ in range(104)
    ]
    newest_first = started[::-1]
    assert _listed(capsys, "--max-results", "102") == newest_first[:102]  # 100 on the first page, 2 more
    assert _listed(capsys, "--max-results", "3") == newest_first[:3]


@pytest.mark.slow  # a hundred and more pipelines or executions made first
def test_status_sees_pipelines_past_the_first_page(
    sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"cvl-paging-{n:03d}" for n in range(102)]
    for name in names:
        _pipeline(sagemaker, name)
    last = sagemaker.start_pipeline_execution(PipelineName=names[-1])["PipelineExecutionArn"]
    assert _listed(capsys) == [last]


def test_a_denial_past_the_first_page_of_simulation_results_is_found(aws: Any) -> None:
    iam_simulator.install()
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="cvl-paging", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
    allowed = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="cvl-paging", PolicyName="get", PolicyDocument=json.dumps(allowed))
    context = Context(input=None, clients={"iam": iam}, parallel=Parallel(False))  # type: ignore[arg-type]
    actions = ["s3:GetObject"] * 100 + ["s3:PutObject"]  # IAM answers 100 results a page by default
    arn = iam.get_role(RoleName="cvl-paging")["Role"]["Arn"]
    assert simulate(context, arn, [Need(actions, "arn:aws:s3:::bucket/key")]) == [
        Need(["s3:PutObject"], "arn:aws:s3:::bucket/key")
    ]
