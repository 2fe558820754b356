"""`pipelines.run` on SageMaker: upsert, start with the parameter overrides, follow, download the model."""

from __future__ import annotations

import io
import os
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

from configs import Example, Preset, resolve_target
from pipelines.cli import EXIT_FAILED, EXIT_OK
from pipelines.follow import follow
from pipelines.progress import Progress

DEFAULT_POLL_SECONDS = 10.0
_EXIT_CODE = re.compile(r"exited with code (\d+)")


def parameter_value(value: Any) -> str:
    """A parameter value as StartPipelineExecution takes it (Boolean parameters as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def start_execution(sagemaker: Any, pipeline: str, overrides: dict[str, Any], token: str) -> str:
    """Start an execution with the overrides; returns its ARN."""
    return str(
        sagemaker.start_pipeline_execution(
            PipelineName=pipeline,
            PipelineParameters=[
                {"Name": name, "Value": parameter_value(value)} for name, value in overrides.items()
            ],
            ClientRequestToken=token,
        )["PipelineExecutionArn"]
    )


def download_model(session: Any, sagemaker: Any, job: str, destination: Path) -> Path:
    """Download and unpack the training job's model.tar.gz into `destination/model`."""
    from steps.common.aws import client

    artifacts = sagemaker.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = artifacts.removeprefix("s3://").split("/", 1)
    body = client(session, "s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    model = destination / "model"
    model.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        archive.extractall(model, filter="data")  # refuses absolute paths, `..` and device files
    return model


def exit_code_of(steps: list[dict[str, Any]]) -> int:
    """The training command's exit code, from a failed step's FailureReason (the entry point names it);
    else 1."""
    for step in steps:
        found = _EXIT_CODE.search(str(step.get("FailureReason") or ""))
        if step.get("StepStatus") == "Failed" and found:
            return int(found.group(1))
    return EXIT_FAILED


def run_remote(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: dict[str, Any],
    *,
    target: Any,
    output_dir: Path | None,
    progress: Progress,
    preflight: bool = True,
    poll_seconds: float | None = None,
) -> tuple[int, Path | None]:
    """Upsert, start, follow to the end and download the model; returns (exit code, model folder)."""
    import uuid

    from pipelines.compile import stage
    from pipelines.upsert import upsert_all
    from steps.common.aws import aws_session, client

    # upsert_all runs the preflight checks and uploads while the SDK loads and compiles.
    upserted = upsert_all([stage(example, preset_name, preset, target)], target.region, preflight=preflight)[
        0
    ]
    progress.say(f"{upserted.pipeline}: {upserted.action} (sha256:{upserted.digest[:12]})")
    if upserted.action == "failed":
        print(f"error: {upserted.detail}", file=sys.stderr)
        return EXIT_FAILED, None
    session = aws_session(target.region)
    sagemaker = client(session, "sagemaker")
    arn = start_execution(sagemaker, upserted.pipeline, overrides, str(uuid.uuid4()))
    progress.say(f"execution {arn}")
    poll = (
        poll_seconds
        if poll_seconds is not None
        else float(os.environ.get("CVL_POLL_SECONDS", DEFAULT_POLL_SECONDS))
    )
    described, steps, job = follow(sagemaker, client(session, "logs"), arn, progress, poll_seconds=poll)
    status = described["PipelineExecutionStatus"]
    if status != "Succeeded":
        reasons = [f"{s['StepName']}: {s['FailureReason']}" for s in steps if s.get("FailureReason")]
        print(f"error: the execution {status.lower()}: " + ("; ".join(reasons) or status), file=sys.stderr)
        return exit_code_of(steps), None
    if job is None:
        return EXIT_OK, None
    destination = output_dir or Path("outputs") / upserted.pipeline / arn.rsplit("/", 1)[-1]
    model = download_model(session, sagemaker, job, destination.resolve())
    progress.say(f"model: {model}")
    return EXIT_OK, model


def run_remote_command(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: dict[str, Any],
    args: Any,
    progress: Progress,
) -> int:
    """`pipelines.run` without `--local`: the deploy target from flags/env, then `run_remote`."""
    target = resolve_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
    code, _ = run_remote(
        example,
        preset_name,
        preset,
        overrides,
        target=target,
        output_dir=args.output_dir,
        progress=progress,
        preflight=not getattr(args, "skip_preflight", False),
    )
    return code
