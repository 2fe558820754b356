"""The bucket and preset checks: every S3 location the run uses exists and is in the pipeline's region.

A training job cannot write to (or read channels from) a bucket in another region: users met that as
"the authorization header is malformed; the region is wrong" after the instances had started.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from steps.common.errors import error_code, is_access_denied
from steps.preflight.job.check_support import (
    NOT_FOUND_CODES,
    CheckResult,
    Context,
    PreflightInput,
    Status,
    permission_of,
)

BUCKET = "bucket"
PRESET = "preset"
_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}


class BucketFacts(NamedTuple):
    """What S3 says about a bucket: whether it exists, its region (when known), and a denial if any."""

    exists: bool
    region: str | None
    denied: ClientError | None = None


def location_region(constraint: str | None) -> str:
    """The region of a `GetBucketLocation` LocationConstraint (None is us-east-1, "EU" is eu-west-1)."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def bucket_of(uri: str) -> str:
    """The bucket name of an `s3://bucket/key` URI."""
    return uri.removeprefix("s3://").split("/", 1)[0]


def bucket_facts(s3: Any, bucket: str) -> BucketFacts:
    """HeadBucket the bucket; S3 names its region in a header even when it refuses access."""
    try:
        response = s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            return BucketFacts(exists=False, region=None)
        if not is_access_denied(error):
            raise
        region = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        return BucketFacts(exists=True, region=region, denied=error)
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = response.get("BucketRegion") or headers.get("x-amz-bucket-region")
    if region is None:
        region = location_region(s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
    return BucketFacts(exists=True, region=region)


def _bucket_verdict(name: str, what: str, bucket: str, facts: BucketFacts, region: str) -> CheckResult:
    if not facts.exists:
        return CheckResult(
            name,
            "fail",
            f"{what} s3://{bucket} does not exist",
            f"create it in {region} (aws s3 mb s3://{bucket} --region {region}, "
            "or python -m pipelines.bootstrap), "
            "or pass --bucket with an existing bucket in that region",
        )
    if facts.region is not None and facts.region != region:
        return CheckResult(
            name,
            "fail",
            f"{what} s3://{bucket} is in {facts.region}, but the pipeline runs in {region}",
            f"either run in the bucket's region (--region {facts.region}) or use a bucket in {region} "
            "(--bucket or SAGEMAKER_OUTPUT_BUCKET)",
        )
    if facts.denied is not None:
        permission = permission_of(facts.denied)
        where = f"is in {facts.region}" if facts.region else "exists"
        return CheckResult(
            name,
            "warn",
            f"{what} s3://{bucket} {where}, but {permission} was denied, so its reach was not checked",
            f"allow {permission} on the bucket {bucket} to the identity running preflight",
        )
    return CheckResult(name, "pass", f"{what} s3://{bucket} exists in {region}")


def check_bucket(context: Context) -> CheckResult:
    """The output bucket exists and is in the pipeline's region."""
    spec = context.input
    facts = bucket_facts(context.client("s3"), spec.run.bucket)
    return _bucket_verdict(BUCKET, "output bucket", spec.run.bucket, facts, spec.run.region)


def preset_buckets(context: Context) -> dict[str, str]:
    """Bucket -> what uses it, for the preset's S3 URIs outside the output bucket (checked on its own)."""
    spec = context.input
    uses: dict[str, str] = {}
    named = [("output path", spec.output_path), ("checkpoints/outputs", spec.run.output_prefix)]
    named += [(f"channel {name!r}", uri) for name, uri in sorted(spec.channels.items())]
    for what, uri in named:
        if uri and bucket_of(uri) != spec.run.bucket:
            uses.setdefault(bucket_of(uri), f"{what} bucket")
    return uses


def check_preset(context: Context) -> CheckResult:
    """The preset's own S3 URIs are in the pipeline's region, and a spot run may wait as long as it runs."""
    spec = context.input
    findings: list[CheckResult] = []
    if spec.spot:
        if spec.max_wait_minutes is None or spec.max_wait_minutes < spec.max_run_minutes:
            findings.append(
                CheckResult(
                    PRESET,
                    "fail",
                    f"spot max wait ({spec.max_wait_minutes} min) does not cover "
                    f"max run ({spec.max_run_minutes} min)",
                    f"set max_wait_minutes to at least {spec.max_run_minutes}",
                )
            )
        if not spec.has_checkpoint:
            findings.append(
                CheckResult(
                    PRESET,
                    "warn",
                    "spot preset without a checkpoint dir: an interruption restarts training from scratch",
                    "declare checkpoint=Checkpoint(dir=...) in the preset",
                )
            )
    uses = preset_buckets(context)
    s3 = context.client("s3")
    facts = context.parallel.all([partial(bucket_facts, s3, bucket) for bucket in uses])
    for (bucket, what), found in zip(uses.items(), facts):  # noqa: B905 (the image runs Python 3.9)
        findings.append(_bucket_verdict(PRESET, what, bucket, found, spec.run.region))
    return _combine(findings, spec)


def _combine(findings: list[CheckResult], spec: PreflightInput) -> CheckResult:
    problems = [f for f in findings if f.status != "pass"]
    if not problems:
        kind = (
            f"spot, waits up to {spec.max_wait_minutes} min for {spec.max_run_minutes} min of training"
            if spec.spot
            else "on-demand"
        )
        places = "; ".join(f.detail for f in findings) or "all S3 locations in the output bucket"
        return CheckResult(PRESET, "pass", f"{kind}; {places}")
    status: Status = max((f.status for f in problems), key=_SEVERITY.__getitem__)
    problems.sort(key=lambda f: -_SEVERITY[f.status])
    return CheckResult(
        PRESET, status, "; ".join(f.detail for f in problems), "; ".join(f.fix for f in problems if f.fix)
    )
