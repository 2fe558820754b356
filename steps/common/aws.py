"""The one AWS session factory: region, profile, endpoint and retry mode, for every command and step.

Imports only boto3/botocore, so it also runs inside the Preflight and BuildImage containers.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Literal
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProxyConnectionError,
)

# botocore's "standard" mode retries throttling and 5xx with backoff; creating calls stay safe because
# every create we make is either idempotent (client tokens, content-addressed keys) or preceded by a read.
# An AWS endpoint accepts a connection in well under a second: 5 s means the network dropped it.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=70)
USER_AGENT_EXTRA = "cvl-pipelines/0.1"
# The services the project calls (the type checker matches each to boto3's client for it).
Service = Literal[
    "codebuild",
    "ecr",
    "events",
    "iam",
    "logs",
    "s3",
    "sagemaker",
    "scheduler",
    "secretsmanager",
    "service-quotas",
    "sns",
    "sts",
]
# "Cannot connect" rarely heals within seconds (nothing listens, a proxy or VPN is off), so it gets
# fewer, shorter tries than botocore's eight, each said on stderr; the last error names what to check.
CONNECT_ATTEMPTS = 3
CONNECT_BACKOFF_SECONDS = 0.5
SAY_AGAIN_SECONDS = 10.0
CANNOT_CONNECT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)


def aws_session(region: str | None = None, profile: str | None = None) -> boto3.Session:
    """A boto3 session for `region` (else the environment's) and `profile` (else `AWS_PROFILE`)."""
    return boto3.Session(region_name=region, profile_name=profile or os.environ.get("AWS_PROFILE") or None)


def client(session: boto3.Session, service: Service, **overrides: Any) -> Any:
    """A boto3 client with the project's retry rules; honours `AWS_ENDPOINT_URL` as botocore does.

    botocore reads `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, so pointing every
    client at a local emulator needs nothing here beyond not overriding it.
    """
    config = RETRY_CONFIG.merge(Config(user_agent_extra=USER_AGENT_EXTRA))
    made = session.client(service, config=config, **overrides)
    # First among the needs-retry handlers: its answer (a delay, or False for "no retry") wins over
    # botocore's standard one; None leaves the decision to it.
    service_id = made.meta.service_model.service_id.hyphenize()
    made.meta.events.register_first(f"needs-retry.{service_id}", _retry_rules)
    made.meta.events.register(f"before-parse.{service_id}", _refuse_emulator_page)
    return made


def require_credentials(session: boto3.Session) -> None:
    """Raise botocore's `NoCredentialsError` now, before any work, when the session has no credentials."""
    if session.get_credentials() is None:
        raise NoCredentialsError()


def endpoint_override() -> str | None:
    """The endpoint every client is pointed at instead of AWS (`AWS_ENDPOINT_URL`), if any."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def lacks_api(status: int, body: str) -> bool:
    """Whether an answer is an emulator's error page for an API it does not implement: a 5xx HTML page
    from the endpoint `AWS_ENDPOINT_URL` names (AWS answers in its own formats, never with a page)."""
    return bool(endpoint_override()) and status >= 500 and "<html" in body[:500].lower()


def error_lacks_api(error: BaseException) -> bool:
    """Whether a botocore error is an emulator saying it lacks the API (see `lacks_api`)."""
    if not isinstance(error, ClientError):
        return False
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return lacks_api(status, str(error.response.get("Error", {}).get("Message", "")))


def _refuse_emulator_page(operation_model: Any = None, response_dict: Any = None, **_: Any) -> None:
    # Before parsing: a page is not XML or JSON, and a service's parser would fail without naming the
    # call. As a ClientError of the call, it is neither retried (asking again changes nothing) nor parsed.
    status = int((response_dict or {}).get("status_code") or 0)
    body = (response_dict or {}).get("body")
    if isinstance(body, bytes) and lacks_api(status, body[:2000].decode("utf-8", "replace")):
        # The shape botocore gives a ClientError (its stubs' TypedDict also wants the fields AWS adds).
        answer: Any = {
            "Error": {"Code": str(status), "Message": body.decode("utf-8", "replace")},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(answer, operation_model.name)


def _retry_rules(
    attempts: int, response: Any = None, caught_exception: Any = None, operation: Any = None, **_: Any
) -> float | bool | None:
    if isinstance(caught_exception, CANNOT_CONNECT):
        if attempts >= CONNECT_ATTEMPTS:
            return False
        delay = CONNECT_BACKOFF_SECONDS * attempts
        where = where_of(caught_exception)
        _say_once(
            (where, attempts),
            f"cannot connect to {where}: retrying {getattr(operation, 'name', 'the call')} in {delay:g} s "
            f"(try {attempts + 1} of {CONNECT_ATTEMPTS})",
        )
        return delay
    return None


_said: dict[tuple[str, int], float] = {}


def _say_once(key: tuple[str, int], line: str) -> None:
    # Calls made together (preflight's checks run on threads) fail together: one line says it for all.
    now = time.monotonic()
    if now - _said.get(key, -SAY_AGAIN_SECONDS) >= SAY_AGAIN_SECONDS:
        _said[key] = now
        sys.stderr.write(line + "\n")


def where_of(error: BaseException) -> str:
    """The scheme and host an unreachable call went to (no path, no query)."""
    url = str(getattr(error, "kwargs", {}).get("endpoint_url", "") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url or "the endpoint"
