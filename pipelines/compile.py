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
from steps.build_image.context import PackedContext, image_tag, pack_context
from steps.common.bundle import Bundle, make_bundle
from steps.train.parameters import ParameterSpec, default_output_path, parameter_specs

ENTRY_POINT = Path(__file__).resolve().parent.parent / "steps" / "train" / "entry.py"
CODEBUILD_PROJECT = "cvl-pipelines-image-build"
CONTEXT_PREFIX = "cvl-pipelines/contexts"
_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")


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


def pipeline_name(example: str, preset: str) -> str:
    """`cvl-<example>-<preset>`, with characters SageMaker rejects in pipeline names made `-`."""
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", f"cvl-{example}-{preset}").strip("-")
    if not _NAME_PATTERN.match(name):
        raise BadInput(f"pipeline name {name!r} is not valid for SageMaker: shorten the example or preset name")
    return name


def repository_name(example: str) -> str:
    """The ECR repository of an example's images."""
    return f"cvl-{example}".lower()


def image_uri(target: DeployTarget, example: str, tag: str) -> str:
    """The ECR image URI of an example's image with `tag` in the target account and region."""
    suffix = "amazonaws.com.cn" if target.region.startswith("cn-") else "amazonaws.com"
    return f"{target.account}.dkr.ecr.{target.region}.{suffix}/{repository_name(example)}:{tag}"


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and fixed separators: byte-identical for equal content."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


def run_facts(
    example: Example, preset_name: str, name: str, target: DeployTarget, context: PackedContext, context_uri: str
) -> dict[str, object]:
    """What the Preflight and BuildImage containers need to know about this run (`run.json`)."""
    tag = image_tag(context.digest)
    return {
        "example": example.name,
        "preset": preset_name,
        "pipeline": name,
        "region": target.region,
        "account": target.account,
        "bucket": target.bucket,
        "role_arn": target.role_arn,
        "repository": repository_name(example.name),
        "codebuild_project": CODEBUILD_PROJECT,
        "context_uri": context_uri,
        "context_digest": context.digest,
        "image_tag": tag,
        "image_uri": image_uri(target, example.name, tag),
        "output_prefix": default_output_path(target.bucket, example.name, preset_name) + "/",
    }


def compile_pipeline(
    example: Example, preset_name: str, preset: Preset, target: DeployTarget, session: Any | None = None
) -> CompiledPipeline:
    """Compile one example preset for `target` into a `CompiledPipeline`; makes no network call.

    `session` is the SDK session the steps are built on (a `PipelineSession`, or a
    `LocalPipelineSession` for `run --local`); by default an offline `PipelineSession`.
    """
    from steps.common.sdk import pipeline_session, sdk_environment

    name = pipeline_name(example.name, preset_name)
    context = pack_context(example.path, ENTRY_POINT)
    context_uri = f"s3://{target.bucket}/{CONTEXT_PREFIX}/{repository_name(example.name)}/{context.digest}.zip"
    bundle = make_bundle(
        preset.model_dump_json(), run_facts(example, preset_name, name, target, context, context_uri)
    )
    specs = parameter_specs(preset, default_output_path(target.bucket, example.name, preset_name))
    with sdk_environment(target.region, offline=True):
        if session is None:
            import boto3

            session = pipeline_session(boto3.Session(region_name=target.region), target.bucket)
        pipeline = _assemble(name, preset, target, specs, bundle, context, context_uri, session)
        definition = canonical_json(pipeline.definition())
    digest = hashlib.sha256(definition.encode()).hexdigest()
    description = (
        f"{preset.description or example.description} [cvl {example.name}/{preset_name}; "
        f"definition sha256:{digest[:16]}]"
    )
    return CompiledPipeline(
        name, example.name, preset_name, pipeline, definition, digest, specs, bundle, context, context_uri, target,
        description[:3072],
    )


def _assemble(
    name: str,
    preset: Preset,
    target: DeployTarget,
    specs: list[ParameterSpec],
    bundle: Bundle,
    context: PackedContext,
    context_uri: str,
    session: Any,
) -> Any:
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.mlops.workflow import Pipeline

    from steps.build_image.factory import build_image_step
    from steps.preflight.factory import preflight_step
    from steps.train.factory import sdk_parameters, train_step

    parameters = sdk_parameters(specs)
    bundle_uri = bundle.s3_prefix(target.bucket)
    preflight = preflight_step(bundle_uri=bundle_uri, target=target, session=session)
    build, build_result = build_image_step(
        bundle_uri=bundle_uri,
        context_uri=context_uri,
        context_digest=context.digest,
        target=target,
        session=session,
    )
    image = JsonGet(step_name=build.name, property_file=build_result, json_path="image_uri")
    train = train_step(
        pipeline_name=name,
        preset=preset,
        parameters=parameters,
        image_uri=image,
        target=target,
        session=session,
        depends_on=[preflight],
    )
    return Pipeline(
        name=name,
        parameters=list(parameters.values()),
        steps=[preflight, build, train],
        sagemaker_session=session,
    )
