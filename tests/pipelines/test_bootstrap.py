"""`python -m pipelines.bootstrap` against the moto server: idempotent, least privilege."""

import json

import boto3
import pytest

from pipelines import bootstrap
from tests.conftest import ACCOUNT, REGION


@pytest.fixture
def fresh(aws, monkeypatch):
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")
    monkeypatch.delenv("SAGEMAKER_OUTPUT_BUCKET")
    return aws


def _policy(role: str, name: str) -> dict:
    return boto3.client("iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


@pytest.mark.slow
def test_first_run_creates_and_prints_the_settings_second_run_changes_nothing(fresh, capsys):
    assert bootstrap.main([]) == 0
    out = capsys.readouterr().out
    bucket = f"cvl-pipelines-{ACCOUNT}-{REGION}"
    assert f"bucket {bucket}: created" in out and "role cvl-sagemaker-execution: created" in out
    assert f"export SAGEMAKER_OUTPUT_BUCKET={bucket}" in out
    assert f"export SAGEMAKER_ROLE_ARN=arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution" in out
    assert boto3.client("codebuild").batch_get_projects(names=["sagemaker-cvl-pipelines-image-build"])[
        "projects"
    ]

    assert bootstrap.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["actions"].values()) == {"unchanged"}


@pytest.mark.slow
def test_role_trusts_sagemaker_and_its_policy_is_scoped(fresh):
    assert bootstrap.main(["--bucket", "my-cvl-bucket"]) == 0
    role = boto3.client("iam").get_role(RoleName="cvl-sagemaker-execution")["Role"]
    principals = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert "sagemaker.amazonaws.com" in principals
    policy = _policy("cvl-sagemaker-execution", "cvl-pipelines-execution")
    text = json.dumps(policy)
    assert "FullAccess" not in text
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(not action.endswith(":*") for action in actions), statement
        if statement["Sid"] in ("Bucket", "BucketListing"):
            assert "my-cvl-bucket" in json.dumps(statement["Resource"])
        if statement["Resource"] == "*":
            assert statement["Sid"] in (
                "EcrLogin",
                "JobMetrics",
                "PreflightQuotas",
                "PreflightRunningJobs",
            ), statement


@pytest.mark.slow
def test_a_drifted_policy_is_put_right(fresh, capsys):
    assert bootstrap.main([]) == 0
    boto3.client("iam").put_role_policy(
        RoleName="cvl-sagemaker-execution",
        PolicyName="cvl-pipelines-execution",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    capsys.readouterr()
    assert bootstrap.main([]) == 0
    assert "role cvl-sagemaker-execution: updated" in capsys.readouterr().out
    assert "s3:*" not in json.dumps(_policy("cvl-sagemaker-execution", "cvl-pipelines-execution"))


def test_a_bucket_in_another_region_is_bad_input_and_nothing_is_created(fresh, capsys):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="elsewhere-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert bootstrap.main(["--bucket", "elsewhere-bucket"]) == 2
    err = capsys.readouterr().err
    assert "is in eu-west-1, not us-east-1" in err and "--region eu-west-1" in err
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_role_reads_the_projects_secrets_and_no_others(fresh):
    from tests.harness import iam_simulator

    iam_simulator.install()
    assert bootstrap.main([]) == 0
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
    resources = [
        f"{secret}cvl/HF_TOKEN-AbCdEf",
        f"{secret}cvl/team/WANDB_API_KEY-123456",
        f"{secret}prod/database-AbCdEf",
        f"{secret}cvlx/HF_TOKEN-AbCdEf",
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:cvl/HF_TOKEN-AbCdEf",
    ]
    results = boto3.client("iam").simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        ResourceArns=resources,
    )["EvaluationResults"]
    allowed = {
        (r["EvalActionName"], r["EvalResourceName"]) for r in results if r["EvalDecision"] == "allowed"
    }
    assert allowed == {
        ("secretsmanager:GetSecretValue", resources[0]),
        ("secretsmanager:GetSecretValue", resources[1]),
    }


def _conditions(role: str) -> dict[str, dict]:
    trust = boto3.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return {statement["Principal"]["Service"]: statement["Condition"] for statement in trust["Statement"]}


@pytest.mark.slow
def test_every_trust_policy_is_pinned_to_this_account(fresh):
    assert bootstrap.main([]) == 0
    execution = _conditions("cvl-sagemaker-execution")
    codebuild = _conditions("cvl-pipelines-codebuild")
    for condition in [*execution.values(), *codebuild.values()]:
        assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert execution["scheduler.amazonaws.com"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:scheduler:*:{ACCOUNT}:schedule-group/cvl-pipelines"
    }
    assert codebuild["codebuild.amazonaws.com"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:codebuild:*:{ACCOUNT}:project/sagemaker-cvl-pipelines-image-build"
    }


def test_roles_made_before_without_the_account_condition_are_put_right(fresh, capsys):
    unpinned = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["sagemaker.amazonaws.com", "scheduler.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = boto3.client("iam")
    iam.create_role(RoleName="cvl-sagemaker-execution", AssumeRolePolicyDocument=json.dumps(unpinned))
    iam.create_role(RoleName="cvl-pipelines-codebuild", AssumeRolePolicyDocument=json.dumps(unpinned))
    assert bootstrap.main([]) == 0
    out = capsys.readouterr().out
    assert "role cvl-sagemaker-execution: updated" in out
    assert "trust policy of cvl-pipelines-codebuild" in out
    assert _conditions("cvl-sagemaker-execution")["sagemaker.amazonaws.com"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT
    }
    assert set(_conditions("cvl-pipelines-codebuild")) == {"codebuild.amazonaws.com"}


@pytest.mark.slow
def test_a_role_under_a_path_is_granted_under_its_path(fresh, capsys):
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    boto3.client("iam").create_role(RoleName="trainer", Path="/teams/ml/", AssumeRolePolicyDocument=trust)
    assert bootstrap.main(["--role-name", "trainer"]) == 0
    arn = f"arn:aws:iam::{ACCOUNT}:role/teams/ml/trainer"
    assert f"export SAGEMAKER_ROLE_ARN={arn}" in capsys.readouterr().out
    statements = {s["Sid"]: s for s in _policy("trainer", "cvl-pipelines-execution")["Statement"]}
    assert statements["PassSelfToJobs"]["Resource"] == arn


@pytest.mark.slow
def test_grant_to_attaches_exactly_what_a_role_lacks_and_prints_it(fresh, capsys):
    from tests.harness import iam_simulator

    iam_simulator.install()
    assert bootstrap.main([]) == 0
    iam = boto3.client("iam")
    allow_s3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [allow_s3]})
    iam.create_role(
        RoleName="mine", Path="/service-role/", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )
    iam.put_role_policy(RoleName="mine", PolicyName="own", PolicyDocument=policy)
    capsys.readouterr()
    assert bootstrap.main(["--grant-to", "mine", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/mine"
    assert report["role_arn"] == arn
    sids = {s["Sid"]: s for s in report["attached"]["Statement"]}
    assert "BucketObjects" not in sids and "BucketListing" not in sids  # it has s3:* already
    assert {"PipelineJobs", "PassSelfToJobs", "ImageBuilds", "ProjectSecrets"} <= set(sids)
    assert sids["PassSelfToJobs"]["Resource"] == arn
    attached = _policy("mine", "cvl-pipelines-grants")
    assert attached["Statement"] == report["attached"]["Statement"]
    assert bootstrap.main(["--grant-to", arn]) == 0
    assert "already has what runs need: nothing attached" in capsys.readouterr().out
