"""The IAM checks: the role exists and trusts SageMaker, and the role and the caller may do what a run needs.

Permissions are asked of IAM's policy simulator (SimulatePrincipalPolicy): it reads, never changes, and
answers for identity policies and permission boundaries. Where the simulator is not allowed, the
verdict is a warn, since IAM could not tell.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import unquote

from botocore.exceptions import ClientError

from steps.common import permissions
from steps.preflight.job.check_support import (
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
SAGEMAKER_PRINCIPAL = permissions.SAGEMAKER_SERVICE
PROBE = "cvl-preflight-probe"
CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn")


class Need(NamedTuple):
    """Actions to simulate on one resource, with the condition keys their grant names (one simulation each)."""

    actions: list[str]
    resource: str
    context: tuple[tuple[str, str], ...] = ()


Needs = list[Need]


def role_name(role_arn: str) -> str:
    """The role name (last path segment) of a role ARN."""
    return role_arn.rsplit("/", 1)[-1]


def is_build_grant(grant: permissions.Grant) -> bool:
    """Whether a grant is about ECR repositories or CodeBuild (the ecr-codebuild check asks those)."""
    return (
        any(action.startswith(("ecr:", "codebuild:")) for action in grant.actions) and grant.sid != "EcrLogin"
    )


def _probe(arn: str) -> str:
    # A concrete resource inside each wildcard: what the simulator answers for is what a run touches.
    return arn if arn == "*" else arn.replace("*", PROBE)


def _context(grant: permissions.Grant) -> tuple[tuple[str, str], ...]:
    # The value a real request carries for each condition key (e.g. iam:PassedToService).
    return tuple(
        (key, _probe(value if isinstance(value, str) else value[0]))
        for tests in (grant.condition or {}).values()
        for key, value in tests.items()
    )


def grant_needs(grants: tuple[permissions.Grant, ...], spec: PreflightInput) -> Needs:
    """The simulations that say whether a principal has `grants` for this run's resources."""
    facts = permissions.Facts(
        partition=spec.partition,
        region=spec.run.region,
        account=spec.run.account,
        bucket=spec.run.bucket,
        role=role_name(spec.run.role_arn),
        project=spec.run.codebuild_project,
        repository=spec.run.repository,
    )
    return [
        Need(list(grant.actions), _probe(facts.render(resource)), _context(grant))
        for grant in grants
        for resource in grant.resources
    ]


def role_needs(spec: PreflightInput) -> Needs:
    """What the execution role does in a run (its declared grants but the build ones), plus the preset's
    own S3 locations outside the bucket."""
    p = spec.partition
    grants = tuple(g for g in permissions.EXECUTION_GRANTS if not is_build_grant(g))
    needs = grant_needs(grants, spec)
    if spec.output_path:
        out = spec.output_path.removeprefix("s3://").rstrip("/")
        needs.append(Need(["s3:PutObject"], f"arn:{p}:s3:::{out}/{PROBE}"))
    for uri in sorted(set(spec.channels.values())):
        location = uri.removeprefix("s3://").rstrip("/")
        needs.append(Need(["s3:GetObject"], f"arn:{p}:s3:::{location}/{PROBE}"))
        needs.append(Need(["s3:ListBucket"], f"arn:{p}:s3:::{location.split('/', 1)[0]}"))
    return needs


def build_needs(spec: PreflightInput, *, in_step: bool) -> Needs:
    """What building the image needs of the role inside the BuildImage job (cache lookup, builds), or
    of the caller on the laptop (also create and configure the repository)."""
    principal = permissions.EXECUTION if in_step else permissions.USER
    part = "build-image" if in_step else "build"
    return grant_needs(tuple(g for g in permissions.used_by(principal, part) if is_build_grant(g)), spec)


def _sagemaker_statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, str):
        policy = json.loads(unquote(policy))
    statements = policy.get("Statement", [])
    found = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        services = _as_list((statement.get("Principal") or {}).get("Service"))
        if any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions) and SAGEMAKER_PRINCIPAL in services:
            found.append(statement)
    return found


def trusts_sagemaker(policy: Any) -> bool:
    """Whether a trust policy (a dict, or IAM's URL-encoded JSON) lets SageMaker assume the role."""
    return bool(_sagemaker_statements(policy))


def pins_source(policy: Any) -> bool:
    """Whether every statement trusting SageMaker names aws:SourceAccount or aws:SourceArn in a condition."""
    return all(
        any(key in CONFUSED_DEPUTY_KEYS for tests in (s.get("Condition") or {}).values() for key in tests)
        for s in _sagemaker_statements(policy)
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def check_role(context: Context) -> CheckResult:
    """The execution role exists under the given ARN and trusts sagemaker.amazonaws.com."""
    spec = context.input
    name = role_name(spec.run.role_arn)
    try:
        role = context.client("iam").get_role(RoleName=name)["Role"]
    except ClientError as error:
        if error_code(error) not in NOT_FOUND_CODES:
            raise
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not exist in account {spec.run.account}",
            "create it with python -m pipelines.bootstrap, "
            "or pass --role-arn (SAGEMAKER_ROLE_ARN) of an existing role",
        )
    if role.get("Arn") and role["Arn"] != spec.run.role_arn:
        return CheckResult(
            ROLE,
            "fail",
            f"role ARN {spec.run.role_arn} does not match the role named {name}: {role['Arn']}",
            f"pass --role-arn {role['Arn']}",
        )
    trust = role.get("AssumeRolePolicyDocument", {})
    fix_trust = (
        f"aws iam update-assume-role-policy --role-name {name} --policy-document "
        f"'{json.dumps(permissions.trust_policy(permissions.EXECUTION, spec.partition, spec.run.account), separators=(',', ':'))}'"
    )
    if not trusts_sagemaker(trust):
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not trust {SAGEMAKER_PRINCIPAL}, so SageMaker cannot run jobs as it",
            f"add {SAGEMAKER_PRINCIPAL} to its trust policy, e.g. {fix_trust}",
        )
    if not pins_source(trust):
        return CheckResult(
            ROLE,
            "warn",
            f"role {name} trusts {SAGEMAKER_PRINCIPAL} without aws:SourceAccount or aws:SourceArn: "
            "another account's SageMaker resources could act as it (confused deputy)",
            f"run python -m pipelines.bootstrap --role-name {name}, or {fix_trust}",
        )
    return CheckResult(ROLE, "pass", f"role {name} exists and trusts {SAGEMAKER_PRINCIPAL} of this account")


def simulate(context: Context, principal: str, needs: Needs) -> Needs:
    """The needs IAM's simulator denies to `principal`, as (denied actions, resource); empty: all allowed."""
    iam = context.client("iam")

    def one(need: Need) -> Need:
        request: dict[str, Any] = {
            "PolicySourceArn": principal,
            "ActionNames": need.actions,
            "ResourceArns": [need.resource],
        }
        if need.context:
            request["ContextEntries"] = [
                {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
                for key, value in need.context
            ]
        denied = [
            result["EvalActionName"]
            for page in iam.get_paginator("simulate_principal_policy").paginate(**request)
            for result in page.get("EvaluationResults", [])
            if result.get("EvalDecision") != "allowed"
        ]
        return Need(denied, need.resource)

    answers = context.parallel.all([partial(one, need) for need in needs])
    return [answer for answer in answers if answer.actions]


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
        listed = "; ".join(f"{', '.join(need.actions)} on {need.resource}" for need in denied)
        return CheckResult(
            name,
            "fail",
            f"{who} {principal} may not {listed}",
            f"attach a policy to {principal} that allows these actions on these resources",
        )
    return CheckResult(name, "pass", f"{who} {principal} may {summary}")


def check_role_permissions(context: Context) -> CheckResult:
    """The role has its declared grants (run jobs, use the bucket, pull the image, logs) for this run."""
    spec = context.input
    summary = (
        f"run the pipeline's jobs, use s3://{spec.run.bucket} and the preset's S3 locations, pull from ECR "
        f"repository {spec.run.repository} and write CloudWatch logs"
    )
    return _permission_verdict(
        ROLE_PERMISSIONS, "the role", spec.run.role_arn, role_needs(spec), summary, context
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
    """The caller (from the laptop) may create the repository and run builds, or the role (inside the step)
    may look up cached images and run builds. CodeBuild pushes with its own role, never the execution role's."""
    spec = context.input
    needs = build_needs(spec, in_step=context.in_step)
    if context.in_step:
        summary = (
            f"look up images in ECR repository {spec.run.repository} and start and read builds of "
            f"CodeBuild project {spec.run.codebuild_project}"
        )
        return _permission_verdict(ECR_CODEBUILD, "the role", spec.run.role_arn, needs, summary, context)
    summary = (
        f"create and configure ECR repository {spec.run.repository} and start and read builds of "
        f"CodeBuild project {spec.run.codebuild_project}"
    )
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
