"""IAM's policy simulator (SimulatePrincipalPolicy) for the in-process moto server, which lacks it.

Evaluates the principal's inline and attached policies (and, for users, their groups') with moto's own
policy matcher: an explicit Deny wins, else any Allow, else an implicit deny. One result per action and
resource, with the fields AWS documents, paged as IAM pages them (MaxItems, 100 by default; Marker).
Conditions are evaluated against the request's ContextEntries as IAM does for StringEquals, StringLike,
ArnEquals and ArnLike (a key missing from the context fails its condition); permission boundaries and SCPs
are not simulated.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

_OPERATORS = {
    "StringEquals": lambda expected, actual: actual == expected,
    "ArnEquals": lambda expected, actual: actual == expected,
    "StringLike": lambda expected, actual: fnmatch.fnmatchcase(actual, expected),
    "ArnLike": lambda expected, actual: fnmatch.fnmatchcase(actual, expected),
}


def _holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return False  # an operator this simulator does not know never grants
        for key, expected in tests.items():
            values = [expected] if isinstance(expected, str) else expected
            if key not in context or not any(compare(value, context[key]) for value in values):
                return False
    return True


def _applicable(document: Any, context: dict[str, str]) -> dict[str, Any]:
    """The policy with the statements whose conditions do not hold in `context` left out."""
    policy = json.loads(document) if isinstance(document, str) else dict(document)
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = []
    for statement in statements:
        condition = statement.get("Condition")
        if condition is None:
            kept.append(statement)
        elif _holds(condition, context):
            kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return {**policy, "Statement": kept}


def _policies(backend: IAMBackend, arn: str, context: dict[str, str] | None = None) -> list[IAMPolicy]:
    kind, _, name = arn.split(":", 5)[5].partition("/")
    name = name.rsplit("/", 1)[-1]
    if kind == "role":
        principal = backend.get_role(name)  # NoSuchEntity when absent, as AWS answers
        owners = [principal]
    elif kind == "user":
        principal = backend.get_user(name)
        owners = [principal, *backend.get_groups_for_user(name)]
    else:
        raise ValueError(f"cannot simulate {arn}")
    policies = []
    for owner in owners:
        documents = list(owner.policies.values())
        documents += [
            next(version.document for version in policy.versions if version.is_default)
            for policy in owner.managed_policies.values()
        ]
        policies += [IAMPolicy(json.dumps(_applicable(document, context or {}))) for document in documents]
    return policies


def evaluate(policies: list[IAMPolicy], action: str, resource: str) -> str:
    """`allowed`, `explicitDeny` or `implicitDeny` for `action` on `resource` under `policies`."""
    decisions = [policy.is_action_permitted(action, resource) for policy in policies]
    if PermissionResult.DENIED in decisions:
        return "explicitDeny"
    return "allowed" if PermissionResult.PERMITTED in decisions else "implicitDeny"


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    context = {
        entry["ContextKeyName"]: entry["ContextKeyValues"][0]
        for entry in self._get_param("ContextEntries") or []
    }
    policies = _policies(self.backend, self._get_param("PolicySourceArn"), context)
    results: list[dict[str, Any]] = []
    for resource in self._get_param("ResourceArns") or ["*"]:
        for action in self._get_param("ActionNames") or []:
            decision = evaluate(policies, action, resource)
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": decision,
                    "MatchedStatements": [],
                    "MissingContextValues": [],
                    "EvalDecisionDetails": {"IAM Policy": decision},
                }
            )
    # Paged as IAM documents: MaxItems results a page (100 when not given), Marker for the next one.
    start = int(self._get_param("Marker") or 0)
    size = int(self._get_param("MaxItems") or 100)
    page: dict[str, Any] = {"EvaluationResults": results[start : start + size], "IsTruncated": False}
    if start + size < len(results):
        page |= {"IsTruncated": True, "Marker": str(start + size)}
    return ActionResult(page)


def install() -> None:
    """Add SimulatePrincipalPolicy to the in-process moto IAM (idempotent)."""
    IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]


def role_allows(
    principal_arn: str, action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether IAM (as simulated here) lets `principal_arn` do `action` on `resource`."""
    from moto.iam.models import iam_backends

    from tests.harness.moto_server import ACCOUNT

    backend = iam_backends[ACCOUNT]["global"]
    return evaluate(_policies(backend, principal_arn, context), action, resource) == "allowed"
