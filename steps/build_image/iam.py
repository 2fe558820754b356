"""The CodeBuild project's service role, scoped to the `cvl-*` repositories, the contexts and its logs.

Only the user's machine runs this (with the user's credentials); the pipeline's roles need no IAM rights.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from steps.build_image.facts import CONTEXT_PREFIX, BuildFacts
from steps.common.tags import ensure_role_tags, resource_tags, tag_list

ROLE_NAME = "cvl-pipelines-codebuild"
_ECR_PUSH_PULL = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def trust_policy() -> dict[str, Any]:
    """Who may assume the role: CodeBuild only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def base_policy(facts: BuildFacts) -> dict[str, Any]:
    """ECR login (account-wide by AWS design), push/pull on `cvl-*` repositories, the project's log group."""
    arn = f"arn:{facts.partition}"
    group = f"{arn}:logs:{facts.region}:{facts.account}:log-group:/aws/codebuild/{facts.project}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "EcrPushPull",
                "Effect": "Allow",
                "Action": _ECR_PUSH_PULL,
                "Resource": f"{arn}:ecr:{facts.region}:{facts.account}:repository/cvl-*",
            },
            {
                "Sid": "BuildLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [group, f"{group}:*"],
            },
        ],
    }


def base_policy_name(region: str) -> str:
    """The inline policy for one region's repositories and log group (the role is global, IAM is)."""
    return f"cvl-pipelines-build-{region}"


def context_policy_name(bucket: str) -> str:
    """The inline policy that lets the role read one bucket's build contexts (one per bucket)."""
    return f"cvl-pipelines-contexts-{bucket}"


def context_policy(facts: BuildFacts) -> dict[str, Any]:
    """Read access to the build contexts in `facts.bucket`, and to where the bucket is."""
    bucket_arn = f"arn:{facts.partition}:s3:::{facts.bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadContexts",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{bucket_arn}/{CONTEXT_PREFIX}/*",
            },
            # CodeBuild checks the source bucket's region and ACL before it downloads.
            {
                "Sid": "SourceBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:GetBucketAcl"],
                "Resource": bucket_arn,
            },
        ],
    }


def _current_policy(iam: Any, policy_name: str) -> dict[str, Any] | None:
    try:
        document = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=policy_name)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None
    # boto3 decodes the URL-encoded JSON into a dict; some emulators hand back the string.
    return json.loads(unquote(document)) if isinstance(document, str) else document


def ensure_role(iam: Any, facts: BuildFacts) -> tuple[list[str], str]:
    """Create the role and put its inline policies when missing or different; return (changes, role ARN).

    Policies are per region and per bucket, and additive, so users of one account with different
    regions or buckets share the role without taking each other's access away (a role holds up to
    10,240 characters of inline policy: about ten region/bucket pairs).
    """
    changed: list[str] = []
    try:
        role_arn = iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        try:
            role_arn = iam.create_role(
                RoleName=ROLE_NAME,
                AssumeRolePolicyDocument=json.dumps(trust_policy()),
                Description="Service role of the cvl-pipelines image build (CodeBuild)",
                Tags=tag_list(resource_tags()),
            )["Role"]["Arn"]
            changed.append(f"IAM role {ROLE_NAME}")
        except iam.exceptions.EntityAlreadyExistsException:
            role_arn = iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    if ensure_role_tags(iam, ROLE_NAME):
        changed.append(f"tags on {ROLE_NAME}")
    for name, document in (
        (base_policy_name(facts.region), base_policy(facts)),
        (context_policy_name(facts.bucket), context_policy(facts)),
    ):
        if _current_policy(iam, name) != document:
            iam.put_role_policy(RoleName=ROLE_NAME, PolicyName=name, PolicyDocument=json.dumps(document))
            changed.append(f"IAM policy {name} on {ROLE_NAME}")
    return changed, role_arn
