"""Pipeline executions that run, and can be stopped, in the in-process moto server.

moto creates every execution `Succeeded` at once and has neither ListPipelineExecutionSteps,
StopPipelineExecution nor StopTrainingJob. `install()` adds the three, shaped as the SageMaker API
documents them; a test gives the next execution of a pipeline a `Script`, whose ticks (one per
ListPipelineExecutionSteps call, i.e. one per poll of the follower) move its steps along.

- StopPipelineExecution(PipelineExecutionArn, ClientRequestToken) -> {PipelineExecutionArn}: the
  execution goes Stopping, then Stopped (with its running steps) on the next describe or list;
  ResourceNotFound for an unknown ARN, ConflictException when it already ended.
- StopTrainingJob(TrainingJobName) -> {}: InProgress -> Stopping -> Stopped; ValidationException when
  the job is not InProgress; ResourceNotFound when it does not exist.
- ListPipelineExecutions(PipelineName, SortBy, SortOrder, MaxResults, NextToken): moto lists every
  execution oldest first with a "None" failure reason; this one sorts (CreationTime, Descending by
  default), pages, reports scripted statuses and leaves PipelineExecutionFailureReason out when none.
- RetryPipelineExecution(PipelineExecutionArn, ClientRequestToken) -> {PipelineExecutionArn}: the same
  execution resumes from its failed steps (Executing again; the steps that succeeded keep their
  attempt); ConflictException unless it Failed; ResourceNotFound for an unknown ARN. A test gives the
  resumed run its ticks with `Script.on_retry`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ConflictException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

Tick = Callable[["Script"], None]
_TERMINAL = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")
_pending: dict[str, Script] = {}  # pipeline name -> script for its next execution
_running: dict[str, Script] = {}  # execution ARN -> script


def _now() -> datetime:
    return datetime.now(UTC)


class Script:
    """What one execution does: `ticks` run one per ListPipelineExecutionSteps call, in order."""

    def __init__(self, ticks: list[Tick]) -> None:
        self.ticks = list(ticks)
        self.steps: dict[str, dict[str, Any]] = {}
        self.status = "Executing"
        self.failure_reason: str | None = None
        self.stop_requests: list[str] = []
        self.retry_requests: list[str] = []
        self.on_retry: list[Tick] = []
        self.polls = 0

    def step(self, name: str, status: str, *, failure: str | None = None, **metadata: Any) -> None:
        """Set a step's status (starting it on first sight, ending it on a terminal status)."""
        entry = self.steps.setdefault(name, {"StepName": name, "StartTime": _now(), "AttemptCount": 1})
        entry["StepStatus"] = status
        if status in _TERMINAL:
            entry["EndTime"] = _now()
        if failure:
            entry["FailureReason"] = failure
        if metadata:
            entry["Metadata"] = metadata

    def finish(self, status: str, failure: str | None = None) -> None:
        """End the execution."""
        self.status, self.failure_reason = status, failure

    def advance(self) -> None:
        """Apply the next tick (nothing once they are used up or the execution stops)."""
        self.polls += 1
        if self.status == "Stopping":
            for entry in self.steps.values():
                if entry["StepStatus"] in ("Starting", "Executing", "Stopping"):
                    entry.update(StepStatus="Stopped", EndTime=_now())
            self.status = "Stopped"
        elif self.status not in _TERMINAL and self.ticks:
            self.ticks.pop(0)(self)

    def retry(self, token: str) -> None:
        """Resume after a failure: the failed steps start again (one more attempt), ticks from `on_retry`."""
        self.retry_requests.append(token)
        self.status, self.failure_reason = "Executing", None
        for entry in self.steps.values():
            if entry["StepStatus"] == "Failed":
                entry.update(StepStatus="Executing", StartTime=_now(), AttemptCount=entry["AttemptCount"] + 1)
                entry.pop("EndTime", None)
                entry.pop("FailureReason", None)
        self.ticks, self.on_retry = list(self.on_retry), []


def script_next_execution(pipeline: str, script: Script) -> Script:
    """Make the next execution of `pipeline` follow `script`."""
    _pending[pipeline] = script
    return script


def _execution(backend: SageMakerModelBackend, arn: str) -> Any:
    for pipeline in backend.pipelines.values():
        if arn in pipeline.pipeline_executions:
            return pipeline.pipeline_executions[arn]
    raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")


def _sync(backend: SageMakerModelBackend, arn: str) -> Script | None:
    script = _running.get(arn)
    if script is not None:
        execution = _execution(backend, arn)
        execution.pipeline_execution_status = script.status
        execution.pipeline_execution_failure_reason = script.failure_reason
    return script


_original_start = SageMakerModelBackend.start_pipeline_execution
_original_describe = SageMakerModelBackend.describe_pipeline_execution


def _start(self: SageMakerModelBackend, pipeline_name: str, *args: Any, **kwargs: Any) -> dict[str, str]:
    response = _original_start(self, pipeline_name, *args, **kwargs)
    script = _pending.pop(pipeline_name, None)
    if script is not None:
        _running[response["PipelineExecutionArn"]] = script
        _sync(self, response["PipelineExecutionArn"])
    return response


def _describe(self: SageMakerModelBackend, pipeline_execution_arn: str) -> dict[str, Any]:
    script = _running.get(pipeline_execution_arn)
    if script is not None and script.status == "Stopping":
        script.advance()
    _sync(self, pipeline_execution_arn)
    response = _original_describe(self, pipeline_execution_arn)
    if script is not None and script.failure_reason:
        response["FailureReason"] = script.failure_reason
    return response


def _list_steps(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    _execution(self.sagemaker_backend, arn)
    script = _running.get(arn)
    steps: list[dict[str, Any]] = []
    if script is not None:
        script.advance()
        _sync(self.sagemaker_backend, arn)
        # Newest first unless asked otherwise, as the API documents (SortOrder defaults to Descending).
        descending = self._get_param("SortOrder", "Descending") == "Descending"
        steps = list(reversed(script.steps.values())) if descending else list(script.steps.values())
    return ActionResult({"PipelineExecutionSteps": steps})


def _stop_execution(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    execution = _execution(self.sagemaker_backend, arn)
    script = _running.get(arn)
    status = script.status if script is not None else execution.pipeline_execution_status
    if status in _TERMINAL:
        raise ConflictException(f"Pipeline execution '{arn}' is already {status}.")
    if script is not None:
        script.stop_requests.append(self._get_param("ClientRequestToken"))
        script.status = "Stopping"
        _sync(self.sagemaker_backend, arn)
    return ActionResult({"PipelineExecutionArn": arn})


def _stop_training_job(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("TrainingJobName")
    job = self.sagemaker_backend.training_jobs.get(name)
    if job is None:
        raise ResourceNotFound(f"Training job '{name}' does not exist.")
    if job.training_job_status != "InProgress":
        raise ValidationError(
            f"The training job {name} is not in InProgress state ({job.training_job_status})."
        )
    # AWS answers Stopping and settles on Stopped once the container exits; the harness settles at once.
    job.training_job_status, job.secondary_status = "Stopped", "Stopped"
    return ActionResult({})


def _list_executions(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("PipelineName")
    pipeline = backend.pipelines.get(name)
    if pipeline is None:
        raise ResourceNotFound(f"Pipeline '{name}' does not exist.")
    summaries = []
    for arn, execution in pipeline.pipeline_executions.items():
        _sync(backend, arn)
        summary = {
            "PipelineExecutionArn": arn,
            "StartTime": execution.start_time,
            "PipelineExecutionStatus": execution.pipeline_execution_status,
        }
        if execution.pipeline_execution_display_name:
            summary["PipelineExecutionDisplayName"] = execution.pipeline_execution_display_name
        if execution.pipeline_execution_failure_reason:
            summary["PipelineExecutionFailureReason"] = execution.pipeline_execution_failure_reason
        summaries.append(summary)
    if self._get_param("SortOrder", "Descending") == "Descending":
        summaries.reverse()  # kept in creation order, so newest first is the reverse
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 50)
    page: dict[str, Any] = {"PipelineExecutionSummaries": summaries[start : start + size]}
    if start + size < len(summaries):
        page["NextToken"] = str(start + size)
    return ActionResult(page)


def _retry_execution(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    execution = _execution(self.sagemaker_backend, arn)
    script = _running.get(arn)
    status = script.status if script is not None else execution.pipeline_execution_status
    if status != "Failed":
        raise ConflictException(
            f"Pipeline execution '{arn}' is {status}: only a failed execution can be retried."
        )
    if script is not None:
        script.retry(self._get_param("ClientRequestToken"))
        _sync(self.sagemaker_backend, arn)
    return ActionResult({"PipelineExecutionArn": arn})


def install() -> None:
    """Patch the in-process moto SageMaker (idempotent)."""
    SageMakerModelBackend.start_pipeline_execution = _start  # type: ignore[method-assign]
    SageMakerModelBackend.describe_pipeline_execution = _describe  # type: ignore[method-assign]
    SageMakerResponse.list_pipeline_execution_steps = _list_steps  # type: ignore[attr-defined]
    SageMakerResponse.stop_pipeline_execution = _stop_execution  # type: ignore[attr-defined]
    SageMakerResponse.stop_training_job = _stop_training_job  # type: ignore[attr-defined]
    SageMakerResponse.list_pipeline_executions = _list_executions  # type: ignore[method-assign]
    SageMakerResponse.retry_pipeline_execution = _retry_execution  # type: ignore[attr-defined]


def reset() -> None:
    """Forget every script (moto's own reset empties the backends)."""
    _pending.clear()
    _running.clear()
