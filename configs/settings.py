"""Where pipelines go: region, role, bucket and account, from flags over environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from configs.errors import BadInput
from configs.preset import Frozen

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws(-[a-z]+)*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
# What a Studio terminal's credentials are: arn:aws:sts::<account>:assumed-role/<role>/<session>.
ASSUMED_ROLE_PATTERN = re.compile(
    r"^arn:(aws(?:-[a-z]+)*):sts::(\d{12}):assumed-role/([\w+=,.@-]{1,64})/[\w+=,.@-]+$"
)
ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{1,64}$")
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

PLACEHOLDER_ACCOUNT = "000000000000"
PLACEHOLDER_ROLE_ARN = f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/CVL-PLACEHOLDER-set-SAGEMAKER_ROLE_ARN"
PLACEHOLDER_BUCKET = "cvl-placeholder-set-sagemaker-output-bucket"
DEFAULT_REGION = "us-east-1"

BUNDLED_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class DeployTarget(Frozen):
    """The account, region, role and bucket a pipeline is compiled for.

    `placeholders` names the settings that were missing and replaced by clearly marked stand-ins
    (only a dry run allows that).
    """

    region: str
    role_arn: str
    bucket: str
    account: str
    placeholders: tuple[str, ...] = ()

    @property
    def partition(self) -> str:
        """The ARN partition of the role (aws, aws-cn, aws-us-gov)."""
        return self.role_arn.split(":")[1]


def examples_root(flag: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The examples root: `--examples-root`, else `CVL_EXAMPLES_ROOT`, else the bundled `examples/`."""
    chosen = flag or environ.get("CVL_EXAMPLES_ROOT")
    root = Path(chosen).expanduser() if chosen else BUNDLED_EXAMPLES
    if not root.is_dir():
        raise BadInput(f"examples root {root} is not a folder: pass --examples-root or set CVL_EXAMPLES_ROOT")
    return root


def region_from(flag: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The region from `--region`, `AWS_DEFAULT_REGION` or `AWS_REGION`, validated; None when unset."""
    region = flag or environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION")
    if region is not None and not REGION_PATTERN.match(region):
        raise BadInput(f"region {region!r} is not an AWS region name: use e.g. --region us-east-1")
    return region


def required_region(flag: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """`region_from`, but `BadInput` saying how to set it when there is none."""
    region = region_from(flag, environ)
    if region is None:
        raise BadInput("no region: pass --region or set AWS_DEFAULT_REGION")
    return region


MAX_COST_ENV = "CVL_MAX_COST"


def max_cost_from(flag: float | None, environ: Mapping[str, str] = os.environ) -> float | None:
    """The spending limit in USD from `--max-cost` or `CVL_MAX_COST`; None when neither is set."""
    if flag is not None:
        value: float | str = flag
    elif environ.get(MAX_COST_ENV):
        value = environ[MAX_COST_ENV]
    else:
        return None
    try:
        limit = float(value)
    except ValueError:
        raise BadInput(f"{MAX_COST_ENV}={value!r} is not a number of US dollars, e.g. 25") from None
    if limit <= 0:
        raise BadInput(f"--max-cost {limit:g} must be a positive number of US dollars")
    return limit


def role_arn_of(given: str, account: str = PLACEHOLDER_ACCOUNT) -> str:
    """An IAM role ARN for a role name (in `account`), an IAM role ARN (as is) or an assumed-role ARN."""
    assumed = ASSUMED_ROLE_PATTERN.match(given)
    if assumed:
        partition, role_account, name = assumed.groups()
        return f"arn:{partition}:iam::{role_account}:role/{name}"
    if ROLE_NAME_PATTERN.match(given):
        return f"arn:aws:iam::{account}:role/{given}"
    return given


def resolve_target(
    *,
    region: str | None = None,
    role_arn: str | None = None,
    bucket: str | None = None,
    allow_placeholders: bool = False,
    environ: Mapping[str, str] = os.environ,
    account: str = PLACEHOLDER_ACCOUNT,
) -> DeployTarget:
    """Build a `DeployTarget` from flags, falling back to the documented environment variables.

    Without `allow_placeholders` a missing role or bucket is `BadInput`; with it (dry runs) they become
    marked placeholders. Malformed values are always `BadInput`. The role may be given by name (its ARN
    then names `account`), by ARN, or as an assumed-role ARN (made its role's ARN, path unknown here:
    `pipelines.deploy.target` asks IAM for the real one).
    """
    placeholders: list[str] = []
    resolved_region = region_from(region, environ)
    if resolved_region is None:
        if not allow_placeholders:
            raise BadInput("no region: pass --region or set AWS_DEFAULT_REGION (e.g. us-east-1)")
        resolved_region = DEFAULT_REGION
        placeholders.append("region")

    resolved_role = role_arn or environ.get("SAGEMAKER_ROLE_ARN")
    if not resolved_role:
        if not allow_placeholders:
            raise BadInput(
                "no SageMaker execution role: pass --role-arn or set SAGEMAKER_ROLE_ARN "
                "(python -m pipelines.bootstrap creates one)"
            )
        resolved_role = PLACEHOLDER_ROLE_ARN
        placeholders.append("role")
    if ROLE_NAME_PATTERN.match(resolved_role) and account == PLACEHOLDER_ACCOUNT:
        placeholders.append("account")  # a name alone says no account: a dry run marks it
    resolved_role = role_arn_of(resolved_role, account)
    match = ROLE_ARN_PATTERN.match(resolved_role)
    if not match:
        raise BadInput(
            f"role {resolved_role!r} is not an IAM role: use its name, arn:aws:iam::<account>:role/<path><name>, "
            "or arn:aws:sts::<account>:assumed-role/<name>/<session>"
        )

    resolved_bucket = bucket or environ.get("SAGEMAKER_OUTPUT_BUCKET")
    if not resolved_bucket:
        if not allow_placeholders:
            raise BadInput(
                "no output bucket: pass --bucket or set SAGEMAKER_OUTPUT_BUCKET "
                "(python -m pipelines.bootstrap creates one)"
            )
        resolved_bucket = PLACEHOLDER_BUCKET
        placeholders.append("bucket")
    resolved_bucket = resolved_bucket.removeprefix("s3://").rstrip("/")
    if not BUCKET_PATTERN.match(resolved_bucket) or ".." in resolved_bucket:
        raise BadInput(
            f"bucket name {resolved_bucket!r} is not a valid S3 bucket name: "
            "3-63 lowercase letters, digits, '.' or '-'"
        )

    account = match.group(2)
    if "role" in placeholders and "account" not in placeholders:
        placeholders.append("account")
    return DeployTarget(
        region=resolved_region,
        role_arn=resolved_role,
        bucket=resolved_bucket,
        account=account,
        placeholders=tuple(placeholders),
    )
