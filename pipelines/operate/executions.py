"""Executions as a user sees them: recent ones of our pipelines, one found by its ARN or short id.

Used by `pipelines.status`, `pipelines.stop`, `run --retry` and the runner's job methods. Every call
goes through `ExecutionApi`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from configs import BadInput
from pipelines.define.names import pipeline_name
from pipelines.deploy.pipeline_api import PipelineApi
from pipelines.operate.emulator import NOT_RUN, ran_nothing
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.follow import training_job_of
from pipelines.operate.outcome import SUCCEEDED
from steps.common.aws import endpoint_override
from steps.common.messages import one_line
from steps.common.statuses import EXECUTION_ENDED, EXECUTION_RUNNING

_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/([^/]+)/execution/([a-z0-9]+)$")
_SHORT_ID = re.compile(r"^[a-z0-9]{1,64}$")


class ExecutionSummary(NamedTuple):
    """One execution: its ARN, pipeline, short id, status, start, duration so far, failure reason."""

    arn: str
    pipeline: str
    execution_id: str
    status: str
    started: datetime | None
    duration_seconds: float | None
    failure_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (times as ISO 8601)."""
        return self._asdict() | {"started": self.started.isoformat() if self.started else None}


def split_arn(arn: str) -> tuple[str, str]:
    """(pipeline name, execution id) of an execution ARN; `BadInput` when it is not one."""
    found = _ARN.match(arn)
    if not found:
        raise BadInput(
            f"{arn!r} is not a pipeline execution ARN "
            "(arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>) or short id"
        )
    return found.group(1), found.group(2)


def summarize(client: ExecutionApi, arn: str) -> ExecutionSummary:
    """An execution's summary from DescribePipelineExecution (which has its last change time); `NotRun`
    for one an emulator reports Succeeded though no step ran (see `pipelines.operate.emulator`)."""
    described = client.describe_execution(arn)
    pipeline, execution_id = split_arn(arn)
    status = str(described.get("PipelineExecutionStatus", ""))
    started = described.get("CreationTime")
    ended = datetime.now(UTC) if status in EXECUTION_RUNNING else described.get("LastModifiedTime")
    duration = (ended - started).total_seconds() if started and ended else None
    reason = one_line(str(described.get("FailureReason") or ""))
    if status == SUCCEEDED and ran_nothing(client, arn):
        status, duration, reason = NOT_RUN, None, f"{endpoint_override()} said Succeeded, but no step ran"
    return ExecutionSummary(
        arn=arn,
        pipeline=pipeline,
        execution_id=execution_id,
        status=status,
        started=started,
        duration_seconds=duration,
        failure_reason=reason,
    )


def recent(
    client: ExecutionApi,
    pipelines: list[str] | None = None,
    *,
    max_results: int = 20,
    status_filter: str | None = None,
) -> list[ExecutionSummary]:
    """The newest executions of `pipelines` (default: every cvl-* pipeline), newest first."""
    names = pipelines if pipelines is not None else PipelineApi(client.sagemaker).pipeline_names()
    arns = [
        (summary.get("StartTime"), str(summary["PipelineExecutionArn"]))
        for name in names
        for summary in client.executions(name, max_results)
        if status_filter is None or summary.get("PipelineExecutionStatus") == status_filter
    ]
    newest = sorted(arns, key=lambda item: item[0] or datetime.min.replace(tzinfo=UTC), reverse=True)
    return [summarize(client, arn) for _, arn in newest[:max_results]]


def find_execution(client: ExecutionApi, job_id: str, pipeline: str | None = None) -> str:
    """The ARN of the execution `job_id` names (its ARN, or its short id among the recent executions
    of `pipeline`, default every cvl-* pipeline); `BadInput` when none matches."""
    if job_id.startswith("arn:"):
        split_arn(job_id)
        return job_id
    if not _SHORT_ID.match(job_id):
        raise BadInput(f"{job_id!r} is neither an execution ARN nor a short execution id (e.g. 4f1jiq2kmx9b)")
    names = [pipeline] if pipeline else PipelineApi(client.sagemaker).pipeline_names()
    for name in names:
        for summary in client.executions(name, 100):
            if str(summary["PipelineExecutionArn"]).endswith(f"/execution/{job_id}"):
                return str(summary["PipelineExecutionArn"])
    where = pipeline or "any cvl-* pipeline"
    raise BadInput(f"no execution {job_id} among the recent executions of {where}: pass its full ARN")


class StopResult(NamedTuple):
    """What `stop_execution` did: whether it asked SageMaker to stop, the state it found, the job it stopped."""

    requested: bool
    status: str  # the execution's state when asked (an `ExecutionStatus` value)
    training_job: str | None = None

    def line(self) -> str:
        """What happened, in a few words: `stopping (and training job J)` or `already S: nothing to stop`."""
        if not self.requested:
            return f"already {self.status}: nothing to stop"
        return "stopping" + (f" (and training job {self.training_job})" if self.training_job else "")


def stop_execution(client: ExecutionApi, arn: str) -> StopResult:
    """Stop an execution and its running training job, unless it has already ended."""
    status = str(client.describe_execution(arn).get("PipelineExecutionStatus", ""))
    if status in EXECUTION_ENDED:
        return StopResult(requested=False, status=status)
    job = training_job_of(client.steps(arn))
    client.stop(arn, job)
    return StopResult(requested=True, status=status, training_job=job)


def named_or_latest(
    client: ExecutionApi, execution: str | None, example: str | None, preset: str | None
) -> str:
    """The ARN of `execution` (an ARN or short id), else of the latest execution of `example`/`preset`'s
    pipeline; `BadInput` when neither is given or that pipeline never ran."""
    if execution:
        return find_execution(client, execution)
    if example and preset:
        pipeline = pipeline_name(example, preset)
        latest = recent(client, [pipeline], max_results=1)
        if not latest:
            raise BadInput(f"no execution of {pipeline}: run it first")
        return latest[0].arn
    raise BadInput("say which run: EXECUTION, --example E --preset P (its latest), or --local DIR")


def registered_package(steps: list[dict[str, Any]]) -> str:
    """The model package ARN an execution registered (its RegisterModel step's metadata), else ""."""
    for step in steps:
        arn = step.get("Metadata", {}).get("RegisterModel", {}).get("Arn")
        if arn:
            return str(arn)
    return ""


def step_failure(step: dict[str, Any]) -> str:
    """Why a step failed, one line: its FailureReason, or a Fail step's ErrorMessage (a failed gate)."""
    reason = step.get("FailureReason") or step.get("Metadata", {}).get("Fail", {}).get("ErrorMessage")
    return one_line(str(reason)) if reason else ""
