"""Faults for the in-process moto server: AccessDenied on one API, and network latency like AWS's.

moto does not enforce IAM by default, so `deny(service, operation)` makes one API answer AccessDenied in
the shape that service's protocol uses (JSON `AccessDeniedException`, query/XML `AccessDenied`, or a
body-less 403 for S3 HEAD).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.core.exceptions import _RESTError as RESTError
from moto.iam.responses import IamResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.responses import S3Response
from moto.sagemaker.responses import SageMakerResponse
from moto.servicequotas.responses import ServiceQuotasResponse
from moto.sts.responses import TokenResponse

from tests.harness.moto_server import ACCOUNT

CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/moto"  # who moto says is calling with any test credentials
_RESPONSES: dict[str, tuple[type, str]] = {
    "iam": (IamResponse, "iam"),
    "sts": (TokenResponse, "sts"),
    "s3": (S3Response, "s3"),
    "sagemaker": (SageMakerResponse, "sagemaker"),
    "service-quotas": (ServiceQuotasResponse, "servicequotas"),
}
_JSON_SERVICES = frozenset({"sagemaker", "service-quotas"})


def _snake(operation: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", operation).lower()


@contextmanager
def deny(service: str, operation: str) -> Iterator[None]:
    """Make `operation` of `service` (boto3 names: "iam", "SimulatePrincipalPolicy") answer AccessDenied."""
    response_class, prefix = _RESPONSES[service]
    message = f"User: {CALLER_ARN} is not authorized to perform: {prefix}:{operation}"

    original = getattr(response_class, _snake(operation))

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        if service == "s3" and operation == "HeadBucket":
            # S3 still names the bucket's region on a 403, and a missing bucket stays a 404.
            status, headers, _ = original(self, *args, **kwargs)
            if status == 404:
                return status, headers, ""
            return 403, {"x-amz-bucket-region": headers["x-amz-bucket-region"]}, ""
        if service in _JSON_SERVICES:
            raise JsonRESTError("AccessDeniedException", message)
        if service == "s3":  # S3's own error body: <Error><Code>AccessDenied</Code>..., status 403
            raise S3AccessDeniedError()
        raise AccessDeniedError(CALLER_ARN, f"{prefix}:{operation}")

    with mock.patch.object(response_class, _snake(operation), refuse):
        yield


@contextmanager
def error(service: str, operation: str, code: str, message: str, status: int = 400) -> Iterator[None]:
    """Make `operation` of `service` answer a client error `code` (not retried by botocore)."""
    response_class, _ = _RESPONSES[service]

    def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        if service in _JSON_SERVICES:
            problem: Any = JsonRESTError(code, message)
        else:
            problem = RESTError(code, message)
        problem.code = status
        raise problem

    with mock.patch.object(response_class, _snake(operation), fail):
        yield


@contextmanager
def latency(low_ms: float, high_ms: float, seed: int = 0) -> Iterator[list[float]]:
    """Every request to the in-process moto server waits `low_ms`..`high_ms` first (a round trip to AWS).

    Yields the list of waits (seconds), one per request served.
    """
    original = DomainDispatcherApplication.__call__
    draw = random.Random(seed)
    waits: list[float] = []

    def slow(self: DomainDispatcherApplication, environ: Any, start_response: Any) -> Any:
        wait = draw.uniform(low_ms, high_ms) / 1000
        waits.append(wait)
        time.sleep(wait)
        return original(self, environ, start_response)

    with mock.patch.object(DomainDispatcherApplication, "__call__", slow):
        yield waits
