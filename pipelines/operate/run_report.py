"""What a run report shows, gathered into one `RunReport`: from a local run's record, or from AWS.

Remote: the execution and its steps, the parameters it started with, the training job (billing, final
metrics), the whole training log read with the job's own MetricDefinitions, and the preset's cost
estimate from its example. Nothing here draws: `report_page.py` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from pipelines.operate.evidence import deployed_pipeline
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import split_arn
from pipelines.operate.follow import LOG_GROUP, declared_metrics, training_job_of
from pipelines.operate.outcome import Billing, LocalRunRecord
from steps.common.aws import client
from steps.common.tags import EXAMPLE_KEY, PRESET_KEY
from steps.train.metrics import MetricCollector, Point


class StepSpan(NamedTuple):
    """A step on the timeline: its name, final status, and when it ran (None: not known)."""

    name: str
    status: str
    started: datetime | None
    ended: datetime | None


class RunReport(NamedTuple):
    """Everything the report page shows about one run."""

    pipeline: str
    execution: str
    example: str
    preset: str
    status: str
    parameters: dict[str, str]
    steps: tuple[StepSpan, ...]
    cost_estimate: str
    billed: str
    metrics: dict[str, list[Point]]
    final_metrics: dict[str, float]


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):  # the local executor's steps carry epoch seconds
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def spans(steps: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> tuple[StepSpan, ...]:
    """The steps (ListPipelineExecutionSteps shape) as timeline spans, in the order they started."""
    found = [
        StepSpan(
            str(s["StepName"]),
            str(s.get("StepStatus", "")),
            _when(s.get("StartTime")),
            _when(s.get("EndTime")),
        )
        for s in steps
    ]
    return tuple(sorted(found, key=lambda span: (span.started is None, span.started or datetime.min)))


def finals(metrics: dict[str, list[Point]]) -> dict[str, float]:
    """Each series' last value: what SageMaker reports as the final metric."""
    return {name: points[-1].value for name, points in metrics.items() if points}


def record_report(record: LocalRunRecord, folder_name: str) -> RunReport:
    """The report of a local run, from the record it left beside its outputs."""
    return RunReport(
        pipeline=f"cvl-{record.example}-{record.preset}",
        execution=f"local run {folder_name}",
        example=record.example,
        preset=record.preset,
        status=record.status,
        parameters=dict(record.parameters),
        steps=spans(record.steps),
        cost_estimate=record.cost,
        billed="a local run bills nothing",
        metrics=record.metrics,
        final_metrics=finals(record.metrics),
    )


def whole_log(logs: Any, job: str) -> list[str]:
    """Every line of every host's stream of `job`, host by host, oldest first."""
    lines: list[str] = []
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/"
    )
    for page in pages:
        for stream in page.get("logStreams", []):
            request = {
                "logGroupName": LOG_GROUP,
                "logStreamName": stream["logStreamName"],
                "startFromHead": True,
            }
            token = None
            while True:  # GetLogEvents has no botocore paginator: the same forward token marks the end
                answer = logs.get_log_events(**request, **({"nextToken": token} if token else {}))
                lines += [str(event["message"]).rstrip("\n") for event in answer.get("events", [])]
                if not answer.get("events") or answer.get("nextForwardToken") == token:
                    break
                token = answer.get("nextForwardToken")
    return lines


def remote_report(session: Any, arn: str, cost_estimate: str = "") -> RunReport:
    """The report of an execution in AWS."""
    api = ExecutionApi.of(session)
    described = api.describe_execution(arn)
    steps = api.steps(arn)
    job_name = training_job_of(steps)
    job = api.training_job(job_name) if job_name else {}
    metrics: dict[str, list[Point]] = {}
    if job_name:
        collector = MetricCollector(declared_metrics(job))
        for line in whole_log(client(session, "logs"), job_name):
            collector.feed(line)
        metrics = collector.series()
    reported = {str(m["MetricName"]): float(m["Value"]) for m in job.get("FinalMetricDataList") or []}
    billing = Billing.of(job) if job else None
    pipeline = deployed_pipeline(session, split_arn(arn)[0])
    tags = pipeline.tags
    return RunReport(
        pipeline=split_arn(arn)[0],
        execution=arn,
        example=tags.get(EXAMPLE_KEY, ""),
        preset=tags.get(PRESET_KEY, ""),
        status=str(described.get("PipelineExecutionStatus", "")),
        parameters=pipeline.defaults | api.parameters(arn),
        steps=spans(steps),
        cost_estimate=cost_estimate,
        billed=billing.line() if billing else "not billed (no training job ran)",
        metrics=metrics,
        final_metrics=finals(metrics) | reported,
    )
