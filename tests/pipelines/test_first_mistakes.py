"""The mistakes a newcomer makes first, each answered in one line and quickly: no credentials, an
endpoint nothing listens on, and an emulator that lacks what a run needs (plain moto)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto.sagemaker.responses import SageMakerResponse

from pipelines import preflight, run, status, stop, upsert
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world
from tests.harness.moto_server import MotoServer, free_port

NANOGPT = ["--example", "nanogpt", "--preset", "smoke"]
NO_CREDENTIALS = (
    "error: no AWS credentials: set AWS_PROFILE (aws configure sso / aws configure) or AWS_ACCESS_KEY_ID\n"
)
COMMANDS: dict[str, tuple[Callable[[list[str] | None], int], list[str]]] = {
    "preflight": (preflight.main, NANOGPT),
    "run": (run.main, NANOGPT),
    "upsert": (upsert.main, NANOGPT),
    "status": (status.main, []),
    "stop": (stop.main, ["4f1jiq2kmx9b"]),
}


def _timed(
    capsys: pytest.CaptureFixture[str], main: Callable[[list[str] | None], int], argv: list[str]
) -> Any:
    started = time.monotonic()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_without_credentials_every_command_says_so_in_one_line(
    name: str, aws: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable)
    main, argv = COMMANDS[name]
    code, out, err, seconds = _timed(capsys, main, argv)
    assert (code, err) == (1, NO_CREDENTIALS), out + err
    assert "FAIL" not in out
    assert seconds < 10  # before the SDK's compile: nothing else is worth doing without credentials


@pytest.mark.slow
@pytest.mark.parametrize("name", ["preflight", "run", "status"])
def test_an_endpoint_nothing_listens_on_is_retried_aloud_then_named_in_one_line(
    name: str, aws: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # a port of its own: each test hears its own retries
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    main, argv = COMMANDS[name]
    code, out, err, seconds = _timed(capsys, main, argv)
    lines = err.splitlines()
    assert code == 1, out + err
    assert lines[-1] == (
        f"error: cannot connect to {endpoint} (AWS_ENDPOINT_URL): start the emulator there, "
        "or unset AWS_ENDPOINT_URL to use AWS"
    )
    retries = [line for line in lines if line.startswith(f"cannot connect to {endpoint}: retrying ")]
    assert [line[-12:] for line in retries] == ["(try 2 of 3)", "(try 3 of 3)"], err
    assert "FAIL" not in out
    assert seconds < (60 if name == "run" else 15)  # run compiles its pipeline (the SDK) meanwhile


@pytest.mark.slow
def test_off_aws_an_unreachable_endpoint_names_the_network_and_region(
    aws: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", f"http://127.0.0.1:{free_port()}")
    code, _, err, _ = _timed(capsys, status.main, [])
    assert code == 1
    assert err.splitlines()[-1].endswith(
        ": check the network (a proxy: HTTPS_PROXY) and the region (--region or AWS_DEFAULT_REGION)"
    )


@pytest.mark.slow
def test_run_on_an_emulator_without_the_steps_api_says_so_up_front_and_does_not_follow(
    aws: MotoServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)  # bootstrapped, as the README's moto section
    calls = []

    def lacks_steps(self: SageMakerResponse) -> Any:  # as plain moto: not implemented, an HTML 500 page
        calls.append(self)
        raise NotImplementedError("The list_pipeline_execution_steps action has not been implemented")

    with mock.patch.object(SageMakerResponse, "list_pipeline_execution_steps", lacks_steps, create=True):
        code, out, err, _ = _timed(capsys, run.main, [*NANOGPT, "--skip-preflight"])
    lacking = f"the emulator at {aws.endpoint} lacks ListPipelineExecutionSteps and runs no step"
    lines = out.splitlines()
    assert code == 0, out + err
    assert lines[0] == f"note: {lacking}: the pipeline is upserted and started, but nothing trains"
    assert lines[-1] == f"started, not followed: {lacking}"
    assert len(calls) == 1  # the probe, asked once: an emulator's missing API is not retried
    assert "Succeeded" not in out + err
