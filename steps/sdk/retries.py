"""Retry policies by failure class: declared once, rendered into the definition, honoured by `run --local`.

SageMaker Pipelines retries a step when its failure matches a policy's exception type: `Step.SERVICE_FAULT`
and `Step.THROTTLING` (the Pipelines service's own calls), `SageMaker.CAPACITY_ERROR` (no instances of the
type free in the region right now) and `SageMaker.RESOURCE_LIMIT` (the account's quota is in use, e.g. by
other running jobs). Retrying the training step on those two is what turns a busy region into a wait
instead of a failed run; a training command's own error is never retried (it would fail again, billed).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple


class RetryRule(NamedTuple):
    """A retry policy as plain data: which failure classes, how often, how far apart."""

    exception_types: tuple[str, ...]
    interval_seconds: int
    backoff_rate: float
    max_attempts: int

    def delays(self) -> list[float]:
        """The waits before each retry, in seconds."""
        return [self.interval_seconds * self.backoff_rate**attempt for attempt in range(self.max_attempts)]


# Capacity comes back within minutes to an hour: 1, 2, 4, 8, 16 minutes (31 in all) before giving up.
TRAINING_RETRY = RetryRule(("SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"), 60, 2.0, 5)
# The processing steps' own failures are ours to fix; a service fault or throttling is worth 3 retries.
PROCESSING_RETRY = RetryRule(("Step.SERVICE_FAULT", "Step.THROTTLING"), 5, 2.0, 3)


# How each class shows in a failure reason (the service's words), for `run --local` and the diagnosis.
FAILURE_PATTERNS: dict[str, re.Pattern[str]] = {
    "SageMaker.CAPACITY_ERROR": re.compile(r"InsufficientCapacity|CapacityError|insufficient capacity", re.I),
    "SageMaker.RESOURCE_LIMIT": re.compile(r"ResourceLimitExceeded|account-level service limit", re.I),
    "Step.THROTTLING": re.compile(r"Throttling|ThrottlingException|Rate exceeded|TooManyRequests", re.I),
    "Step.SERVICE_FAULT": re.compile(r"InternalFailure|InternalServerError|ServiceUnavailable", re.I),
}


def retry_class(rule: RetryRule, reason: str) -> str | None:
    """The exception type of `rule` that `reason` shows, or None (not worth retrying under `rule`)."""
    return next((kind for kind in rule.exception_types if FAILURE_PATTERNS[kind].search(reason)), None)


def sdk_policies(rule: RetryRule) -> list[Any]:
    """The SDK retry policy objects for `rule` (step-level and SageMaker-job exception types apart)."""
    from sagemaker.mlops.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
        StepExceptionTypeEnum,
        StepRetryPolicy,
    )

    schedule = {
        "interval_seconds": rule.interval_seconds,
        "backoff_rate": rule.backoff_rate,
        "max_attempts": rule.max_attempts,
    }
    # The SDK's enums take the value as a keyword: a positional one is ignored for the first member.
    step_types = [
        StepExceptionTypeEnum(value=kind) for kind in rule.exception_types if kind.startswith("Step.")
    ]
    job_types = [
        SageMakerJobExceptionTypeEnum(value=kind)
        for kind in rule.exception_types
        if kind.startswith("SageMaker.")
    ]
    policies: list[Any] = []
    if step_types:
        policies.append(StepRetryPolicy(exception_types=step_types, **schedule))
    if job_types:
        policies.append(SageMakerJobStepRetryPolicy(failure_reason_types=job_types, **schedule))
    return policies
