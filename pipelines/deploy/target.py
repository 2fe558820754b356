"""The deploy target with the role as IAM knows it: a name, an ARN or an assumed-role ARN made the real ARN.

A role's ARN carries its path (`/service-role/` for the roles SageMaker Studio makes); a name or a
Studio terminal's `arn:aws:sts::<account>:assumed-role/<role>/<session>` does not. Every resource,
`iam:PassRole` and definition built from the role must use the real ARN, so commands that talk to AWS
resolve it here once, before anything is staged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from configs import DeployTarget, resolve_target
from configs.settings import ROLE_NAME_PATTERN
from steps.common.aws import aws_session, client, require_credentials
from steps.common.roles import real_role_arn


def deploy_target(
    *,
    region: str | None,
    role_arn: str | None,
    bucket: str | None,
    environ: Mapping[str, str] = os.environ,
) -> DeployTarget:
    """`resolve_target` (flags over environment, BadInput before any call), then the role's real ARN from IAM."""
    draft = resolve_target(region=region, role_arn=role_arn, bucket=bucket, environ=environ)
    given = role_arn or environ.get("SAGEMAKER_ROLE_ARN") or draft.role_arn
    session = aws_session(draft.region)
    require_credentials(session)  # one line before any call, as every command says it
    arn = draft.role_arn
    if ROLE_NAME_PATTERN.match(given):
        identity = client(session, "sts").get_caller_identity()
        arn = f"arn:{identity['Arn'].split(':')[1]}:iam::{identity['Account']}:role/{given}"
    real = real_role_arn(client(session, "iam"), arn)
    if real == draft.role_arn:
        return draft
    return resolve_target(region=draft.region, role_arn=real, bucket=draft.bucket, environ=environ)
