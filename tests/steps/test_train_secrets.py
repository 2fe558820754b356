"""Secrets by name: the training entry point reads them from Secrets Manager (the moto server, over HTTP)
when the job starts, with boto3 or, in an image without it, with stdlib SigV4; values never reach a log."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from steps.train.job import secrets_manager, sigv4
from tests.conftest import REGION
from tests.harness.moto_server import MotoServer
from tests.steps.test_train_entry import Tree, preset

# Built at run time, so the repository holds no string a secrets scanner would flag.
TOKEN_VALUE = "hf_" + "Q7w" * 12
SECRET_ID = "cvl/HF_TOKEN"
CONTAINER_KEY_ID = "ASIA" + "EXAMPLE0" * 2  # temporary credentials' shape

PRINT_SECRET_PY = """\
import hashlib, os, sys
token = os.environ.get("HF_TOKEN", "")
print("token in the log: " + token, flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "token.sha256"), "w") as f:
    f.write(hashlib.sha256(token.encode()).hexdigest())
if "--fail" in sys.argv:
    print("failing with " + token, file=sys.stderr)
    sys.exit(4)
"""

NO_BOTO3 = 'raise ImportError("this image has no boto3")\n'


@pytest.fixture
def secret(aws: MotoServer) -> str:
    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(Name=SECRET_ID, SecretString=TOKEN_VALUE)
    return SECRET_ID


def _environ(aws: MotoServer, **extra: str) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    env.update(extra)
    return env


def test_stdlib_client_reads_the_secret_over_http(aws: MotoServer, secret: str) -> None:
    assert secrets_manager.get_secret_stdlib(secret, _environ(aws)) == TOKEN_VALUE


def test_boto3_client_reads_the_secret(aws: MotoServer, secret: str) -> None:
    assert secrets_manager.get_secret_boto3(secret, _environ(aws)) == TOKEN_VALUE


@pytest.mark.parametrize("get", [secrets_manager.get_secret_stdlib, secrets_manager.get_secret_boto3])
def test_a_missing_secret_is_named_with_awss_error(aws: MotoServer, get: Any) -> None:
    with pytest.raises(secrets_manager.SecretError, match=r"secret cvl/MISSING: ResourceNotFoundException"):
        get("cvl/MISSING", _environ(aws))


def test_signature_is_the_one_botocore_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://secretsmanager.eu-west-1.amazonaws.com/"
    body = b'{"SecretId": "cvl/HF_TOKEN"}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    credentials = {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "example-secret", "Token": "session"}
    now = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC)
    ours = sigv4.sigv4_headers(url, body, headers, credentials, "eu-west-1", now)

    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: now.replace(tzinfo=None))
    SigV4Auth(
        Credentials("AKIDEXAMPLE", "example-secret", "session"), "secretsmanager", "eu-west-1"
    ).add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Security-Token"] == "session"


class _CredentialsEndpoint(http.server.BaseHTTPRequestHandler):
    """The container credentials endpoint as AWS documents it (ECS, SageMaker): JSON credentials for a
    GET, with the authorization token when one is configured."""

    seen: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        body = json.dumps(
            {
                "AccessKeyId": CONTAINER_KEY_ID,
                "SecretAccessKey": "container-secret",
                "Token": "container-token",
                "Expiration": "2026-11-29T18:00:00Z",
                "RoleArn": "arn:aws:iam::123456789012:role/cvl-sagemaker-execution",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def credentials_endpoint() -> Iterator[str]:
    _CredentialsEndpoint.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CredentialsEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/credentials/job"
    server.shutdown()


def test_stdlib_client_uses_the_container_credentials_endpoint(
    aws: MotoServer, secret: str, credentials_endpoint: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("endpoint-token\n")
    environ = {
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": credentials_endpoint,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        "TRAINING_JOB_ARN": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/cvl-x",
    }
    assert secrets_manager.aws_credentials(environ)["AccessKeyId"] == CONTAINER_KEY_ID
    assert secrets_manager.get_secret_stdlib(secret, environ) == TOKEN_VALUE
    assert _CredentialsEndpoint.seen[-1] == "endpoint-token"


def test_region_comes_from_the_arn_then_the_environment_then_the_job() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cvl/x-AbCdEf"
    assert secrets_manager.aws_region({"AWS_DEFAULT_REGION": "us-east-1"}, arn) == "eu-west-1"
    assert (
        secrets_manager.aws_region({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-east-1"})
        == "ap-south-1"
    )
    job = "arn:aws:sagemaker:us-west-2:123456789012:training-job/cvl-x"
    assert secrets_manager.aws_region({"TRAINING_JOB_ARN": job}) == "us-west-2"
    with pytest.raises(secrets_manager.SecretError, match="no AWS region"):
        secrets_manager.aws_region({})


def _secret_tree(tmp_path: Path, aws: MotoServer, secret_id: str, *, boto3_in_image: bool) -> Tree:
    tree = Tree(tmp_path)
    (tree.code / "train.py").write_text(PRINT_SECRET_PY)
    tree.configure({}, preset(prepare=[], checkpoint=None, keep=[], secrets={"HF_TOKEN": secret_id}))
    if not boto3_in_image:
        # An example image without boto3: the entry point must fall back to its stdlib client.
        (tmp_path / "site" / "boto3").mkdir(parents=True)
        (tmp_path / "site" / "boto3" / "__init__.py").write_text(NO_BOTO3)
    return tree


def _run(tree: Tree, tmp_path: Path, aws: MotoServer) -> subprocess.CompletedProcess[str]:
    env = tree.env()
    env.update(_environ(aws))
    env.pop("HF_TOKEN", None)
    if (tmp_path / "site").is_dir():
        env["PYTHONPATH"] = str(tmp_path / "site")
    return subprocess.run(
        [sys.executable, str(tree.entry), "train"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("boto3_in_image", [True, False], ids=["boto3", "stdlib"])
def test_secret_reaches_the_command_by_name_and_is_masked_in_the_log(
    aws: MotoServer, secret: str, tmp_path: Path, boto3_in_image: bool
) -> None:
    tree = _secret_tree(tmp_path, aws, secret, boto3_in_image=boto3_in_image)
    done = _run(tree, tmp_path, aws)
    assert done.returncode == 0, done.stdout + done.stderr
    digest = hashlib.sha256(TOKEN_VALUE.encode()).hexdigest()
    assert (tree.ml / "model" / "token.sha256").read_text() == digest
    assert "cvl-entry: secret HF_TOKEN <- cvl/HF_TOKEN" in done.stdout
    assert "token in the log: ***" in done.stdout
    assert TOKEN_VALUE not in done.stdout + done.stderr
    config = (tree.ml / "input" / "config" / "hyperparameters.json").read_text()
    assert TOKEN_VALUE not in config and secret in config


def test_a_failed_command_keeps_the_secret_out_of_the_failure_reason(
    aws: MotoServer, secret: str, tmp_path: Path
) -> None:
    tree = _secret_tree(tmp_path, aws, secret, boto3_in_image=False)
    tree.configure(
        {}, preset(prepare=[], checkpoint=None, keep=[], secrets={"HF_TOKEN": secret}), extra=["--fail"]
    )
    done = _run(tree, tmp_path, aws)
    assert done.returncode == 4
    failure = (tree.ml / "output" / "failure").read_text()
    assert "failing with ***" in failure
    assert TOKEN_VALUE not in failure + done.stdout + done.stderr


def test_an_unreadable_secret_fails_the_job_before_the_command_naming_it(
    aws: MotoServer, tmp_path: Path
) -> None:
    tree = _secret_tree(tmp_path, aws, "cvl/NOT_THERE", boto3_in_image=False)
    done = _run(tree, tmp_path, aws)
    assert done.returncode == 1
    failure = (tree.ml / "output" / "failure").read_text()
    assert failure.startswith("cvl entry point: secret cvl/NOT_THERE: ResourceNotFoundException")
    assert not (tree.ml / "model" / "token.sha256").exists()


@pytest.mark.parametrize("boto3_in_image", [True, False], ids=["boto3", "stdlib"])
def test_an_optional_secret_that_does_not_exist_leaves_the_variable_unset(
    aws: MotoServer, tmp_path: Path, boto3_in_image: bool
) -> None:
    tree = _secret_tree(tmp_path, aws, "cvl/NOT_THERE", boto3_in_image=boto3_in_image)
    the_preset = preset(prepare=[], checkpoint=None, keep=[], secrets={"HF_TOKEN": "cvl/NOT_THERE"})
    tree.configure({}, the_preset | {"optional_secrets": ["HF_TOKEN"]})
    done = _run(tree, tmp_path, aws)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cvl-entry: secret cvl/NOT_THERE: ResourceNotFoundException" in done.stdout
    assert ": HF_TOKEN left unset" in done.stdout
    assert (tree.ml / "model" / "token.sha256").read_text() == hashlib.sha256(b"").hexdigest()
