"""Loading and configuring the SageMaker SDK: offline-safe, quiet, telemetry off.

The SDK is imported only inside these functions: it costs seconds and hundreds of MB, and commands
that only check or build must not pay for it.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_OFFLINE_ENV = {
    # The SDK builds default boto3 sessions of its own (at import and in ProcessingStep); without
    # credentials botocore would ask the EC2 metadata endpoint for them.
    "AWS_EC2_METADATA_DISABLED": "true",
    # ModelTrainer and Pipeline.upsert call IAM to validate the role; our preflight checks it instead.
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


@contextmanager
def sdk_environment(region: str, offline: bool) -> Iterator[None]:
    """Environment for importing and using the SDK: a region (its import fails without one) and,
    when `offline`, no metadata lookups or IAM validation. Restores the environment afterwards."""
    wanted = {"AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or region}
    if offline:
        wanted |= _OFFLINE_ENV
    else:
        wanted["SAGEMAKER_VALIDATE_ROLE"] = os.environ.get("SAGEMAKER_VALIDATE_ROLE", "false")
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    quiet_sdk_logging()
    patch_sdk()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def quiet_sdk_logging(level: int = logging.ERROR) -> None:
    """Silence the SDK's INFO/WARNING chatter (config file lookups, popped job names).

    Importing the SDK also sets the root logger to INFO (`logging.basicConfig` in its experiments
    module), after which botocore would announce where it found credentials.
    """
    for name in ("sagemaker", "sagemaker.config", "sagemaker.core", "sagemaker.mlops", "sagemaker.train"):
        logging.getLogger(name).setLevel(level)
    logging.getLogger("botocore").setLevel(logging.WARNING)


class _JobMethodNames:
    """Stands in for `LocalSagemakerClient` where the SDK only reads its method names."""

    def create_processing_job(self) -> None:
        """Name only."""

    def create_transform_job(self) -> None:
        """Name only."""


def patch_sdk() -> None:
    """Three changes to SDK 3.27 internals (pinned; tests/steps/test_sdk.py checks they still apply
    and that the compiled definition is the same with and without them). Idempotent.

    - Telemetry off: the SDK sends an HTTPS GET (and an STS lookup) per traced call. Its switch is
      `TelemetryOptOut` in its defaults config, but with any defaults config present it re-validates
      the whole config schema on every lookup (~0.25 s each, 40+ per compile), so the one sending
      function is replaced instead.
    - `ProcessingStep.__init__` builds a whole `LocalSagemakerClient()` (a `LocalSession` with its own
      boto3 session: ~0.7 s) only to read the name of its `create_processing_job` method.
    - `image_uris.retrieve` re-reads botocore's endpoints file on every call (~0.45 s); the resolver
      is a pure function of the installed botocore, so it is cached.
    """
    from sagemaker.core import common_utils
    from sagemaker.core.telemetry import telemetry_logging
    from sagemaker.mlops.workflow import steps

    telemetry_logging._send_telemetry_request = _no_telemetry
    steps.LocalSagemakerClient = _JobMethodNames
    if not hasattr(common_utils._botocore_resolver, "cache_info"):
        common_utils._botocore_resolver = functools.cache(common_utils._botocore_resolver)


def _no_telemetry(*args: Any, **kwargs: Any) -> None:
    return None


def pipeline_session(boto_session: Any, bucket: str) -> Any:
    """A `PipelineSession` on `boto_session`; creating it calls no AWS API."""
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    return PipelineSession(boto_session=boto_session, default_bucket=bucket)
