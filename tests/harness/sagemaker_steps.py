"""A stored pipeline's processing steps run as SageMaker runs them, and what each step asks of AWS.

Each processing step of the stored definition runs as SageMaker would: its bundle downloaded from S3 (as
upsert uploaded it), its entry point and arguments taken from the definition with the pipeline's
parameters at their defaults, `python3 -m steps.<x>.container` in a fresh interpreter with the execution
role's own credentials (moto STS AssumeRole). Its AWS calls are logged by `sitecustomize_calls/`.
`refused(role, calls)` says which of them IAM (the harness's simulator) would refuse the role.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from steps.common import permissions
from tests.harness import call_log, roles_world
from tests.harness.iam_simulator import role_allows, role_documents

ROOT = Path(__file__).resolve().parents[2]
RECORDER = ROOT / "tests" / "harness" / "sitecustomize_calls"


def definition(pipeline: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored definition's steps by name, and its parameters' defaults."""
    stored = json.loads(
        boto3.client("sagemaker").describe_pipeline(PipelineName=pipeline)["PipelineDefinition"]
    )
    defaults = {p["Name"]: p.get("DefaultValue") for p in stored["Parameters"]}
    return {step["Name"]: step for step in stored["Steps"]}, defaults


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


def _rules(role_arn: str, job_dir: Path) -> Path:
    """The role's policies and the account's secret tags, for the job's IAM (see sitecustomize_calls)."""
    path = job_dir.with_name(job_dir.name + "-iam.json")
    rules = {
        "root": str(ROOT),
        "role_arn": role_arn,
        "documents": role_documents(role_arn),
        "tags": call_log.secret_tags("us-east-1"),
    }
    path.write_text(json.dumps(rules, default=str))
    return path


def run_step(
    step: dict[str, Any], defaults: dict[str, Any], job_dir: Path, log: Path, role_arn: str
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
    env |= roles_world.credentials_of(role_arn)  # as SageMaker hands a job its role's credentials
    env |= {
        # As the definition says (the code archive in the bundle), then the call recorder.
        "PYTHONPATH": env["PYTHONPATH"].replace("/opt/ml/processing/input/bundle", bundle)
        + os.pathsep
        + str(RECORDER),
        "CVL_CALL_LOG": str(log),
        "CVL_ENFORCE": str(_rules(role_arn, job_dir)),
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


def refused(role_arn: str, calls: list[call_log.Call]) -> list[str]:
    """`action on resource` for each call IAM would refuse the role, with the request's context."""
    return sorted(
        {
            f"{action} on {call_log.resource(call, action)}"
            for call in calls
            for action in call_log.actions(call)
            if not role_allows(
                role_arn, action, call_log.resource(call, action), call_log.request_context(call, action)
            )
        }
    )
