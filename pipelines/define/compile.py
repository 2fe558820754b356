"""The one pure compile: a staged preset becomes the SDK `Pipeline` and its canonical JSON.

It never touches the network: the SDK is kept offline, and staging (`staging.py`) already knows every
S3 URI the definition names.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import boto3

from configs import DeployTarget, Example, Preset
from pipelines.define.diff import canonical_json
from pipelines.define.fingerprint import description_tag, fingerprint
from pipelines.define.names import model_package_group
from pipelines.define.staging import Staged, job_tags, stage
from steps.build_image.factory import build_image_step
from steps.build_image.job.context import BuildContext
from steps.preflight.factory import preflight_step
from steps.register.factory import gate_step
from steps.sdk.bundle import Bundle
from steps.sdk.offline import pipeline_session, sdk_environment
from steps.train.factory import sdk_parameters, train_step
from steps.train.parameters import ParameterSpec

DESCRIPTION_LIMIT = 3072  # PipelineDescription's maximum length (CreatePipeline)


class CompiledPipeline(NamedTuple):
    """A compiled pipeline: the SDK object, its canonical definition and digest, and what it needs in S3."""

    name: str
    example: str
    preset: str
    pipeline: Any
    definition: str
    digest: str
    parameters: list[ParameterSpec]
    bundle: Bundle
    context: BuildContext
    context_uri: str
    target: DeployTarget
    description: str
    staged: Staged


def compile_staged(
    staged: Staged, session: Any | None = None, boto_session: Any | None = None, registration: bool = True
) -> CompiledPipeline:
    """Build the SDK pipeline for a staged preset and render its canonical definition; no network call.

    `session` is the SDK session the steps are built on (a `PipelineSession`, or a
    `LocalPipelineSession` for `run --local`); by default an offline `PipelineSession` on
    `boto_session` (pass the command's session so botocore's service models are parsed once).
    Without `registration` a gated preset's gate has no Register step (the SDK's local executor
    cannot run one): it passes, or fails the run.
    """
    target = staged.target
    with sdk_environment(target.region, offline=True):
        if session is None:
            session = pipeline_session(
                boto_session or boto3.Session(region_name=target.region), target.bucket
            )
        pipeline = _assemble(staged, session, registration)
        definition = canonical_json(pipeline.definition())
    digest = hashlib.sha256(definition.encode()).hexdigest()
    # The bracket is what upsert reads back (definition digest, fingerprint): the prose gives way to it.
    tag = f" [cvl {staged.example.name}/{staged.preset_name}; {description_tag(digest, fingerprint(staged))}]"
    prose = staged.preset.description or staged.example.description
    description = prose[: DESCRIPTION_LIMIT - len(tag)] + tag
    return CompiledPipeline(
        name=staged.name,
        example=staged.example.name,
        preset=staged.preset_name,
        pipeline=pipeline,
        definition=definition,
        digest=digest,
        parameters=staged.parameters,
        bundle=staged.bundle,
        context=staged.context,
        context_uri=staged.context_uri,
        target=target,
        description=description,
        staged=staged,
    )


def compile_pipeline(
    example: Example,
    preset_name: str,
    preset: Preset,
    target: DeployTarget,
    session: Any | None = None,
    registration: bool = True,
) -> CompiledPipeline:
    """Compile one example preset for `target` into a `CompiledPipeline`; makes no network call."""
    return compile_staged(stage(example, preset_name, preset, target), session, registration=registration)


def _assemble(staged: Staged, session: Any, registration: bool = True) -> Any:
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.mlops.workflow import Pipeline

    target = staged.target
    parameters = sdk_parameters(staged.parameters)
    bundle_uri = staged.bundle.s3_prefix(target.bucket)
    tags = job_tags(staged)
    preflight, preflight_result = preflight_step(
        bundle_uri=bundle_uri, target=target, session=session, parameters=parameters, tags=tags
    )
    steps: list[Any] = [preflight]
    image: Any = staged.image_uri
    if image is None:
        build, build_result = build_image_step(
            bundle_uri=bundle_uri,
            context_uri=staged.context_uri,
            context_digest=staged.context.digest,
            target=target,
            session=session,
            tags=tags,
        )
        image = JsonGet(step_name=build.name, property_file=build_result, json_path="image_uri")
        steps.append(build)
    # The type Preflight settled on: the execution's InstanceType, or the fallback's when it had no room.
    instance_type = JsonGet(
        step_name=preflight.name, property_file=preflight_result, json_path="instance_type"
    )
    train = train_step(
        pipeline_name=staged.name,
        instance_type=instance_type,
        preset=staged.preset,
        parameters=parameters,
        image_uri=image,
        target=target,
        session=session,
        depends_on=[preflight],
        tags=tags,
    )
    steps.append(train)
    register = staged.preset.gate
    if register is not None:
        group = model_package_group(staged.example.name, register)
        steps.append(
            gate_step(
                train=train,
                image_uri=image,
                register=register,
                group=group,
                role_arn=target.role_arn,
                session=session,
                registration=registration,
            )
        )
    return Pipeline(
        name=staged.name,
        parameters=list(parameters.values()),
        steps=steps,
        sagemaker_session=session,
    )
