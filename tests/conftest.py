"""Shared fixtures: every AWS call goes to a moto server on loopback; nothing leaves the machine."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import call_log, events_api, sagemaker_api  # noqa: E402
from tests.harness.moto_server import ACCOUNT, MotoServer  # noqa: E402
from tests.harness.network import only_loopback  # noqa: E402

REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution"
BUCKET = "cvl-test-bucket"

# No test may read the developer's AWS config or credentials, or reach instance metadata.
_ISOLATED_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "SAGEMAKER_VALIDATE_ROLE": "false",
    # The SDK looks for its defaults files under the XDG folders; the developer's must not change
    # what tests compile (an override variable would have to name an existing file).
    "XDG_CONFIG_HOME": str(ROOT / "tests" / "harness" / "no-config"),
    "XDG_CONFIG_DIRS": str(ROOT / "tests" / "harness" / "no-config"),
}
for _name in (
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
    "SAGEMAKER_USER_CONFIG_OVERRIDE",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "SAGEMAKER_ROLE_ARN",
    "SAGEMAKER_OUTPUT_BUCKET",
    "AWS_REGION",
):
    os.environ.pop(_name, None)
os.environ.update(_ISOLATED_ENV)


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """Fail any test whose code connects outside loopback."""
    with only_loopback():
        yield


logging.getLogger("werkzeug").setLevel(logging.WARNING)
call_log.install()


@pytest.fixture(autouse=True)
def _calls_are_declared() -> Iterator[None]:
    """Fail a test whose code made an AWS call that its principal's grants in steps/common/permissions.py
    do not allow (the principal is whoever's credentials made it: the user, or a role the harness assumed)."""
    start = len(call_log.CALLS)
    yield
    missing = call_log.uncovered(call_log.CALLS[start:])
    if missing:
        pytest.fail(
            "AWS calls not covered by steps/common/permissions.py:\n  " + "\n  ".join(missing), pytrace=False
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A clean moto server reached through AWS_ENDPOINT_URL, with the deploy settings in the environment."""
    moto_server.reset()
    sagemaker_api.install()
    events_api.install()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SAGEMAKER_OUTPUT_BUCKET", BUCKET)
    yield moto_server


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-golden` rewrites tests/golden/*.json from the current compiler (review the diff)."""
    parser.addoption("--update-golden", action="store_true", help="rewrite the golden pipeline definitions")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))
