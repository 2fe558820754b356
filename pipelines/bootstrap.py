"""`python -m pipelines.bootstrap`: the execution role, the output bucket and the image-build project.

Idempotent: what exists and is right is left alone, what differs is put right, and the output says which.
Prints the two settings the other commands read. `--grant-to ROLE` instead gives an existing role (a
Studio execution role, a hand-made one) exactly what a run needs and it lacks, and prints that policy.
"""

from __future__ import annotations

import json
import os

from configs import BadInput, resolve_target
from configs.settings import BUCKET_PATTERN, region_from
from pipelines.cli.command import (
    EXIT_OK,
    Parser,
    add_json_flag,
    add_region_flags,
    command,
    exit_now,
    print_json,
)
from pipelines.deploy.account import bootstrap, default_bucket_name
from pipelines.deploy.grants import GRANTS_POLICY_NAME, grant_to
from pipelines.deploy.policies import (
    EXECUTION_ROLE_NAME,
)
from steps.common.aws import aws_session, client
from steps.common.roles import RoleNotFound


@command
def main(argv: list[str] | None = None) -> int:
    """Create or put right the role, bucket and build project; print the settings to export."""
    parser = Parser(prog="python -m pipelines.bootstrap", description=__doc__.splitlines()[0])
    add_region_flags(parser)
    parser.add_argument("--bucket", help="output bucket (default: cvl-pipelines-<account>-<region>)")
    parser.add_argument(
        "--role-name",
        default=EXECUTION_ROLE_NAME,
        help=f"execution role name (default: {EXECUTION_ROLE_NAME})",
    )
    parser.add_argument(
        "--grant-to",
        metavar="ROLE",
        help="give this existing role (name or ARN) what runs need and it lacks; prints the policy attached",
    )
    add_json_flag(parser)
    args = parser.parse_args(argv)
    region = region_from(args.region)
    if region is None:
        raise BadInput("no region: pass --region or set AWS_DEFAULT_REGION (e.g. us-east-1)")
    if args.bucket and not BUCKET_PATTERN.match(args.bucket):
        raise BadInput(
            f"bucket name {args.bucket!r} is not a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'"
        )

    if args.grant_to:
        return _grant(args.grant_to, region, args.bucket, args.json)
    role_arn, bucket, actions = bootstrap(aws_session(region), region, args.bucket, args.role_name)
    target = resolve_target(region=region, role_arn=role_arn, bucket=bucket)

    if args.json:
        print_json({"role_arn": role_arn, "bucket": bucket, "region": target.region, "actions": actions})
    else:
        for what, action in actions.items():
            print(f"{what}: {action}")
        print(f"export AWS_DEFAULT_REGION={region}")
        print(f"export SAGEMAKER_ROLE_ARN={role_arn}")
        print(f"export SAGEMAKER_OUTPUT_BUCKET={bucket}")
    return EXIT_OK


def _grant(given: str, region: str, bucket: str | None, as_json: bool) -> int:
    session = aws_session(region)
    if bucket is None:
        identity = client(session, "sts").get_caller_identity()
        bucket = os.environ.get("SAGEMAKER_OUTPUT_BUCKET") or default_bucket_name(identity["Account"], region)
    try:
        role_arn, policy = grant_to(session, given, region, bucket)
    except (LookupError, RoleNotFound) as error:
        raise BadInput(f"role {given}: {error}: pass an existing role's name or ARN") from None
    if as_json:
        print_json({"role_arn": role_arn, "policy_name": GRANTS_POLICY_NAME, "attached": policy})
    elif policy is None:
        print(f"{role_arn} already has what runs need: nothing attached")
    else:
        print(f"attached inline policy {GRANTS_POLICY_NAME} to {role_arn}:")
        print(json.dumps(policy, indent=2))
    return EXIT_OK


if __name__ == "__main__":
    exit_now(main())
