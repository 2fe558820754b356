"""The one AWS session factory: region, profile, endpoint and retry mode, for every command and step.

Imports only boto3/botocore, so it also runs inside the Preflight and BuildImage containers.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import boto3
from botocore.config import Config

# botocore's "standard" mode retries throttling and 5xx with backoff; creating calls stay safe because
# every create we make is either idempotent (client tokens, content-addressed keys) or preceded by a read.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=70)
USER_AGENT_EXTRA = "cvl-pipelines/0.1"
# The services the project calls (the type checker matches each to boto3's client for it).
Service = Literal[
    "codebuild",
    "ecr",
    "iam",
    "logs",
    "s3",
    "sagemaker",
    "scheduler",
    "secretsmanager",
    "service-quotas",
    "sts",
]


def aws_session(region: str | None = None, profile: str | None = None) -> boto3.Session:
    """A boto3 session for `region` (else the environment's) and `profile` (else `AWS_PROFILE`)."""
    return boto3.Session(region_name=region, profile_name=profile or os.environ.get("AWS_PROFILE") or None)


def client(session: boto3.Session, service: Service, **overrides: Any) -> Any:
    """A boto3 client with the project's retry mode; honours `AWS_ENDPOINT_URL` as botocore does.

    botocore reads `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, so pointing every
    client at a local emulator needs nothing here beyond not overriding it.
    """
    config = RETRY_CONFIG.merge(Config(user_agent_extra=USER_AGENT_EXTRA))
    return session.client(service, config=config, **overrides)
