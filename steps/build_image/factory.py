"""The BuildImage ProcessingStep: build and push the training image with CodeBuild unless it exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configs import DeployTarget
from steps.sdk.processing import container_step, execution_result_uri

STEP_NAME = "BuildImage"
PROPERTY_FILE = "BuildResult"
RESULT_OUTPUT = "result"
RESULT_FILE = "build.json"
# A cached BuildImage step reuses the image of an identical build context; the context digest is in
# its arguments, so any source change misses the cache.
CACHE_DAYS = 7


def build_image_step(
    *,
    bundle_uri: str,
    context_uri: str,
    context_digest: str,
    target: DeployTarget,
    session: Any,
    tags: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """The BuildImage step and the PropertyFile (`image_uri`, `cached`, `build_id`) that Train reads."""
    from sagemaker.core.workflow.properties import PropertyFile

    property_file = PropertyFile(name=PROPERTY_FILE, output_name=RESULT_OUTPUT, path=RESULT_FILE)
    result_uri = execution_result_uri(target.bucket, "build")
    step = container_step(
        name=STEP_NAME,
        display_name="Build training image",
        description="Build the example's image in CodeBuild, tagged by the build context's content hash",
        module="steps.build_image.job.container",
        arguments=["--context-uri", context_uri, "--context-digest", context_digest],
        bundle_uri=bundle_uri,
        target=target,
        session=session,
        outputs={RESULT_OUTPUT: result_uri},
        property_files=[property_file],
        cache_days=CACHE_DAYS,
        tags=tags,
    )
    return step, property_file
