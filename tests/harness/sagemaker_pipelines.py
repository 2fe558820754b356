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


def install() -> None:
    """Patch the in-process moto SageMaker (idempotent)."""
    SageMakerModelBackend.start_pipeline_execution = _start  # type: ignore[method-assign]
    SageMakerModelBackend.describe_pipeline_execution = _describe  # type: ignore[method-assign]
    SageMakerResponse.list_pipeline_execution_steps = _list_steps  # type: ignore[attr-defined]
    SageMakerResponse.stop_pipeline_execution = _stop_execution  # type: ignore[attr-defined]
    SageMakerResponse.stop_training_job = _stop_training_job  # type: ignore[attr-defined]


def reset() -> None:
    """Forget every script (moto's own reset empties the backends)."""
    _pending.clear()
    _running.clear()
