"""SageMaker's states, with the service's own values (botocore's `sagemaker` model is the source).

`tests/steps/test_statuses.py` checks each enum against botocore's shape of the same name, so a state
the service adds shows up as a failing test, not as a run followed forever. Stdlib only, Python 3.9
(the preflight job reads training job states): hence `(str, Enum)`, not 3.11's `StrEnum`.
A member equals and hashes as its value, so the plain strings boto3 returns compare against it.
"""

from __future__ import annotations

from enum import Enum


# Python 3.9 has no StrEnum (the jobs run it).
class _State(str, Enum):  # noqa: UP042
    def __str__(self) -> str:
        return str(self.value)


class ExecutionStatus(_State):
    """A pipeline execution's state (`PipelineExecutionStatus`)."""

    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"


class StepStatus(_State):
    """A pipeline step's state (`StepStatus`)."""

    STARTING = "Starting"
    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"


class JobStatus(_State):
    """A training job's state (`TrainingJobStatus`); a processing job's are among them."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    DELETING = "Deleting"


# An execution in one of these states changes no more; in any other it is still running.
EXECUTION_ENDED = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.STOPPED,
        ExecutionStatus.COMPLETED_WITH_FAILURES,
    }
)
EXECUTION_RUNNING = frozenset(ExecutionStatus) - EXECUTION_ENDED
STEP_ENDED = frozenset({StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.STOPPED})
STEP_RUNNING = frozenset(StepStatus) - STEP_ENDED
