"""IAM's policy simulator (SimulatePrincipalPolicy) for the in-process moto server, which lacks it.

Evaluates the principal's inline and attached policies (and, for users, their groups') with moto's own
policy matcher: an explicit Deny wins, else any Allow, else an implicit deny. One result per action and
resource, with the fields AWS documents. Conditions, permission boundaries and SCPs are not simulated.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse


def _policies(backend: IAMBackend, arn: str) -> list[IAMPolicy]:
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
        policies += [IAMPolicy(document) for document in owner.policies.values()]
        policies += [IAMPolicy(policy) for policy in owner.managed_policies.values()]
    return policies


def evaluate(policies: list[IAMPolicy], action: str, resource: str) -> str:
    """`allowed`, `explicitDeny` or `implicitDeny` for `action` on `resource` under `policies`."""
    decisions = [policy.is_action_permitted(action, resource) for policy in policies]
    if PermissionResult.DENIED in decisions:
        return "explicitDeny"
    return "allowed" if PermissionResult.PERMITTED in decisions else "implicitDeny"


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    policies = _policies(self.backend, self._get_param("PolicySourceArn"))
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
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def install() -> None:
    """Add SimulatePrincipalPolicy to the in-process moto IAM (idempotent)."""
    IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]
