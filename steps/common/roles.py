"""Create a role we own, or put its trust and inline policies right; a create whose answer was lost heals.

Runs only with the user's credentials (bootstrap, upsert, build): the pipeline's roles have no IAM rights.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

from steps.common.tags import ensure_role_tags, resource_tags, tag_list


class RoleOutcome(NamedTuple):
    """The role's ARN, whether this call created it, and what it created or changed."""

    arn: str
    created: bool
    changes: list[str]


def policy_document(value: Any) -> Any:
    """A policy document as a dict: boto3 decodes IAM's URL-encoded JSON, some emulators do not."""
    return json.loads(unquote(value)) if isinstance(value, str) else value


def ensure_role(
    iam: Any, name: str, trust: dict[str, Any], policies: Mapping[str, dict[str, Any]], description: str
) -> RoleOutcome:
    """Make role `name` exist with exactly `trust` and, among its inline policies, exactly `policies`.

    EntityAlreadyExists on create means our own create took effect and its answer was lost (botocore
    retried it), or someone made the role meanwhile: either way the trust and policies are then put right.
    """
    changes: list[str] = []
    created = False
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        try:
            role = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=description,
                Tags=tag_list(resource_tags()),
            )["Role"]
            created = True
            changes.append(f"IAM role {name}")
        except iam.exceptions.EntityAlreadyExistsException:
            role = iam.get_role(RoleName=name)["Role"]
    if not created and ensure_role_tags(iam, name):
        changes.append(f"tags on {name}")
    if not created and policy_document(role.get("AssumeRolePolicyDocument")) != trust:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        changes.append(f"trust policy of {name}")
    for policy_name, document in policies.items():
        try:
            current = policy_document(
                iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            )
        except iam.exceptions.NoSuchEntityException:
            current = None
        if current != document:
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
            changes.append(f"IAM policy {policy_name} on {name}")
    return RoleOutcome(str(role["Arn"]), created, changes)
