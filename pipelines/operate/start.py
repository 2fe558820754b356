"""Running a pipeline on SageMaker, ending in a `RunOutcome` (a local run ends in one too: `pipelines.local`).

`run` and `SageMakerRunner` call `execute_remote` (or `pipelines.local.execute_local`) with a typed
`Overrides`; the remote path deploys through `pipelines.deploy.deployer`, starts and follows through `ExecutionApi`, and reads
the training command's exit code from the record the entry point leaves in the job's output data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from configs import BadInput, DeployTarget, Example, Preset
from pipelines.cli.run_printer import Progress
from pipelines.define.staging import stage
from pipelines.deploy.deployer import deploy
from pipelines.operate.artifacts import download_model, training_exit_code
from pipelines.operate.emulator import cannot_follow
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import find_execution, split_arn
from pipelines.operate.fallback import choose_fallback, with_instance_type
from pipelines.operate.follow import follow
from pipelines.operate.follow import poll_seconds as default_poll_seconds
from pipelines.operate.outcome import (
    EXIT_FAILED,
    EXIT_OK,
    NOT_STARTED,
    STARTED,
    SUCCEEDED,
    Billing,
    RunOutcome,
    default_output_dir,
    failure_of,
)
from pipelines.operate.report_page import write_report
from pipelines.operate.run_report import remote_report
from steps.common.aws import aws_session, client
from steps.preflight.job.prices import CostEstimate, estimate_preset
from steps.train.metrics import MetricCollector
from steps.train.overrides import Overrides

TAIL_LINES = 10


def refuse_over_budget(preset: Preset, max_cost: float | None) -> CostEstimate:
    """The run's worst-case estimate; `BadInput` (nothing created yet) when it is above `max_cost`."""
    cost = estimate_preset(preset.model_dump())
    if max_cost is None:
        return cost
    if cost.worst_case_usd is None:
        raise BadInput(
            f"--max-cost ${max_cost:.2f}: the price table has no {cost.instance_type}, so the worst case "
            "is unknown: pick a listed instance type or drop --max-cost (CVL_MAX_COST)"
        )
    if cost.worst_case_usd > max_cost:
        raise BadInput(
            f"the worst case is ${cost.worst_case_usd:.2f} ({cost.instance_type} x{cost.instance_count} for "
            f"{cost.max_run_minutes} min, estimate), above --max-cost ${max_cost:.2f}: lower the max run "
            "time or InstanceCount, choose a cheaper InstanceType, or raise --max-cost (CVL_MAX_COST)"
        )
    return cost


def execute_remote(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: Overrides,
    *,
    target: DeployTarget,
    output_dir: Path | None,
    progress: Progress,
    preflight: bool = True,
    wait: bool = True,
    download: bool = True,
    image_uri: str | None = None,
    poll_seconds: float | None = None,
    fallback: bool = False,
) -> RunOutcome:
    """Deploy (preflight with the overrides, uploads, upsert), start, and (unless `wait` is False)
    follow to the end and download the model. With `fallback`, a chosen instance type without quota
    room gives way to the cheapest one that fits and has room (recorded in the outcome)."""
    staged = stage(example, preset_name, preset, target, image_uri)
    session = aws_session(target.region)
    pipelines = ExecutionApi.of(session)
    unfollowable = cannot_follow(pipelines, target, staged.name)
    if unfollowable:
        progress.say(f"note: {unfollowable}: the pipeline is upserted and started, but nothing trains")
    chosen = choose_fallback(session, staged, overrides) if fallback else None
    if chosen is not None:
        progress.say(chosen.line())
        overrides = with_instance_type(overrides, staged, chosen.alternative.instance_type)
    fell_back = chosen.line() if chosen else ""
    deployed = deploy([staged], target.region, preflight=preflight, overrides=overrides)[0]
    progress.say(f"{deployed.pipeline}: {deployed.action} (sha256:{deployed.digest[:12]})")
    if deployed.action == "failed":
        return RunOutcome(
            deployed.pipeline, "", NOT_STARTED, EXIT_FAILED, deployed.detail, fallback=fell_back
        )
    arn = pipelines.start(deployed.pipeline, overrides)
    progress.say(f"execution {arn}")
    if not wait or unfollowable:
        return RunOutcome(deployed.pipeline, arn, STARTED, failure=unfollowable, fallback=fell_back)
    outcome = follow_to_end(
        session,
        pipelines,
        arn,
        output_dir=output_dir,
        progress=progress,
        poll_seconds=poll_seconds,
        download=download,
    )
    cost = estimate_preset(overrides.applied_to(preset).model_dump()).line()
    destination = (output_dir or default_output_dir(deployed.pipeline, arn.rsplit("/", 1)[-1])).resolve()
    report = write_report(remote_report(session, arn, cost), destination)
    return outcome._replace(fallback=fell_back, report=report)


def retry_remote(
    execution: str, *, region: str, output_dir: Path | None, progress: Progress, wait: bool = True
) -> RunOutcome:
    """Retry a failed execution from its failed steps (the succeeded ones are not run again), then
    follow it like a new run."""
    session = aws_session(region)
    pipelines = ExecutionApi.of(session)
    arn = pipelines.retry(find_execution(pipelines, execution))
    progress.say(f"retrying execution {arn}")
    if not wait:
        return RunOutcome(split_arn(arn)[0], arn, STARTED)
    return follow_to_end(session, pipelines, arn, output_dir=output_dir, progress=progress)


def follow_to_end(
    session: Any,
    pipelines: Any,
    arn: str,
    *,
    output_dir: Path | None,
    progress: Progress,
    poll_seconds: float | None = None,
    download: bool = True,
) -> RunOutcome:
    """Follow a started execution to its end; download the model when it succeeded (and `download`)."""
    pipeline = split_arn(arn)[0]
    poll = poll_seconds if poll_seconds is not None else default_poll_seconds()
    metrics = MetricCollector()
    described, steps, job = follow(
        pipelines, client(session, "logs"), arn, progress, poll_seconds=poll, metrics=metrics
    )
    status = described["PipelineExecutionStatus"]
    described_job = pipelines.training_job(job) if job else None
    billing = Billing.of(described_job) if described_job else None
    if status != SUCCEEDED:
        code = (training_exit_code(session, described_job) if described_job else None) or EXIT_FAILED
        failure = failure_of(steps, described.get("FailureReason") or status)
        return RunOutcome(
            pipeline,
            arn,
            status,
            code,
            failure,
            steps=tuple(steps),
            training_job=job,
            billing=billing,
            metrics=metrics.series(),
        )
    model = None
    if described_job is not None and download:
        destination = output_dir or default_output_dir(pipeline, arn.rsplit("/", 1)[-1])
        model = download_model(session, described_job, destination.resolve())
    return RunOutcome(
        pipeline,
        arn,
        status,
        EXIT_OK,
        model_dir=model,
        steps=tuple(steps),
        training_job=job,
        billing=billing,
        metrics=metrics.series(),
    )


def summary(outcome: RunOutcome) -> list[str]:
    """What a user reads on stderr when a run did not succeed: the reason, whole, and the log's end."""
    if outcome.succeeded:
        return []
    what = "not started" if outcome.status == NOT_STARTED else f"the execution {outcome.status.lower()}"
    lines = [f"error: {what}: {outcome.failure or outcome.status}"]
    if outcome.tail:
        lines.append("last lines of the training log:")
        lines += [f"    {line}" for line in outcome.tail[-TAIL_LINES:]]
    return lines
