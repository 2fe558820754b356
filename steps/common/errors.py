"""AWS's error answers, read one way everywhere: the code of a ClientError, and whether it is a refusal.

Stdlib and botocore only: the Preflight and BuildImage jobs use it.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

# What services answer when IAM refuses a call (S3 HEAD has no body: its status stands in).
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "403",
        "Forbidden",
    }
)


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError (the HTTP status for body-less S3 HEAD errors)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_access_denied(error: BaseException) -> bool:
    """Whether `error` is AWS refusing the caller permission."""
    return isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES
