"""The CodeBuild project's service role: its trust and policies, generated from `steps.common.permissions`.

Only the user's machine runs this (with the user's credentials); the pipeline's roles need no IAM rights.
"""

from __future__ import annotations

from typing import Any

from steps.build_image.job.build_facts import BuildFacts
from steps.common import permissions, trust
from steps.common.roles import ensure_role as ensure_owned_role

ROLE_NAME = permissions.CODEBUILD_ROLE_NAME


def _facts(facts: BuildFacts) -> permissions.Facts:
    return permissions.Facts(
        partition=facts.partition,
        region=facts.region,
        account=facts.account,
        bucket=facts.bucket,
        project=facts.project,
    )


def trust_policy(facts: BuildFacts) -> dict[str, Any]:
    """Who may assume the role: CodeBuild, for this account's image-build project only."""
    return trust.trust_policy(permissions.CODEBUILD, facts.partition, facts.account)


def base_policy(facts: BuildFacts) -> dict[str, Any]:
    """ECR login (account-wide by AWS design), push/pull on `cvl-*` repositories, the project's log group."""
    return permissions.policy_document(permissions.CODEBUILD_REGION_GRANTS, _facts(facts))


def base_policy_name(region: str) -> str:
    """The inline policy for one region's repositories and log group (the role is global, IAM is)."""
    return f"cvl-pipelines-build-{region}"


# Before build contexts could be read from any bucket of the account, one policy per bucket was
# `cvl-pipelines-contexts-<bucket>`; those left on the role grant nothing more than this one.
CONTEXT_POLICY_NAME = "cvl-pipelines-contexts"


def context_policy(facts: BuildFacts) -> dict[str, Any]:
    """Read access to the build contexts in any bucket of the account, and to where the bucket is."""
    return permissions.policy_document(permissions.CODEBUILD_BUCKET_GRANTS, _facts(facts))


def ensure_role(iam: Any, facts: BuildFacts) -> tuple[list[str], str]:
    """Create the role and put its trust and inline policies right; return (changes, role ARN).

    The repository and log policy is per region, and additive, so users of one account in different
    regions share the role without taking each other's access away; build contexts are read from any
    bucket of the account (a Studio user's SDK default bucket needs no change to the role).
    """
    outcome = ensure_owned_role(
        iam,
        ROLE_NAME,
        trust_policy(facts),
        {
            base_policy_name(facts.region): base_policy(facts),
            CONTEXT_POLICY_NAME: context_policy(facts),
        },
        "Service role of the cvl-pipelines image build (CodeBuild)",
    )
    return outcome.changes, outcome.arn
