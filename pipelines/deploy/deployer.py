"""Deploying pipelines: which ones the flags select, the preflight gate, the uploads, and the upsert.

`upsert` and `run` both deploy through here. The AWS preparation (preflight, build infrastructure,
step bundle, build context) needs no SDK and runs on threads while the SDK loads and compiles; the
create/update/unchanged decision and every other pipelines call go through `PipelineApi`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput
from pipelines import catalog
from pipelines.cli.count_bar import Bar
from pipelines.define.compile import CompiledPipeline
from pipelines.define.compile_pool import compile_all
from pipelines.define.fingerprint import fingerprint, recorded
from pipelines.define.staging import Staged
from pipelines.deploy.model_registry import ensure_model_package_group
from pipelines.deploy.pipeline_api import PipelineApi
from pipelines.deploy.preflight_answers import remembered_clients
from pipelines.deploy.schedules import ensure_schedule
from pipelines.deploy.uploads import ensure_bundle, present
from steps.build_image.job.context import ContextChanged
from steps.build_image.job.image_builder import SharedInfrastructure, ensure_infrastructure, upload_context
from steps.common.aws import aws_session, require_credentials
from steps.common.aws import client as aws_client
from steps.preflight.job.checks import run_preflight
from steps.preflight.job.prices import estimate_preset
from steps.preflight.job.report import failure_reason, format_table
from steps.sdk.bundle import MANIFEST
from steps.train.overrides import Overrides

_IO_THREADS = 8  # AWS calls of different pipelines overlap; botocore's pool keeps 10 connections a client


class Deployed(NamedTuple):
    """What happened to one pipeline: `created`, `updated`, `unchanged` (a dry run: its file kept),
    `written` (dry run), `failed`, or `would create`/`would update` (`--diff --dry-run`), with its
    definition's digest, a detail (the fixes when failed, the file when written, the schedule), its ARN
    (empty unless it exists in SageMaker) and, with `--diff`, what an update changes
    (`pipelines.define.diff`)."""

    pipeline: str
    action: str
    digest: str
    detail: str = ""
    arn: str = ""
    changes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON-ready data."""
        return self._asdict()


def selected(
    root: Path, example: str | None, preset: str | None, every: bool, strict: bool = False
) -> catalog.Pairs:
    """The (example, preset name, preset) triples the flags ask for, and the examples `--all` skips
    (unreadable, with the reason; with `strict`, flagged presets too); `BadInput` when they ask for none,
    or when every example `--all` reads is unreadable (nothing could be done; the reasons are the error).

    With `--all`, `--example` narrows to one example and `--preset` to one preset name.
    """
    if every:
        chosen = catalog.all_pairs(root, only=example, strict=strict)
        if not chosen.pairs and chosen.skipped:
            reasons = "; ".join(f"{entry.folder}: {entry.reason}" for entry in chosen.skipped)
            raise BadInput(f"--all: nothing to upsert, every example was skipped ({reasons})")
        if preset:
            chosen = chosen._replace(pairs=[pair for pair in chosen.pairs if pair[1] == preset])
            if not chosen.pairs:
                raise BadInput(f"--all --preset {preset}: no example has a preset named {preset!r}")
        return chosen
    if not example or not preset:
        raise BadInput("say which pipeline: --example E --preset P, or --all")
    found, chosen_preset = catalog.resolve(root, example, preset, strict=strict)
    return catalog.Pairs([(found, preset, chosen_preset)], [])


def preflight_gate(
    session: Any, staged: Staged, overrides: Overrides | None = None, clients: dict[str, Any] | None = None
) -> str:
    """Run the preflight checks for the preset as this execution runs it (with `overrides` applied);
    print the table to stderr and return the fixes when one failed, else "" (a warn, such as a check
    an emulator cannot answer, is said in one line)."""
    preset = overrides.applied_to(staged.preset) if overrides else staged.preset
    results = run_preflight(preset, staged.facts, session, clients=clients)
    # One write per line: pipelines are prepared on threads, and print() writes the newline apart.
    sys.stderr.write(f"{staged.name}: {estimate_preset(preset.model_dump()).line()}\n")
    if any(result.status == "fail" for result in results):
        print(f"{staged.name}: preflight failed\n{format_table(results)}", file=sys.stderr)
        return failure_reason(results)
    for result in results:
        if result.status == "warn":
            sys.stderr.write(f"{staged.name}: preflight {result.name}: {result.detail}\n")
    return ""


def prepare(
    session: Any,
    staged: Staged,
    *,
    preflight: bool = True,
    overrides: Overrides | None = None,
    clients: dict[str, Any] | None = None,
    infrastructure: SharedInfrastructure | None = None,
) -> str:
    """Everything before the pipeline itself, none of it needing the SDK: the preflight checks, then the
    build infrastructure and the uploads. Returns the failed checks' fixes; nothing is created then.

    `infrastructure` shares the project and repository set-up among the pipelines of one upsert."""
    if preflight:
        failed = preflight_gate(session, staged, overrides, clients)
        if failed:
            return failed
    if staged.image_uri is None:  # a given image needs no build: no project, no context
        if infrastructure is not None:
            infrastructure.ensure(session, staged.build)
        else:
            ensure_infrastructure(session, staged.build)
    ensure_bundle(session, staged.bundle, staged.target.bucket)
    ensure_model_package_group(session, staged)
    if staged.image_uri is None:
        try:
            if infrastructure is not None:
                infrastructure.upload(session, staged.build, staged.context)
            else:
                upload_context(session, staged.build, staged.context)
        except ContextChanged as error:
            return str(error)
    return ""


def deploy(
    staged: list[Staged],
    region: str,
    *,
    preflight: bool = True,
    schedule: str | None = None,
    overrides: Overrides | None = None,
    force: bool = False,
    diff: bool = False,
    send: bool = True,
    progress: Bar | None = None,
) -> list[Deployed]:
    """Upsert staged pipelines, and put their schedule right when `schedule` is given.

    A pipeline whose deployed fingerprint matches is `unchanged` without loading the SDK (its uploads
    are confirmed; nothing else is sent). The rest take the full path: the AWS preparation runs on
    threads while the SDK compiles (in a process pool when many changed), then their create/update calls
    overlap. `overrides` (one pipeline, from `run`) are applied to what preflight checks; `run` and
    `force` always take the full path. `diff` says what each update changes; without `send` nothing is
    uploaded, created or updated (deployed pipelines are only read). `progress` counts pipelines done.
    """
    aws = aws_session(region)  # boto3 sessions are not thread-safe: one for the workers, one for the SDK
    require_credentials(aws)  # before preflight and the SDK's compile: the likeliest first mistake, at once
    client = PipelineApi.of(aws)
    progress = progress or Bar(len(staged), enabled=False)
    outcomes = {} if force or overrides is not None else _unchanged(aws, client, staged)
    progress.advance(len(outcomes), "unchanged")
    changed = [s for s in staged if s.name not in outcomes]
    if changed:
        publish = partial(client.publish, send=send, diff=diff)
        outcomes |= _full_path(
            aws,
            publish,
            changed,
            region,
            send=send,
            preflight=preflight,
            overrides=overrides,
            progress=progress,
        )
    if schedule:
        outcomes = _scheduled(aws, outcomes, schedule, {s.name: s.target.role_arn for s in staged})
    return [outcomes[s.name] for s in staged]


def _unchanged(aws: Any, client: Any, staged: list[Staged]) -> dict[str, Deployed]:
    """The pipelines whose deployed fingerprint matches and whose uploads are still in S3."""
    deployed = client.summaries_of([s.name for s in staged])
    matches = {}
    for s in staged:
        summary = deployed.get(s.name)
        mark = recorded(summary.description) if summary else None
        if summary and mark and mark.inputs == fingerprint(s):
            matches[s.name] = Deployed(s.name, "unchanged", mark.definition, "", summary.arn)

    s3 = aws_client(aws, "s3")  # clients are thread-safe; making them from one session on threads is not
    there = _uploads_there(s3, [s for s in staged if s.name in matches])
    return {name: outcome for name, outcome in matches.items() if name in there}


def _uploads_there(s3: Any, staged: list[Staged]) -> set[str]:
    """The pipelines whose step bundle and build context (when they have one) are still in S3; each
    object is asked about once (the presets of an example share its context), in bulk (`present`)."""
    wanted = {}
    for s in staged:
        keys = {(s.target.bucket, f"{s.bundle.key_prefix}/{MANIFEST}")}
        if s.image_uri is None:  # a given image: no context was uploaded
            keys.add((s.target.bucket, s.build.context_key(s.context.digest)))
        wanted[s.name] = keys
    by_bucket: dict[str, set[str]] = {}
    for bucket, key in set().union(*wanted.values()):
        by_bucket.setdefault(bucket, set()).add(key)
    there = {(bucket, key) for bucket, keys in by_bucket.items() for key in present(s3, bucket, keys)}
    return {name for name, keys in wanted.items() if keys <= there}


def _full_path(
    aws: Any,
    publish: Callable[[CompiledPipeline], Any],
    staged: list[Staged],
    region: str,
    *,
    send: bool,
    preflight: bool,
    overrides: Overrides | None,
    progress: Bar,
) -> dict[str, Deployed]:
    """Prepare (threads; not when nothing is to be sent) while compiling (here, or in a process pool),
    then publish (threads)."""
    shared = remembered_clients(aws) if len(staged) > 1 else None  # each shared check once per upsert
    infrastructure = SharedInfrastructure()  # the project once, each repository once
    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        prepared = {
            s.name: pool.submit(
                prepare,
                aws,
                s,
                preflight=preflight,
                overrides=overrides,
                clients=shared,
                infrastructure=infrastructure,
            )
            for s in staged
            if send
        }
        compiled = compile_all(staged, region)
        failures = {name: future.result() for name, future in prepared.items()}

        def one(pipeline: CompiledPipeline) -> Deployed:
            if failures.get(pipeline.name):
                outcome = Deployed(pipeline.name, "failed", pipeline.digest, failures[pipeline.name])
            else:
                done = publish(pipeline)
                outcome = Deployed(pipeline.name, done.action, pipeline.digest, "", done.arn, done.changes)
            progress.advance(1, pipeline.name)
            return outcome

        return {outcome.pipeline: outcome for outcome in pool.map(one, compiled)}


def _scheduled(
    aws: Any, outcomes: dict[str, Deployed], schedule: str, roles: dict[str, str]
) -> dict[str, Deployed]:

    def put(outcome: Deployed) -> Deployed:
        if outcome.action == "failed":
            return outcome
        return outcome._replace(
            detail=ensure_schedule(aws, outcome.pipeline, outcome.arn, schedule, roles[outcome.pipeline])
        )

    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        return {outcome.pipeline: outcome for outcome in pool.map(put, outcomes.values())}
