"""The preflight checks, run together: quota, bucket, role, role permissions, secrets, ECR/CodeBuild, preset.

The same code runs from the laptop (`python -m pipelines.preflight`, and before `upsert`/`run` send
anything) and inside the Preflight processing job, so it imports only the stdlib, boto3 and `steps.*`.
No check creates, changes or deletes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from steps.common.aws import Service, client
from steps.common.run_facts import RunFacts
from steps.preflight.job.alternatives import Alternative, same_market
from steps.preflight.job.check_support import CheckResult, Context, Parallel, PreflightInput, Status, guarded
from steps.preflight.job.iam import (
    ECR_CODEBUILD,
    ROLE,
    ROLE_PERMISSIONS,
    check_ecr_codebuild,
    check_role,
    check_role_permissions,
)
from steps.preflight.job.quota import check_quota
from steps.preflight.job.secrets import SECRETS, check_secrets
from steps.preflight.job.storage import BUCKET, PRESET, check_bucket, check_preset

if TYPE_CHECKING:
    from configs import Preset

__all__ = [
    "CHECKS",
    "CheckResult",
    "PreflightInput",
    "exit_code",
    "fall_back",
    "run_checks",
    "run_preflight",
    "worst",
]

# In report order: a FailureReason is cut (FAILURE_REASON_LIMIT), so the costliest surprises come first.
CHECKS: tuple[tuple[str, Callable[[Context], CheckResult], str], ...] = (
    ("quota", check_quota, "the training quota"),
    (BUCKET, check_bucket, "the output bucket"),
    (ROLE, check_role, "the execution role"),
    (ROLE_PERMISSIONS, check_role_permissions, "the role's permissions"),
    (SECRETS, check_secrets, "the preset's secrets"),
    (ECR_CODEBUILD, check_ecr_codebuild, "ECR and CodeBuild permissions"),
    (PRESET, check_preset, "the preset's S3 locations"),
)
SERVICES: tuple[Service, ...] = ("s3", "iam", "sts", "service-quotas", "sagemaker", "secretsmanager")
# Checks of what the caller (not the role) may do: the laptop's only.
CALLER_ONLY = frozenset({ECR_CODEBUILD})
_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}


def run_checks(
    spec: PreflightInput,
    session: Any,
    *,
    in_step: bool = False,
    concurrent: bool = True,
    clients: Mapping[str, Any] | None = None,
) -> list[CheckResult]:
    """Run every check against `session` (a boto3 Session) and return their results in report order.

    `in_step` says the principal is the execution role (inside the Preflight job) rather than the caller.
    With `concurrent` the checks, and the independent calls within each, run on threads. `clients`
    (one per service in SERVICES) replaces the session's: `upsert --all` shares answering ones.
    """
    clients = clients or {service: client(session, service) for service in SERVICES}
    context = Context(input=spec, clients=clients, parallel=Parallel(concurrent), in_step=in_step)
    checks = [
        guarded(name, check, what) for name, check, what in CHECKS if not (in_step and name in CALLER_ONLY)
    ]
    return context.parallel.all([partial(check, context) for check in checks])


def run_preflight(
    preset: Preset | Mapping[str, Any],
    facts: RunFacts,
    session: Any,
    *,
    in_step: bool = False,
    concurrent: bool = True,
    clients: Mapping[str, Any] | None = None,
) -> list[CheckResult]:
    """Run the checks for a preset (a `Preset` or its `model_dump()`) and the run facts.

    This is what `upsert` and `run` call before sending anything. Raises ValueError when the preset
    has no instance type.
    """
    data = preset if isinstance(preset, Mapping) else preset.model_dump(mode="json")
    spec = PreflightInput.from_run(data, facts)
    return run_checks(spec, session, in_step=in_step, concurrent=concurrent, clients=clients)


def worst(results: list[CheckResult]) -> Status:
    """The most severe status among `results` (pass when empty)."""
    return max((r.status for r in results), key=_SEVERITY.__getitem__, default="pass")


def exit_code(results: list[CheckResult]) -> int:
    """1 when any check failed, else 0 (warns do not fail a run)."""
    return 1 if worst(results) == "fail" else 0


def fall_back(results: list[CheckResult], spot: bool) -> tuple[list[CheckResult], Alternative | None]:
    """With the fallback on: a failed quota check that has a same-market alternative becomes a warn
    naming the type the run takes instead; returns the results and that alternative (None: no change)."""
    quota = next((result for result in results if result.name == "quota"), None)
    if quota is None or quota.status != "fail":
        return results, None
    chosen = same_market(quota.alternatives, spot)
    if chosen is None:
        return results, None
    detail = (
        f"{quota.detail}; falling back to {chosen.instance_type} (room for {chosen.headroom}, "
        f"${chosen.usd_per_hour:.2f}/h, the cheapest that fits)"
    )
    warned = replace(
        quota, status="warn", detail=detail, fix=f"raise the quota to keep the chosen type: {quota.fix}"
    )
    return [warned if result is quota else result for result in results], chosen
