"""The Preflight ProcessingStep: quota, region, role and ECR checks before anything costs money."""

from __future__ import annotations

from typing import Any

from configs import DeployTarget
from steps.common.processing import container_step

STEP_NAME = "Preflight"


def preflight_step(*, bundle_uri: str, target: DeployTarget, session: Any) -> Any:
    """A ProcessingStep that runs the preflight checks; it fails with the fixes as its FailureReason."""
    return container_step(
        name=STEP_NAME,
        display_name="Preflight checks",
        description="Quota for the training instance, bucket region, role trust and permissions, ECR access",
        module="steps.preflight.container",
        arguments=[],
        bundle_uri=bundle_uri,
        target=target,
        session=session,
    )
