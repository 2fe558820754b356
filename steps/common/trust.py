"""Trust policies: the ones we write for our roles, and reading whether a role's trust lets SageMaker in.

Stdlib only and Python 3.9: the Preflight job reads trust policies too.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from steps.common.permissions import CODEBUILD, EXECUTION, PROJECT_NAME, SCHEDULE_GROUP

CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn")
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
CODEBUILD_SERVICE = "codebuild.amazonaws.com"


def _trust(service: str, account: str, source_arn: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def trust_policy(principal: str, partition: str, account: str) -> dict[str, Any]:
    """Who may assume a role we create, limited to this account (confused-deputy protection).

    aws:SourceAccount on every statement. aws:SourceArn where the service sends it: Scheduler names
    the schedule group, CodeBuild the project (any region: the role is global, a project is regional).
    SageMaker assumes the role for pipelines, processing and training jobs alike, under differing
    source ARNs, so only the account is pinned there.
    """
    arn = f"arn:{partition}"
    if principal == EXECUTION:
        statements = [
            _trust(SAGEMAKER_SERVICE, account),
            _trust(
                SCHEDULER_SERVICE, account, f"{arn}:scheduler:*:{account}:schedule-group/{SCHEDULE_GROUP}"
            ),
        ]
    elif principal == CODEBUILD:
        statements = [
            _trust(CODEBUILD_SERVICE, account, f"{arn}:codebuild:*:{account}:project/{PROJECT_NAME}")
        ]
    else:
        raise ValueError(f"no trust policy for {principal}")
    return {"Version": "2012-10-17", "Statement": statements}


def _sagemaker_statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, str):
        policy = json.loads(unquote(policy))
    statements = policy.get("Statement", [])
    found = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        services = _as_list((statement.get("Principal") or {}).get("Service"))
        if any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions) and SAGEMAKER_SERVICE in services:
            found.append(statement)
    return found


def trusts_sagemaker(policy: Any) -> bool:
    """Whether a trust policy (a dict, or IAM's URL-encoded JSON) lets SageMaker assume the role."""
    return bool(_sagemaker_statements(policy))


def pins_source(policy: Any) -> bool:
    """Whether every statement trusting SageMaker names aws:SourceAccount or aws:SourceArn in a condition."""
    return all(
        any(key in CONFUSED_DEPUTY_KEYS for tests in (s.get("Condition") or {}).values() for key in tests)
        for s in _sagemaker_statements(policy)
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
