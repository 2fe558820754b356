"""Roles: a role given any way resolved to its real ARN; a role we own created or put right.

`real_role_arn` runs wherever a role is named (laptop and Preflight job). `ensure_role` runs only with the
user's credentials (bootstrap): the pipeline's roles have no IAM rights; a create whose answer was lost heals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

from botocore.exceptions import ClientError

from steps.common.errors import error_code, is_access_denied
from steps.common.tags import ensure_role_tags, resource_tags, tag_list

_NOT_FOUND = frozenset({"NoSuchEntity", "NoSuchEntityException"})


class RoleNotFound(LookupError):
    """IAM has no role of that name in the account."""


def role_path_and_name(role_arn: str) -> tuple[str, str]:
    """The path (`/`, `/service-role/`) and name of an IAM role ARN: `arn:aws:iam::1:role/a/b/N` -> (`/a/b/`, `N`)."""
    resource = role_arn.split(":", 5)[-1]
    inside = resource[len("role/") :] if resource.startswith("role/") else resource
    path, _, name = inside.rpartition("/")
    return ("/" + path + "/" if path else "/"), name


def role_name_of(given: str) -> str:
    """The role name in a role name, an IAM role ARN (any path) or an STS assumed-role ARN."""
    resource = given.split(":", 5)[-1]
    if resource.startswith("assumed-role/"):
        return resource.split("/")[1]
    return resource.rsplit("/", 1)[-1]


def describe_role(iam: Any, given: str) -> dict[str, Any] | None:
    """IAM's record of the role (`Arn` with its path, `AssumeRolePolicyDocument`, ...), found by GetRole, or
    by ListRoles where GetRole is denied (AmazonSageMakerFullAccess may list roles, not get them).

    RoleNotFound when IAM has no such role; None when neither call is allowed.
    """
    name = role_name_of(given)
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except ClientError as error:
        if error_code(error) in _NOT_FOUND:
            raise RoleNotFound(name) from None
        if not is_access_denied(error):
            raise
    try:
        for page in iam.get_paginator("list_roles").paginate():
            for role in page.get("Roles", []):
                if role.get("RoleName") == name:
                    return dict(role)
    except ClientError as error:
        if not is_access_denied(error):
            raise
        return None
    raise RoleNotFound(name)


def real_role_arn(iam: Any, given: str) -> str:
    """The role's ARN as IAM knows it (with its path), for a name, an IAM role ARN or an assumed-role ARN.

    Where IAM cannot be asked (denied) or has no such role, the ARN as given (an assumed-role ARN made an
    IAM role ARN without a path): the preflight role check then says what is wrong.
    """
    try:
        role = describe_role(iam, given)
    except RoleNotFound:
        role = None
    if role is not None:
        return str(role["Arn"])
    partition, account = given.split(":")[1], given.split(":")[4]
    if given.split(":")[2] == "sts":
        return f"arn:{partition}:iam::{account}:role/{role_name_of(given)}"
    return given


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
