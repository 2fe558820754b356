"""The seed runner's Python API (CVlization's `SageMakerRunner`), whole, on pipeline executions.

    from pipelines import SageMakerRunner          # lazy: loads no SageMaker SDK

    runner = SageMakerRunner(role_arn=..., region="us-east-1")
    code = runner.run(example="nanogpt", preset="train", args=["--max_iters=1000"],
                      instance_type="ml.g4dn.xlarge", output_path="s3://my-bucket/nanogpt/")

`run` returns the exit code as the seed does: 0, 1, 130, 2 for a bad argument (its message printed, no
traceback), the training command's own code when it fails. `instance_type`, `instance_count`,
`output_path`, `args` and `input_path` (when the preset has a `training` channel) are parameters of
the execution. What a pipeline fixes at upsert time (spot, max wait/run, volume, image, entry command,
a new input channel) runs as a variant pipeline (`pipelines.define.variants`) so the shared pipeline, which
Studio and schedules run, never changes. The job methods work on executions: `job_id` is an
execution's ARN or short id.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from configs import examples_root
from configs.settings import max_cost_from
from pipelines import catalog
from pipelines.cli.command import EXIT_FAILED, EXIT_OK, exit_code_of
from pipelines.cli.run_printer import Progress
from pipelines.define.names import pipeline_name
from pipelines.define.variants import INPUT_CHANNEL, FixedFields, apply, variant_name
from pipelines.deploy.target import deploy_target
from pipelines.local import execute_local
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import find_execution, recent, stop_execution, summarize
from pipelines.operate.follow import LogFollower, poll_seconds, training_job_of
from pipelines.operate.follow import follow as follow_execution
from pipelines.operate.start import execute_remote, refuse_over_budget, summary
from steps.common.aws import aws_session
from steps.common.aws import client as aws_client
from steps.common.statuses import STEP_RUNNING, ExecutionStatus, JobStatus
from steps.train.overrides import Overrides
from steps.train.parameters import parameter_specs

# The seed filtered training jobs by these; executions have their own names.
_SEED_STATUS: dict[str, str] = {
    JobStatus.IN_PROGRESS: ExecutionStatus.EXECUTING,
    JobStatus.COMPLETED: ExecutionStatus.SUCCEEDED,
}


class SeedRun(NamedTuple):
    """One `SageMakerRunner.run` call's arguments, as the seed names them (and `local`)."""

    example: str
    preset: str
    args: list[str]
    instance_type: str | None
    output_path: str | None
    input_path: str | None
    instance_count: int
    spot: bool
    max_wait_minutes: int | None
    max_run_minutes: int
    volume_size_gb: int
    image_uri: str | None
    entry_command: str | None
    download_outputs: bool
    local_output_dir: str | None
    local: bool
    fallback: bool = False


def _bucket_of(uri: str | None) -> str | None:
    return uri.removeprefix("s3://").split("/", 1)[0] if uri and uri.startswith("s3://") else None


class SageMakerRunner:
    """Run CVL examples on SageMaker as pipeline executions, seed-runner style (or here: `local=True`)."""

    def __init__(
        self,
        role_arn: str | None = None,
        region: str | None = None,
        ecr_repo_prefix: str = "cvl",
        *,
        bucket: str | None = None,
        examples_dir: str | Path | None = None,
    ) -> None:
        """`role_arn` (default SAGEMAKER_ROLE_ARN), `region` (default AWS_DEFAULT_REGION, else
        us-east-1, as the seed); `bucket` for the step code and build context (default
        SAGEMAKER_OUTPUT_BUCKET, else `output_path`'s bucket). Images go to ECR repositories `cvl-*`."""
        if ecr_repo_prefix != "cvl":
            raise ValueError(
                "ecr_repo_prefix: images go to cvl-* repositories (the roles may push only there)"
            )
        self.role_arn = role_arn
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.bucket = bucket
        self.examples_dir = str(examples_dir) if examples_dir is not None else None

    def run(
        self,
        example: str,
        preset: str = "train",
        args: list[str] | None = None,
        instance_type: str | None = None,
        output_path: str | None = None,
        input_path: str | None = None,
        instance_count: int = 1,
        spot: bool = False,
        max_wait_minutes: int | None = None,
        max_run_minutes: int = 60,
        volume_size_gb: int = 50,
        image_uri: str | None = None,
        entry_command: str | None = None,
        download_outputs: bool = True,
        local_output_dir: str | None = None,
        *,
        local: bool = False,
        fallback: bool = False,
    ) -> int:
        """Run one example preset to the end, streaming its progress; returns the exit code.

        None for `args`, `instance_type`, `output_path` or `entry_command` means the preset's. The
        model is downloaded into `local_output_dir/model` (default `outputs/<pipeline>/<run-id>`).
        `fallback`: when the instance type has no quota room, run on the cheapest one that fits and has.
        """
        request = SeedRun(
            example,
            preset,
            list(args or []),
            instance_type,
            output_path,
            input_path,
            instance_count,
            spot,
            max_wait_minutes,
            max_run_minutes,
            volume_size_gb,
            image_uri,
            entry_command,
            download_outputs,
            local_output_dir,
            local,
            fallback,
        )
        return exit_code_of(lambda: self._run(request))

    def _run(self, request: SeedRun) -> int:
        preset_name, input_path = request.preset, request.input_path
        found, preset = catalog.resolve(examples_root(self.examples_dir), request.example, preset_name)
        fixed = FixedFields(
            spot=request.spot,
            max_wait_minutes=request.max_wait_minutes,
            max_run_minutes=request.max_run_minutes,
            volume_size_gb=request.volume_size_gb,
            entry_command=request.entry_command,
            image_uri=request.image_uri,
            input_channel=input_path is not None and INPUT_CHANNEL not in preset.channels,
        )
        chosen = apply(preset, fixed, input_path)
        name = variant_name(preset_name, preset, chosen, request.image_uri)
        values: dict[str, Any] = {
            "InstanceType": request.instance_type,
            "InstanceCount": request.instance_count,
            "OutputPath": request.output_path,
            "ExtraArgs": json.dumps(request.args) if request.args else None,
            f"Input_{INPUT_CHANNEL}": input_path if INPUT_CHANNEL in chosen.channels else None,
        }
        overrides = Overrides.from_values(parameter_specs(chosen, "s3://cvl-local/output"), values)
        destination = Path(request.local_output_dir) if request.local_output_dir else None
        progress = Progress()
        if name != preset_name:
            variant = pipeline_name(found.name, name)
            progress.say(
                f"{found.name}/{preset_name}: fixed fields differ from the preset's: variant {variant}"
            )
        if request.local:
            outcome = execute_local(
                found,
                name,
                chosen,
                overrides,
                output_dir=destination,
                checkpoint_dir=None,
                region=self.region,
                progress=progress,
            )
        else:
            refuse_over_budget(overrides.applied_to(chosen), max_cost_from(None))
            bucket = (
                self.bucket or os.environ.get("SAGEMAKER_OUTPUT_BUCKET") or _bucket_of(request.output_path)
            )
            target = deploy_target(region=self.region, role_arn=self.role_arn, bucket=bucket)
            outcome = execute_remote(
                found,
                name,
                chosen,
                overrides,
                target=target,
                output_dir=destination,
                progress=progress,
                download=request.download_outputs,
                image_uri=request.image_uri,
                fallback=request.fallback,
            )
        if outcome.billing is not None:
            progress.say(outcome.billing.line())
        if outcome.model_dir:
            progress.say(f"model: {outcome.model_dir}")
        for line in summary(outcome):
            print(line, file=sys.stderr)
        return outcome.exit_code

    def _client(self) -> Any:
        return ExecutionApi.of(aws_session(self.region))

    def list_jobs(self, max_results: int = 20, status_filter: str | None = None) -> list[dict[str, Any]]:
        """Recent executions of the cvl-* pipelines, newest first, as the seed listed jobs: `job_id` (the
        execution ARN), `status`, `created`, `duration_seconds`, plus `pipeline` and `failure_reason`."""
        wanted = _SEED_STATUS.get(status_filter, status_filter) if status_filter else None
        return [
            {
                "job_id": s.arn,
                "status": s.status,
                "created": s.started.isoformat() if s.started else None,
                "duration_seconds": int(s.duration_seconds) if s.duration_seconds is not None else None,
                "pipeline": s.pipeline,
                "failure_reason": s.failure_reason,
            }
            for s in recent(self._client(), max_results=max_results, status_filter=wanted)
        ]

    def get_job_status(self, job_id: str) -> dict[str, Any]:
        """One execution as the seed described a job: status, the running step as `secondary_status`,
        failure reason, created, duration, and the training job's instance type and output path."""
        client = self._client()
        arn = find_execution(client, job_id)
        found, steps = summarize(client, arn), client.steps(arn)
        job_name = training_job_of(steps)
        job = client.training_job(job_name) if job_name else {}
        current = [s["StepName"] for s in steps if s.get("StepStatus") in STEP_RUNNING]
        return {
            "job_id": arn,
            "status": found.status,
            "secondary_status": ", ".join(current) or None,
            "failure_reason": found.failure_reason or None,
            "created": found.started.isoformat() if found.started else None,
            "duration_seconds": int(found.duration_seconds) if found.duration_seconds is not None else None,
            "instance_type": job.get("ResourceConfig", {}).get("InstanceType"),
            "output_path": job.get("OutputDataConfig", {}).get("S3OutputPath"),
            "training_job": job_name,
        }

    def tail_logs(self, job_id: str, follow: bool = True) -> None:
        """Print the execution's training log (every host); with `follow`, until the execution ends.
        Ctrl-C stops watching, not the execution."""
        pipelines = self._client()
        arn = find_execution(pipelines, job_id)
        logs = aws_client(aws_session(self.region), "logs")
        progress = Progress()
        try:
            if follow:
                follow_execution(
                    pipelines, logs, arn, progress, poll_seconds=poll_seconds(), stop_on_interrupt=False
                )
                return
            job = training_job_of(pipelines.steps(arn))
            if job is None:
                progress.say(f"{arn}: no training job yet")
                return
            LogFollower(logs, job, progress).poll()
        except KeyboardInterrupt:
            progress.say("stopped following the logs (the execution goes on)")

    def stop_job(self, job_id: str) -> bool:
        """Stop an execution and its training job; True when a stop was requested, False otherwise
        (already ended, or the request failed: the reason is printed)."""

        def stop() -> int:
            client = self._client()
            arn = find_execution(client, job_id)
            stopped = stop_execution(client, arn)
            print(f"{arn}: {stopped.line()}")
            return EXIT_OK if stopped.requested else EXIT_FAILED

        return exit_code_of(stop) == EXIT_OK
