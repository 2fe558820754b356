"""SageMaker's states: our enums hold exactly the values of botocore's model, and the derived sets."""

from __future__ import annotations

import json
from enum import Enum

import botocore.session
import pytest

from steps.common.statuses import (
    EXECUTION_ENDED,
    EXECUTION_RUNNING,
    STEP_ENDED,
    STEP_RUNNING,
    ExecutionStatus,
    JobStatus,
    StepStatus,
)

MODEL = botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize(
    ("enum", "shape"),
    [
        (ExecutionStatus, "PipelineExecutionStatus"),
        (StepStatus, "StepStatus"),
        (JobStatus, "TrainingJobStatus"),
    ],
)
def test_each_enum_is_botocores_shape(enum: type[Enum], shape: str) -> None:
    assert [member.value for member in enum] == MODEL.shape_for(shape).enum


def test_a_processing_jobs_states_are_among_the_job_states() -> None:
    assert set(MODEL.shape_for("ProcessingJobStatus").enum) <= {member.value for member in JobStatus}


def test_every_state_is_ended_or_running_never_both() -> None:
    assert EXECUTION_ENDED | EXECUTION_RUNNING == set(ExecutionStatus)
    assert not EXECUTION_ENDED & EXECUTION_RUNNING
    assert EXECUTION_RUNNING == {ExecutionStatus.EXECUTING, ExecutionStatus.STOPPING}
    assert STEP_ENDED | STEP_RUNNING == set(StepStatus)
    assert STEP_RUNNING == {StepStatus.STARTING, StepStatus.EXECUTING, StepStatus.STOPPING}


def test_members_compare_print_and_serialize_as_botos_strings() -> None:
    """boto3 answers plain strings; a member must match them, print as them and go into JSON as them."""
    assert "CompletedWithFailures" in EXECUTION_ENDED
    assert "Executing" not in EXECUTION_ENDED
    assert ExecutionStatus("Succeeded") is ExecutionStatus.SUCCEEDED
    assert f"{ExecutionStatus.SUCCEEDED} / {StepStatus.STARTING}" == "Succeeded / Starting"
    assert json.dumps({"status": JobStatus.IN_PROGRESS}) == '{"status": "InProgress"}'
