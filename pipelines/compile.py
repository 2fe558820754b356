"""The one pure compile: an example's preset and a deploy target become the SDK `Pipeline` and its JSON.

It never touches the network: step code and build context are content-addressed, so their S3 URIs are
known before anything is uploaded (`upsert` uploads them), and the SDK is kept offline.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput, DeployTarget, Example, Preset
from pipelines.discovery.shipping import shipped_files, shipped_paths
from steps.build_image.context import BadContext, PackedContext, image_tag, pack_context
from steps.build_image.facts import PROJECT_NAME, BuildFacts, repository_name
from steps.common.bundle import Bundle, make_bundle
from steps.common.tags import PIPELINE_KEY, resource_tags
from steps.train.factory import container_preset_json
from steps.train.parameters import ParameterSpec, default_output_path, parameter_specs

ENTRY_POINT = Path(__file__).resolve().parent.parent / "steps" / "train" / "entry.py"
DESCRIPTION_LIMIT = 3072  # PipelineDescription's maximum length (CreatePipeline)
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")


class Staged(NamedTuple):
    """Everything about a pipeline that needs no SDK: its name, facts, bundle, build context, parameters."""

    name: str
    example: Example
    preset_name: str
    preset: Preset
    target: DeployTarget
    build: BuildFacts
    context: PackedContext
    bundle: Bundle
    parameters: list[ParameterSpec]
    image_uri: str | None = None  # a given image: no BuildImage step, Train runs this image

    @property
    def context_uri(self) -> str:
        """Where the build context lives in S3 (content-addressed)."""
        return self.build.context_uri(self.context.digest)


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
    context: PackedContext
    context_uri: str
    target: DeployTarget
    description: str
    staged: Staged


def pipeline_name(example: str, preset: str) -> str:
    """`cvl-<example>-<preset>`, with characters SageMaker rejects in pipeline names made `-`."""
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", f"cvl-{example}-{preset}").strip("-")
    if not _NAME_PATTERN.match(name):
        raise BadInput(
            f"pipeline name {name!r} is not valid for SageMaker: shorten the example or preset name"
        )
    return name


def build_facts(target: DeployTarget, example: str) -> BuildFacts:
    """Where `example`'s images are built and pushed for `target`; `BadInput` for a name ECR refuses."""
    try:
        repository = repository_name(example)
    except ValueError as error:
        raise BadInput(str(error)) from None
    return BuildFacts(
        region=target.region, account=target.account, bucket=target.bucket, repository=repository
    )


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and fixed separators: byte-identical for equal content."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


def base_facts(example: str, preset_name: str, target: DeployTarget) -> dict[str, object]:
    """The run facts (`run.json`) that need no build context: enough for the preflight checks."""
    return {
        "example": example,
        "preset": preset_name,
        "pipeline": pipeline_name(example, preset_name),
        "region": target.region,
        "account": target.account,
        "bucket": target.bucket,
        "role_arn": target.role_arn,
        "repository": build_facts(target, example).repository,
        "codebuild_project": PROJECT_NAME,
        "output_prefix": default_output_path(target.bucket, example, preset_name) + "/",
    }


def shipped_context(example: Example) -> list[tuple[str, Path]]:
    """The repository files `example` needs beside its code (the `cvlization` package), by context name."""
    if example.repo_root is None:
        return []
    return shipped_files(example.repo_root, shipped_paths(example))


def stage(
    example: Example, preset_name: str, preset: Preset, target: DeployTarget, image_uri: str | None = None
) -> Staged:
    """Pack the build context and bundle the step code for one example preset; no SDK, no network.

    With `image_uri` the pipeline trains on that image (built by this project's Dockerfile.template, so
    its entry point is ours) and has no BuildImage step."""
    facts = build_facts(target, example.name)
    container_preset_json(preset)  # too long for a hyperparameter: bad input now, before any packing
    try:
        context = pack_context(example.path, ENTRY_POINT, shipped_context(example))
    except BadContext as error:
        raise BadInput(str(error)) from None
    tag = image_tag(context.digest)
    run = base_facts(example.name, preset_name, target) | {
        "context_uri": facts.context_uri(context.digest),
        "context_digest": context.digest,
        "image_tag": tag,
        "image_uri": facts.image_uri(tag),
    }
    return Staged(
        name=pipeline_name(example.name, preset_name),
        example=example,
        preset_name=preset_name,
        preset=preset,
        target=target,
        build=facts,
        context=context,
        bundle=make_bundle(preset.model_dump_json(), run),
        parameters=parameter_specs(preset, default_output_path(target.bucket, example.name, preset_name)),
        image_uri=image_uri,
    )


def compile_staged(
    staged: Staged, session: Any | None = None, boto_session: Any | None = None
) -> CompiledPipeline:
    """Build the SDK pipeline for a staged preset and render its canonical definition; no network call.

    `session` is the SDK session the steps are built on (a `PipelineSession`, or a
    `LocalPipelineSession` for `run --local`); by default an offline `PipelineSession` on
    `boto_session` (pass the command's session so botocore's service models are parsed once).
    """
    from pipelines.fingerprint import description_tag, fingerprint
    from steps.common.sdk import pipeline_session, sdk_environment

    target = staged.target
    with sdk_environment(target.region, offline=True):
        if session is None:
            import boto3

            session = pipeline_session(
                boto_session or boto3.Session(region_name=target.region), target.bucket
            )
        pipeline = _assemble(staged, session)
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
    example: Example, preset_name: str, preset: Preset, target: DeployTarget, session: Any | None = None
) -> CompiledPipeline:
    """Compile one example preset for `target` into a `CompiledPipeline`; makes no network call."""
    return compile_staged(stage(example, preset_name, preset, target), session)


def job_tags(staged: Staged) -> dict[str, str]:
    """The tags of the pipeline's processing and training jobs: the preset's own, then ours."""
    tags = resource_tags(staged.example.name, staged.preset_name, staged.preset.tags)
    return dict(sorted((tags | {PIPELINE_KEY: staged.name}).items()))


def _assemble(staged: Staged, session: Any) -> Any:
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.mlops.workflow import Pipeline

    from steps.build_image.factory import build_image_step
    from steps.preflight.factory import preflight_step
    from steps.train.factory import sdk_parameters, train_step

    target = staged.target
    parameters = sdk_parameters(staged.parameters)
    bundle_uri = staged.bundle.s3_prefix(target.bucket)
    tags = job_tags(staged)
    preflight = preflight_step(
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
    train = train_step(
        pipeline_name=staged.name,
        preset=staged.preset,
        parameters=parameters,
        image_uri=image,
        target=target,
        session=session,
        depends_on=[preflight],
        tags=tags,
    )
    return Pipeline(
        name=staged.name,
        parameters=list(parameters.values()),
        steps=[*steps, train],
        sagemaker_session=session,
    )
