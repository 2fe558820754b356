"""`python -m pipelines.upsert (--example E --preset P | --all) [--dry-run --out DIR] [--schedule EXPR] [--json]`.

Compiles each pipeline offline, validates it against the SageMaker API model, then (unless `--dry-run`)
runs the preflight checks, makes sure the build infrastructure, step bundle and build context exist, and
creates the pipeline, updates it, or leaves it unchanged when the definition is identical.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from configs import BadInput, Example, Preset, examples_root, resolve_target
from pipelines import catalog
from pipelines.cli import EXIT_FAILED, EXIT_OK, command, command_parser, exit_now
from pipelines.compile import CompiledPipeline, Staged, canonical_json, compile_staged, stage
from pipelines.schedule import check_expression
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


def selected(
    root: Path, example: str | None, preset: str | None, every: bool
) -> list[tuple[Example, str, Preset]]:
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


def prepare(session: Any, staged: Staged, *, preflight: bool = True) -> str:
    """Everything before the pipeline itself, none of it needing the SDK: the preflight checks, then the
    build infrastructure and the uploads. Returns the failed checks' fixes; nothing is created then."""
    from pipelines.uploads import ensure_bundle
    from steps.build_image.logic import ensure_infrastructure, upload_context

    if preflight:
        failed = run_preflight_gate(session, staged)
        if failed:
            return failed
    ensure_infrastructure(session, staged.build)
    ensure_bundle(session, staged.bundle, staged.target.bucket)
    upload_context(session, staged.build, staged.context)
    return ""


def run_preflight_gate(session: Any, staged: Staged) -> str:
    """Run the preflight checks; print the table and return the fixes when one failed, else ""."""
    from steps.preflight.checks import run_preflight
    from steps.preflight.report import failure_reason, format_table

    facts = json.loads(staged.bundle.files["run.json"])
    results = run_preflight(staged.preset, facts, session)
    if any(result.status == "fail" for result in results):
        print(f"{staged.name}: preflight failed\n{format_table(results)}")
        return failure_reason(results)
    return ""


def existing_pipeline(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """DescribePipeline's answer, or None when there is no such pipeline.

    AWS documents ResourceNotFound; local emulators (moto) answer ValidationException "Could not find".
    """
    try:
        return sagemaker.describe_pipeline(PipelineName=name)
    except ClientError as error:
        details = error.response.get("Error", {})
        missing = details.get("Code") == "ResourceNotFound" or (
            details.get("Code") == "ValidationException"
            and "could not find" in str(details.get("Message", "")).lower()
        )
        if missing:
            return None
        raise


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
    existing = existing_pipeline(sagemaker, compiled.name)
    if existing is None:
        tags = [
            {"Key": "cvl:example", "Value": compiled.example},
            {"Key": "cvl:preset", "Value": compiled.preset},
        ]
        # The token makes a retried create (throttling, 5xx) return the first one instead of a second.
        sagemaker.create_pipeline(**request, Tags=tags, ClientRequestToken=compiled.digest[:64])
        return "created"
    same_definition = canonical_json(existing.get("PipelineDefinition", "{}")) == compiled.definition
    if same_definition and existing.get("PipelineDescription") == compiled.description:
        return "unchanged"
    sagemaker.update_pipeline(**request)
    return "updated"


def compile_and_validate(staged: Staged, boto_session: Any | None = None) -> CompiledPipeline:
    """Compile a staged preset and check every step against the SageMaker API model."""
    compiled = compile_staged(staged, boto_session=boto_session)
    client = compiled.pipeline.sagemaker_session.sagemaker_client
    validate_definition(compiled.definition, client.meta.service_model)
    return compiled


def upsert_one(session: Any, compiled: CompiledPipeline, *, preflight: bool = True) -> Outcome:
    """Preflight, infrastructure, uploads, then create/update/unchanged for one compiled pipeline."""
    failed = prepare(session, compiled.staged, preflight=preflight)
    if failed:
        return Outcome(compiled.name, "failed", compiled.digest, failed)
    return Outcome(compiled.name, publish(session, compiled), compiled.digest)


def upsert_all(
    staged: list[Staged], region: str, *, preflight: bool = True, schedule: str | None = None
) -> list[Outcome]:
    """Upsert staged pipelines, and put their schedule right when `schedule` is given.

    The AWS preparation (preflight, infrastructure, uploads) runs on threads while this thread loads
    the SDK and compiles: together they take the longer of the two.
    """
    from pipelines.schedule import ensure_schedule
    from steps.common.aws import aws_session, client

    aws = aws_session(region)  # boto3 sessions are not thread-safe: one for the workers, one for the SDK
    with ThreadPoolExecutor(max_workers=4) as pool:
        prepared = {s.name: pool.submit(prepare, aws, s, preflight=preflight) for s in staged}
        compiled = [compile_and_validate(s, aws_session(region)) for s in staged]
        failures = {name: future.result() for name, future in prepared.items()}
    outcomes = []
    for pipeline in compiled:
        if failures[pipeline.name]:
            outcomes.append(Outcome(pipeline.name, "failed", pipeline.digest, failures[pipeline.name]))
            continue
        action = publish(aws, pipeline)
        detail = ""
        if schedule:
            arn = client(aws, "sagemaker").describe_pipeline(PipelineName=pipeline.name)["PipelineArn"]
            detail = ensure_schedule(aws, pipeline.name, arn, schedule, pipeline.target.role_arn)
        outcomes.append(Outcome(pipeline.name, action, pipeline.digest, detail))
    return outcomes


@command
def main(argv: list[str] | None = None) -> int:
    """Compile, validate and upsert the selected pipelines (or write them with `--dry-run`)."""
    parser = command_parser(
        "upsert", "Create or update SageMaker pipelines for example presets.", all_examples=True
    )
    parser.add_argument("--dry-run", action="store_true", help="no network call: write DIR/<pipeline>.json")
    parser.add_argument("--out", type=Path, default=Path("definitions"), help="folder for --dry-run output")
    parser.add_argument("--skip-preflight", action="store_true", help="do not run the preflight checks first")
    parser.add_argument(
        "--schedule", metavar="EXPR", help="run on a schedule: 'rate(1 day)', 'cron(0 3 * * ? *)', or 'off'"
    )
    args = parser.parse_args(argv)
    if args.schedule:
        check_expression(args.schedule)

    root = examples_root(args.examples_root)
    target = resolve_target(
        region=args.region, role_arn=args.role_arn, bucket=args.bucket, allow_placeholders=args.dry_run
    )
    staged = [
        stage(example, name, preset, target)
        for example, name, preset in selected(root, args.example, args.preset, args.all)
    ]
    if args.dry_run:
        outcomes = []
        for pipeline in (compile_and_validate(s) for s in staged):
            path = write_definition(pipeline, args.out)
            outcomes.append(Outcome(pipeline.name, "written", pipeline.digest, str(path)))
    else:
        outcomes = upsert_all(
            staged, target.region, preflight=not args.skip_preflight, schedule=args.schedule
        )
    _print(outcomes, target.placeholders, args.json)
    return EXIT_FAILED if any(outcome.action == "failed" for outcome in outcomes) else EXIT_OK


def _print(outcomes: list[Outcome], placeholders: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {"placeholders": list(placeholders), "pipelines": [o.as_dict() for o in outcomes]}, indent=2
            )
        )
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
    exit_now(main())
