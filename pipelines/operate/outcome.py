"""`RunOutcome`: how one execution ended, the same for a local run and a SageMaker one.

The exit code is a field, set from data (the training command's own code as its job recorded it),
never parsed back out of a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from configs import BadInput
from steps.common.statuses import EXECUTION_ENDED, ExecutionStatus
from steps.train.metrics import Point

EXIT_OK, EXIT_FAILED = 0, 1
SUCCEEDED = ExecutionStatus.SUCCEEDED
STARTED = "Started"  # run --no-wait: started, not followed
NOT_STARTED = "NotStarted"  # refused before anything ran (a failed preflight)


def default_output_dir(pipeline: str, run_id: str) -> Path:
    """`outputs/<pipeline>/<run-id>` under the working directory."""
    return Path("outputs") / pipeline / run_id


# The ends a diagnosis can explain (a run refused before it started already printed its fixes).
FINISHED_UNSUCCESSFULLY = EXECUTION_ENDED - {ExecutionStatus.SUCCEEDED}


class Billing(NamedTuple):
    """What SageMaker bills for a training job, as DescribeTrainingJob reports it once the job ends."""

    instance_type: str
    instance_count: int
    training_seconds: int
    billable_seconds: int
    spot: bool

    @classmethod
    def of(cls, job: dict[str, Any]) -> Billing | None:
        """From DescribeTrainingJob's answer; None while the job has not reported its times."""
        if job.get("BillableTimeInSeconds") is None:
            return None
        resources = job.get("ResourceConfig", {})
        return cls(
            instance_type=str(resources.get("InstanceType", "")),
            instance_count=int(resources.get("InstanceCount", 1)),
            training_seconds=int(job.get("TrainingTimeInSeconds") or job["BillableTimeInSeconds"]),
            billable_seconds=int(job["BillableTimeInSeconds"]),
            spot=bool(job.get("EnableManagedSpotTraining")),
        )

    @property
    def spot_savings_percent(self) -> float:
        """Managed spot training's savings as the console shows them: 1 - billable / training time."""
        if not self.spot or not self.training_seconds:
            return 0.0
        return 100.0 * (1 - self.billable_seconds / self.training_seconds)

    def line(self) -> str:
        """`billed: 1234 s of ml.g5.xlarge x1 (training 1500 s; spot savings 17.7%)`."""
        text = f"billed: {self.billable_seconds} s of {self.instance_type} x{self.instance_count}"
        text += f" (training {self.training_seconds} s"
        return text + (f"; spot savings {self.spot_savings_percent:.1f}%)" if self.spot else ")")


class RunOutcome(NamedTuple):
    """An execution's end: its status, exit code, the failed step's reason, and where things went.

    `status` is the execution's (Succeeded, Failed, Stopped), or `Started` for `run --no-wait`.
    `exit_code`: 0 when it succeeded or was only started, else the training command's code, else 1.
    `failure`: `<step>: <first line of its reason>` (empty on success; for `Started`, why it is not
    followed, if it could not be). `tail`: the training log's last lines (local runs). `steps`: every step's final state (ListPipelineExecutionSteps shape).
    """

    pipeline: str
    execution: str
    status: str
    exit_code: int = EXIT_OK
    failure: str = ""
    model_dir: Path | None = None
    checkpoint_dir: Path | None = None
    tail: tuple[str, ...] = ()
    steps: tuple[dict[str, Any], ...] = ()
    training_job: str | None = None
    billing: Billing | None = None
    fallback: str = ""  # run --fallback: which instance type it ran on instead, and why (empty: none)
    metrics: dict[str, list[Point]] = {}  # each metric's values as the training log printed them
    report: Path | None = None  # the run report (report.html) beside the outputs

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (`run --json`): everything but the steps' raw entries and the log tail."""
        data = self._asdict()
        data.pop("steps")
        data.pop("tail")
        data["billing"] = self.billing._asdict() if self.billing else None
        data["metrics"] = {name: [point.value for point in points] for name, points in self.metrics.items()}
        return data

    @property
    def succeeded(self) -> bool:
        """Whether the execution succeeded (or was started, for `--no-wait`)."""
        return self.exit_code == EXIT_OK


def failure_of(steps: list[dict[str, Any]] | tuple[dict[str, Any], ...], fallback: str) -> str:
    """`<step>: <reason's first line>` for each failed step (`; `-joined), or `fallback`'s first line.

    One line: the rest of a reason is the log's tail, which the run shows apart.
    """
    reasons = [
        f"{s['StepName']}: {str(s['FailureReason']).splitlines()[0]}" for s in steps if s.get("FailureReason")
    ]
    return "; ".join(reasons) or (fallback.splitlines() or [""])[0]


RECORD_NAME = "cvl-run.json"  # beside a local run's outputs: what `diagnose --local DIR` reads


class LocalRunRecord(NamedTuple):
    """What a local run leaves beside its outputs so it can be diagnosed later."""

    example: str
    preset: str
    status: str
    exit_code: int
    failure: str
    steps: tuple[dict[str, Any], ...]
    tail: tuple[str, ...]
    metrics: dict[str, list[Point]] = {}
    parameters: dict[str, str] = {}  # the values the run used, by pipeline parameter
    cost: str = ""  # the worst-case estimate's line

    @classmethod
    def of(
        cls,
        outcome: RunOutcome,
        example: str,
        preset: str,
        parameters: dict[str, str] | None = None,
        cost: str = "",
    ) -> LocalRunRecord:
        """The record of `outcome`."""
        return cls(
            example,
            preset,
            outcome.status,
            outcome.exit_code,
            outcome.failure,
            outcome.steps,
            outcome.tail,
            outcome.metrics,
            dict(parameters or {}),
            cost,
        )

    @classmethod
    def read(cls, folder: Path) -> LocalRunRecord:
        """The record a local run left in `folder`; `BadInput` when there is none."""
        try:
            data = json.loads((folder / RECORD_NAME).read_text())
        except FileNotFoundError:
            raise BadInput(
                f"{folder}: no {RECORD_NAME} there: give the output folder a local run printed"
            ) from None
        return cls(
            example=str(data["example"]),
            preset=str(data["preset"]),
            status=str(data["status"]),
            exit_code=int(data["exit_code"]),
            failure=str(data["failure"]),
            steps=tuple(data["steps"]),
            tail=tuple(str(line) for line in data["tail"]),
            metrics={
                str(name): [Point(int(at), float(value)) for at, value in points]
                for name, points in data.get("metrics", {}).items()
            },
            parameters={str(k): str(v) for k, v in data.get("parameters", {}).items()},
            cost=str(data.get("cost", "")),
        )


def write_record(folder: Path, record: LocalRunRecord) -> Path:
    """Write `record` to `folder/cvl-run.json` (times as ISO text)."""
    path = folder / RECORD_NAME
    path.write_text(json.dumps(record._asdict(), indent=1, default=str) + "\n")
    return path
