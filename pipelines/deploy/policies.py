"""The SageMaker execution role's trust and inline policy, generated from `steps.common.permissions`.

The role serves SageMaker Pipelines (starts the jobs), the jobs themselves (Preflight, BuildImage, Train)
and EventBridge Scheduler (starts scheduled executions). No `*FullAccess`.
"""

from __future__ import annotations

from typing import Any

from steps.common import permissions, trust

EXECUTION_ROLE_NAME = permissions.EXECUTION_ROLE_NAME
EXECUTION_POLICY_NAME = "cvl-pipelines-execution"


def execution_trust_policy(partition: str, account: str) -> dict[str, Any]:
    """SageMaker and EventBridge Scheduler of this account (and only this account) may assume the role."""
    return trust.trust_policy(permissions.EXECUTION, partition, account)


def execution_policy(
    partition: str, region: str, account: str, bucket: str, role_name: str, role_path: str = "/"
) -> dict[str, Any]:
    """The role's inline policy: exactly the execution role's grants in `steps.common.permissions`."""
    facts = permissions.Facts(
        partition=partition,
        region=region,
        account=account,
        bucket=bucket,
        role=role_name,
        role_path=role_path,
    )
    return permissions.policy_document(permissions.EXECUTION_GRANTS, facts)
