"""Staging: everything about a pipeline that needs no SDK (its name, run facts, bundle, build context).

No network and no SDK: the build context and the step bundle are content-addressed, so their S3 URIs are
known before anything is uploaded (`upsert` uploads them). The context is known by its digest (the files
read and hashed once per example and command, nothing compressed); it is packed only to be uploaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import NamedTuple

from configs import BadInput, DeployTarget, Example, Preset
from configs.instance_table import instance_rows
from pipelines.catalog.shipping import shipped_files, shipped_paths
from pipelines.define.names import pipeline_name
from steps.build_image.job.build_facts import BuildFacts, repository_name
from steps.build_image.job.context import BadContext, BuildContext, build_context, image_tag
from steps.build_image.job.file_digests import FileDigests
from steps.common.permissions import PROJECT_NAME
from steps.common.run_facts import BuiltImage, InstanceFacts, RunFacts
from steps.common.tags import PIPELINE_KEY, resource_tags
from steps.sdk.bundle import Bundle, make_bundle
from steps.train.factory import container_preset_json
from steps.train.parameters import ParameterSpec, default_output_path, parameter_specs

# The training entry point's folder, packed into every build context (steps/build_image/job/context.py).
ENTRY_POINT = Path(__file__).resolve().parents[2] / "steps" / "train" / "job"


class Staged(NamedTuple):
    """Everything about a pipeline that needs no SDK: its name, facts, bundle, build context, parameters."""

    name: str
    example: Example
    preset_name: str
    preset: Preset
    target: DeployTarget
    build: BuildFacts
    context: BuildContext
    bundle: Bundle
    facts: RunFacts
    parameters: list[ParameterSpec]
    image_uri: str | None = None  # a given image: no BuildImage step, Train runs this image

    @property
    def context_uri(self) -> str:
        """Where the build context lives in S3 (content-addressed)."""
        return self.build.context_uri(self.context.digest)


def build_facts(target: DeployTarget, example: str) -> BuildFacts:
    """Where `example`'s images are built and pushed for `target`; `BadInput` for a name ECR refuses."""
    try:
        repository = repository_name(example)
    except ValueError as error:
        raise BadInput(str(error)) from None
    return BuildFacts(
        region=target.region, account=target.account, bucket=target.bucket, repository=repository
    )


def base_facts(example: str, preset_name: str, target: DeployTarget) -> RunFacts:
    """The run facts that need no build context: enough for the preflight checks."""
    return RunFacts(
        example=example,
        preset=preset_name,
        pipeline=pipeline_name(example, preset_name),
        region=target.region,
        account=target.account,
        bucket=target.bucket,
        role_arn=target.role_arn,
        repository=build_facts(target, example).repository,
        codebuild_project=PROJECT_NAME,
        output_prefix=default_output_path(target.bucket, example, preset_name) + "/",
        instance_types=_instance_facts(),
    )


@cache
def _instance_facts() -> tuple[InstanceFacts, ...]:
    """The listed training types as the jobs read them: the same for every pipeline of a command."""
    return tuple(InstanceFacts.from_row(row) for row in instance_rows())


def shipped_context(
    example: Example, known: dict[tuple[Path, tuple[str, ...]], list[tuple[str, Path]]] | None = None
) -> list[tuple[str, Path]]:
    """The repository files `example` needs beside its code (the `cvlization` package), by context name.

    `known` remembers the listings of one command (most examples ship the same package)."""
    if example.repo_root is None:
        return []
    key = (example.repo_root, shipped_paths(example))
    known = {} if known is None else known
    if key not in known:
        known[key] = shipped_files(*key)
    return known[key]


class Contexts:
    """The build contexts of one command's examples: each example's read and hashed once, however many
    of its presets are staged, and each file once, however many examples ship it."""

    def __init__(self) -> None:
        self.files = FileDigests()
        self._known: dict[Path, BuildContext] = {}
        self._shipped: dict[tuple[Path, tuple[str, ...]], list[tuple[str, Path]]] = {}

    def of(self, example: Example) -> BuildContext:
        """`example`'s build context and its digest; `BadInput` when the folder cannot be a context."""
        known = self._known.get(example.path)
        if known is None:
            try:
                known = build_context(
                    example.path, ENTRY_POINT, shipped_context(example, self._shipped), self.files
                )
            except BadContext as error:
                raise BadInput(str(error)) from None
            self._known[example.path] = known
        return known


def stage(
    example: Example,
    preset_name: str,
    preset: Preset,
    target: DeployTarget,
    image_uri: str | None = None,
    contexts: Contexts | None = None,
) -> Staged:
    """Digest the build context and bundle the step code for one example preset; no SDK, no network.

    With `image_uri` the pipeline trains on that image (built by this project's Dockerfile.template, so
    its entry point is ours) and has no BuildImage step. `contexts` shares the context digests among the
    presets of one command (the default reads the example afresh)."""
    facts = build_facts(target, example.name)
    container_preset_json(preset)  # too long for a hyperparameter: bad input now, before reading files
    context = (contexts or Contexts()).of(example)
    tag = image_tag(context.digest)
    run = base_facts(example.name, preset_name, target).with_image(
        BuiltImage(
            context_uri=facts.context_uri(context.digest),
            context_digest=context.digest,
            image_tag=tag,
            image_uri=facts.image_uri(tag),
        )
    )
    return Staged(
        name=pipeline_name(example.name, preset_name),
        example=example,
        preset_name=preset_name,
        preset=preset,
        target=target,
        build=facts,
        context=context,
        bundle=make_bundle(preset.model_dump_json(), run),
        facts=run,
        parameters=parameter_specs(preset, default_output_path(target.bucket, example.name, preset_name)),
        image_uri=image_uri,
    )


def job_tags(staged: Staged) -> dict[str, str]:
    """The tags of the pipeline's processing and training jobs: the preset's own, then ours."""
    tags = resource_tags(staged.example.name, staged.preset_name, staged.preset.tags)
    return dict(sorted((tags | {PIPELINE_KEY: staged.name}).items()))
