"""Every create and put we make, with its answer lost (it took effect; the client heard a 500 and retried):
`bootstrap` and `upsert` still finish, and leave nothing half-done."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipelines import bootstrap, upsert
from tests.conftest import ACCOUNT, BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas
from tests.harness.lost_answers import lose_answer

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_BUCKET = f"cvl-pipelines-{ACCOUNT}-{REGION}"


@pytest.fixture
def fresh(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")
    monkeypatch.delenv("SAGEMAKER_OUTPUT_BUCKET")
    return aws


def assert_bootstrapped() -> None:
    iam, s3 = boto3.client("iam"), boto3.client("s3")
    assert iam.list_role_policies(RoleName="cvl-sagemaker-execution")["PolicyNames"] == [
        "cvl-pipelines-execution"
    ]
    assert sorted(iam.list_role_policies(RoleName="cvl-pipelines-codebuild")["PolicyNames"]) == [
        f"cvl-pipelines-build-{REGION}",
        "cvl-pipelines-contexts",
    ]
    trust = iam.get_role(RoleName="cvl-sagemaker-execution")["Role"]["AssumeRolePolicyDocument"]
    assert all(s["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT} for s in trust["Statement"])
    assert boto3.client("codebuild").batch_get_projects(names=["sagemaker-cvl-pipelines-image-build"])[
        "projects"
    ]
    block = s3.get_public_access_block(Bucket=BOOTSTRAP_BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=BOOTSTRAP_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "operation", "times"),
    [
        ("iam", "CreateRole", 2),  # both roles
        ("iam", "PutRolePolicy", 3),  # the execution role's and the CodeBuild role's two
        ("s3", "CreateBucket", 1),
        ("s3", "PutPublicAccessBlock", 1),
        ("s3", "PutBucketEncryption", 1),
        ("s3", "PutBucketTagging", 1),
        ("codebuild", "CreateProject", 1),
    ],
)
def test_bootstrap_finishes_when_an_answer_is_lost(
    fresh: Any, capsys: pytest.CaptureFixture[str], service: str, operation: str, times: int
) -> None:
    with lose_answer(service, operation, times) as lost:
        assert bootstrap.main([]) == 0, capsys.readouterr().err
    assert lost.count == times
    assert_bootstrapped()
    capsys.readouterr()
    assert bootstrap.main(["--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["actions"].values()) == {"unchanged"}


@pytest.mark.slow
def test_bootstrap_puts_right_a_role_whose_trust_update_was_lost(fresh: Any) -> None:
    boto3.client("iam").create_role(
        RoleName="cvl-sagemaker-execution",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    with lose_answer("iam", "UpdateAssumeRolePolicy") as lost:
        assert bootstrap.main([]) == 0
    assert lost.count == 1
    assert_bootstrapped()


@pytest.fixture
def account(aws: Any, tmp_path: Path) -> Path:
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)
    examples = tmp_path / "examples"
    shutil.copytree(
        ROOT / "examples" / "nanogpt", examples / "nanogpt", ignore=shutil.ignore_patterns("*.bin", "*.pkl")
    )
    return examples


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ecr", "CreateRepository"),
        ("ecr", "PutLifecyclePolicy"),
        ("s3", "PutObject"),
        ("sagemaker", "CreatePipeline"),
        ("scheduler", "CreateScheduleGroup"),
        ("scheduler", "CreateSchedule"),
    ],
)
def test_upsert_finishes_when_an_answer_is_lost(
    account: Path, capsys: pytest.CaptureFixture[str], service: str, operation: str
) -> None:
    argv = ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(account)]
    argv += ["--schedule", "rate(1 day)"]
    with lose_answer(service, operation) as lost:
        assert upsert.main(argv) == 0, capsys.readouterr()
    assert lost.count == 1
    out = capsys.readouterr().out
    assert "cvl-nanogpt-smoke: created" in out and "scheduled rate(1 day)" in out
    ecr = boto3.client("ecr")
    assert ecr.get_lifecycle_policy(repositoryName="cvl-nanogpt")["lifecyclePolicyText"]
    assert ecr.describe_repositories(repositoryNames=["cvl-nanogpt"])["repositories"][0][
        "imageScanningConfiguration"
    ] == {"scanOnPush": True}
    assert (
        boto3.client("scheduler").get_schedule(Name="cvl-nanogpt-smoke", GroupName="cvl-pipelines")[
            "ScheduleExpression"
        ]
        == "rate(1 day)"
    )
    definition = json.loads(
        boto3.client("sagemaker").describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineDefinition"]
    )
    bundle = definition["Steps"][0]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    bucket, _, prefix = bundle.removeprefix("s3://").partition("/")
    assert boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["KeyCount"] > 0
    assert upsert.main(argv) == 0
    assert "cvl-nanogpt-smoke: unchanged" in capsys.readouterr().out
