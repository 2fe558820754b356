"""Content-addressed uploads: the step bundle and the build context, each sent at most once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from steps.common.aws import client
from steps.common.bundle import BUNDLE_PREFIX, MANIFEST, Bundle


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """True when `s3://bucket/key` exists; other errors (AccessDenied, wrong region) propagate."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def ensure_bundle(session: Any, bundle: Bundle, bucket: str) -> bool:
    """Upload the bundle unless its manifest is there (it is written last); True when uploaded."""
    s3 = client(session, "s3")
    prefix = f"{BUNDLE_PREFIX}/{bundle.digest[:32]}"
    if object_exists(s3, bucket, f"{prefix}/{MANIFEST}"):
        return False
    files = {name: data for name, data in bundle.files.items() if name != MANIFEST}
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=bucket, Key=f"{prefix}/{item[0]}", Body=item[1]), files.items()))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}", Body=bundle.files[MANIFEST])
    return True


def ensure_object(session: Any, bucket: str, key: str, data: bytes) -> bool:
    """Upload `data` to a content-addressed key unless it is there; True when uploaded."""
    s3 = client(session, "s3")
    if object_exists(s3, bucket, key):
        return False
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return True
