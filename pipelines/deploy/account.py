"""Account set-up (`python -m pipelines.bootstrap`): the execution role, the output bucket, the image-build project.

Idempotent: what exists and is right is left alone, what differs is put right, and each says which.
"""

from __future__ import annotations

from typing import Any

from configs import BadInput
from pipelines.deploy.policies import EXECUTION_POLICY_NAME, execution_policy, execution_trust_policy
from steps.build_image.job.build_facts import BuildFacts
from steps.build_image.job.codebuild import ensure_project
from steps.common.aws import client
from steps.common.permissions import PROJECT_NAME
from steps.common.roles import RoleNotFound, describe_role, ensure_role, role_path_and_name
from steps.common.tags import resource_tags, tag_list


def default_bucket_name(account: str, region: str) -> str:
    """`cvl-pipelines-<account>-<region>`: unique per account and region, as S3 names must be."""
    return f"cvl-pipelines-{account}-{region}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> str:
    """Create the bucket in `region` (private, encrypted) unless it exists; fail if it is elsewhere."""
    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchBucket", "404"):
            raise
        location = None
    if location is not None:
        location = "eu-west-1" if location == "EU" else location
        if location != region:
            raise BadInput(
                f"bucket {bucket} is in {location}, not {region}: pass --region {location}, "
                f"or --bucket with a new name for {region}"
            )
        return "unchanged"
    request: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**request)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # our own create took effect and its answer was lost: finish configuring it
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    # Only a bucket made here is labelled ours: an existing one passed with --bucket keeps its own tags.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(resource_tags())})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return "created"


def ensure_execution_role(
    iam: Any, role_name: str, trust: dict[str, Any], policy: dict[str, Any]
) -> tuple[str, str]:
    """Create the role or put its trust and policy right; return (role ARN, created|updated|unchanged)."""
    outcome = ensure_role(
        iam,
        role_name,
        trust,
        {EXECUTION_POLICY_NAME: policy},
        "SageMaker execution role of cvl-pipelines (scoped to its bucket, cvl-* and its project)",
    )
    return outcome.arn, "created" if outcome.created else "updated" if outcome.changes else "unchanged"


def bootstrap(
    session: Any, region: str, bucket: str | None, role_name: str
) -> tuple[str, str, dict[str, str]]:
    """Make the bucket, the execution role and the image-build project right; return (role ARN, bucket, actions)."""
    identity = client(session, "sts").get_caller_identity()
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    bucket = bucket or default_bucket_name(account, region)
    actions = {f"bucket {bucket}": ensure_bucket(client(session, "s3"), bucket, region)}
    iam = client(session, "iam")
    try:  # a role of that name may exist under a path: its grants must name it there
        found = describe_role(iam, role_name)
        path = role_path_and_name(str(found["Arn"]))[0] if found else "/"
    except RoleNotFound:
        path = "/"
    policy = execution_policy(partition, region, account, bucket, role_name, path)
    trust = execution_trust_policy(partition, account)
    role_arn, actions[f"role {role_name}"] = ensure_execution_role(iam, role_name, trust, policy)
    # The project and its role serve every cvl-* repository; the repository itself is made per example.
    facts = BuildFacts(region=region, account=account, bucket=bucket, repository="cvl-any")
    changed = ensure_project(session, facts, owner=True)
    created = f"CodeBuild project {PROJECT_NAME}" in changed  # a new project comes with its role
    verdict = "created" if created else "updated" if changed else "unchanged"
    actions[f"image build {PROJECT_NAME}"] = f"{verdict}: " + ", ".join(changed) if changed else verdict
    return role_arn, bucket, actions
