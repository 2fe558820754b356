"""The SDK patches still find what they replace, and change nothing in what is compiled."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from configs import resolve_target
from pipelines import catalog
from pipelines.define.compile import compile_pipeline
from steps.sdk.offline import patch_sdk, sdk_environment
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness.network import no_network

ROOT = Path(__file__).resolve().parents[2]


def test_the_replaced_sdk_internals_are_still_there() -> None:
    with sdk_environment(REGION, offline=True):
        from sagemaker.core import common_utils
        from sagemaker.core.telemetry import telemetry_logging
        from sagemaker.mlops.workflow import steps

    source = inspect.getsource(steps.ProcessingStep.__init__)
    assert "LocalSagemakerClient().create_processing_job.__name__" in source
    assert callable(common_utils._botocore_resolver)
    assert "_send_telemetry_request(" in inspect.getsource(telemetry_logging._telemetry_emitter)


@pytest.mark.slow
def test_compiling_without_the_patches_gives_the_same_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "smoke")
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, environ={})
    patched = compile_pipeline(example, "smoke", preset, target)

    from sagemaker.core import common_utils
    from sagemaker.core.local.local_session import LocalSagemakerClient
    from sagemaker.mlops.workflow import steps

    monkeypatch.setattr(steps, "LocalSagemakerClient", LocalSagemakerClient)
    monkeypatch.setattr(common_utils, "_botocore_resolver", common_utils._botocore_resolver.__wrapped__)
    monkeypatch.setattr("steps.sdk.offline.patch_sdk", lambda: None)
    unpatched = compile_pipeline(example, "smoke", preset, target)
    assert unpatched.definition == patched.definition
    patch_sdk()


def test_telemetry_sends_nothing() -> None:
    with sdk_environment(REGION, offline=True):
        from sagemaker.core.telemetry import telemetry_logging

    with no_network() as attempted:
        thread = telemetry_logging._send_telemetry_request(1, [1], None)
    assert thread is None and attempted == []
