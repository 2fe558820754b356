"""Tags on everything we create, per resource type, read back from the moto server: `managed-by`, and
`cvl:example` / `cvl:preset` where they apply."""

from __future__ import annotations

import json

import boto3
import pytest

from pipelines import bootstrap, upsert
from steps.common.tags import resource_tags
from tests.conftest import REGION
from tests.harness.moto_server import ACCOUNT
from tests.pipelines.test_upsert import account  # noqa: F401  (the fixture: preflight passes)

OURS = {"managed-by": "cvl-pipelines"}
SMOKE = OURS | {"cvl:example": "nanogpt", "cvl:preset": "smoke"}


def _as_dict(tags: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag[value] for tag in tags}


@pytest.fixture
def upserted(account):  # noqa: F811
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke", "--schedule", "rate(1 day)"]) == 0
    return account


@pytest.mark.slow
def test_the_pipeline_is_tagged_with_its_example_and_preset(upserted) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    arn = sagemaker.describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineArn"]
    assert _as_dict(sagemaker.list_tags(ResourceArn=arn)["Tags"]) == SMOKE


@pytest.mark.slow
def test_every_job_the_pipeline_starts_is_tagged(upserted) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    definition = json.loads(
        sagemaker.describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineDefinition"]
    )
    for step in definition["Steps"]:  # each step's Arguments are its CreateProcessingJob/CreateTrainingJob
        assert _as_dict(step["Arguments"]["Tags"]) == SMOKE | {"cvl:pipeline": "cvl-nanogpt-smoke"}, step[
            "Name"
        ]


@pytest.mark.slow
def test_the_examples_repository_and_the_build_project_are_tagged(upserted) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.describe_repositories(repositoryNames=["cvl-nanogpt"])["repositories"][0]
    tags = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    assert _as_dict(tags) == OURS | {"cvl:example": "nanogpt"}
    project = boto3.client("codebuild", region_name=REGION).batch_get_projects(
        names=["sagemaker-cvl-pipelines-image-build"]
    )
    assert _as_dict(project["projects"][0]["tags"], "key", "value") == OURS


@pytest.mark.slow
def test_schedules_live_in_a_tagged_group(upserted) -> None:
    scheduler = boto3.client("scheduler", region_name=REGION)
    group = scheduler.get_schedule_group(Name="cvl-pipelines")
    assert _as_dict(scheduler.list_tags_for_resource(ResourceArn=group["Arn"])["Tags"]) == OURS
    assert [s["Name"] for s in scheduler.list_schedules(GroupName="cvl-pipelines")["Schedules"]] == [
        "cvl-nanogpt-smoke"
    ]


@pytest.mark.slow
def test_a_schedule_left_in_the_default_group_is_moved_not_doubled(account) -> None:  # noqa: F811
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    scheduler = boto3.client("scheduler", region_name=REGION)
    arn = boto3.client("sagemaker", region_name=REGION).describe_pipeline(PipelineName="cvl-nanogpt-smoke")[
        "PipelineArn"
    ]
    scheduler.create_schedule(
        Name="cvl-nanogpt-smoke",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution"},
    )
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke", "--schedule", "rate(1 day)"]) == 0
    names = [(s["GroupName"], s["Name"]) for s in scheduler.list_schedules()["Schedules"]]
    assert names == [("cvl-pipelines", "cvl-nanogpt-smoke")]


def test_bootstrap_tags_its_roles_and_bucket(aws, monkeypatch) -> None:
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")
    monkeypatch.delenv("SAGEMAKER_OUTPUT_BUCKET")
    assert bootstrap.main([]) == 0
    iam = boto3.client("iam")
    for role in ("cvl-sagemaker-execution", "cvl-pipelines-codebuild"):
        assert _as_dict(iam.list_role_tags(RoleName=role)["Tags"]) == OURS, role
    bucket = f"cvl-pipelines-{ACCOUNT}-{REGION}"
    assert _as_dict(boto3.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]) == OURS


@pytest.mark.slow
def test_a_role_made_before_the_tags_gets_them(aws, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")
    monkeypatch.delenv("SAGEMAKER_OUTPUT_BUCKET")
    assert bootstrap.main([]) == 0
    iam = boto3.client("iam")
    iam.untag_role(RoleName="cvl-sagemaker-execution", TagKeys=["managed-by"])
    capsys.readouterr()
    assert bootstrap.main([]) == 0
    assert "role cvl-sagemaker-execution: updated" in capsys.readouterr().out
    assert _as_dict(iam.list_role_tags(RoleName="cvl-sagemaker-execution")["Tags"]) == OURS


def test_a_presets_own_tags_cannot_mislabel_its_costs() -> None:
    tags = resource_tags("nanogpt", "smoke", {"team": "vision", "cvl:example": "other", "managed-by": "me"})
    assert tags == SMOKE | {"team": "vision"}
