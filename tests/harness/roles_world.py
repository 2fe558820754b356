"""The roles people have, made in the moto account as AWS and Studio make them, and used as a terminal would.

- Studio's: `AmazonSageMaker-ExecutionRole-<date>` under `/service-role/`, trusting SageMaker, with the AWS
  managed policy `AmazonSageMakerFullAccess` attached (the text moto ships, loaded with
  MOTO_IAM_LOAD_MANAGED_POLICIES=true), and the SDK's default bucket `sagemaker-<region>-<account>`.
- a hand-made minimal role under a path, written the way a team writes one by reading the README: service by
  service, with wildcards, and nothing for Secrets Manager, Service Quotas or IAM simulation.

`as_role(arn)` runs the commands with that role's credentials (moto STS AssumeRole), as in a Studio
terminal; with `call_log.enforced(arn)` the role's policies decide every call, as IAM would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from tests.harness.moto_server import ACCOUNT

STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-20260101T000000"
STUDIO_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/{STUDIO_ROLE_NAME}"
SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
MINIMAL_ROLE_NAME = "ml-training"
MINIMAL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/teams/ml/{MINIMAL_ROLE_NAME}"
LOAD_MANAGED_POLICIES = "MOTO_IAM_LOAD_MANAGED_POLICIES"


def sdk_default_bucket(region: str) -> str:
    """The bucket the SageMaker SDK makes and uses by default: `sagemaker-<region>-<account>`."""
    return f"sagemaker-{region}-{ACCOUNT}"


def _trust(conditions: bool) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def studio_role(region: str) -> str:
    """Studio's execution role and the SDK default bucket (moto must have been reset with managed policies)."""
    iam = boto3.client("iam")
    iam.create_role(
        RoleName=STUDIO_ROLE_NAME, Path="/service-role/", AssumeRolePolicyDocument=_trust(conditions=False)
    )
    iam.attach_role_policy(RoleName=STUDIO_ROLE_NAME, PolicyArn=SAGEMAKER_FULL_ACCESS)
    s3 = boto3.client("s3", region_name=region)
    request: dict[str, Any] = {"Bucket": sdk_default_bucket(region)}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**request)
    return STUDIO_ROLE_ARN


def minimal_policy(bucket: str) -> dict[str, Any]:
    """What a team writes for a training role from the README, by service, no Secrets Manager, no checks."""
    here = f"*:{ACCOUNT}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
             "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"],
             "Resource": f"arn:aws:ecr:{here}:repository/cvl-*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": f"arn:aws:logs:{here}:log-group:/aws/sagemaker/*"},
            {"Effect": "Allow", "Action": "codebuild:*", "Resource": f"arn:aws:codebuild:{here}:project/*"},
            {"Effect": "Allow", "Action": "sagemaker:*", "Resource": [
                f"arn:aws:sagemaker:{here}:processing-job/*", f"arn:aws:sagemaker:{here}:training-job/*",
                f"arn:aws:sagemaker:{here}:pipeline/cvl-*"]},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": MINIMAL_ROLE_ARN,
             "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        ],
    }  # fmt: skip


def minimal_role(bucket: str) -> str:
    """The hand-made role, under the path `/teams/ml/`."""
    iam = boto3.client("iam")
    iam.create_role(
        RoleName=MINIMAL_ROLE_NAME, Path="/teams/ml/", AssumeRolePolicyDocument=_trust(conditions=True)
    )
    iam.put_role_policy(
        RoleName=MINIMAL_ROLE_NAME, PolicyName="training", PolicyDocument=json.dumps(minimal_policy(bucket))
    )
    return MINIMAL_ROLE_ARN


def credentials_of(role_arn: str, session_name: str = "SageMaker") -> dict[str, str]:
    """The role's credentials as environment variables (what SageMaker hands a job or a Studio terminal)."""
    credentials = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)[
        "Credentials"
    ]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@contextmanager
def as_role(role_arn: str) -> Iterator[str]:
    """Run as the role (a Studio terminal's credentials); yields the caller's assumed-role ARN."""
    saved = {
        key: os.environ.get(key)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    os.environ.update(credentials_of(role_arn, "studio-user"))
    try:
        yield str(boto3.Session().client("sts").get_caller_identity()["Arn"])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
