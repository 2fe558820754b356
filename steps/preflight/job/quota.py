"""The quota check: does the account have room for the preset's training instances right now?

SageMaker keeps separate quotas for on-demand and spot training per instance type, named
"<type> for training job usage" and "<type> for spot training job usage". Their codes differ per type and
are not all documented, so the quota is found by name; an instance type with no such quota in the
region is not offered there.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from steps.common.errors import error_code, is_access_denied
from steps.common.statuses import JobStatus
from steps.preflight.job.alternatives import Alternative, quota_name, quota_values, rank
from steps.preflight.job.check_support import (
    CheckResult,
    Context,
    Outcome,
    attempt,
    denied_result,
    permission_of,
)

NAME = "quota"
SERVICE_CODE = "sagemaker"
_PAGE_SIZE = 100  # the API's maximum


def increase_command(quota_code: str, desired: int, region: str) -> str:
    """The AWS CLI command that asks for `quota_code` to be raised to `desired` in `region`."""
    return (
        f"aws service-quotas request-service-quota-increase --service-code {SERVICE_CODE} "
        f"--quota-code {quota_code} --desired-value {desired} --region {region}"
    )


def find_quota(client: Any, operation: str, name: str) -> dict[str, Any] | None:
    """The quota named `name` (case-insensitively) from a paginated Service Quotas listing, or None.

    Stops paging at the match. `NoSuchResourceException` from `list_service_quotas` means nothing is
    applied, so it is None too.
    """
    wanted = name.lower()
    try:
        pages = client.get_paginator(operation).paginate(
            ServiceCode=SERVICE_CODE, PaginationConfig={"PageSize": _PAGE_SIZE}
        )
        for page in pages:
            for quota in page.get("Quotas", []):
                if str(quota.get("QuotaName", "")).lower() == wanted:
                    return quota
    except ClientError as error:
        if operation == "list_service_quotas" and error_code(error) == "NoSuchResourceException":
            return None
        raise
    return None


def usage(context: Context) -> Counter[tuple[str, bool]]:
    """Instances held by training jobs in progress, by (instance type, spot)."""
    sagemaker = context.client("sagemaker")
    names = [
        summary["TrainingJobName"]
        for page in sagemaker.get_paginator("list_training_jobs").paginate(
            StatusEquals=JobStatus.IN_PROGRESS.value
        )
        for summary in page.get("TrainingJobSummaries", [])
        if summary.get("TrainingJobStatus", JobStatus.IN_PROGRESS) == JobStatus.IN_PROGRESS
    ]
    jobs = context.parallel.all(
        [partial(sagemaker.describe_training_job, TrainingJobName=name) for name in names]
    )
    used: Counter[tuple[str, bool]] = Counter()
    for job in jobs:
        spot = bool(job.get("EnableManagedSpotTraining", False))
        resources = job.get("ResourceConfig", {})
        # Heterogeneous clusters list instance groups instead of one type and count.
        for group in resources.get("InstanceGroups") or [resources]:
            used[(str(group.get("InstanceType", "")), spot)] += int(group.get("InstanceCount", 0))
    return used


def instances_in_use(context: Context, instance_type: str, spot: bool) -> int:
    """Instances of `instance_type` held by training jobs in progress on the same (spot/on-demand) quota."""
    return usage(context)[(instance_type, spot)]


def alternatives(context: Context) -> tuple[Alternative, ...]:
    """Other types (or the other market) with room for the run, cheapest first; () when unknown."""
    spec = context.input
    if not spec.run.instance_types:
        return ()
    quotas = context.client("service-quotas")
    values, used = quota_values(quotas), usage(context)  # only on the failing path: no need to overlap
    found = rank(
        spec.instance_type,
        spec.spot,
        spec.instance_count,
        spec.run.instance_types,
        values,
        used,
        spec.run_command,
    )
    return tuple(found)


def check_quota(context: Context) -> CheckResult:
    """Compare the applied (else default) training quota, minus running jobs' use, with the preset's count."""
    spec = context.input
    name = quota_name(spec.instance_type, spec.spot)
    quotas = context.client("service-quotas")
    applied, default, usage = context.parallel.all(
        [
            attempt(lambda: find_quota(quotas, "list_service_quotas", name)),
            attempt(lambda: find_quota(quotas, "list_aws_default_service_quotas", name)),
            attempt(lambda: instances_in_use(context, spec.instance_type, spec.spot)),
        ]
    )
    for outcome in (applied, default, usage):
        _raise_unless_tolerated(outcome)
    quota = applied.value or default.value
    if quota is None:
        return _without_quota(context, name, applied, default)

    code = str(quota["QuotaCode"])
    value = int(quota.get("Value", 0))
    label = f"{name!r} ({code})"
    need = spec.instance_count
    in_use = usage.value or 0
    available = value - in_use
    if available < need and isinstance(applied.error, ClientError):
        # Only the default is known; an applied value (often higher) may exist but could not be read.
        return _denied_with(
            applied.error, f"the default of {label} is {value} in {spec.run.region}, need {need}"
        )
    if available >= need:
        if isinstance(usage.error, ClientError):
            return _denied_with(usage.error, f"{label} is {value} in {spec.run.region}, need {need}")
        return CheckResult(
            NAME,
            "pass",
            f"{label} is {value} in {spec.run.region}: {in_use} in use by running jobs, {need} needed",
        )

    desired = in_use + need
    command = increase_command(code, desired, spec.run.region)
    others = attempt(lambda: alternatives(context))()
    ranked = others.value or ()
    if value == 0:
        detail = f"{label} is 0 in {spec.run.region}; the preset needs {need}"
    else:
        detail = (
            f"{label} is {value} in {spec.run.region}, running jobs use {in_use}; the preset needs {need}"
        )
    if quota.get("Adjustable") is False:
        fix = f"quota {code} cannot be raised: choose another instance type or region"
    elif in_use:
        fix = f"wait for running jobs to finish, or raise quota {code} to {desired}: {command}"
    else:
        fix = f"raise quota {code} to {desired}: {command}"
    if ranked:
        fix = f"run on {ranked[0].line()} (alternatives below); or {fix}"
    return CheckResult(NAME, "fail", detail, fix, alternatives=ranked)


def _raise_unless_tolerated(outcome: Outcome) -> None:
    # AccessDenied degrades the verdict to a warn; "no such resource" means no quota there. Anything
    # else fails the check with its message.
    error = outcome.error
    if error is None or is_access_denied(error):
        return
    if isinstance(error, ClientError) and error_code(error) == "NoSuchResourceException":
        return
    raise error


def _denied_with(error: ClientError, known: str) -> CheckResult:
    permission = permission_of(error)
    return CheckResult(
        NAME,
        "warn",
        f"{known}; could not tell more: {permission} was denied",
        f"allow {permission} to the identity running preflight so it can check the quota fully",
    )


def _without_quota(context: Context, name: str, applied: Outcome, default: Outcome) -> CheckResult:
    spec = context.input
    for outcome in (default, applied):
        if isinstance(outcome.error, ClientError) and is_access_denied(outcome.error):
            return denied_result(NAME, outcome.error, f"the {name!r} quota")
    kind = "spot training" if spec.spot else "training"
    return CheckResult(
        NAME,
        "fail",
        f"{spec.instance_type} is not offered for SageMaker {kind} in {spec.run.region} "
        f"(Service Quotas has no {name!r} quota there)",
        f"choose an instance type offered in {spec.run.region}, or a region that offers {spec.instance_type} "
        "(--region)",
    )
