"""The secrets check: the execution role may read each secret the preset names, and only those are asked.

A preset without secrets asks nothing. Where the caller may simulate the role, IAM's simulator answers
with the secret's tags in the request context (a policy may allow secrets by tag: AmazonSageMakerFullAccess
reads those tagged `SageMaker=true`); where the caller is the role itself (a Studio terminal, the
Preflight step) and may not simulate, reading the secret as the Train job will is the exact answer (the
value is dropped unread). The fix named is the one that works for this role: the tag when IAM says the
tag would be enough, else `bootstrap --grant-to`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from steps.common.errors import error_code, is_access_denied
from steps.preflight.job.check_support import CheckResult, Context
from steps.preflight.job.iam import SIMULATE, Need, caller_principal, grant_fix, simulate

SECRETS = "secrets"
READ = "secretsmanager:GetSecretValue"
TAG_KEY, TAG_VALUE = "SageMaker", "true"  # what AmazonSageMakerFullAccess reads secrets by
_MISSING = frozenset({"ResourceNotFoundException"})


class Secret(NamedTuple):
    """One secret of the preset: the variable it fills, its id, ARN and tags (None: not readable)."""

    variable: str
    secret_id: str
    arn: str
    tags: dict[str, str] | None
    exists: bool = True


def _arn(context: Context, secret_id: str) -> str:
    spec = context.input
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:{spec.partition}:secretsmanager:{spec.run.region}:{spec.run.account}:secret:{secret_id}"


def _describe(context: Context, variable: str, secret_id: str) -> Secret:
    try:
        found = context.client("secretsmanager").describe_secret(SecretId=secret_id)
    except ClientError as error:
        if error_code(error) in _MISSING:
            return Secret(variable, secret_id, _arn(context, secret_id), {}, exists=False)
        if is_access_denied(error):
            return Secret(variable, secret_id, _arn(context, secret_id), None)
        raise
    tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
    return Secret(variable, secret_id, str(found["ARN"]), tags)


def _tag_context(tags: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((f"secretsmanager:ResourceTag/{key}", value) for key, value in sorted(tags.items()))


def tag_fix(secret_id: str) -> str:
    """The command that tags a secret so AmazonSageMakerFullAccess lets the role read it."""
    return f"aws secretsmanager tag-resource --secret-id {secret_id} --tags Key={TAG_KEY},Value={TAG_VALUE}"


def _simulated(context: Context, secrets: list[Secret]) -> list[tuple[Secret, str]]:
    """(secret, fix) for each secret the role may not read, by IAM's simulator."""
    role = context.input.run.role_arn
    needs = [Need([READ], s.arn, _tag_context(s.tags or {})) for s in secrets]
    refused = {need.resource for need in simulate(context, role, needs)}
    unreadable = [s for s in secrets if s.arn in refused]
    if not unreadable:
        return []
    tagged = [Need([READ], s.arn, _tag_context({**(s.tags or {}), TAG_KEY: TAG_VALUE})) for s in unreadable]
    still = {need.resource for need in simulate(context, role, tagged)}
    return [(s, grant_fix(role) if s.arn in still else tag_fix(s.secret_id)) for s in unreadable]


def _read(context: Context, secrets: list[Secret]) -> list[tuple[Secret, str]]:
    """(secret, fix) for each secret the caller, being the role, may not read: read as the job will."""
    refused = []
    for secret in secrets:
        try:
            context.client("secretsmanager").get_secret_value(SecretId=secret.secret_id)
        except ClientError as error:
            if error_code(error) in _MISSING:
                refused.append((secret._replace(exists=False), create_fix(context, secret.secret_id)))
                continue
            if not is_access_denied(error):
                raise
            role = context.input.run.role_arn
            fix = f"{tag_fix(secret.secret_id)} (if the role has AmazonSageMakerFullAccess), else {grant_fix(role)}"
            refused.append((secret, fix))
    return refused


def create_fix(context: Context, secret_id: str) -> str:
    """The command that creates a missing secret."""
    region = context.input.run.region
    return f"aws secretsmanager create-secret --name {secret_id} --secret-string '<value>' --region {region}"


def _verdict(
    context: Context, refused: list[tuple[Secret, str]], secrets: list[Secret], *, exact: bool = False
) -> CheckResult:
    spec = context.input
    required = [(s, fix) for s, fix in refused if s.variable not in spec.optional_secrets]
    listed = ", ".join(f"{s.secret_id} ({s.variable})" for s, _ in refused)
    absent = [s for s, _ in required if not s.exists]
    if absent:
        return CheckResult(
            SECRETS,
            "fail",
            f"secret {absent[0].secret_id} ({absent[0].variable}) does not exist in {spec.run.region}",
            create_fix(context, absent[0].secret_id),
        )
    unsure = [s for s, _ in required if s.tags is None]
    if unsure and len(unsure) == len(required) and not exact:
        return CheckResult(
            SECRETS,
            "warn",
            f"the role may not {READ} on {listed} unless a tag allows it, and its tags could not be read",
            "allow secretsmanager:DescribeSecret on them to the identity running preflight",
        )
    if required:
        return CheckResult(
            SECRETS, "fail", f"the role {spec.run.role_arn} may not {READ} on {listed}", required[0][1]
        )
    if refused:
        return CheckResult(
            SECRETS,
            "warn",
            f"the role may not read optional {listed}: the run leaves it unset",
            refused[0][1],
        )
    names = ", ".join(s.secret_id for s in secrets)
    return CheckResult(SECRETS, "pass", f"the role {spec.run.role_arn} may read {names}")


def check_secrets(context: Context) -> CheckResult:
    """Each secret the preset names exists and the execution role may read it (nothing asked without secrets)."""
    spec = context.input
    if not spec.secrets:
        return CheckResult(SECRETS, "pass", "the preset names no secrets")
    if context.in_step:  # the job runs as the role: read as Train will
        listed = [Secret(v, i, _arn(context, i), {}) for v, i in spec.secrets]
        return _verdict(context, _read(context, listed), listed, exact=True)
    calls: list[Any] = [lambda v=v, i=i: _describe(context, v, i) for v, i in spec.secrets]
    secrets: list[Secret] = context.parallel.all(calls)
    missing = [(s, "") for s in secrets if not s.exists]
    if missing:
        return _verdict(context, missing, secrets)
    is_role = caller_principal(context)[0] == spec.run.role_arn
    try:
        return _verdict(context, _simulated(context, secrets), secrets)
    except ClientError as error:
        if not (is_access_denied(error) and is_role):
            if is_access_denied(error):
                return CheckResult(
                    SECRETS,
                    "warn",
                    f"could not check whether the role may read the preset's secrets: {SIMULATE} was denied",
                    f"allow {SIMULATE} to the identity running preflight",
                )
            raise
    return _verdict(context, _read(context, secrets), secrets, exact=True)
