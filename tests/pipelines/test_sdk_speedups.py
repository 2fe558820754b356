"""The compile-time SDK shortcuts change nothing that is compiled; the SDK still has what they replace."""

from __future__ import annotations

import inspect
from pathlib import Path

from configs import DeployTarget
from pipelines import catalog, sdk_speedups
from pipelines.compile import compile_pipeline
from tests.conftest import BUCKET, REGION, ROLE_ARN

ROOT = Path(__file__).resolve().parents[2]


def test_the_replaced_sdk_internals_are_still_there() -> None:
    from sagemaker.core import common_utils
    from sagemaker.mlops.workflow import steps

    source = inspect.getsource(steps.ProcessingStep.__init__)
    assert "LocalSagemakerClient().create_processing_job.__name__" in source
    assert callable(common_utils._botocore_resolver)


def test_compiling_with_the_shortcuts_gives_the_same_definition() -> None:
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "smoke")
    target = DeployTarget(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, account=ROLE_ARN.split(":")[4])
    before = compile_pipeline(example, "smoke", preset, target)
    sdk_speedups.apply()
    sdk_speedups.apply()
    after = compile_pipeline(example, "smoke", preset, target)
    assert after.definition == before.definition
