"""The gate after Train: a ConditionStep on the training job's final metric; when it passes, a ModelStep
registers the model (Train's artifacts, the image it trained in) as a model package awaiting approval,
else a FailStep ends the execution naming the metric, its value and the threshold.

The registration is the SDK's own (`ModelBuilder.register()` under the pipeline session, a `ModelStep`):
`dependencies=None` keeps ModelBuilder from packing inference code (there is none: the package is the
trained model and its image), so nothing is uploaded and the step is a plain CreateModelPackage.
"""

from __future__ import annotations

import logging
from typing import Any

from configs.preset import Register

GATE_STEP = "Gate"
REGISTER_STEP = "Register"
GATE_FAILED_STEP = "GateFailed"
APPROVAL_STATUS = "PendingManualApproval"


def gate_message_parts(register: Register) -> tuple[str, str]:
    """The FailStep's message around the metric's value: (`"<metric> "`, `" is above the gate <max>"`)."""
    if register.max is not None:
        return f"{register.metric} ", f" is above the gate {register.max}"
    return f"{register.metric} ", f" is below the gate {register.min}"


def gate_step(
    *,
    train: Any,
    image_uri: Any,
    register: Register,
    group: str,
    role_arn: str,
    session: Any,
    registration: bool = True,
) -> Any:
    """The ConditionStep on `train`'s final `register.metric`: the model registered in `group` with
    status PendingManualApproval when it passes, a FailStep naming metric, value and threshold when not.
    Without `registration` the passing branch is empty (a local run: registration happens on SageMaker)."""
    from sagemaker.core.workflow.conditions import (
        ConditionGreaterThanOrEqualTo,
        ConditionLessThanOrEqualTo,
    )
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    value = train.properties.FinalMetricDataList[register.metric].Value
    if register.max is not None:
        condition: Any = ConditionLessThanOrEqualTo(left=value, right=register.max)
    else:
        condition = ConditionGreaterThanOrEqualTo(left=value, right=register.min)
    builder = ModelBuilder(
        image_uri=image_uri,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=role_arn,
        sagemaker_session=session,
        dependencies=None,
        # Its default (DEBUG) would set the SDK's shared logger to DEBUG for the rest of the process.
        log_level=logging.ERROR,
    )
    registering = ModelStep(
        name=REGISTER_STEP,
        step_args=builder.register(model_package_group_name=group, approval_status=APPROVAL_STATUS),
        display_name="Register model",
        description=f"model package in {group}, {APPROVAL_STATUS}",
    )
    before, after = gate_message_parts(register)
    failed = FailStep(
        name=GATE_FAILED_STEP,
        error_message=Join(on="", values=[before, value, after]),
        display_name="Gate failed",
    )
    return ConditionStep(
        name=GATE_STEP,
        display_name="Gate",
        description=f"{register.metric} {register.passes}",
        conditions=[condition],
        if_steps=[registering] if registration else [],
        else_steps=[failed],
    )
