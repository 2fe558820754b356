"""The IAM checks: the role exists and trusts SageMaker, and the role and the caller may do what a run needs.

Permissions are asked of IAM's policy simulator (SimulatePrincipalPolicy): it reads, never changes, and
answers for identity policies and permission boundaries. Where the simulator is not allowed, the
verdict is a warn, since IAM could not tell. What the role needs is `permissions.needed`: every grant
the run's parts use; a missing grant that only lets the Preflight step check something (its quota
lookup, its own simulation, stopping a build) is a warn naming what the run goes without, never a fail.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from steps.common import permissions, trust
from steps.common.errors import error_code, is_access_denied
from steps.common.roles import RoleNotFound, describe_role, real_role_arn, role_path_and_name
from steps.preflight.job.check_support import (
    NOT_FOUND_CODES,
    CheckResult,
    Context,
    PreflightInput,
    denied_result,
)

ROLE = "role"
ROLE_PERMISSIONS = "role-permissions"
ECR_CODEBUILD = "ecr-codebuild"
SAGEMAKER_PRINCIPAL = trust.SAGEMAKER_SERVICE
SIMULATE = "iam:SimulatePrincipalPolicy"
PROBE = "cvl-preflight-probe"


class Need(NamedTuple):
    """Actions to simulate on one resource, with the condition keys their grant names (one simulation each);
    `enables` names the Preflight check the grant only makes possible (empty: the run itself needs it)."""

    actions: list[str]
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    enables: str = ""


Needs = list[Need]


def role_name(role_arn: str) -> str:
    """The role name (last path segment) of a role ARN."""
    return role_path_and_name(role_arn)[1]


def grant_fix(role_arn: str) -> str:
    """The one command that gives the role what a run needs and it lacks: bootstrap's own role is put right
    by running bootstrap again (a role made by an older version lacks what a newer one needs)."""
    if role_name(role_arn) == permissions.EXECUTION_ROLE_NAME:
        return "run python -m pipelines.bootstrap (it puts the role's policy right)"
    return f"an admin runs python -m pipelines.bootstrap --grant-to {role_arn} (it attaches exactly what is missing)"


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


def run_facts(spec: PreflightInput) -> permissions.Facts:
    """The facts that fill the declaration's templates for this run (the role with its path)."""
    path, name = role_path_and_name(spec.run.role_arn)
    return permissions.Facts(
        partition=spec.partition,
        region=spec.run.region,
        account=spec.run.account,
        bucket=spec.run.bucket,
        role=name,
        project=spec.run.codebuild_project,
        repository=spec.run.repository,
        role_path=path,
    )


def grant_needs(grants: tuple[permissions.Grant, ...], spec: PreflightInput) -> Needs:
    """The simulations that say whether a principal has `grants` for this run's resources."""
    facts = run_facts(spec)
    return [
        Need(list(grant.actions), _probe(facts.render(resource)), _context(grant), grant.enables)
        for grant in grants
        for resource in grant.resources
    ]


def role_needs(spec: PreflightInput) -> Needs:
    """What the execution role does in this run (the grants of every part it runs; the secrets are the
    secrets check's), plus the preset's own S3 locations outside the bucket."""
    p = spec.partition
    needs = grant_needs(
        permissions.needed(
            permissions.EXECUTION, permissions.RUN_PARTS, secrets=False, register=spec.registers
        ),
        spec,
    )
    if spec.output_path:
        out = spec.output_path.removeprefix("s3://").rstrip("/")
        needs.append(Need(["s3:PutObject"], f"arn:{p}:s3:::{out}/{PROBE}"))
    for uri in sorted(set(spec.channels.values())):
        location = uri.removeprefix("s3://").rstrip("/")
        needs.append(Need(["s3:GetObject"], f"arn:{p}:s3:::{location}/{PROBE}"))
        needs.append(Need(["s3:ListBucket"], f"arn:{p}:s3:::{location.split('/', 1)[0]}"))
    return needs


def build_needs(spec: PreflightInput) -> Needs:
    """What building the image needs of the caller on the laptop (create the repository, run builds)."""
    return grant_needs(
        tuple(g for g in permissions.used_by(permissions.USER, "build") if is_build_grant(g)), spec
    )


def check_role(context: Context) -> CheckResult:
    """The execution role exists under the given ARN and trusts sagemaker.amazonaws.com (GetRole, else
    ListRoles). Inside the Preflight job the step runs as the role, which says both."""
    spec = context.input
    name = role_name(spec.run.role_arn)
    if context.in_step:
        return CheckResult(ROLE, "pass", f"the step runs as role {name}: it exists and SageMaker assumes it")
    try:
        role = describe_role(context.client("iam"), spec.run.role_arn)
    except RoleNotFound:
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not exist in account {spec.run.account}",
            "create it with python -m pipelines.bootstrap, "
            "or pass --role-arn (SAGEMAKER_ROLE_ARN) of an existing role",
        )
    if role is None:
        return CheckResult(
            ROLE,
            "warn",
            f"could not check role {name}: iam:GetRole and iam:ListRoles were denied",
            "allow iam:GetRole or iam:ListRoles to the identity running preflight",
        )
    if role.get("Arn") and role["Arn"] != spec.run.role_arn:
        return CheckResult(
            ROLE,
            "fail",
            f"role ARN {spec.run.role_arn} does not match the role named {name}: {role['Arn']}",
            f"pass --role-arn {role['Arn']}",
        )
    policy = role.get("AssumeRolePolicyDocument", {})
    fix_trust = (
        f"aws iam update-assume-role-policy --role-name {name} --policy-document "
        f"'{json.dumps(trust.trust_policy(permissions.EXECUTION, spec.partition, spec.run.account), separators=(',', ':'))}'"
    )
    if not trust.trusts_sagemaker(policy):
        return CheckResult(
            ROLE,
            "fail",
            f"role {name} does not trust {SAGEMAKER_PRINCIPAL}, so SageMaker cannot run jobs as it",
            f"add {SAGEMAKER_PRINCIPAL} to its trust policy, e.g. {fix_trust}",
        )
    if not trust.pins_source(policy):
        return CheckResult(
            ROLE,
            "warn",
            f"role {name} trusts {SAGEMAKER_PRINCIPAL} without aws:SourceAccount or aws:SourceArn: "
            "another account's SageMaker resources could act as it (confused deputy)",
            f"run python -m pipelines.bootstrap --role-name {name}, or {fix_trust}"
            if name == permissions.EXECUTION_ROLE_NAME
            else fix_trust,
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
        return Need(denied, need.resource, enables=need.enables)

    answers = context.parallel.all([partial(one, need) for need in needs])
    return [answer for answer in answers if answer.actions]


def _permission_verdict(
    name: str, who: str, principal: str, needs: Needs, summary: str, context: Context
) -> CheckResult:
    role = principal == context.input.run.role_arn
    try:
        denied = simulate(context, principal, needs)
    except ClientError as error:
        if is_access_denied(error) and role and context.in_step:
            return CheckResult(
                name,
                "warn",
                f"the Preflight step skips this check: the role may not {SIMULATE} on itself",
                grant_fix(principal),
            )
        if is_access_denied(error):
            return denied_result(name, error, f"what {who} may do")
        if error_code(error) in NOT_FOUND_CODES:
            return CheckResult(
                name, "warn", f"{who} {principal} was not found, so its permissions were not checked"
            )
        raise
    fix = (
        grant_fix(principal)
        if role
        else f"attach a policy to {principal} that allows these actions on these resources"
    )
    required = [need for need in denied if not need.enables]
    if required:
        return CheckResult(name, "fail", f"{who} {principal} may not {_listed(required)}", fix)
    if denied:
        skipped = sorted({need.enables for need in denied})
        return CheckResult(
            name,
            "warn",
            f"{who} {principal} may not {_listed(denied)}: a run works, but without {'; '.join(skipped)}",
            fix,
        )
    return CheckResult(name, "pass", f"{who} {principal} may {summary}")


def _listed(needs: Needs) -> str:
    return "; ".join(f"{', '.join(need.actions)} on {need.resource}" for need in needs)


def check_role_permissions(context: Context) -> CheckResult:
    """The role has its declared grants (run jobs, use the bucket, pull the image, logs) for this run."""
    spec = context.input
    summary = (
        f"run the pipeline's jobs, use s3://{spec.run.bucket} and the preset's S3 locations, look up and pull "
        f"images of ECR repository {spec.run.repository}, build in CodeBuild project {spec.run.codebuild_project} "
        "and write CloudWatch logs"
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
        # The role's ARN carries its path (Studio's under /service-role/, SSO's under /aws-reserved/...).
        return real_role_arn(context.client("iam"), arn), arn
    if resource.startswith("user/"):
        return f"arn:{partition}:iam::{account}:{resource}", arn
    return None, arn


def check_ecr_codebuild(context: Context) -> CheckResult:
    """The caller (from the laptop) may create the repository and run builds. What the role does in the
    BuildImage step is in `check_role_permissions`; CodeBuild pushes with its own role."""
    spec = context.input
    needs = build_needs(spec)
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
