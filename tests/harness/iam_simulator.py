"""IAM's policy simulator (SimulatePrincipalPolicy) for the in-process moto server, which lacks it.

Evaluates the principal's inline and attached policies (AWS managed ones included; for users, their
groups' too) with `iam_policy.decide`, which follows IAM's documented evaluation: Resource/NotResource,
Action/NotAction, an explicit Deny over any Allow, conditions against the request's ContextEntries (a key
missing from the context fails its test unless the operator ends in IfExists or is negated; a policy
variable never matches a literal). One result per action and resource, with the fields AWS documents, paged as IAM pages them
(MaxItems, 100 by default; Marker).
The principal must be named by its exact ARN, path included, as IAM requires. Permission boundaries and
SCPs are not simulated.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.iam.exceptions import NoSuchEntity
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

from tests.harness.iam_policy import ALLOWED, Context, decide


def _documents(backend: IAMBackend, arn: str) -> list[Any]:
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
    if principal.arn != arn:  # a role's ARN carries its path; IAM knows no other
        raise NoSuchEntity(f"The principal {arn} does not exist.")
    documents: list[Any] = []
    for owner in owners:
        documents += list(owner.policies.values())
        documents += [
            next(version.document for version in policy.versions if version.is_default)
            for policy in owner.managed_policies.values()
        ]
    return documents


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    context: Context = {
        entry["ContextKeyName"]: list(entry["ContextKeyValues"])
        for entry in self._get_param("ContextEntries") or []
    }
    documents = _documents(self.backend, self._get_param("PolicySourceArn"))
    results: list[dict[str, Any]] = []
    for resource in self._get_param("ResourceArns") or ["*"]:
        for action in self._get_param("ActionNames") or []:
            decision = decide(documents, action, resource, context)
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


def role_documents(principal_arn: str) -> list[Any]:
    """The policy documents IAM evaluates for `principal_arn` (inline, attached, AWS managed)."""
    from moto.iam.models import iam_backends

    from tests.harness.moto_server import ACCOUNT

    return _documents(iam_backends[ACCOUNT]["global"], principal_arn)


def role_allows(
    principal_arn: str, action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether IAM (as simulated here) lets `principal_arn` do `action` on `resource`."""
    values = {key: [value] for key, value in (context or {}).items()}
    return decide(role_documents(principal_arn), action, resource, values) == ALLOWED
