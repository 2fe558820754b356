"""Turn the AWS errors users of the old runner met into one line that says what to do."""

from __future__ import annotations

import os

from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from steps.common.aws import CANNOT_CONNECT, endpoint_override, error_lacks_api, where_of
from steps.common.messages import one_line

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_WRONG_REGION = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}


def explain(error: BaseException) -> str:
    """One line naming what failed and how to fix it, for AWS errors a user can act on."""
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE (aws configure sso / aws configure) or AWS_ACCESS_KEY_ID"
    if isinstance(error, NoRegionError):
        return "no region: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(error, CANNOT_CONNECT):
        return cannot_connect(error)
    if error_lacks_api(error):
        return lacking(getattr(error, "operation_name", ""))
    if not isinstance(error, ClientError):
        return one_line(str(error))
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = one_line(str(details.get("Message", "")))
    operation = error.operation_name
    if code in _ACCESS_DENIED:
        profile = os.environ.get("AWS_PROFILE", "the default profile")
        return (
            f"AccessDenied on {operation}: {message} — the credentials of {profile} may not call it; "
            "grant the action (scoped to the cvl-* resources) or use a profile that can"
        )
    if code == "ResourceLimitExceeded":
        return (
            f"ResourceLimitExceeded on {operation}: {message} — run `python -m pipelines.preflight` "
            "for the quota code and the exact `aws service-quotas request-service-quota-increase` command"
        )
    if code in _WRONG_REGION:
        return (
            f"{code} on {operation}: the bucket is in another region than the pipeline — pass --region "
            "with the bucket's region, or use a bucket in this region (python -m pipelines.bootstrap)"
        )
    if code in ("NoSuchBucket", "404") and operation in ("HeadBucket", "PutObject", "HeadObject"):
        return f"{code} on {operation}: the output bucket does not exist — create it with python -m pipelines.bootstrap"
    if code in _BAD_CREDENTIALS:
        return f"{code} on {operation}: the AWS credentials are expired or invalid — log in again (aws sso login)"
    return f"{code} on {operation}: {message}"


def cannot_connect(error: Exception) -> str:
    """The unreachable endpoint, and the setting that chose it."""
    where = where_of(error)
    if endpoint_override():
        return (
            f"cannot connect to {where} (AWS_ENDPOINT_URL): start the emulator there, or unset "
            "AWS_ENDPOINT_URL to use AWS"
        )
    return (
        f"cannot connect to {where}: check the network (a proxy: HTTPS_PROXY) and the region "
        "(--region or AWS_DEFAULT_REGION)"
    )


def lacking(operation: str) -> str:
    """An emulator without `operation`, said as such."""
    return (
        f"the emulator at {endpoint_override()} (AWS_ENDPOINT_URL) does not implement {operation}: "
        "this command needs it (plain moto lacks it; see docs/guide.md, Run against an emulator)"
    )
