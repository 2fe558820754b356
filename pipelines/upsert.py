"""`python -m pipelines.upsert (--example E --preset P | --all) [--dry-run --out DIR] [--schedule EXPR] [--json]`.

Compiles each pipeline offline, validates it against the SageMaker API model, then (unless `--dry-run`)
runs the preflight checks, makes sure the build infrastructure, step bundle and build context exist, and
creates the pipeline, updates it, or leaves it unchanged when the definition is identical.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput, Example, Preset, examples_root, resolve_target
from pipelines import catalog
from pipelines.cli import EXIT_FAILED, EXIT_OK, command, command_parser
from pipelines.compile import CompiledPipeline, canonical_json, compile_pipeline
from pipelines.validate import validate_definition


class Outcome(NamedTuple):
    """What happened to one pipeline: `created`, `updated`, `unchanged`, `written` (dry run) or `failed`."""

    pipeline: str
    action: str
    digest: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        """The outcome as JSON-ready data."""
        return self._asdict()


def selected(root: Path, example: str | None, preset: str | None, every: bool) -> list[tuple[Example, str, Preset]]:
    """The (example, preset name, preset) triples the flags ask for; `BadInput` when they ask for none."""
    if every:
        pairs = catalog.all_pairs(root)
        if example:
            pairs = [pair for pair in pairs if pair[0].name == example]
            if not pairs:
                catalog.resolve(root, example, preset or "train")  # raises with the known examples
        return pairs
    if not example or not preset:
        raise BadInput("say which pipeline: --example E --preset P, or --all")
    found, chosen = catalog.resolve(root, example, preset)
    return [(found, preset, chosen)]


def write_definition(compiled: CompiledPipeline, out_dir: Path) -> Path:
    """Write the definition that would be upserted to `out_dir/<pipeline>.json` (pretty, sorted keys)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{compiled.name}.json"
    path.write_text(json.dumps(json.loads(compiled.definition), indent=2, sort_keys=True) + "\n")
    return path


def upload_artifacts(session: Any, compiled: CompiledPipeline) -> list[str]:
    """Put the step bundle and the build context in S3 unless they are there; return what was uploaded."""
    from pipelines.uploads import ensure_bundle, ensure_context

    uploaded = []
    if ensure_bundle(session, compiled.bundle, compiled.target.bucket):
        uploaded.append(compiled.bundle.s3_prefix(compiled.target.bucket))
    if ensure_context(session, compiled):
        uploaded.append(compiled.context_uri)
    return uploaded


def publish(session: Any, compiled: CompiledPipeline) -> str:
    """Create or update the pipeline, or leave it when its definition and description are unchanged."""
    from steps.common.aws import client

    sagemaker = client(session, "sagemaker")
    request: dict[str, Any] = {
        "PipelineName": compiled.name,
        "PipelineDisplayName": compiled.name,
        "PipelineDefinition": compiled.definition,
        "PipelineDescription": compiled.description,
        "RoleArn": compiled.target.role_arn,
    }
    try:
        existing = sagemaker.describe_pipeline(PipelineName=compiled.name)
    except sagemaker.exceptions.ResourceNotFound:
        existing = None
    if existing is None:
        tags = [{"Key": "cvl:example", "Value": compiled.example}, {"Key": "cvl:preset", "Value": compiled.preset}]
        # The token makes a retried create (throttling, 5xx) return the first one instead of a second.
        sagemaker.create_pipeline(**request, Tags=tags, ClientRequestToken=compiled.digest[:64])
        return "created"
    same_definition = canonical_json(existing.get("PipelineDefinition", "{}")) == compiled.definition
    if same_definition and existing.get("PipelineDescription") == compiled.description:
        return "unchanged"
    sagemaker.update_pipeline(**request)
    return "updated"


def upsert_one(session: Any, compiled: CompiledPipeline, *, preflight: bool = True) -> Outcome:
    """Preflight, infrastructure, uploads, then create/update/unchanged for one compiled pipeline."""
    from pipelines.build import ensure_build_infrastructure

    if preflight:
        failed = run_preflight_gate(session, compiled)
        if failed:
            return Outcome(compiled.name, "failed", compiled.digest, failed)
    ensure_build_infrastructure(session, compiled.target, compiled.example)
    upload_artifacts(session, compiled)
    return Outcome(compiled.name, publish(session, compiled), compiled.digest)


def run_preflight_gate(session: Any, compiled: CompiledPipeline) -> str:
    """Run the preflight checks; return the failed checks' fixes (empty when nothing failed)."""
    from steps.preflight.checks import run_preflight
    from steps.preflight.report import failure_reason, format_table

    facts = json.loads(compiled.bundle.files["run.json"])
    preset = json.loads(compiled.bundle.files["preset.json"])
    results = run_preflight(preset, facts, session)
    if any(result.status == "fail" for result in results):
        print(format_table(results), file=sys.stderr)
        return failure_reason(results)
    return ""


@command
def main(argv: list[str] | None = None) -> int:
    """Compile, validate and upsert the selected pipelines (or write them with `--dry-run`)."""
    parser = command_parser("upsert", "Create or update SageMaker pipelines for example presets.", all_examples=True)
    parser.add_argument("--dry-run", action="store_true", help="no network call: write DIR/<pipeline>.json")
    parser.add_argument("--out", type=Path, default=Path("definitions"), help="folder for --dry-run output")
    parser.add_argument("--skip-preflight", action="store_true", help="do not run the preflight checks first")
    args = parser.parse_args(argv)

    root = examples_root(args.examples_root)
    target = resolve_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket, allow_placeholders=args.dry_run)
    chosen = selected(root, args.example, args.preset, args.all)
    compiled = [compile_pipeline(example, name, preset, target) for example, name, preset in chosen]
    for pipeline in compiled:
        validate_definition(pipeline.definition)

    outcomes: list[Outcome] = []
    if args.dry_run:
        for pipeline in compiled:
            path = write_definition(pipeline, args.out)
            outcomes.append(Outcome(pipeline.name, "written", pipeline.digest, str(path)))
    else:
        from steps.common.aws import aws_session

        session = aws_session(target.region)
        outcomes = [upsert_one(session, pipeline, preflight=not args.skip_preflight) for pipeline in compiled]
    _print(outcomes, target.placeholders, args.json)
    return EXIT_FAILED if any(outcome.action == "failed" for outcome in outcomes) else EXIT_OK


def _print(outcomes: list[Outcome], placeholders: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"placeholders": list(placeholders), "pipelines": [o.as_dict() for o in outcomes]}, indent=2))
        return
    for outcome in outcomes:
        suffix = f": {outcome.detail}" if outcome.detail else ""
        print(f"{outcome.pipeline}: {outcome.action} (sha256:{outcome.digest[:12]}){suffix}")
    if placeholders:
        print(
            f"note: placeholders stand in for {', '.join(placeholders)}: set AWS_DEFAULT_REGION, "
            "SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_BUCKET (or the flags) for a definition you can upsert"
        )


if __name__ == "__main__":
    sys.exit(main())
