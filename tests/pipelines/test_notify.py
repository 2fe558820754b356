"""`upsert --notify`: an EventBridge rule on the pipeline's status changes, to an SNS topic only it may use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipelines import upsert
from pipelines.deploy.notifications import resource_name
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas
from tests.harness.moto_server import ACCOUNT

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "cvl-nanogpt-smoke"
RULE = resource_name(PIPELINE)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:{resource_name(PIPELINE, 256)}"


@pytest.fixture
def argv(aws: Any, tmp_path: Path) -> list[str]:
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)
    examples = tmp_path / "examples"
    shutil.copytree(
        ROOT / "examples" / "nanogpt", examples / "nanogpt", ignore=shutil.ignore_patterns("*.bin", "*.pkl")
    )
    return ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples), "--skip-preflight"]


def _event(status: str, pipeline_arn: str) -> str:
    """An execution status change as SageMaker sends it to EventBridge."""
    return json.dumps(
        {
            "version": "0",
            "id": "5a1b2c3d-0000-0000-0000-000000000000",
            "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
            "source": "aws.sagemaker",
            "account": ACCOUNT,
            "time": "2026-12-03T17:00:00Z",
            "region": REGION,
            "resources": [f"{pipeline_arn}/execution/abc123"],
            "detail": {
                "pipelineExecutionArn": f"{pipeline_arn}/execution/abc123",
                "pipelineArn": pipeline_arn,
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
            },
        }
    )


def test_email_creates_the_rule_and_topic_then_says_unchanged_then_off_removes_both(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    events, sns = boto3.client("events", region_name=REGION), boto3.client("sns", region_name=REGION)
    assert upsert.main([*argv, "--notify", "email:ml-team@example.com"]) == 0
    assert (
        f"notify created: Failed, Stopped -> {TOPIC}; ml-team@example.com must confirm"
        in capsys.readouterr().out
    )

    rule = events.describe_rule(Name=RULE)
    pipeline_arn = boto3.client("sagemaker", region_name=REGION).describe_pipeline(PipelineName=PIPELINE)[
        "PipelineArn"
    ]
    for status, matches in (("Failed", True), ("Stopped", True), ("Succeeded", False), ("Executing", False)):
        answer = events.test_event_pattern(
            EventPattern=rule["EventPattern"], Event=_event(status, pipeline_arn)
        )
        assert answer["Result"] is matches, status
    other = _event("Failed", pipeline_arn.replace(PIPELINE, "cvl-other-train"))
    assert events.test_event_pattern(EventPattern=rule["EventPattern"], Event=other)["Result"] is False
    (target,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Arn"] == TOPIC

    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    ours = [s for s in policy["Statement"] if s.get("Sid") == "cvl-pipelines-events-publish"]
    assert ours == [
        {
            "Sid": "cvl-pipelines-events-publish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule["Arn"]}},
        }
    ]
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=TOPIC)["Tags"]}
    assert tags["managed-by"] == "cvl-pipelines" and tags["cvl:example"] == "nanogpt"
    rule_tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
    assert rule_tags["cvl:preset"] == "smoke"
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ml-team@example.com")

    assert upsert.main([*argv, "--notify", "email:ml-team@example.com"]) == 0
    assert "notify unchanged: Failed, Stopped" in capsys.readouterr().out
    assert len(sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]) == 1

    assert upsert.main([*argv, "--notify", "email:ml-team@example.com", "--notify-succeeded"]) == 0
    assert "notify updated: Failed, Stopped, Succeeded" in capsys.readouterr().out

    assert upsert.main([*argv, "--notify", "off"]) == 0
    assert "notify removed" in capsys.readouterr().out
    assert RULE not in [r["Name"] for r in events.list_rules()["Rules"]]
    assert TOPIC not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_a_topic_of_yours_keeps_its_statements_and_off_takes_only_ours_away(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    sns = boto3.client("sns", region_name=REGION)
    theirs = sns.create_topic(Name="team-alerts")["TopicArn"]
    mine = {"Sid": "ops", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sns:Publish", "Resource": theirs}  # fmt: skip
    sns.set_topic_attributes(
        TopicArn=theirs,
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": [mine]}),
    )
    assert upsert.main([*argv, "--notify", f"sns:{theirs}"]) == 0
    assert f"notify created: Failed, Stopped -> {theirs}" in capsys.readouterr().out
    statements = json.loads(sns.get_topic_attributes(TopicArn=theirs)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["ops", "cvl-pipelines-events-publish"]

    assert upsert.main([*argv, "--notify", "off"]) == 0
    statements = json.loads(sns.get_topic_attributes(TopicArn=theirs)["Attributes"]["Policy"])["Statement"]
    assert statements == [mine]  # the topic is theirs: it stays


@pytest.mark.parametrize(
    ("notify", "message"),
    [
        (
            "email:not-an-address",
            "--notify 'email:not-an-address': use email:<address>, sns:<topic ARN> or off",
        ),
        (
            f"sns:arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",
            "--notify: the topic is in eu-west-1, the pipeline in us-east-1: use a topic in us-east-1",
        ),
    ],
)
def test_a_bad_target_is_exit_2_and_nothing_is_created(
    argv: list[str], notify: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upsert.main([*argv, "--notify", notify]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert boto3.client("sagemaker", region_name=REGION).list_pipelines()["PipelineSummaries"] == []
    assert boto3.client("events", region_name=REGION).list_rules()["Rules"] == []
