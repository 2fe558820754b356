"""`bootstrap --grant-to ROLE`: give an existing role exactly what a run needs and it lacks, and say what.

For a role someone else made (Studio's `AmazonSageMaker-ExecutionRole-*`, a team's hand-made role): every
execution-role grant a run uses (`permissions.needed`, secrets and the Preflight step's own checks
included) is asked of IAM's policy simulator for this role; the actions it denies, on the resources the
declaration names, become one inline policy on the role. What the role has already is not repeated.
"""

from __future__ import annotations

import json
from typing import Any

from steps.common import permissions
from steps.common.aws import client
from steps.common.roles import describe_role, policy_document, role_path_and_name
from steps.preflight.job.iam import PROBE

GRANTS_POLICY_NAME = "cvl-pipelines-grants"


def _denied(iam: Any, role_arn: str, actions: tuple[str, ...], resource: str, condition: Any) -> list[str]:
    request: dict[str, Any] = {
        "PolicySourceArn": role_arn,
        "ActionNames": list(actions),
        # A concrete resource inside a wildcard: what a run touches.
        "ResourceArns": [resource if resource == "*" else resource.replace("*", PROBE)],
    }
    entries = [
        {"ContextKeyName": key, "ContextKeyValues": [value if isinstance(value, str) else value[0]],
         "ContextKeyType": "string"}
        for tests in (condition or {}).values()
        for key, value in tests.items()
    ]  # fmt: skip
    if entries:
        request["ContextEntries"] = entries
    results = iam.simulate_principal_policy(**request)["EvaluationResults"]
    return [r["EvalActionName"] for r in results if r["EvalDecision"] != "allowed"]


def missing_policy(iam: Any, role_arn: str, facts: permissions.Facts) -> dict[str, Any] | None:
    """The policy of what `role_arn` lacks for a run (None: nothing), its resources rendered with `facts`."""
    statements = []
    for grant in permissions.needed(
        permissions.EXECUTION, permissions.RUN_PARTS, secrets=True, register=True
    ):
        condition = facts.render_condition(grant.condition)
        resources = [facts.render(r) for r in grant.resources]
        denied = sorted({a for r in resources for a in _denied(iam, role_arn, grant.actions, r, condition)})
        if not denied:
            continue
        statement: dict[str, Any] = {
            "Sid": grant.sid,
            "Effect": "Allow",
            "Action": denied if len(denied) > 1 else denied[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def grant_to(session: Any, given: str, region: str, bucket: str) -> tuple[str, dict[str, Any] | None]:
    """Attach to the role (name, ARN or assumed-role ARN) what it lacks for runs in `region` with `bucket`;
    return its ARN and the policy attached (None when it lacked nothing). LookupError: no such role."""
    iam = client(session, "iam")
    role = describe_role(iam, given)
    if role is None:
        raise LookupError(
            f"may not read role {given}: allow iam:GetRole to whoever runs bootstrap --grant-to"
        )
    arn = str(role["Arn"])
    path, name = role_path_and_name(arn)
    account = arn.split(":")[4]
    facts = permissions.Facts(
        partition=arn.split(":")[1], region=region, account=account, bucket=bucket, role=name, role_path=path
    )
    policy = missing_policy(iam, arn, facts)
    if policy is None:
        return arn, None
    try:  # an earlier --grant-to's grants stay: add to them
        earlier = policy_document(
            iam.get_role_policy(RoleName=name, PolicyName=GRANTS_POLICY_NAME)["PolicyDocument"]
        )
    except iam.exceptions.NoSuchEntityException:
        earlier = {"Statement": []}
    sids = {s.get("Sid") for s in earlier["Statement"]}
    added = [{**s, "Sid": s["Sid"] + str(len(sids))} if s["Sid"] in sids else s for s in policy["Statement"]]
    merged = {"Version": "2012-10-17", "Statement": [*earlier["Statement"], *added]}
    iam.put_role_policy(RoleName=name, PolicyName=GRANTS_POLICY_NAME, PolicyDocument=json.dumps(merged))
    return arn, {**policy, "Statement": added}
