"""Where moto's SageMaker answers differ from the documented API, make them match the documentation."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

_original_describe_pipeline = SageMakerModelBackend.describe_pipeline


def _describe_pipeline(self: SageMakerModelBackend, pipeline_name: str) -> dict[str, Any]:
    # AWS documents ResourceNotFound for an unknown pipeline; moto answers ValidationException. A copy of
    # the pipelines: other requests create pipelines meanwhile (the server is threaded).
    known = list(self.pipelines.values())
    if not any(p.pipeline_name == pipeline_name or p.arn == pipeline_name for p in known):
        raise ResourceNotFound(f"Pipeline '{pipeline_name}' does not exist.")
    return _original_describe_pipeline(self, pipeline_name)


_original_create_pipeline = SageMakerResponse.create_pipeline


def _create_pipeline(self: SageMakerResponse) -> ActionResult:
    # AWS: CreatePipeline's ClientRequestToken makes it idempotent: the same token with the same request
    # completes once and answers the first answer again (moto ignores the token and refuses the name).
    token = self._get_param("ClientRequestToken")
    if not token:
        return _original_create_pipeline(self)
    request = {k: v for k, v in self._get_params().items() if k != "ClientRequestToken"}
    seen = self.sagemaker_backend.__dict__.setdefault("_cvl_pipeline_tokens", {})
    if token in seen:
        first_request, first_answer = seen[token]
        if first_request != request:
            raise ValidationError(f"ClientRequestToken {token} was already used with a different request.")
        return ActionResult(first_answer)
    answer = _original_create_pipeline(self)
    seen[token] = (request, answer.result)
    return answer


def install() -> None:
    """Patch the in-process moto backend (idempotent)."""
    SageMakerModelBackend.describe_pipeline = _describe_pipeline  # type: ignore[method-assign]
    SageMakerResponse.create_pipeline = _create_pipeline  # type: ignore[method-assign]
