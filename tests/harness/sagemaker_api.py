"""Where moto's SageMaker answers differ from the documented API, make them match the documentation."""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ResourceNotFound
from moto.sagemaker.models import SageMakerModelBackend

_original_describe_pipeline = SageMakerModelBackend.describe_pipeline


def _describe_pipeline(self: SageMakerModelBackend, pipeline_name: str) -> dict[str, Any]:
    # AWS documents ResourceNotFound for an unknown pipeline; moto answers ValidationException.
    if not any(p.pipeline_name == pipeline_name or p.arn == pipeline_name for p in self.pipelines.values()):
        raise ResourceNotFound(f"Pipeline '{pipeline_name}' does not exist.")
    return _original_describe_pipeline(self, pipeline_name)


def install() -> None:
    """Patch the in-process moto backend (idempotent)."""
    SageMakerModelBackend.describe_pipeline = _describe_pipeline  # type: ignore[method-assign]
