"""Deploying pipelines: which ones the flags select, the preflight gate, the uploads, and the upsert.

`upsert` and `run` both deploy through here. The AWS preparation (preflight, build infrastructure,
step bundle, build context) needs no SDK and runs on threads while the SDK loads and compiles; the
create/update/unchanged decision and every other pipelines call go through `PipelinesClient`.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput
from pipelines import catalog
from pipelines.compile import CompiledPipeline, Staged, compile_staged
from pipelines.validate import validate_definition
from steps.train.overrides import Overrides


class Deployed(NamedTuple):
    """What happened to one pipeline: `created`, `updated`, `unchanged`, `written` (dry run) or `failed`,
    with its definition's digest, a detail (the fixes when failed, the file when written, the schedule)
    and its ARN (empty unless it exists in SageMaker)."""

    pipeline: str
    action: str
    digest: str
    detail: str = ""
    arn: str = ""

    def as_dict(self) -> dict[str, str]:
        """The outcome as JSON-ready data."""
        return self._asdict()


def selected(root: Path, example: str | None, preset: str | None, every: bool) -> catalog.Pairs:
    """The (example, preset name, preset) triples the flags ask for, and the examples `--all` skips
    (unreadable, with the reason); `BadInput` when they ask for none.

    With `--all`, `--example` narrows to one example and `--preset` to one preset name.
    """
    if every:
        chosen = catalog.all_pairs(root, only=example)
        if preset:
            chosen = chosen._replace(pairs=[pair for pair in chosen.pairs if pair[1] == preset])
            if not chosen.pairs:
                raise BadInput(f"--all --preset {preset}: no example has a preset named {preset!r}")
        return chosen
    if not example or not preset:
        raise BadInput("say which pipeline: --example E --preset P, or --all")
    found, chosen_preset = catalog.resolve(root, example, preset)
    return catalog.Pairs([(found, preset, chosen_preset)], [])


def write_definition(compiled: CompiledPipeline, out_dir: Path) -> Path:
    """Write the definition that would be upserted to `out_dir/<pipeline>.json` (pretty, sorted keys)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{compiled.name}.json"
    path.write_text(json.dumps(json.loads(compiled.definition), indent=2, sort_keys=True) + "\n")
    return path


def preflight_gate(session: Any, staged: Staged, overrides: Overrides | None = None) -> str:
    """Run the preflight checks for the preset as this execution runs it (with `overrides` applied);
    print the table to stderr and return the fixes when one failed, else ""."""
    from steps.preflight.checks import run_preflight
    from steps.preflight.prices import estimate_preset
    from steps.preflight.report import failure_reason, format_table

    preset = overrides.applied_to(staged.preset) if overrides else staged.preset
    facts = json.loads(staged.bundle.files["run.json"])
    results = run_preflight(preset, facts, session)
    print(f"{staged.name}: {estimate_preset(preset.model_dump()).line()}", file=sys.stderr)
    if any(result.status == "fail" for result in results):
        print(f"{staged.name}: preflight failed\n{format_table(results)}", file=sys.stderr)
        return failure_reason(results)
    return ""


def prepare(
    session: Any, staged: Staged, *, preflight: bool = True, overrides: Overrides | None = None
) -> str:
    """Everything before the pipeline itself, none of it needing the SDK: the preflight checks, then the
    build infrastructure and the uploads. Returns the failed checks' fixes; nothing is created then."""
    from pipelines.uploads import ensure_bundle
    from steps.build_image.logic import ensure_infrastructure, upload_context

    if preflight:
        failed = preflight_gate(session, staged, overrides)
        if failed:
            return failed
    ensure_infrastructure(session, staged.build)
    ensure_bundle(session, staged.bundle, staged.target.bucket)
    upload_context(session, staged.build, staged.context)
    return ""


def compile_and_validate(staged: Staged, boto_session: Any | None = None) -> CompiledPipeline:
    """Compile a staged preset and check every step against the SageMaker API model."""
    compiled = compile_staged(staged, boto_session=boto_session)
    client = compiled.pipeline.sagemaker_session.sagemaker_client
    validate_definition(compiled.definition, client.meta.service_model)
    return compiled


def dry_run(staged: list[Staged], out_dir: Path) -> list[Deployed]:
    """Compile and validate without any network call; write each definition to `out_dir`."""
    outcomes = []
    for pipeline in (compile_and_validate(s) for s in staged):
        path = write_definition(pipeline, out_dir)
        outcomes.append(Deployed(pipeline.name, "written", pipeline.digest, str(path)))
    return outcomes


def deploy(
    staged: list[Staged],
    region: str,
    *,
    preflight: bool = True,
    schedule: str | None = None,
    overrides: Overrides | None = None,
) -> list[Deployed]:
    """Upsert staged pipelines, and put their schedule right when `schedule` is given.

    `overrides` (one pipeline, from `run`) are applied to what preflight checks. The AWS preparation
    runs on threads while this thread loads the SDK and compiles: together they take the longer of the two.
    """
    from pipelines.pipelines_client import PipelinesClient
    from pipelines.schedule import ensure_schedule
    from steps.common.aws import aws_session

    aws = aws_session(region)  # boto3 sessions are not thread-safe: one for the workers, one for the SDK
    with ThreadPoolExecutor(max_workers=4) as pool:
        prepared = {
            s.name: pool.submit(prepare, aws, s, preflight=preflight, overrides=overrides) for s in staged
        }
        compiled = [compile_and_validate(s, aws_session(region)) for s in staged]
        failures = {name: future.result() for name, future in prepared.items()}
    client = PipelinesClient.of(aws)
    outcomes = []
    for pipeline in compiled:
        if failures[pipeline.name]:
            outcomes.append(Deployed(pipeline.name, "failed", pipeline.digest, failures[pipeline.name]))
            continue
        published = client.publish(pipeline)
        detail = ""
        if schedule:
            detail = ensure_schedule(aws, pipeline.name, published.arn, schedule, pipeline.target.role_arn)
        outcomes.append(Deployed(pipeline.name, published.action, pipeline.digest, detail, published.arn))
    return outcomes
