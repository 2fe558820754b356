"""The Preflight and BuildImage jobs, run the way SageMaker runs them, under the role `bootstrap` made.

A fresh account is bootstrapped with the real `bootstrap` code, the pipeline is upserted, and each
processing step of the stored definition runs as SageMaker would: its bundle downloaded from S3 (as upsert
uploaded it), its entry point and arguments taken from the definition with the pipeline's parameters at
their defaults, `python3 -m steps.<x>.container` in a fresh interpreter with the execution role's own
credentials (moto STS AssumeRole). Every AWS call they make must be allowed by the bootstrapped policy
(the harness's IAM simulator) and declared in steps/common/permissions.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipelines import upsert
from steps.common import permissions
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import call_log, preflight_world
from tests.harness.codebuild import FakeCodeBuild, patched_codebuild
from tests.harness.iam_simulator import role_allows

ROOT = Path(__file__).resolve().parents[2]
RECORDER = ROOT / "tests" / "harness" / "sitecustomize_calls"
PIPELINE = "cvl-nanogpt-smoke"


@pytest.fixture
def bootstrapped(aws: Any, tmp_path: Path) -> Any:
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    with patched_codebuild() as codebuild:
        examples = tmp_path / "examples"
        shutil.copytree(
            ROOT / "examples" / "nanogpt",
            examples / "nanogpt",
            ignore=shutil.ignore_patterns("*.bin", "*.pkl"),
        )
        assert (
            upsert.main(["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples)]) == 0
        )
        yield codebuild


def resolve(value: Any, defaults: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
    """A definition value with pipeline parameters at their defaults (as an execution without overrides)
    and `Std:JsonGet`s read from the property files the steps wrote (`files`, by step.property-file)."""
    if isinstance(value, dict) and set(value) == {"Std:JsonGet"} and files is not None:
        spec = value["Std:JsonGet"]
        step, _, name = spec["PropertyFile"]["Get"].removeprefix("Steps.").partition(".PropertyFiles.")
        return files[f"{step}.{name}"][spec["Path"]]
    if isinstance(value, dict):
        if set(value) == {"Get"} and str(value["Get"]).startswith("Parameters."):
            return defaults[value["Get"].removeprefix("Parameters.")]
        if set(value) == {"Std:Join"}:
            spec = value["Std:Join"]
            # The service renders a Boolean parameter as JSON does: true, false.
            rendered = [resolve(v, defaults) for v in spec["Values"]]
            return spec["On"].join(json.dumps(v) if isinstance(v, bool) else str(v) for v in rendered)
        if set(value) == {"Get"} and str(value["Get"]).startswith("Execution."):
            return "execution-0123456789ab"
        return {key: resolve(item, defaults, files) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, defaults, files) for item in value]
    return value


def execution_role_credentials() -> dict[str, str]:
    """The execution role's credentials, as SageMaker hands them to a job."""
    credentials = boto3.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="SageMaker")[
        "Credentials"
    ]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def run_step(
    step: dict[str, Any], defaults: dict[str, Any], job_dir: Path, log: Path
) -> subprocess.CompletedProcess:
    """Run one processing step's container as SageMaker does, in `job_dir` standing in for /opt/ml."""
    arguments = resolve(step["Arguments"], defaults)
    s3 = boto3.client("s3")
    local = {}
    for channel in arguments["ProcessingInputs"]:
        bucket, _, prefix = channel["S3Input"]["S3Uri"].removeprefix("s3://").partition("/")
        target = job_dir / channel["S3Input"]["LocalPath"].lstrip("/")
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]:
            path = target / item["Key"].removeprefix(prefix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        local[channel["S3Input"]["LocalPath"]] = str(target)
    app = arguments["AppSpecification"]
    command = [
        local.get(part, part) for part in app["ContainerEntrypoint"] + app.get("ContainerArguments", [])
    ]
    assert command[:2] == ["python3", "-m"]
    command[0] = sys.executable
    # SageMaker's output folders, moved under the job dir (this machine has no /opt/ml to write to).
    command += ["--result-dir", str(job_dir / "result")]
    if command[2] == "steps.build_image.job.container":
        command += ["--message-file", str(job_dir / "message")]
    bundle = local["/opt/ml/processing/input/bundle"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key in ("AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED")
    }
    env |= {name: str(value) for name, value in arguments.get("Environment", {}).items()}
    env |= execution_role_credentials()
    env |= {
        # As the definition says (the code archive in the bundle), then the call recorder.
        "PYTHONPATH": env["PYTHONPATH"].replace("/opt/ml/processing/input/bundle", bundle)
        + os.pathsep
        + str(RECORDER),
        "CVL_CALL_LOG": str(log),
        "CVL_FAILURE_FILE": str(job_dir / "message"),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    job_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, cwd=job_dir, env=env, capture_output=True, text=True, timeout=180)


def recorded_calls(log: Path) -> list[call_log.Call]:
    calls = []
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        calls.append(
            call_log.Call(
                permissions.EXECUTION, entry["service"], entry["operation"], entry["params"], entry["region"]
            )
        )
    return calls


@pytest.mark.slow
def test_preflight_and_build_image_pass_under_the_bootstrapped_role(
    bootstrapped: FakeCodeBuild, tmp_path: Path
) -> None:
    definition = json.loads(
        boto3.client("sagemaker").describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"]
    )
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    steps = {step["Name"]: step for step in definition["Steps"]}
    log = tmp_path / "calls.jsonl"

    preflight = run_step(steps["Preflight"], defaults, tmp_path / "preflight", log)
    assert preflight.returncode == 0, preflight.stdout + preflight.stderr
    assert "FAIL" not in preflight.stdout and "WARN" not in preflight.stdout, preflight.stdout
    build = run_step(steps["BuildImage"], defaults, tmp_path / "build", log)
    assert build.returncode == 0, build.stdout + build.stderr
    result = json.loads((tmp_path / "build" / "result" / "build.json").read_text())
    assert result["cached"] is False and result["build_id"] == bootstrapped.started[0].build_id

    calls = recorded_calls(log)
    operations = {(call.service, call.operation) for call in calls}
    assert {
        ("iam", "SimulatePrincipalPolicy"),
        ("codebuild", "StartBuild"),
        ("ecr", "DescribeImages"),
    } <= operations
    assert not any(call.operation.startswith(("Create", "Put")) for call in calls)  # the role creates nothing
    assert call_log.uncovered(calls) == []
    denied = [
        f"{action} on {call_log.resource(call, action)}"
        for call in calls
        for action in call_log.actions(call)
        if not role_allows(ROLE_ARN, action, call_log.resource(call, action))
    ]
    assert denied == []


@pytest.mark.slow
def test_with_instance_fallback_the_preflight_step_picks_a_type_with_room_and_train_runs_on_it(
    bootstrapped: FakeCodeBuild, tmp_path: Path
) -> None:
    from tests.harness.quotas import set_sagemaker_quota

    set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    set_sagemaker_quota("ml.m5.2xlarge for training job usage", 1)
    definition = json.loads(
        boto3.client("sagemaker").describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"]
    )
    steps = {step["Name"]: step for step in definition["Steps"]}
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    log = tmp_path / "calls.jsonl"

    refused = run_step(steps["Preflight"], defaults, tmp_path / "off", log)  # InstanceFallback: false
    assert refused.returncode == 1
    assert (
        "ml.m5.2xlarge on-demand: room for 1" in (tmp_path / "off" / "message").read_text() + refused.stdout
    )

    started_with_fallback = defaults | {
        "InstanceFallback": True
    }  # Studio's "start" form, or a preset default
    picked = run_step(steps["Preflight"], started_with_fallback, tmp_path / "on", log)
    assert picked.returncode == 0, picked.stdout + picked.stderr
    assert "falling back to ml.m5.2xlarge (room for 1, $0.46/h" in picked.stdout
    written = json.loads((tmp_path / "on" / "result" / "preflight.json").read_text())
    assert written == {"instance_type": "ml.m5.2xlarge"}
    files = {"Preflight.PreflightResult": written, "BuildImage.BuildResult": {"image_uri": "image:tag"}}
    train = resolve(steps["Train"]["Arguments"], started_with_fallback, files)
    assert train["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
