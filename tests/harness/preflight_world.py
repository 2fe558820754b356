"""A moto account where preflight passes: bucket, execution role, and a caller allowed to build.

Tests then break one thing each. Everything is created over HTTP, as a user would with the AWS CLI.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.harness import iam_simulator, quotas

TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
CALLER_NAME = "moto"  # the IAM user moto reports for any test credentials


def role_policy(bucket: str, *, logs: bool = True, build: bool = True) -> dict[str, Any]:
    """The execution role's policy: S3 on `bucket`, ECR pull, and (unless turned off) logs and builds."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        },
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
    ]
    if logs:
        statements.append(
            {"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/*"}
        )
    if build:
        statements.append({"Effect": "Allow", "Action": "codebuild:*", "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


BUILDER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["ecr:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], "Resource": "*"},
    ],
}


def install() -> None:
    """Teach the in-process moto server what preflight asks that moto lacks."""
    quotas.install()
    iam_simulator.install()


def ready_account(role_arn: str, bucket: str, region: str = "us-east-1") -> None:
    """Create the bucket in `region`, the execution role trusting SageMaker, and a caller allowed to build."""
    install()
    # boto3's default session keeps the parsed service models: a fresh session re-reads them (~0.5 s).
    s3 = boto3.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    iam = boto3.client("iam", region_name=region)
    name = role_arn.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    iam.put_role_policy(RoleName=name, PolicyName="cvl-run", PolicyDocument=json.dumps(role_policy(bucket)))
    iam.create_user(UserName=CALLER_NAME)
    iam.put_user_policy(
        UserName=CALLER_NAME, PolicyName="cvl-build", PolicyDocument=json.dumps(BUILDER_POLICY)
    )
