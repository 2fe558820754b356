"""Two compile-time costs of SDK 3.27 that buy nothing, removed (about 1.3 s of a 1.9 s compile).

- `ProcessingStep.__init__` (and `TransformStep`'s) builds `LocalSagemakerClient()`, which creates a
  whole `LocalSession` (a boto3 session, S3 resource and clients: ~0.7 s) only to read the method name
  `create_processing_job`. A class with the same method names answers that.
- `image_uris.retrieve` re-reads botocore's endpoints file on every call through
  `common_utils._botocore_resolver()` (~0.45 s); it is a pure function of the installed botocore.

Both are private SDK internals: the SDK is pinned and tests/pipelines/test_sdk_speedups.py checks that
the compiled definition is unchanged. Call `apply()` once the SDK may be imported (a region is set).
"""

from __future__ import annotations

import functools


class _JobMethodNames:
    """Stands in for `LocalSagemakerClient` where the SDK only reads its method names."""

    def create_processing_job(self) -> None:
        """Name only."""

    def create_transform_job(self) -> None:
        """Name only."""


def apply() -> None:
    """Install both (idempotent)."""
    from sagemaker.core import common_utils
    from sagemaker.mlops.workflow import steps

    steps.LocalSagemakerClient = _JobMethodNames  # type: ignore[misc, assignment]
    if not hasattr(common_utils._botocore_resolver, "cache_info"):
        common_utils._botocore_resolver = functools.cache(common_utils._botocore_resolver)
