"""`upsert` learns which uploads are still in S3 in bulk: the answer is exactly what is there, however
the keys lie among older uploads, and the same when the listing is denied."""

import boto3
import pytest

from pipelines.deploy.uploads import present
from tests.conftest import BUCKET, REGION
from tests.harness import faults

BUNDLE_FILES = ("manifest.json", "preset.json", "run.json", "steps.zip")


def _bundle(digest: str) -> str:
    return f"cvl-pipelines/bundles/{digest}/manifest.json"


def _context(repository: str, digest: str) -> str:
    return f"cvl-pipelines/contexts/{repository}/{digest}.zip"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def _put(s3, keys) -> None:
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")


def _bucket_of_a_tree(s3) -> tuple[set[str], set[str]]:
    """Today's bundles and contexts among older ones; some of today's lost (a lifecycle rule's work)."""
    today = {_bundle(f"{index:02x}{'a' * 30}") for index in range(0, 256, 7)}
    today |= {_context(f"cvl-example-{index}", f"{index:064x}") for index in range(12)}
    older = [
        f"cvl-pipelines/bundles/{index:02x}{'0' * 30}/{name}"
        for index in range(0, 256, 5)
        for name in BUNDLE_FILES
    ]
    older += [_context(f"cvl-example-{index}", f"{index + 100:064x}") for index in range(12)]
    siblings = [
        key.replace("manifest.json", name) for key in today if "bundles" in key for name in BUNDLE_FILES[1:]
    ]
    lost = {key for number, key in enumerate(sorted(today)) if number % 6 == 0}
    _put(s3, [*older, *siblings, *(today - lost)])
    return today, today - lost


def test_present_names_exactly_the_uploads_that_are_there(s3):
    wanted, there = _bucket_of_a_tree(s3)
    never = {_bundle("f" * 32), _context("cvl-zzz", "0" * 64), "cvl-pipelines/bundles/0"}

    assert present(s3, BUCKET, wanted | never) == there


def test_runs_that_span_many_older_uploads_read_every_page(s3):
    # Nine keys make runs of two; a hundred older uploads between them take several pages each.
    wanted = {_bundle(f"{index}{'b' * 31}") for index in range(9)}
    older = [
        f"cvl-pipelines/bundles/{index}{'a' * 30}{filler:02d}/run.json"
        for index in range(9)
        for filler in range(12)
    ]
    lost = _bundle(f"4{'b' * 31}")
    _put(s3, [*older, *(wanted - {lost})])

    assert present(s3, BUCKET, wanted) == wanted - {lost}


def test_a_denied_listing_asks_for_each_key(s3):
    wanted, there = _bucket_of_a_tree(s3)

    with faults.deny("s3", "ListObjectsV2"):
        assert present(s3, BUCKET, wanted) == there


def test_a_few_keys_are_asked_one_by_one(s3):
    _put(s3, [_bundle("c" * 32)])

    with faults.deny("s3", "ListObjectsV2"):  # a listing would be refused: none is made
        assert present(s3, BUCKET, {_bundle("c" * 32), _bundle("d" * 32)}) == {_bundle("c" * 32)}
