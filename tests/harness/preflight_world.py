"""A moto account where preflight passes: made by the real `bootstrap`, and a caller with the user's grants.

The execution and CodeBuild roles get exactly what `pipelines.bootstrap` grants (its own code runs), and
the caller (moto's `user/moto`) exactly the user's grants in `steps.common.permissions`: never `*`.
Tests then break one thing each. Everything is created over HTTP, as a user would.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from pipelines.deploy.account import bootstrap
from pipelines.deploy.policies import EXECUTION_POLICY_NAME, execution_policy
from steps.common import permissions
from steps.common.aws import aws_session
from tests.harness import iam_simulator, quotas
from tests.harness.moto_server import ACCOUNT

CALLER_NAME = "moto"  # the IAM user moto reports for any test credentials
CALLER_POLICY_NAME = "cvl-user"


def role_policy(bucket: str, *, without: tuple[str, ...] = (), region: str = "us-east-1") -> dict[str, Any]:
    """The execution role's policy as bootstrap grants it, minus the statements whose Sid is in `without`."""
    policy = execution_policy("aws", region, ACCOUNT, bucket, permissions.EXECUTION_ROLE_NAME)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] not in without]
    return policy


def user_policy(bucket: str, *, without: tuple[str, ...] = (), region: str = "us-east-1") -> dict[str, Any]:
    """The user's declared grants, rendered for the account (minus the Sids in `without`)."""
    facts = permissions.Facts(partition="aws", region=region, account=ACCOUNT, bucket=bucket)
    grants = tuple(g for g in permissions.USER_GRANTS if g.sid not in without)
    return permissions.policy_document(grants, facts)


def put_role_policy(policy: dict[str, Any]) -> None:
    """Replace the execution role's inline policy (as a user editing it in the console would)."""
    boto3.client("iam").put_role_policy(
        RoleName=permissions.EXECUTION_ROLE_NAME,
        PolicyName=EXECUTION_POLICY_NAME,
        PolicyDocument=json.dumps(policy),
    )


def install() -> None:
    """Teach the in-process moto server what preflight asks that moto lacks."""
    quotas.install()
    iam_simulator.install()


def ready_account(role_arn: str, bucket: str, region: str = "us-east-1") -> None:
    """Bootstrap `bucket` in `region` and the roles with the real bootstrap, and give the caller its grants."""
    install()
    role_name = role_arn.rsplit("/", 1)[-1]
    bootstrap(aws_session(region), region, bucket, role_name)
    iam = boto3.client("iam", region_name=region)
    iam.create_user(UserName=CALLER_NAME)
    iam.put_user_policy(
        UserName=CALLER_NAME,
        PolicyName=CALLER_POLICY_NAME,
        PolicyDocument=json.dumps(user_policy(bucket, region=region)),
    )
