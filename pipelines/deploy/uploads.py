"""Content-addressed uploads: the step bundle sent at most once (manifest last), and which uploads are
in S3 already, asked in bulk."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from steps.common.aws import client
from steps.common.s3 import object_exists
from steps.sdk.bundle import MANIFEST, Bundle

_THREADS = 8
# Up to this many keys, a HEAD each costs no more requests than listing them.
_HEAD_AT_MOST = _THREADS
_PAGE = 1000  # what S3 returns at most; moto's default is 100
_NEIGHBOURS = 4


def ensure_bundle(session: Any, bundle: Bundle, bucket: str) -> bool:
    """Upload the bundle unless its manifest is there (it is written last); True when uploaded."""
    s3 = client(session, "s3")
    prefix = bundle.key_prefix
    if object_exists(s3, bucket, f"{prefix}/{MANIFEST}"):
        return False
    files = {name: data for name, data in bundle.files.items() if name != MANIFEST}
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        list(
            pool.map(
                lambda item: s3.put_object(Bucket=bucket, Key=f"{prefix}/{item[0]}", Body=item[1]),
                files.items(),
            )
        )
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}", Body=bundle.files[MANIFEST])
    return True


def present(s3: Any, bucket: str, keys: Iterable[str]) -> set[str]:
    """The `keys` that exist in `bucket`.

    A few keys get a HEAD each. Many are split into up to eight runs of neighbouring keys (in S3's
    order), and each run is listed from its first key to its last, the runs on threads: a listing page
    answers for up to 1,000 keys, so 500 uploads cost a handful of requests, not 500; older uploads
    lying between the keys add pages. A run whose listing is denied falls back to a HEAD for each key.
    """
    wanted = sorted(set(keys))  # Python's order of str is S3's order of their UTF-8 bytes
    if len(wanted) <= _HEAD_AT_MOST:
        runs = [[key] for key in wanted]
    else:
        size = -(-len(wanted) // _THREADS)
        runs = [wanted[start : start + size] for start in range(0, len(wanted), size)]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        found = pool.map(lambda run: _present_in_run(s3, bucket, run), runs)
        return set().union(*found)


def _present_in_run(s3: Any, bucket: str, run: list[str]) -> set[str]:
    if len(run) == 1:
        return set(run) if object_exists(s3, bucket, run[0]) else set()
    wanted, last = set(run), run[-1]
    listed: set[str] = set()
    # Pages start at the run's size with room for neighbours (a bundle is four objects) and double:
    # a full page of 1,000 would mostly list keys past the run's end, which another run lists.
    size = min(_PAGE, _NEIGHBOURS * len(run))
    token: dict[str, str] = {}
    try:
        while True:
            page = s3.list_objects_v2(
                Bucket=bucket,
                Prefix=os.path.commonprefix(run),
                StartAfter=run[0][:-1],  # sorts just before the first key
                MaxKeys=size,
                **token,
            )
            contents = page.get("Contents", [])
            listed.update(item["Key"] for item in contents if item["Key"] in wanted)
            if not page.get("IsTruncated") or not contents or contents[-1]["Key"] >= last:
                return listed
            token, size = {"ContinuationToken": page["NextContinuationToken"]}, min(_PAGE, 2 * size)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDenied":
            raise
        return {key for key in run if object_exists(s3, bucket, key)}
