"""Preflight checks against the moto server over HTTP: each check's pass and fail, as a user meets them."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from configs import resolve_target
from configs.nanogpt import PRESETS
from pipelines.define.staging import base_facts as preflight_facts
from steps.common import permissions
from steps.common.limits import FAILURE_REASON_LIMIT
from steps.common.run_facts import RunFacts
from steps.preflight.job.check_support import CheckResult
from steps.preflight.job.checks import exit_code, run_preflight
from steps.preflight.job.quota import increase_command
from steps.preflight.job.report import failure_reason
from steps.sdk.bundle import CODE_ARCHIVE, make_bundle
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import faults, preflight_world
from tests.harness.moto_server import ACCOUNT, MotoServer
from tests.harness.quotas import quota_code, remove_sagemaker_quotas, set_sagemaker_quota
from tests.harness.training_jobs import start_running_job

ROLE_NAME = ROLE_ARN.rsplit("/", 1)[-1]
TARGET = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET)
FACTS = preflight_facts("nanogpt", "train", TARGET)
ON_DEMAND = {"instance_type": "ml.g5.xlarge", "instance_count": 1, "spot": False, "max_run_minutes": 60}
SPOT = {**ON_DEMAND, "spot": True, "max_wait_minutes": 120, "checkpoint": {"dir": "logs"}}
G5 = "ml.g5.xlarge for training job usage"
G5_SPOT = "ml.g5.xlarge for spot training job usage"


@pytest.fixture
def account(aws: MotoServer) -> MotoServer:
    preflight_world.ready_account(ROLE_ARN, BUCKET)
    return aws


@functools.cache
def shared_session() -> boto3.Session:
    # One session for the module: it keeps the parsed service models (a fresh one re-reads them, ~0.5 s).
    return boto3.Session(region_name=REGION)


def checks(
    preset: dict[str, Any], session: boto3.Session | None = None, **options: Any
) -> dict[str, CheckResult]:
    results = run_preflight(preset, FACTS, session or shared_session(), **options)
    return {result.name: result for result in results}


@pytest.mark.slow
def test_a_ready_account_passes_every_check(account: MotoServer) -> None:
    set_sagemaker_quota(G5, 1)
    results = checks(ON_DEMAND)
    assert list(results) == [
        "quota",
        "bucket",
        "role",
        "role-permissions",
        "secrets",
        "ecr-codebuild",
        "preset",
    ]
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(results, "pass")
    assert f"({quota_code(G5)}) is 1 in us-east-1: 0 in use" in results["quota"].detail


# --- quota ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_quota_of_zero_fails_with_the_increase_command(account: MotoServer) -> None:
    result = checks(ON_DEMAND)["quota"]
    assert result.status == "fail"
    assert f"'{G5}' ({quota_code(G5)}) is 0 in us-east-1; the preset needs 1" in result.detail
    command = (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        f"--quota-code {quota_code(G5)} --desired-value 1 --region us-east-1"
    )
    assert command in result.fix


def test_the_applied_value_wins_over_the_default(account: MotoServer) -> None:
    set_sagemaker_quota(G5, 0, applied=False)
    set_sagemaker_quota(G5, 2)
    assert checks({**ON_DEMAND, "instance_count": 2})["quota"].status == "pass"


def test_running_jobs_use_up_the_quota(account: MotoServer) -> None:
    set_sagemaker_quota(G5, 3)
    sagemaker = boto3.client("sagemaker")
    start_running_job(sagemaker, "other-run", "ml.g5.xlarge", 2, role_arn=ROLE_ARN)
    # Neither a spot job nor another instance type holds this quota.
    start_running_job(sagemaker, "spot-run", "ml.g5.xlarge", 4, spot=True, role_arn=ROLE_ARN)
    start_running_job(sagemaker, "cpu-run", "ml.m5.xlarge", 1, role_arn=ROLE_ARN)
    assert checks(ON_DEMAND)["quota"].status == "pass"

    result = checks({**ON_DEMAND, "instance_count": 2})["quota"]
    assert result.status == "fail"
    assert "is 3 in us-east-1, running jobs use 2; the preset needs 2" in result.detail
    assert "wait for running jobs to finish" in result.fix
    assert f"--quota-code {quota_code(G5)} --desired-value 4 --region us-east-1" in result.fix


@pytest.mark.slow
def test_a_spot_preset_is_checked_against_the_spot_quota(account: MotoServer) -> None:
    set_sagemaker_quota(G5, 4)
    result = checks(SPOT)["quota"]
    assert result.status == "fail"
    assert f"'{G5_SPOT}' ({quota_code(G5_SPOT)}) is 0" in result.detail
    assert f"--quota-code {quota_code(G5_SPOT)} --desired-value 1" in result.fix

    set_sagemaker_quota(G5_SPOT, 1)
    set_sagemaker_quota(G5, 0)
    assert checks(SPOT)["quota"].status == "pass"
    assert checks(ON_DEMAND)["quota"].status == "fail"


@pytest.mark.slow
def test_an_instance_type_the_region_lacks_is_not_offered(account: MotoServer) -> None:
    remove_sagemaker_quotas("ml.p5.48xlarge")
    result = checks({**ON_DEMAND, "instance_type": "ml.p5.48xlarge"})["quota"]
    assert result.status == "fail"
    assert result.detail.startswith("ml.p5.48xlarge is not offered for SageMaker training in us-east-1")
    assert "choose an instance type offered in us-east-1" in result.fix


def test_the_quota_is_found_by_name_past_the_first_page(account: MotoServer) -> None:
    name = "ml.p5.48xlarge for spot training job usage"
    first_page = boto3.client("service-quotas").list_aws_default_service_quotas(ServiceCode="sagemaker")
    assert name not in {quota["QuotaName"] for quota in first_page["Quotas"]} and "NextToken" in first_page
    set_sagemaker_quota(name, 2, applied=False)
    result = checks({**SPOT, "instance_type": "ml.p5.48xlarge", "instance_count": 2})["quota"]
    assert result.status == "pass", result


# --- bucket ---------------------------------------------------------------------------------------------


def test_a_bucket_in_another_region_fails_naming_both_and_the_ways_out(aws: MotoServer) -> None:
    preflight_world.ready_account(ROLE_ARN, BUCKET, region="eu-west-1")
    result = checks(ON_DEMAND)["bucket"]
    assert result.status == "fail"
    assert result.detail == f"output bucket s3://{BUCKET} is in eu-west-1, but the pipeline runs in us-east-1"
    assert "--region eu-west-1" in result.fix and "a bucket in us-east-1" in result.fix


def test_a_missing_bucket_fails_saying_how_to_create_it(account: MotoServer) -> None:
    boto3.client("s3").delete_bucket(Bucket=BUCKET)
    result = checks(ON_DEMAND)["bucket"]
    assert result.status == "fail"
    assert result.detail == f"output bucket s3://{BUCKET} does not exist"
    assert f"aws s3 mb s3://{BUCKET} --region us-east-1" in result.fix


# --- role -----------------------------------------------------------------------------------------------


def test_a_role_that_does_not_trust_sagemaker_fails_with_the_trust_fix(account: MotoServer) -> None:
    ec2_only = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    boto3.client("iam").update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=json.dumps(ec2_only))
    result = checks(ON_DEMAND)["role"]
    assert result.status == "fail"
    assert "does not trust sagemaker.amazonaws.com" in result.detail
    assert f"aws iam update-assume-role-policy --role-name {ROLE_NAME}" in result.fix


def test_a_role_trusting_sagemaker_of_any_account_warns_with_the_pinned_trust(account: MotoServer) -> None:
    unpinned = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    boto3.client("iam").update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=json.dumps(unpinned))
    result = checks(ON_DEMAND)["role"]
    assert result.status == "warn"
    assert (
        "without aws:SourceAccount or aws:SourceArn" in result.detail and "confused deputy" in result.detail
    )
    assert f'"aws:SourceAccount":"{ACCOUNT}"' in result.fix and "pipelines.bootstrap" in result.fix


def test_a_missing_role_fails_and_its_permissions_are_not_guessed(account: MotoServer) -> None:
    iam = boto3.client("iam")
    iam.delete_role_policy(RoleName=ROLE_NAME, PolicyName="cvl-pipelines-execution")
    iam.delete_role(RoleName=ROLE_NAME)
    results = checks(ON_DEMAND)
    assert results["role"].status == "fail"
    assert results["role"].detail == f"role {ROLE_NAME} does not exist in account {ACCOUNT}"
    assert "python -m pipelines.bootstrap" in results["role"].fix
    assert results["role-permissions"].status == "warn"
    assert "was not found" in results["role-permissions"].detail


@pytest.mark.slow
def test_a_role_that_may_not_write_logs_fails_naming_the_actions(account: MotoServer) -> None:
    preflight_world.put_role_policy(preflight_world.role_policy(BUCKET, without=("JobLogs",)))
    result = checks(ON_DEMAND)["role-permissions"]
    assert result.status == "fail"
    assert "logs:PutLogEvents" in result.detail and "log-group:/aws/sagemaker/" in result.detail
    assert "s3:" not in result.detail and "ecr:" not in result.detail


@pytest.mark.slow
def test_a_run_is_asked_only_what_it_does(account: MotoServer) -> None:
    # No secrets in the preset, no quota lookup or simulation for the step: nothing here fails a run.
    without = (
        "ProjectSecrets",
        "PreflightQuotas",
        "PreflightRunningJobs",
        "PreflightSelf",
        "StopImageBuilds",
    )
    preflight_world.put_role_policy(preflight_world.role_policy(BUCKET, without=without))
    set_sagemaker_quota(G5, 1)
    results = checks(ON_DEMAND)
    assert results["secrets"].status == "pass" and "names no secrets" in results["secrets"].detail
    role = results["role-permissions"]
    assert role.status == "warn" and "secretsmanager" not in role.detail
    assert "a run works, but without" in role.detail and "the Preflight step's quota check" in role.detail
    assert "the Preflight step's role-permissions check" in role.detail
    assert exit_code(list(results.values())) == 0


@pytest.mark.slow
def test_a_preset_with_a_secret_is_asked_for_that_secret_only(account: MotoServer) -> None:
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="cvl/HF_TOKEN", SecretString="x")
    preset = {**ON_DEMAND, "secrets": {"HF_TOKEN": "cvl/HF_TOKEN"}}
    assert checks(preset)["secrets"].status == "pass"
    preflight_world.put_role_policy(preflight_world.role_policy(BUCKET, without=("ProjectSecrets",)))
    result = checks(preset)["secrets"]
    assert (
        result.status == "fail"
        and "secretsmanager:GetSecretValue on cvl/HF_TOKEN (HF_TOKEN)" in result.detail
    )
    assert "python -m pipelines.bootstrap" in result.fix  # bootstrap's role: bootstrap puts it right
    assert checks({**ON_DEMAND, "secrets": {"HF_TOKEN": "cvl/MISSING"}})["secrets"].detail == (
        "secret cvl/MISSING (HF_TOKEN) does not exist in us-east-1"
    )


# --- ECR and CodeBuild -----------------------------------------------------------------------------------


def test_a_caller_that_may_not_start_builds_fails(account: MotoServer) -> None:
    boto3.client("iam").delete_user_policy(UserName="moto", PolicyName=preflight_world.CALLER_POLICY_NAME)
    result = checks(ON_DEMAND)["ecr-codebuild"]
    assert result.status == "fail"
    assert result.detail.startswith(f"the caller arn:aws:iam::{ACCOUNT}:user/moto may not ")
    assert "ecr:CreateRepository, ecr:DescribeRepositories" in result.detail
    assert f"on arn:aws:ecr:us-east-1:{ACCOUNT}:repository/cvl-nanogpt" in result.detail
    assert (
        "codebuild:StartBuild, codebuild:BatchGetBuilds, codebuild:StopBuild on arn:aws:codebuild:us-east-1"
        in result.detail
    )


@pytest.mark.slow
def test_the_roles_build_permissions_are_checked_from_the_laptop_and_in_the_step(account: MotoServer) -> None:
    boto3.client("iam").delete_user_policy(UserName="moto", PolicyName=preflight_world.CALLER_POLICY_NAME)
    in_step = checks(ON_DEMAND, in_step=True)
    assert "ecr-codebuild" not in in_step  # the caller's check: the step has no caller but the role
    assert in_step["role-permissions"].status == "pass"
    preflight_world.put_role_policy(preflight_world.role_policy(BUCKET, without=("ImageBuilds",)))
    boto3.client("iam").put_user_policy(
        UserName="moto",
        PolicyName=preflight_world.CALLER_POLICY_NAME,
        PolicyDocument=json.dumps(preflight_world.user_policy(BUCKET)),
    )
    for result in (
        checks(ON_DEMAND)["role-permissions"],
        checks(ON_DEMAND, in_step=True)["role-permissions"],
    ):
        assert result.status == "fail"
        assert f"the role {ROLE_ARN} may not codebuild:StartBuild" in result.detail
        assert f"project/{permissions.PROJECT_NAME}" in result.detail
        assert result.fix == "run python -m pipelines.bootstrap (it puts the role's policy right)"


@pytest.mark.slow
def test_an_assumed_role_caller_is_checked_as_its_role(
    account: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="developer", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust))
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/team/developer", RoleSessionName="laptop"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    result = checks(ON_DEMAND, boto3.Session(region_name=REGION))["ecr-codebuild"]
    assert result.status == "fail"
    assert result.detail.startswith(f"the caller arn:aws:iam::{ACCOUNT}:role/team/developer may not")


# --- preset ---------------------------------------------------------------------------------------------


def test_a_channel_in_another_region_fails_naming_the_channel(account: MotoServer) -> None:
    boto3.client("s3").create_bucket(
        Bucket="cvl-data-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    result = checks({**ON_DEMAND, "channels": {"train": "s3://cvl-data-eu/shakespeare/"}})["preset"]
    assert result.status == "fail"
    assert (
        result.detail
        == "channel 'train' bucket s3://cvl-data-eu is in eu-west-1, but the pipeline runs in us-east-1"
    )


@pytest.mark.slow
def test_an_output_path_in_a_missing_bucket_fails(account: MotoServer) -> None:
    result = checks({**ON_DEMAND, "output_path": "s3://cvl-nowhere/out"})["preset"]
    assert result.status == "fail" and result.detail == "output path bucket s3://cvl-nowhere does not exist"


def test_spot_max_wait_must_cover_max_run(account: MotoServer) -> None:
    result = checks({**SPOT, "max_run_minutes": 120, "max_wait_minutes": 60})["preset"]
    assert result.status == "fail"
    assert result.detail == "spot max wait (60 min) does not cover max run (120 min)"
    assert result.fix == "set max_wait_minutes to at least 120"


@pytest.mark.slow
def test_spot_without_a_checkpoint_warns(account: MotoServer) -> None:
    result = checks({**SPOT, "checkpoint": None})["preset"]
    assert result.status == "warn" and "restarts training from scratch" in result.detail


# --- when AWS refuses or errs ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_role_iam_will_not_get_is_found_by_listing_roles(account: MotoServer) -> None:
    with faults.deny("iam", "GetRole"):
        assert checks(ON_DEMAND)["role"].status == "pass"
        with faults.deny("iam", "ListRoles"):
            result = checks(ON_DEMAND)["role"]
    assert result.status == "warn" and "iam:GetRole and iam:ListRoles were denied" in result.detail


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "operation", "check", "permission"),
    [
        ("iam", "SimulatePrincipalPolicy", "role-permissions", "iam:SimulatePrincipalPolicy"),
        ("iam", "SimulatePrincipalPolicy", "ecr-codebuild", "iam:SimulatePrincipalPolicy"),
        (
            "service-quotas",
            "ListAWSDefaultServiceQuotas",
            "quota",
            "servicequotas:ListAWSDefaultServiceQuotas",
        ),
        ("sagemaker", "ListTrainingJobs", "quota", "sagemaker:ListTrainingJobs"),
        ("s3", "HeadBucket", "bucket", "s3:ListBucket"),
    ],
)
def test_access_denied_on_a_checks_own_api_warns_naming_the_permission(
    account: MotoServer, service: str, operation: str, check: str, permission: str
) -> None:
    set_sagemaker_quota(G5, 1, applied=False)
    with faults.deny(service, operation):
        results = run_preflight(ON_DEMAND, FACTS, shared_session())
    result = {r.name: r for r in results}[check]
    assert result.status == "warn", result
    assert permission in result.detail and f"allow {permission}" in result.fix
    assert exit_code(results) == 0


def test_access_denied_does_not_hide_a_bucket_in_the_wrong_region(aws: MotoServer) -> None:
    preflight_world.ready_account(ROLE_ARN, BUCKET, region="eu-west-1")
    with faults.deny("s3", "HeadBucket"):
        assert checks(ON_DEMAND)["bucket"].status == "fail"


def test_a_quota_too_small_by_default_is_a_warn_when_the_applied_value_is_hidden(account: MotoServer) -> None:
    with faults.deny("service-quotas", "ListServiceQuotas"):
        result = checks(ON_DEMAND)["quota"]
    assert result.status == "warn"
    assert f"the default of '{G5}' ({quota_code(G5)}) is 0" in result.detail
    assert "servicequotas:ListServiceQuotas was denied" in result.detail


@pytest.mark.slow
def test_another_aws_error_fails_with_its_message_not_a_traceback(account: MotoServer) -> None:
    set_sagemaker_quota(G5, 1)
    with faults.error("sagemaker", "ListTrainingJobs", "ValidationException", "Invalid pagination token"):
        results = checks(ON_DEMAND)
    assert results["quota"].status == "fail"
    assert results["quota"].detail == (
        "could not check the training quota: ListTrainingJobs: ValidationException: Invalid pagination token"
    )
    assert results["bucket"].status == "pass"


@pytest.mark.slow
def test_concurrent_and_sequential_runs_agree(account: MotoServer) -> None:
    boto3.client("iam").delete_user_policy(UserName="moto", PolicyName=preflight_world.CALLER_POLICY_NAME)
    assert checks(SPOT) == checks(SPOT, concurrent=False)


# --- the failure reason and the container ----------------------------------------------------------------


def test_the_failure_reason_fits_sagemakers_limit_most_important_first() -> None:
    results = [CheckResult(f"check-{i}", "fail", "x" * 300, "y" * 100) for i in range(6)]
    results.insert(0, CheckResult("ok", "pass", "fine"))
    reason = failure_reason(results)
    assert len(reason) <= FAILURE_REASON_LIMIT
    assert reason.startswith("Preflight failed: [check-0] ") and "[check-1]" in reason
    assert reason.endswith("(+4 more in the job log)")
    assert "[ok]" not in reason


BLOCK_SDK = textwrap.dedent(
    """
    import runpy, sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"sagemaker", "pydantic", "configs", "pipelines"}:
                raise ImportError(f"the processing image has no {name}")
    sys.meta_path.insert(0, Block())
    runpy.run_module("steps.preflight.job.container", run_name="__main__", alter_sys=True)
    """
)


def run_container(
    preset_json: str, facts: RunFacts, tmp_path: Path, endpoint: str, arguments: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Lay out the step bundle and run its container module as the Preflight processing job does."""
    bundle = tmp_path / "opt/ml/processing/input/bundle"
    for name, content in make_bundle(preset_json, facts).files.items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(content)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "SAGEMAKER_"))}
    env |= {
        "PYTHONPATH": str(bundle / CODE_ARCHIVE),  # as the step's definition says: the code archive
        "AWS_ENDPOINT_URL": endpoint,
        "CVL_FAILURE_FILE": str(tmp_path / "opt/ml/output/message"),
        "CVL_RESULT_DIR": str(tmp_path / "opt/ml/processing/output/result"),
    }
    return subprocess.run(
        [sys.executable, "-c", BLOCK_SDK, "--bundle", str(bundle), *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_container_fails_the_step_with_the_fixes(account: MotoServer, tmp_path: Path) -> None:
    train = PRESETS["train"]  # spot ml.g5.xlarge: the spot quota is 0 in a new account
    facts = preflight_facts("nanogpt", "train", _target())
    done = run_container(train.model_dump_json(), facts, tmp_path, account.endpoint)
    assert done.returncode == 1, done.stderr
    assert "quota             FAIL" in done.stdout
    reason = (tmp_path / "opt/ml/output/message").read_text()
    assert reason.startswith(
        f"Preflight failed: [quota] '{G5_SPOT}' ({quota_code(G5_SPOT)}) is 0 in us-east-1"
    )
    assert increase_command(quota_code(G5_SPOT), 1, "us-east-1") in reason
    assert len(reason) <= FAILURE_REASON_LIMIT


@pytest.mark.slow
def test_the_container_passes_when_the_account_is_ready(account: MotoServer, tmp_path: Path) -> None:
    set_sagemaker_quota(G5_SPOT, 1)
    facts = preflight_facts("nanogpt", "train", _target())
    done = run_container(PRESETS["train"].model_dump_json(), facts, tmp_path, account.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASS") == 6  # every check of the step (ecr-codebuild is the caller's)
    assert not (tmp_path / "opt/ml/output/message").exists()


def _target() -> Any:
    return TARGET


def test_an_emulator_lacking_an_api_leaves_that_check_undone_and_says_so(account: MotoServer) -> None:
    """Plain moto answers an API it lacks with an HTML 500: the check is a warn naming it."""
    from unittest import mock

    from moto.iam.responses import IamResponse

    with mock.patch.object(
        IamResponse, "simulate_principal_policy", side_effect=NotImplementedError("not implemented")
    ):
        results = checks(ON_DEMAND)
    assert results["role-permissions"].status == "warn"
    assert results["role-permissions"].detail == (
        f"the role's permissions not checked: the emulator at {account.endpoint} lacks SimulatePrincipalPolicy"
    )
    assert results["bucket"].status == "pass"


@pytest.mark.slow
def test_a_server_error_page_on_the_way_to_aws_fails_the_check_without_a_traceback(
    account: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5xx HTML page with no emulator declared (a proxy in front of AWS) is that check's failure."""
    from unittest import mock

    from moto.iam.responses import IamResponse

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    for service in ("S3", "IAM", "STS", "SERVICE_QUOTAS", "SAGEMAKER"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", account.endpoint)
    with mock.patch.object(
        IamResponse, "simulate_principal_policy", side_effect=RuntimeError("not implemented")
    ):
        results = checks(ON_DEMAND, session=boto3.Session(region_name=REGION))
    assert results["role-permissions"].status == "fail"
    assert "could not check" in results["role-permissions"].detail
    assert "<" not in results["role-permissions"].detail
    assert results["bucket"].status == "pass"
