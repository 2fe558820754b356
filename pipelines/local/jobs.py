"""What the local client keeps about a job, and how a failed one is reported to the SDK's executor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from steps.common.statuses import JobStatus

CONTAINER_ML = "/opt/ml"
LOCAL_ARN_PREFIX = "arn:aws:sagemaker:local:000000000000"


class JobFailed(RuntimeError):
    """A local job failed; the SDK's executor turns this into the step's FailureReason."""


class AlgorithmError(JobFailed):
    """The job's own code failed (named as SageMaker names it in a FailureReason)."""


class JobEvents(Protocol):
    """Who hears about jobs as they run (the terminal printer of `pipelines.run --local`)."""

    def job_started(self, name: str) -> None:
        """A job is about to run."""

    def job_log(self, name: str, line: str) -> None:
        """One line of a job's log."""


class SilentEvents:
    """JobEvents that print nothing."""

    def job_started(self, name: str) -> None:
        """Ignore."""

    def job_log(self, name: str, line: str) -> None:
        """Ignore."""


@dataclass
class Job:
    """One local job: its request, where its tree is, and how it ended."""

    name: str
    kind: str  # "Training" or "Processing"
    request: dict[str, Any]
    root: Path  # the job folder; its `opt/ml` stands for the container's /opt/ml
    status: JobStatus = JobStatus.IN_PROGRESS
    failure_reason: str | None = None
    exit_code: int | None = None
    tail: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ml(self) -> Path:
        """The job's stand-in for /opt/ml."""
        return self.root / "opt" / "ml"

    def local(self, container_path: str) -> Path:
        """The local path of a path inside the job's container (only /opt/... is laid out)."""
        if not container_path.startswith("/opt/"):
            raise JobFailed(
                f"{self.name}: {container_path} is outside /opt, which a local job cannot provide"
            )
        return self.root / container_path.lstrip("/")

    def localize(self, text: str) -> str:
        """`text` with the container's /opt/ml prefix pointing into the job's tree."""
        return text.replace(CONTAINER_ML, str(self.ml))

    def finish(
        self, status: JobStatus, failure_reason: str | None = None, exit_code: int | None = None
    ) -> None:
        """Record how the job ended."""
        self.status, self.failure_reason, self.exit_code = status, failure_reason, exit_code
        self.ended = time.time()

    def describe(self) -> dict[str, Any]:
        """The Describe*Job response: the request echoed plus status, times and failure reason."""
        response: dict[str, Any] = dict(self.request)
        response.update(
            {
                f"{self.kind}JobName": self.name,
                f"{self.kind}JobArn": f"{LOCAL_ARN_PREFIX}:{self.kind.lower()}-job/{self.name}",
                f"{self.kind}JobStatus": self.status,
                "CreationTime": self.started,
                f"{self.kind}StartTime": self.started,
                "LastModifiedTime": self.ended or time.time(),
            }
        )
        if self.ended is not None:
            response[f"{self.kind}EndTime"] = self.ended
        if self.failure_reason:
            response["FailureReason"] = self.failure_reason
        if self.exit_code is not None and self.kind == "Processing":
            response["ExitMessage"] = f"exit code {self.exit_code}"
        return response


Handler = Callable[[Job, list[str]], None]
