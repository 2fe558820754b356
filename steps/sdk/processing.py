"""One way to make a ProcessingStep that runs `python3 -m steps.<name>.container` from the step bundle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configs import DeployTarget
from steps.common.tags import tag_list
from steps.sdk.bundle import CODE_ARCHIVE
from steps.sdk.retries import PROCESSING_RETRY, sdk_policies

BUNDLE_DIR = "/opt/ml/processing/input/bundle"
OUTPUT_DIR = "/opt/ml/processing/output"
# Preflight and BuildImage need only Python and boto3; this image has both and resolves offline.
PROCESSING_FRAMEWORK = ("sklearn", "1.2-1")
PROCESSING_INSTANCE_TYPE = "ml.t3.medium"
PROCESSING_MAX_RUNTIME_SECONDS = 3 * 60 * 60
EXECUTIONS_PREFIX = "cvl-pipelines/executions"


def processing_image(region: str) -> str:
    """The AWS-provided processing image (Python + boto3) for `region`; no network call."""
    from sagemaker.core import image_uris

    framework, version = PROCESSING_FRAMEWORK
    return image_uris.retrieve(framework, region, version=version)


def execution_result_uri(bucket: str, step_folder: str) -> Any:
    """Where a step writes the result Train reads: `s3://<bucket>/cvl-pipelines/executions/<execution
    id>/<step_folder>`, one folder per execution (a pipeline expression)."""
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(
        on="/",
        values=[
            f"s3://{bucket}/{EXECUTIONS_PREFIX}",
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            step_folder,
        ],
    )


def container_step(
    *,
    name: str,
    display_name: str,
    description: str,
    module: str,
    arguments: list[Any],
    bundle_uri: str,
    target: DeployTarget,
    session: Any,
    outputs: dict[str, Any] | None = None,
    property_files: list[Any] | None = None,
    cache_days: int | None = None,
    tags: Mapping[str, str] | None = None,
) -> Any:
    """A ProcessingStep running `python3 -m <module> --bundle <dir> <arguments>` on a small instance.

    `outputs` maps an output name to its S3 URI (a string or pipeline expression); each is written from
    `/opt/ml/processing/output/<name>` at the end of the job. `tags` go on the processing job.
    """
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.mlops.workflow import CacheConfig, ProcessingStep

    processor = Processor(
        role=target.role_arn,
        image_uri=processing_image(target.region),
        instance_count=1,
        instance_type=PROCESSING_INSTANCE_TYPE,
        entrypoint=["python3", "-m", module, "--bundle", BUNDLE_DIR],
        env={
            "PYTHONPATH": f"{BUNDLE_DIR}/{CODE_ARCHIVE}",
            "PYTHONUNBUFFERED": "1",
            "AWS_DEFAULT_REGION": target.region,
        },
        max_runtime_in_seconds=PROCESSING_MAX_RUNTIME_SECONDS,
        base_job_name=f"cvl-{name.lower()}",
        sagemaker_session=session,
        tags=tag_list(tags) if tags else None,
    )
    bundle_input = ProcessingInput(
        input_name="bundle",
        s3_input=ProcessingS3Input(
            s3_uri=bundle_uri,
            local_path=BUNDLE_DIR,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )
    processing_outputs = [
        ProcessingOutput(
            output_name=output_name,
            s3_output=ProcessingS3Output(
                s3_uri=uri, local_path=f"{OUTPUT_DIR}/{output_name}", s3_upload_mode="EndOfJob"
            ),
        )
        for output_name, uri in (outputs or {}).items()
    ]
    step_args = processor.run(inputs=[bundle_input], outputs=processing_outputs, arguments=arguments or None)
    cache = CacheConfig(enable_caching=True, expire_after=f"P{cache_days}D") if cache_days else None
    return ProcessingStep(
        name=name,
        step_args=step_args,
        display_name=display_name,
        description=description,
        property_files=property_files,
        cache_config=cache,
        retry_policies=sdk_policies(PROCESSING_RETRY),
    )
