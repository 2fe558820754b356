"""The Preflight ProcessingStep: quota, region, role and ECR checks before anything costs money."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configs import DeployTarget
from steps.preflight.job.container import RESULT_FILE, RESULT_OUTPUT
from steps.sdk.processing import container_step, execution_result_uri

STEP_NAME = "Preflight"
PROPERTY_FILE = "PreflightResult"
# The execution's values, not the preset's defaults: Studio, schedules and `run --set` change them.
CHECKED_PARAMETERS = (
    ("--instance-type", "InstanceType"),
    ("--instance-count", "InstanceCount"),
    ("--output-path", "OutputPath"),
    ("--fallback", "InstanceFallback"),
)


def preflight_step(
    *,
    bundle_uri: str,
    target: DeployTarget,
    session: Any,
    parameters: dict[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """A ProcessingStep that runs the preflight checks (it fails with the fixes as its FailureReason),
    and the PropertyFile (`instance_type`) Train reads the instance type it runs on from.

    `parameters` (the pipeline's, by name) supply the execution's instance type, count, output path and
    fallback as container arguments, so the step checks what this execution launches.
    """
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.properties import PropertyFile

    property_file = PropertyFile(name=PROPERTY_FILE, output_name=RESULT_OUTPUT, path=RESULT_FILE)
    result_uri = execution_result_uri(target.bucket, "preflight")

    arguments: list[Any] = []
    for flag, name in CHECKED_PARAMETERS:
        if parameters and name in parameters:
            # ContainerArguments are strings: Std:Join renders an Integer parameter as one.
            arguments += [flag, Join(on="", values=[parameters[name]])]
    step = container_step(
        name=STEP_NAME,
        display_name="Preflight checks",
        description="Quota for the training instance, bucket region, role trust and permissions, ECR access",
        module="steps.preflight.job.container",
        arguments=arguments,
        bundle_uri=bundle_uri,
        target=target,
        session=session,
        outputs={RESULT_OUTPUT: result_uri},
        property_files=[property_file],
        tags=tags,
    )
    return step, property_file
