"""Content-addressed upload of the step bundle: sent at most once, manifest last."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from steps.common.aws import client
from steps.common.s3 import object_exists
from steps.sdk.bundle import MANIFEST, Bundle


def ensure_bundle(session: Any, bundle: Bundle, bucket: str) -> bool:
    """Upload the bundle unless its manifest is there (it is written last); True when uploaded."""
    s3 = client(session, "s3")
    prefix = bundle.key_prefix
    if object_exists(s3, bucket, f"{prefix}/{MANIFEST}"):
        return False
    files = {name: data for name, data in bundle.files.items() if name != MANIFEST}
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda item: s3.put_object(Bucket=bucket, Key=f"{prefix}/{item[0]}", Body=item[1]),
                files.items(),
            )
        )
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}", Body=bundle.files[MANIFEST])
    return True
