"""Follow a SageMaker pipeline execution from the terminal: step states, every host's training log, stop.

Polls `ListPipelineExecutionSteps` and `DescribePipelineExecution`; once the Train step names its
training job, reads the job's CloudWatch streams (`/aws/sagemaker/TrainingJobs`, one stream per host:
`<job>/algo-1-...`, `<job>/algo-2-...`). Ctrl-C stops the execution and the running training job.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from configs import BadInput
from pipelines.cli.aws_errors import explain
from pipelines.cli.run_printer import Progress
from pipelines.operate.execution_api import ExecutionApi
from steps.common.limits import POLL_SECONDS, POLL_SECONDS_ENV
from steps.common.messages import one_line
from steps.common.statuses import EXECUTION_ENDED
from steps.train.metrics import MetricCollector

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
# How long Ctrl-C waits for the stop request before saying how to stop the execution by hand.
STOP_DEADLINE_SECONDS = 10.0


def poll_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds between two looks at an execution: `CVL_POLL_SECONDS`, else `POLL_SECONDS`."""
    given = environ.get(POLL_SECONDS_ENV)
    if not given:
        return POLL_SECONDS
    try:
        seconds = float(given)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise BadInput(
            f"{POLL_SECONDS_ENV}={given!r} is not a number of seconds: set it to e.g. 10, or unset it"
        )
    return seconds


def training_job_of(steps: list[dict[str, Any]]) -> str | None:
    """The name of the training job of the (last started) training step, once SageMaker names it."""
    for step in steps:
        arn = (step.get("Metadata") or {}).get("TrainingJob", {}).get("Arn")
        if arn:
            return str(arn).rsplit("/", 1)[-1]
    return None


class LogFollower:
    """Prints the new events of every CloudWatch stream of one training job, marked with its host."""

    def __init__(
        self, logs: Any, job: str, progress: Progress, metrics: MetricCollector | None = None
    ) -> None:
        self.logs, self.job, self.progress, self.metrics = logs, job, progress, metrics
        self.tokens: dict[str, str | None] = {}

    def poll(self) -> None:
        """Print what each host logged since the last poll."""
        try:
            pages = self.logs.get_paginator("describe_log_streams").paginate(
                logGroupName=LOG_GROUP, logStreamNamePrefix=f"{self.job}/"
            )
            streams = sorted(s["logStreamName"] for page in pages for s in page.get("logStreams", []))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return  # the job has not logged yet
            raise
        for stream in streams:
            host = stream.split("/", 1)[1].rsplit("-", 1)[0]
            # By hand: botocore has no paginator for GetLogEvents (its forward token never runs out; the
            # same token comes back once the stream is read to its end).
            while True:
                request: dict[str, Any] = {
                    "logGroupName": LOG_GROUP,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                if self.tokens.get(stream):
                    request["nextToken"] = self.tokens[stream]
                page = self.logs.get_log_events(**request)
                for event in page.get("events", []):
                    line = event["message"].rstrip("\n")
                    self.progress.log(line, host)
                    if self.metrics is not None:
                        self.metrics.feed(line)
                if page.get("nextForwardToken") in (None, self.tokens.get(stream)):
                    break
                self.tokens[stream] = page["nextForwardToken"]
                if not page.get("events"):
                    break


def declared_metrics(job: dict[str, Any]) -> dict[str, str]:
    """A training job's MetricDefinitions (DescribeTrainingJob), by name."""
    declared = job.get("AlgorithmSpecification", {}).get("MetricDefinitions") or []
    return {str(metric["Name"]): str(metric["Regex"]) for metric in declared}


def follow(
    pipelines: ExecutionApi,
    logs: Any,
    arn: str,
    progress: Progress,
    *,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    stop_on_interrupt: bool = True,
    metrics: MetricCollector | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """Print the execution's progress until it ends; returns its description, steps and training job.

    A KeyboardInterrupt stops the execution (and its training job) unless `stop_on_interrupt` is False
    (someone only watching), and propagates.
    """
    job: str | None = None
    follower: LogFollower | None = None
    try:
        while True:
            described = pipelines.describe_execution(arn)
            steps = pipelines.steps(arn)
            progress.steps(steps)
            job = training_job_of(steps) or job
            if job is not None and follower is None:
                if metrics is not None:  # the job's own MetricDefinitions: what SageMaker charts
                    metrics.define(declared_metrics(pipelines.training_job(job)))
                follower = LogFollower(logs, job, progress, metrics)
            if follower is not None:
                follower.poll()
            if described["PipelineExecutionStatus"] in EXECUTION_ENDED:
                return described, steps, job
            sleep(poll_seconds)
    except KeyboardInterrupt:
        if not stop_on_interrupt:
            raise
        progress.say(
            f"interrupted: stopping the execution {arn}" + (f" and training job {job}" if job else "")
        )
        problem = stop_within(pipelines, arn, job, STOP_DEADLINE_SECONDS)
        if problem:
            # Still exit 130, but say the run may be alive and how to stop it: one line, no markup.
            progress.warn(
                f"the stop request failed ({problem}); the execution may still be running: "
                f"stop it with {stop_command(arn)}"
            )
        raise


def stop_within(pipelines: ExecutionApi, arn: str, job: str | None, deadline: float) -> str:
    """Ask to stop the execution (and its job), waiting at most `deadline` seconds; "" when it was asked.

    The call runs on a daemon thread: botocore's retries of a failing stop (a 500 each time) are not
    what a user who pressed Ctrl-C waits for, and a second Ctrl-C ends the wait at once.
    """
    outcome: list[str] = []

    def stop() -> None:
        try:
            pipelines.stop(arn, job)
            outcome.append("")
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            outcome.append(explain(error) if isinstance(error, ClientError) else one_line(str(error)))

    thread = threading.Thread(target=stop, name="cvl-stop", daemon=True)
    thread.start()
    try:
        thread.join(deadline)
    except KeyboardInterrupt:
        return "interrupted again before the stop request was answered"
    if thread.is_alive():
        return f"no answer within {deadline:.0f} s"
    return outcome[0]


def stop_command(arn: str) -> str:
    """The exact command that stops an execution, with this interpreter (relative when it is nearby)."""
    return f"python -m pipelines.stop {arn}"
