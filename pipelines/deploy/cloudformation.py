"""Pipelines as CloudFormation: one template per pipeline (or one for all) of `AWS::SageMaker::Pipeline`
resources, for teams that deploy through infrastructure as code.

The execution role and the bucket are template parameters (defaults: the target rendered for). An
inline definition refers to them through `Fn::Sub`; one kept in S3 names them as rendered. The step
bundle and build context a definition references live at content-addressed keys of that bucket: they
are uploaded before the template is written (or, with `--dry-run`, written under `DIR/s3/` with the
one command that uploads them).

Where a definition goes, by size: CloudFormation accepts a template of at most 51,200 bytes in the
request itself (`aws cloudformation deploy --template-file` without `--s3-bucket`) and at most 1 MB
from S3, with at most 500 resources. Definitions are inlined while the template stays within the
first limit; otherwise each definition is put in S3 (`PipelineDefinitionS3Location`) and the
template, small then, must fit the second.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput
from pipelines.define.compile import CompiledPipeline
from pipelines.define.compile_pool import compile_and_validate
from pipelines.define.staging import Staged
from pipelines.deploy.deployer import Deployed, prepare
from steps.common.aws import aws_session, client
from steps.common.s3 import object_exists
from steps.common.tags import resource_tags, tag_list
from steps.sdk.bundle import BUNDLE_PREFIX

# CloudFormation's quotas (AWS CloudFormation User Guide, "quotas"): a template body sent in the
# request, one read from S3, the resources one template may declare, and its Description's bytes.
TEMPLATE_BODY_LIMIT = 51_200
TEMPLATE_S3_LIMIT = 1_000_000
RESOURCE_LIMIT = 500
TEMPLATE_DESCRIPTION_LIMIT = 1024
DEFINITION_PREFIX = "cvl-pipelines/definitions"
ROLE_PARAMETER = "RoleArn"
BUCKET_PARAMETER = "Bucket"
TEMPLATE_SUFFIX = ".template.json"
ALL_STACK = "cvl-pipelines"  # the stack (and file) name of the one template `--all` writes


class Template(NamedTuple):
    """A rendered template: where it goes, its text, the S3 objects it needs (key -> bytes), and whether
    its definitions are inline."""

    path: Path
    text: str
    objects: dict[str, bytes]
    inline: bool


def logical_id(pipeline: str) -> str:
    """The resource's logical id: the pipeline name in CamelCase (CloudFormation allows [A-Za-z0-9])."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", pipeline) if part)


def definition_key(compiled: CompiledPipeline) -> str:
    """The content-addressed S3 key of a definition kept in S3."""
    return f"{DEFINITION_PREFIX}/{compiled.name}/{compiled.digest[:32]}.json"


def substituted_definition(compiled: CompiledPipeline) -> str:
    """The definition as an `Fn::Sub` string: the role and the bucket become the template's parameters.

    A `${` already in the definition (a shell variable in a command) is written `${!`, which `Fn::Sub`
    turns back into `${`.
    """
    text = compiled.definition.replace("${", "${!")
    role, bucket = compiled.target.role_arn, compiled.target.bucket
    role_ref, bucket_ref = f"${{{ROLE_PARAMETER}}}", f"${{{BUCKET_PARAMETER}}}"
    text = text.replace(json.dumps(role), json.dumps(role_ref))
    text = text.replace(f'"s3://{bucket}/', f'"s3://{bucket_ref}/')
    return text.replace(f'"s3://{bucket}"', f'"s3://{bucket_ref}"')


def _resource(compiled: CompiledPipeline, inline: bool) -> dict[str, Any]:
    if inline:
        definition: dict[str, Any] = {"PipelineDefinitionBody": {"Fn::Sub": substituted_definition(compiled)}}
    else:
        definition = {
            "PipelineDefinitionS3Location": {
                "Bucket": {"Ref": BUCKET_PARAMETER},
                "Key": definition_key(compiled),
                "ETag": hashlib.md5(compiled.definition.encode(), usedforsecurity=False).hexdigest(),
            }
        }
    return {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": compiled.name,
            "PipelineDisplayName": compiled.name,
            "PipelineDescription": compiled.description,
            "RoleArn": {"Ref": ROLE_PARAMETER},
            "PipelineDefinition": definition,
            "Tags": tag_list(resource_tags(compiled.example, compiled.preset)),
        },
    }


def render(compiled: list[CompiledPipeline], *, inline: bool) -> dict[str, Any]:
    """The template for `compiled` (all for one target), definitions inline or from S3."""
    target = compiled[0].target
    resources: dict[str, Any] = {}
    for pipeline in compiled:
        name = logical_id(pipeline.name)
        if name in resources:  # two names that differ only in punctuation
            name += pipeline.digest[:8]
        resources[name] = _resource(pipeline, inline)
    names = ", ".join(pipeline.name for pipeline in compiled)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"cvl-pipelines: {names}"[:TEMPLATE_DESCRIPTION_LIMIT],
        "Parameters": {
            ROLE_PARAMETER: {
                "Type": "String",
                "Default": target.role_arn,
                "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                "Description": "SageMaker execution role the pipelines and their jobs run as (pipelines.bootstrap)",
            },
            BUCKET_PARAMETER: {
                "Type": "String",
                "Default": target.bucket,
                "AllowedPattern": r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "Description": "Bucket holding the step bundles and build contexts (uploaded for the default)",
            },
        },
        "Resources": resources,
        "Outputs": {
            f"{name}Name": {"Description": "pipeline name", "Value": {"Ref": name}} for name in resources
        },
    }


def template_text(template: dict[str, Any]) -> str:
    """The template as JSON (deterministic: sorted keys)."""
    return json.dumps(template, indent=1, sort_keys=True) + "\n"


def objects(compiled: list[CompiledPipeline], inline: bool) -> dict[str, bytes]:
    """What the template needs in the bucket, by key: bundles, build contexts, S3-kept definitions."""
    needed: dict[str, bytes] = {}
    for pipeline in compiled:
        context_key = pipeline.staged.build.context_key(pipeline.context.digest)
        if context_key not in needed:  # presets of one example share their context: packed once
            needed[context_key] = pipeline.context.pack().data
        prefix = f"{BUNDLE_PREFIX}/{pipeline.bundle.digest[:32]}"
        for name, data in pipeline.bundle.files.items():
            needed[f"{prefix}/{name}"] = data
        if not inline:
            needed[definition_key(pipeline)] = pipeline.definition.encode()
    return needed


def build_template(compiled: list[CompiledPipeline], path: Path) -> Template:
    """Render `compiled` into one template at `path`: inline while it fits a request, else from S3.

    `BadInput` when even the S3 form exceeds what CloudFormation takes (render per pipeline instead).
    """
    if len(compiled) > RESOURCE_LIMIT:
        raise BadInput(
            f"{len(compiled)} pipelines exceed CloudFormation's {RESOURCE_LIMIT} resources per template: "
            "render them per example (--example E --preset P) instead of --all"
        )
    text = template_text(render(compiled, inline=True))
    inline = len(text.encode()) <= TEMPLATE_BODY_LIMIT
    if not inline:
        text = template_text(render(compiled, inline=False))
        if len(text.encode()) > TEMPLATE_S3_LIMIT:
            raise BadInput(
                f"the template is {len(text.encode())} bytes, above CloudFormation's {TEMPLATE_S3_LIMIT}: "
                "render the pipelines per example (--example E --preset P) instead of --all"
            )
    return Template(path, text, objects(compiled, inline), inline)


def deploy_command(template: Template, bucket: str) -> str:
    """The `aws cloudformation deploy` command for a written template (its stack: the file's name)."""
    command = (
        f"aws cloudformation deploy --template-file {template.path} "
        f"--stack-name {template.path.name.removesuffix(TEMPLATE_SUFFIX)} "
        f"--parameter-overrides {BUCKET_PARAMETER}={bucket}"
    )
    if len(template.text.encode()) > TEMPLATE_BODY_LIMIT:
        command += f" --s3-bucket {bucket} --s3-prefix cvl-pipelines/templates"
    return command


def export(
    staged: list[Staged], out_dir: Path, *, one_template: bool, dry_run: bool
) -> tuple[list[Deployed], list[str]]:
    """Write the templates for `staged` to `out_dir`, one per pipeline or (`one_template`) one for all.

    First the objects they reference go to the bucket (the build infrastructure too, as `upsert` makes
    it); with `dry_run` nothing is sent: they are written under `out_dir/s3/` and the command that
    uploads them is among the returned notes (with each template's deploy command).
    """
    compiled = [compile_and_validate(s) for s in staged]
    groups = [(ALL_STACK, compiled)] if one_template else [(c.name, [c]) for c in compiled]
    templates = [build_template(group, out_dir / f"{name}{TEMPLATE_SUFFIX}") for name, group in groups]
    bucket = staged[0].target.bucket
    notes = []
    if dry_run:
        root = _write_objects({k: v for t in templates for k, v in t.objects.items()}, out_dir)
        notes.append(f"upload first: aws s3 cp --recursive {root} s3://{bucket}/")
    else:
        session = aws_session(staged[0].target.region)
        for one in staged:
            prepare(session, one, preflight=False)
        _upload_definitions(session, templates, bucket)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for template, (_, group) in zip(templates, groups, strict=True):
        template.path.write_text(template.text)
        where = "inline" if template.inline else f"s3://{bucket}/{DEFINITION_PREFIX}/"
        for pipeline in group:
            detail = f"{template.path} (definition {where})"
            outcomes.append(Deployed(pipeline.name, "written", pipeline.digest, detail))
        notes.append(f"deploy: {deploy_command(template, bucket)}")
    return outcomes, notes


def _write_objects(needed: dict[str, bytes], folder: Path) -> Path:
    root = folder / "s3"
    for key, data in needed.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _upload_definitions(session: Any, templates: list[Template], bucket: str) -> None:

    s3 = client(session, "s3")
    for template in templates:
        for key, data in template.objects.items():
            if key.startswith(f"{DEFINITION_PREFIX}/") and not object_exists(s3, bucket, key):
                s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
