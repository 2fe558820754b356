"""S3 helpers shared by the steps and the commands (boto3 only, so the containers can use them)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """True when `s3://bucket/key` exists; other errors (AccessDenied, wrong region) propagate."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True
