"""`python -m pipelines.preflight`: its table, JSON and exit codes 0/1/2 against the moto server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest

from pipelines.preflight import main
from tests.conftest import BUCKET, ROLE_ARN
from tests.harness import faults, preflight_world
from tests.harness.moto_server import MotoServer
from tests.harness.quotas import quota_code, set_sagemaker_quota

ROOT = Path(__file__).resolve().parents[2]
G5_SPOT = "ml.g5.xlarge for spot training job usage"


@pytest.fixture
def account(aws: MotoServer) -> MotoServer:
    preflight_world.ready_account(ROLE_ARN, BUCKET)
    return aws


@pytest.mark.slow
def test_a_ready_account_prints_the_table_and_exits_0(
    account: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"preflight for cvl-nanogpt-smoke in us-east-1: role {ROLE_ARN}, bucket {BUCKET}")
    for check in ("quota", "bucket", "role", "role-permissions", "ecr-codebuild", "preset"):
        assert f"\n{check:<16}  PASS" in out
    assert out.rstrip().endswith("ready to run")


@pytest.mark.slow
def test_a_failed_check_exits_1_and_prints_its_fix(
    account: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--example", "nanogpt", "--preset", "train"]) == 1
    out = capsys.readouterr().out
    assert "quota             FAIL" in out
    # The train preset: spot ml.g5.xlarge for at most 120 minutes.
    assert (
        "cost: ml.g5.xlarge x1 for at most 120 min: worst case $2.82 at the on-demand price (spot bills "
        "less) — estimate from us-east-1 on-demand prices of 2026-11-29" in out
    )
    assert (
        f"fix: raise quota {quota_code(G5_SPOT)} to 1: aws service-quotas request-service-quota-increase"
        in out
    )
    assert out.rstrip().endswith("1 check(s) failed: fix them before running")


@pytest.mark.slow
def test_warnings_alone_exit_0(account: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    set_sagemaker_quota(G5_SPOT, 1)
    # The caller's policy is gone, but IAM may not be asked about it: a warn, not a fail.
    boto3.client("iam").delete_user_policy(UserName="moto", PolicyName=preflight_world.CALLER_POLICY_NAME)
    with faults.deny("iam", "SimulatePrincipalPolicy"):
        assert main(["--example", "nanogpt", "--preset", "train"]) == 0
    assert "ecr-codebuild     WARN" in capsys.readouterr().out


@pytest.mark.slow
def test_json_output_lists_every_check(account: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--example", "nanogpt", "--preset", "train", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["pipeline"] == "cvl-nanogpt-train" and document["region"] == "us-east-1"
    assert document["status"] == "fail"
    assert [check["name"] for check in document["checks"]] == [
        "quota", "bucket", "role", "role-permissions", "secrets", "ecr-codebuild", "preset",
    ]  # fmt: skip
    quota = document["checks"][0]
    assert quota["status"] == "fail" and quota_code(G5_SPOT) in quota["fix"]
    assert set(quota) == {"name", "status", "detail", "fix"}
    cost = document["cost"]
    assert (cost["worst_case_usd"], cost["estimate"], cost["prices_date"]) == (2.82, True, "2026-11-29")


@pytest.mark.slow
def test_flags_win_over_the_environment(account: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--example", "nanogpt", "--preset", "smoke", "--region", "eu-west-1", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["region"] == "eu-west-1"
    bucket = next(check for check in document["checks"] if check["name"] == "bucket")
    assert (
        bucket["detail"] == f"output bucket s3://{BUCKET} is in us-east-1, but the pipeline runs in eu-west-1"
    )


@pytest.mark.parametrize(
    ("argv", "unset", "message"),
    [
        (["--example", "nope", "--preset", "smoke"], None, "error: unknown example 'nope'"),
        (["--example", "nanogpt", "--preset", "huge"], None, "error: unknown preset 'huge' for nanogpt"),
        (
            ["--example", "nanogpt", "--preset", "smoke"],
            "SAGEMAKER_ROLE_ARN",
            "error: no SageMaker execution role",
        ),
        (["--example", "nanogpt", "--preset", "smoke", "--region", "mars-1"], None, "error: region 'mars-1'"),
        (
            ["--example", "nanogpt", "--preset", "smoke", "--examples-root", "/nonexistent"],
            None,
            "error: examples root",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    aws: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    unset: str | None,
    message: str,
) -> None:
    if unset:
        monkeypatch.delenv(unset)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.err.count("\n") == 1
    assert captured.out == ""


BLOCK_SAGEMAKER = textwrap.dedent(
    """
    import runpy, sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "sagemaker":
                raise ImportError("preflight must not load the SageMaker SDK")
    sys.meta_path.insert(0, Block())
    runpy.run_module("pipelines.preflight", run_name="__main__", alter_sys=True)
    """
)


@pytest.mark.slow
def test_the_command_runs_without_loading_the_sagemaker_sdk(account: MotoServer) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": account.endpoint}
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_SAGEMAKER, "--example", "nanogpt", "--preset", "smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready to run" in done.stdout
