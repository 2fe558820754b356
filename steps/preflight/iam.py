"""The IAM checks: the role exists and trusts SageMaker, and the role and the caller may do what a run needs.

Permissions are asked of IAM's policy simulator (SimulatePrincipalPolicy): it reads, never changes, and
answers for identity policies and permission boundaries. Where the simulator is not allowed, the
verdict is a warn, since IAM could not tell.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from steps.preflight.base import (
    NOT_FOUND_CODES,
    CheckResult,
    Context,
    PreflightInput,
    denied_result,
    error_code,
    is_access_denied,
)

ROLE = "role"
ROLE_PERMISSIONS = "role-permissions"
ECR_CODEBUILD = "ecr-codebuild"
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
SIMULATE = "iam:SimulatePrincipalPolicy"
TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": SAGEMAKER_PRINCIPAL}, "Action": "sts:AssumeRole"}
        ],
    },
    separators=(",", ":"),
)

LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
# (actions, resource) pairs; one simulation each, so every decision names its resource.
Needs = list[tuple[list[str], str]]


def role_name(role_arn: str) -> str:
    """The role name (last path segment) of a role ARN."""
    return role_arn.rsplit("/", 1)[-1]


def role_needs(spec: PreflightInput) -> Needs:
    """What the execution role does in a run: S3 on the run's buckets, pull its image, write its logs."""
    p, region, account = spec.partition, spec.region, spec.account
    prefix = spec.output_prefix.removeprefix("s3://").split("/", 1)
    probe = f"{prefix[1] if len(prefix) > 1 else ''}cvl-preflight-probe"
    needs: Needs = [
        (["s3:GetObject", "s3:PutObject"], f"arn:{p}:s3:::{spec.bucket}/{probe}"),
        (["s3:ListBucket"], f"arn:{p}:s3:::{spec.bucket}"),
        (
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            f"arn:{p}:ecr:{region}:{account}:repository/{spec.repository}",
        ),
        (["ecr:GetAuthorizationToken"], "*"),
    ]
    for group in ("TrainingJobs", "ProcessingJobs"):
        needs.append(
            (LOG_ACTIONS, f"arn:{p}:logs:{region}:{account}:log-group:/aws/sagemaker/{group}:log-stream:*")
        )
    if spec.output_path:
        out = spec.output_path.removeprefix("s3://").rstrip("/")
        needs.append((["s3:PutObject"], f"arn:{p}:s3:::{out}/cvl-preflight-probe"))
    for uri in sorted(set(spec.channels.values())):
        location = uri.removeprefix("s3://").rstrip("/")
        needs.append((["s3:GetObject"], f"arn:{p}:s3:::{location}/cvl-preflight-probe"))
        needs.append((["s3:ListBucket"], f"arn:{p}:s3:::{location.split('/', 1)[0]}"))
    return needs


def build_needs(spec: PreflightInput) -> Needs:
    """What building the image needs: create/describe the repository and push, start and read builds."""
    p, region, account = spec.partition, spec.region, spec.account
    return [
        (["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DescribeImages",
          "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload", "ecr:PutImage"],
         f"arn:{p}:ecr:{region}:{account}:repository/{spec.repository}"),
        (["ecr:GetAuthorizationToken"], "*"),
        (["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
         f"arn:{p}:codebuild:{region}:{account}:project/{spec.codebuild_project}"),
    ]  # fmt: skip


def trusts_sagemaker(policy: Any) -> bool:
    """Whether a trust policy (a dict, or IAM's URL-encoded JSON) lets SageMaker assume the role."""
    if isinstance(policy, str):
        policy = json.loads(unquote(policy))
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        services = _as_list((statement.get("Principal") or {}).get("Service"))
        if any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions) and SAGEMAKER_PRINCIPAL in services:
            return True
    return False


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def check_role(context: Context) -> CheckResult:
    """The execution role exists under the given ARN and trusts sagemaker.amazonaws.com."""
    spec = context.input
    name = role_name(spec.role_arn)
    try:
        role = context.client("iam").get_role(RoleName=name)["Role"]
    except ClientError as error:
        if error_code(error) not in NOT_FOUND_CODES:
            raise
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not exist in account {spec.account}",
            "create it with python -m pipelines.bootstrap, "
            "or pass --role-arn (SAGEMAKER_ROLE_ARN) of an existing role",
        )
    if role.get("Arn") and role["Arn"] != spec.role_arn:
        return CheckResult(
            ROLE,
            "fail",
            f"role ARN {spec.role_arn} does not match the role named {name}: {role['Arn']}",
            f"pass --role-arn {role['Arn']}",
        )
    if not trusts_sagemaker(role.get("AssumeRolePolicyDocument", {})):
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not trust {SAGEMAKER_PRINCIPAL}, so SageMaker cannot run jobs as it",
            f"add {SAGEMAKER_PRINCIPAL} to its trust policy, e.g. aws iam update-assume-role-policy "
            f"--role-name {name} --policy-document '{TRUST_POLICY}'",
        )
    return CheckResult(ROLE, "pass", f"role {name} exists and trusts {SAGEMAKER_PRINCIPAL}")


def simulate(context: Context, principal: str, needs: Needs) -> Needs:
    """The needs IAM's simulator denies to `principal`, as (denied actions, resource); empty: all allowed."""
    iam = context.client("iam")

    def one(actions: list[str], resource: str) -> tuple[list[str], str]:
        response = iam.simulate_principal_policy(
            PolicySourceArn=principal, ActionNames=actions, ResourceArns=[resource]
        )
        denied = [
            result["EvalActionName"]
            for result in response.get("EvaluationResults", [])
            if result.get("EvalDecision") != "allowed"
        ]
        return denied, resource

    answers = context.parallel.all([lambda a=actions, r=resource: one(a, r) for actions, resource in needs])
    return [(actions, resource) for actions, resource in answers if actions]


def _permission_verdict(
    name: str, who: str, principal: str, needs: Needs, summary: str, context: Context
) -> CheckResult:
    try:
        denied = simulate(context, principal, needs)
    except ClientError as error:
        if is_access_denied(error):
            return denied_result(name, error, f"what {who} may do")
        if error_code(error) in NOT_FOUND_CODES:
            return CheckResult(
                name, "warn", f"{who} {principal} was not found, so its permissions were not checked"
            )
        raise
    if denied:
        listed = "; ".join(f"{', '.join(actions)} on {resource}" for actions, resource in denied)
        return CheckResult(
            name,
            "fail",
            f"{who} {principal} may not {listed}",
            f"attach a policy to {principal} that allows these actions on these resources",
        )
    return CheckResult(name, "pass", f"{who} {principal} may {summary}")


def check_role_permissions(context: Context) -> CheckResult:
    """The role may use the run's S3 locations, pull its ECR image and write CloudWatch logs."""
    spec = context.input
    summary = (
        f"use s3://{spec.bucket} and the preset's S3 locations, pull from ECR repository {spec.repository} "
        "and write CloudWatch logs"
    )
    return _permission_verdict(
        ROLE_PERMISSIONS, "the role", spec.role_arn, role_needs(spec), summary, context
    )


def caller_principal(context: Context) -> tuple[str | None, str]:
    """The IAM ARN to simulate for the caller (None for the root user or federated users) and its STS ARN."""
    arn = context.client("sts").get_caller_identity()["Arn"]
    parts = arn.split(":", 5)
    partition, account, resource = parts[1], parts[4], parts[5]
    if resource.startswith("assumed-role/"):
        name = resource.split("/")[1]
        try:
            # The role's ARN carries its path (SSO roles live under /aws-reserved/...); the STS ARN does not.
            return context.client("iam").get_role(RoleName=name)["Role"]["Arn"], arn
        except ClientError:
            return f"arn:{partition}:iam::{account}:role/{name}", arn
    if resource.startswith("user/"):
        return f"arn:{partition}:iam::{account}:{resource}", arn
    return None, arn


def check_ecr_codebuild(context: Context) -> CheckResult:
    """The caller (from the laptop) or the role (inside the step) may manage the repository and run builds."""
    spec = context.input
    needs = build_needs(spec)
    summary = (
        f"create, describe and push ECR repository {spec.repository} and start and read builds of "
        f"CodeBuild project {spec.codebuild_project}"
    )
    if context.in_step:
        return _permission_verdict(ECR_CODEBUILD, "the role", spec.role_arn, needs, summary, context)
    try:
        principal, arn = caller_principal(context)
    except ClientError as error:
        if is_access_denied(error):
            return denied_result(ECR_CODEBUILD, error, "who is calling")
        raise
    if principal is None:
        if arn.endswith(":root"):
            return CheckResult(
                ECR_CODEBUILD, "pass", f"caller {arn} is the account root: IAM does not limit it"
            )
        return CheckResult(
            ECR_CODEBUILD,
            "warn",
            f"caller {arn} is not an IAM user or role, so IAM cannot simulate its permissions",
            "run as an IAM user or role to have ECR and CodeBuild permissions checked",
        )
    return _permission_verdict(ECR_CODEBUILD, "the caller", principal, needs, summary, context)
