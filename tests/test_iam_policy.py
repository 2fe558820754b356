"""The harness's IAM evaluation (tests/harness/iam_policy.py) decides as IAM documents it."""

from __future__ import annotations

import json

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from tests.harness.iam_policy import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, decide

SAGEMAKER_FULL_ACCESS = json.loads(aws_managed_policies_data)["AmazonSageMakerFullAccess"]["Document"]
ACCOUNT = "123456789012"


def one(statement: dict) -> list[dict]:
    return [{"Version": "2012-10-17", "Statement": [statement]}]


def test_not_resource_allows_everything_but_what_it_names() -> None:
    policy = one(
        {"Effect": "Allow", "Action": "sagemaker:*", "NotResource": "arn:aws:sagemaker:*:*:domain/*"}
    )
    assert (
        decide(policy, "sagemaker:CreatePipeline", "arn:aws:sagemaker:us-east-1:1:pipeline/p", {}) == ALLOWED
    )
    assert (
        decide(policy, "sagemaker:DeleteDomain", "arn:aws:sagemaker:us-east-1:1:domain/d", {})
        == IMPLICIT_DENY
    )


def test_not_action_and_case_insensitive_actions() -> None:
    policy = one({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(policy, "S3:GetObject", "arn:aws:s3:::b/k", {}) == ALLOWED
    assert decide(policy, "iam:PassRole", "arn:aws:iam::1:role/r", {}) == IMPLICIT_DENY


def test_deny_wins_over_allow_and_a_failed_condition_on_an_allow_is_no_deny() -> None:
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    conditional = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/x": "y"}},
    }
    assert decide(one(allow) + one(deny), "s3:DeleteObject", "arn:aws:s3:::b/k", {}) == EXPLICIT_DENY
    assert decide(one(conditional) + one(allow), "s3:GetObject", "arn:aws:s3:::b/k", {}) == ALLOWED
    assert decide(one(conditional), "s3:GetObject", "arn:aws:s3:::b/k", {}) == IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "context", "decision"),
    [
        ("StringEquals", {}, IMPLICIT_DENY),  # a missing key fails the test
        ("StringEqualsIfExists", {}, ALLOWED),  # ... unless the operator ends in IfExists
        ("StringNotEquals", {}, ALLOWED),  # a negated operator holds for a missing key
        ("StringEquals", {"k": ["v"]}, ALLOWED),
        ("StringNotEquals", {"k": ["v"]}, IMPLICIT_DENY),
        ("StringEqualsIgnoreCase", {"k": ["V"]}, ALLOWED),
    ],
)
def test_condition_keys_missing_from_the_context(operator: str, context: dict, decision: str) -> None:
    policy = one(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {operator: {"k": "v"}}}
    )
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::b/k", context) == decision


def test_null_tests_presence_and_policy_variables_never_match_a_literal() -> None:
    null = one({"Effect": "Allow", "Action": "a:B", "Resource": "*", "Condition": {"Null": {"k": "true"}}})
    assert decide(null, "a:B", "x", {}) == ALLOWED and decide(null, "a:B", "x", {"k": ["1"]}) == IMPLICIT_DENY
    variable = one({"Effect": "Allow", "Action": "a:B", "Resource": "arn:aws:s3:::${aws:username}/*"})
    assert decide(variable, "a:B", "arn:aws:s3:::${aws:username}/k", {}) == IMPLICIT_DENY


def test_amazon_sagemaker_full_access_as_moto_ships_it() -> None:
    policy = [SAGEMAKER_FULL_ACCESS]
    here = f"us-east-1:{ACCOUNT}"
    bucket = f"sagemaker-us-east-1-{ACCOUNT}"
    allowed = [
        ("codebuild:StartBuild", f"arn:aws:codebuild:{here}:project/sagemaker-cvl-pipelines-image-build", {}),
        ("s3:PutObject", f"arn:aws:s3:::{bucket}/cvl-pipelines/bundles/x", {}),
        ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:{here}:training-job/pipelines-x", {}),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/service-role/R",
            {"iam:PassedToService": ["sagemaker.amazonaws.com"]},
        ),
        (
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{here}:secret:cvl/T",
            {"secretsmanager:ResourceTag/SageMaker": ["true"]},
        ),
    ]
    denied = [
        ("codebuild:StartBuild", f"arn:aws:codebuild:{here}:project/cvl-pipelines-image-build", {}),
        ("codebuild:BatchGetProjects", f"arn:aws:codebuild:{here}:project/sagemaker-x", {}),
        ("s3:PutObject", "arn:aws:s3:::cvl-pipelines-bucket/x", {}),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/R",
            {"iam:PassedToService": ["codebuild.amazonaws.com"]},
        ),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{here}:secret:cvl/T", {}),
        ("servicequotas:ListServiceQuotas", "*", {}),
        ("iam:SimulatePrincipalPolicy", f"arn:aws:iam::{ACCOUNT}:role/service-role/R", {}),
        ("sagemaker:CreateDomain", f"arn:aws:sagemaker:{here}:domain/d", {}),
    ]
    assert [a for a, r, c in allowed if decide(policy, a, r, c) != ALLOWED] == []
    assert [a for a, r, c in denied if decide(policy, a, r, c) == ALLOWED] == []
