"""The preset's secrets: Secrets Manager values read at job start, set for the commands only.

The preset names secrets by id (`secrets: {ENV_NAME: secret-id}`); the values never appear in the job's
configuration, in the entry point's own environment, or in its log (the supervisor masks the commands'
output). With boto3 importable, its credential chain is used (the user's profile in `--local`); without
it (many example images), stdlib SigV4 with the environment's keys or the container credentials endpoint
SageMaker provides to training jobs.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
import urllib.error
import urllib.request
from typing import Any

from .log import log
from .sigv4 import sigv4_headers

CONTAINER_CREDENTIALS_HOST = "http://169.254.170.2"
SECRET_ATTEMPTS = 4


class SecretError(Exception):
    """A secret could not be read; the message names the secret and AWS's error, never a value."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def aws_region(environ: dict[str, str], secret_id: str = "") -> str:
    """The secret's region: its ARN's, else AWS_REGION / AWS_DEFAULT_REGION, else the training job's
    (SageMaker sets TRAINING_JOB_ARN in training containers)."""
    if secret_id.startswith("arn:"):
        return secret_id.split(":")[3]
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    job_arn = environ.get("TRAINING_JOB_ARN", "")
    if not region and job_arn.startswith("arn:") and job_arn.count(":") >= 5:
        region = job_arn.split(":")[3]
    if not region:
        raise SecretError("no AWS region: set AWS_DEFAULT_REGION or name the secret by its ARN")
    return region


def aws_credentials(environ: dict[str, str]) -> dict[str, str]:
    """AccessKeyId, SecretAccessKey and Token from the environment or the container credentials endpoint."""
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "AccessKeyId": environ["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": environ["AWS_SECRET_ACCESS_KEY"],
            "Token": environ.get("AWS_SESSION_TOKEN", ""),
        }
    headers = {}
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        url = CONTAINER_CREDENTIALS_HOST + environ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    elif environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        url = environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
        if environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
            with open(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as handle:
                token = handle.read().strip()
        if token:
            headers["Authorization"] = token
    else:
        raise SecretError(
            "no AWS credentials: neither AWS_ACCESS_KEY_ID nor a container credentials endpoint"
        )
    request = urllib.request.Request(url, headers=headers)
    # bandit B310 (URL schemes): the URL is the credentials endpoint the container's environment names.
    with urllib.request.urlopen(request, timeout=10) as answer:  # nosec B310
        found = json.loads(answer.read().decode("utf-8"))
    return {key: str(found.get(key) or "") for key in ("AccessKeyId", "SecretAccessKey", "Token")}


def secrets_endpoint(environ: dict[str, str], region: str) -> str:
    """Secrets Manager's endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL` (as botocore
    reads them), else the region's."""
    override = environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or environ.get("AWS_ENDPOINT_URL")
    if override:
        return override
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://secretsmanager.{region}.{suffix}"


def _secret_text(found: dict[str, Any], secret_id: str) -> str:
    if found.get("SecretString") is not None:
        return str(found["SecretString"])
    binary = found.get("SecretBinary")
    try:
        raw = binary if isinstance(binary, bytes) else base64.b64decode(binary or "")
        return raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise SecretError(f"secret {secret_id} holds binary data, not text: store it as a string") from None


def get_secret_stdlib(secret_id: str, environ: dict[str, str]) -> str:
    """GetSecretValue over HTTPS with SigV4 (stdlib only); retries throttling, 5xx and lost connections."""
    region = aws_region(environ, secret_id)
    url = secrets_endpoint(environ, region)
    body = json.dumps({"SecretId": secret_id}).encode("utf-8")
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
    }
    credentials = aws_credentials(environ)
    for attempt in range(SECRET_ATTEMPTS):
        now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 (datetime.UTC is 3.11+)
        request = urllib.request.Request(
            url, data=body, method="POST", headers=sigv4_headers(url, body, headers, credentials, region, now)
        )
        try:
            # bandit B310 (URL schemes): an https AWS endpoint, or the AWS_ENDPOINT_URL the user set.
            with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
                return _secret_text(json.loads(answer.read().decode("utf-8")), secret_id)
        except urllib.error.HTTPError as error:
            try:
                details = json.loads(error.read().decode("utf-8") or "{}")
            except ValueError:
                details = {}
            code = str(details.get("__type", error.code)).rsplit("#", 1)[-1]
            message = details.get("message") or details.get("Message") or error.reason
            retry = error.code >= 500 or code in ("ThrottlingException", "TooManyRequestsException")
            if not retry or attempt == SECRET_ATTEMPTS - 1:
                raise SecretError(f"secret {secret_id}: {code}: {message}", code) from None
        except (urllib.error.URLError, OSError) as error:
            if attempt == SECRET_ATTEMPTS - 1:
                raise SecretError(
                    f"secret {secret_id}: Secrets Manager unreachable at {url}: {error}"
                ) from None
        time.sleep(min(2**attempt, 8))
    raise SecretError(f"secret {secret_id}: no answer")  # not reached: the last attempt returns or raises


def get_secret_boto3(secret_id: str, environ: dict[str, str]) -> str:
    """GetSecretValue with boto3 (its full credential chain: profiles, SSO, container, instance)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        region: str | None = aws_region(environ, secret_id)
    except SecretError:
        region = None  # the profile may name one
    config = Config(retries={"mode": "standard", "max_attempts": SECRET_ATTEMPTS})
    try:
        client = boto3.session.Session().client("secretsmanager", region_name=region, config=config)
        return _secret_text(client.get_secret_value(SecretId=secret_id), secret_id)
    except ClientError as error:
        details = error.response.get("Error", {})
        code = str(details.get("Code"))
        raise SecretError(f"secret {secret_id}: {code}: {details.get('Message')}", code) from None
    except BotoCoreError as error:
        raise SecretError(f"secret {secret_id}: {error}") from None


def read_secrets(preset: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    """The preset's secrets as variables (name -> value); the caller masks the values in all output.

    A secret in `optional_secrets` that cannot be read (it does not exist, or there are no credentials)
    leaves its variable unset, as a CVlization script that forwards a host variable only when it is set
    (`${WANDB_API_KEY:+-e WANDB_API_KEY}`) does; the log line says why.
    """
    secrets = preset.get("secrets") or {}
    optional = set(preset.get("optional_secrets") or [])
    if not secrets:
        return {}
    try:
        import boto3  # noqa: F401  (only to learn whether the image has it)

        get = get_secret_boto3
    except ImportError:
        get = get_secret_stdlib
    values = {}
    for name, secret_id in sorted(secrets.items()):
        try:
            values[name] = get(secret_id, environ)
        except SecretError as error:
            if name not in optional:
                raise
            # Optional (forwarded only when set, on the host): also without credentials, as in a
            # `run --local` with no AWS account.
            log(f"{error}: {name} left unset")
            continue
        log(f"secret {name} <- {secret_id}")
    return values
