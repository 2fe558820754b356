"""Gathering what a failed execution left behind into one `Evidence`: remote from the APIs, local from
the run's outcome.

Remote: the execution's status and steps, DescribeTrainingJob, the last lines of every host's CloudWatch
log stream, the command's exit record in the job's output data, and the example and preset from the
pipeline's tags (so an ARN alone is enough).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from pipelines.deploy.pipeline_api import PipelineApi
from pipelines.operate.artifacts import training_exit_code
from pipelines.operate.diagnosis import Evidence
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import split_arn
from pipelines.operate.follow import LOG_GROUP, training_job_of
from pipelines.operate.missing_module import explain_missing_module
from pipelines.operate.outcome import LocalRunRecord
from steps.common.aws import client
from steps.common.tags import EXAMPLE_KEY, PRESET_KEY
from steps.train.overrides import parameter_text

LOG_TAIL = 200  # lines per host stream: enough to hold a traceback and what led to it


def log_tail(logs: Any, job: str, limit: int = LOG_TAIL) -> tuple[str, ...]:
    """The last `limit` lines of each of the job's log streams (one per host), oldest first."""
    lines: list[str] = []
    streams = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/"
    )
    for page in streams:
        for stream in page.get("logStreams", []):
            events = logs.get_log_events(
                logGroupName=LOG_GROUP,
                logStreamName=stream["logStreamName"],
                limit=limit,
                startFromHead=False,
            )["events"]
            lines += [str(event["message"]).rstrip("\n") for event in events]
    return tuple(lines)


class DeployedPipeline(NamedTuple):
    """What a run's report and diagnosis read from its pipeline: its tags and its parameters' defaults."""

    tags: dict[str, str]
    defaults: dict[str, str]


def deployed_pipeline(session: Any, pipeline: str) -> DeployedPipeline:
    """The pipeline's tags (where the example and preset it runs are written) and parameter defaults."""
    described = PipelineApi.of(session).describe(pipeline)
    if described is None:
        return DeployedPipeline({}, {})
    pages = (
        client(session, "sagemaker").get_paginator("list_tags").paginate(ResourceArn=described["PipelineArn"])
    )
    definition = json.loads(described.get("PipelineDefinition") or "{}")
    defaults = {
        str(p["Name"]): parameter_text(p["DefaultValue"])
        for p in definition.get("Parameters", [])
        if "DefaultValue" in p
    }
    tags = {str(tag["Key"]): str(tag["Value"]) for page in pages for tag in page.get("Tags", [])}
    return DeployedPipeline(tags, defaults)


def remote_evidence(session: Any, arn: str) -> Evidence:
    """Everything a failed execution left in AWS."""
    api = ExecutionApi.of(session)
    described = api.describe_execution(arn)
    steps = api.steps(arn)
    job_name = training_job_of(steps)
    job = api.training_job(job_name) if job_name else None
    tags = deployed_pipeline(session, split_arn(arn)[0]).tags
    lines = log_tail(client(session, "logs"), job_name) if job_name else ()
    return Evidence(
        example=tags.get(EXAMPLE_KEY, "<example>"),
        preset=tags.get(PRESET_KEY, "<preset>"),
        status=str(described.get("PipelineExecutionStatus", "")),
        steps=tuple(steps),
        training_job=job,
        log_lines=lines,
        exit_code=training_exit_code(session, job) if job else None,
    )


def record_evidence(record: LocalRunRecord, example_path: Path | None) -> Evidence:
    """A run's record as evidence; with the example's folder, a missing module is traced to its Dockerfile."""
    hint = explain_missing_module(list(record.tail), example_path) if example_path else None
    return Evidence(
        example=record.example,
        preset=record.preset,
        status=record.status,
        steps=record.steps,
        log_lines=record.tail,
        exit_code=record.exit_code or None,
        missing_module_hint=hint,
    )
