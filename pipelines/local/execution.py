"""Run the compiled pipeline on this machine with the SDK's own local executor and our job client.

The pipeline is compiled exactly as for SageMaker, but on a `LocalPipelineSession`; the bundle and
build context go to the run's local S3 folder (where `upsert` would upload them); then the SDK's
`_LocalPipeline(...).start()` walks the DAG (step order, property files, `JsonGet`, conditions) and
hands each job to `LocalJobClient`. `_LocalPipeline` is private SDK API: the SDK is pinned and
tests/pipelines/test_run_local.py covers it.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from configs import DeployTarget, Example, Preset
from configs.preset import Register
from configs.settings import PLACEHOLDER_ACCOUNT, PLACEHOLDER_ROLE_ARN
from pipelines.cli.command import shown_path
from pipelines.cli.run_printer import Progress
from pipelines.define.compile import compile_pipeline
from pipelines.define.names import model_package_group, pipeline_name
from pipelines.local.client import LocalJobClient
from pipelines.local.session import local_pipeline_session, offline_guard
from pipelines.local.store import LocalS3
from pipelines.operate.outcome import (
    EXIT_FAILED,
    SUCCEEDED,
    LocalRunRecord,
    RunOutcome,
    default_output_dir,
    failure_of,
    write_record,
)
from pipelines.operate.report_page import write_report
from pipelines.operate.run_report import record_report
from steps.common.statuses import JobStatus
from steps.preflight.job.prices import estimate_preset
from steps.sdk.offline import sdk_environment
from steps.train.metrics import MetricCollector, metric_definitions
from steps.train.overrides import Overrides, parameter_text
from steps.train.parameters import parameter_specs

LOCAL_BUCKET = "cvl-local"


def local_target(region: str) -> DeployTarget:
    """The deploy target a local run compiles for: the region, and stand-ins for role and bucket."""
    return DeployTarget(
        region=region, role_arn=PLACEHOLDER_ROLE_ARN, bucket=LOCAL_BUCKET, account=PLACEHOLDER_ACCOUNT
    )


class _Watch:
    """JobEvents that print the execution's step states before each job and the jobs' log lines."""

    def __init__(self, progress: Progress, metrics: MetricCollector) -> None:
        self.progress = progress
        self.metrics = metrics
        self.pipeline: Any = None

    def poll(self) -> None:
        for execution in list(getattr(self.pipeline, "_executions", {}).values()):
            self.progress.steps(execution.list_steps()["PipelineExecutionSteps"])

    def job_started(self, name: str) -> None:
        self.poll()

    def job_log(self, name: str, line: str) -> None:
        self.progress.log(line)
        self.metrics.feed(line)


def _registration_line(example: str, gate: Register, client: LocalJobClient) -> str:
    """What a passed gate would do on SageMaker, which a local run leaves out."""
    finals: dict[str, float] = {}
    for job in client.training_jobs():
        finals |= job.extra.get("final_metrics", {})
    value = finals.get(gate.metric)
    return (
        f"gate      {gate.metric} {value} passed ({gate.passes}); registration happens on SageMaker: "
        f"run without --local to register the model in {model_package_group(example, gate)}"
    )


def stage_uploads(compiled: Any, s3: LocalS3) -> None:
    """Put the step bundle and the build context where the pipeline reads them (what `upsert` uploads)."""
    prefix = compiled.bundle.s3_prefix(compiled.target.bucket)
    for name, data in compiled.bundle.files.items():
        s3.put(prefix + name, data)
    s3.put(compiled.context_uri, compiled.context.pack().data)


def run_local(
    example: Example,
    preset_name: str,
    preset: Preset,
    *,
    overrides: Overrides,
    output_dir: Path,
    checkpoint_dir: Path,
    region: str,
    progress: Progress,
) -> RunOutcome:
    """Compile and execute the pipeline here; the model dir ends up in `output_dir/model`.

    A KeyboardInterrupt stops the running job and propagates.
    """
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    base_env = dict(os.environ)
    # The regexes the training step declares: the series is the one SageMaker would chart.
    watch = _Watch(progress, MetricCollector(metric_definitions(preset)))
    output_dir.mkdir(parents=True, exist_ok=True)
    # The job trees live beside the outputs: the model dir is then moved, not copied, and a run that
    # is killed leaves its tree where its outputs are, not in /tmp.
    with tempfile.TemporaryDirectory(prefix=".cvl-work-", dir=output_dir) as work, offline_guard():
        with sdk_environment(region, offline=True):
            from sagemaker.mlops.local.pipeline_entities import _LocalPipeline

            s3 = LocalS3(Path(work) / "s3")
            client = LocalJobClient(
                work_dir=Path(work),
                s3=s3,
                output_dir=output_dir,
                checkpoint_dir=checkpoint_dir,
                base_env=base_env,
                events=watch,
            )
            session = local_pipeline_session(region, LOCAL_BUCKET, s3, client)
            # The SDK's local executor cannot run a RegisterModel step: the gate is evaluated, no more.
            compiled = compile_pipeline(
                example, preset_name, preset, local_target(region), session=session, registration=False
            )
            stage_uploads(compiled, s3)
            watch.pipeline = _LocalPipeline(pipeline=compiled.pipeline, local_session=session)
            execution = watch.pipeline.start(PipelineParameters=dict(overrides.values))
        watch.poll()
        steps = execution.list_steps()["PipelineExecutionSteps"]
        tail: tuple[str, ...] = ()
        exit_code, model_dir, job_name = 0, None, None
        for job in client.training_jobs():
            tail, job_name = tuple(job.tail), job.name
            if job.status == JobStatus.FAILED and job.exit_code:
                exit_code = job.exit_code
            model_dir = job.extra.get("model_dir", model_dir)
        succeeded = execution.status == SUCCEEDED
        if succeeded and preset.gate is not None:
            progress.say(_registration_line(example.name, preset.gate, client))
        return RunOutcome(
            pipeline=compiled.name,
            execution=execution.pipeline_execution_name,
            status=execution.status,
            exit_code=0 if succeeded else exit_code or EXIT_FAILED,
            failure="" if succeeded else failure_of(steps, execution.failure_reason or execution.status),
            model_dir=model_dir,
            checkpoint_dir=checkpoint_dir,
            tail=tail,
            steps=tuple(steps),
            training_job=job_name,
            metrics=watch.metrics.series(),
        )


def execute_local(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: Overrides,
    *,
    output_dir: Path | None,
    checkpoint_dir: Path | None,
    region: str,
    progress: Progress,
) -> RunOutcome:
    """Run the pipeline here with its outputs in `output_dir` (default `outputs/<pipeline>/<run-id>`) and
    its checkpoints in `checkpoint_dir` (default `<output_dir>/checkpoints`)."""
    name = pipeline_name(example.name, preset_name)
    output_dir = (output_dir or default_output_dir(name, time.strftime("%Y%m%d-%H%M%S"))).resolve()
    checkpoint_dir = (checkpoint_dir or output_dir / "checkpoints").resolve()
    progress.say(f"{name}: local run -> {shown_path(output_dir)}")
    if checkpoint_dir.is_dir() and any(checkpoint_dir.iterdir()):
        progress.say(f"checkpoint folder {checkpoint_dir} is not empty: training resumes from it")
    outcome = run_local(
        example,
        preset_name,
        preset,
        overrides=overrides,
        output_dir=output_dir,
        checkpoint_dir=checkpoint_dir,
        region=region,
        progress=progress,
    )
    specs = parameter_specs(preset, "s3://cvl-local/output")
    parameters = {spec.name: parameter_text(overrides.values.get(spec.name, spec.default)) for spec in specs}
    cost = estimate_preset(overrides.applied_to(preset).model_dump()).line()
    record = LocalRunRecord.of(outcome, example.name, preset_name, parameters, cost)
    write_record(output_dir, record)
    return outcome._replace(report=write_report(record_report(record, output_dir.name), output_dir))
