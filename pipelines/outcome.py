"""`RunOutcome`: how one execution ended, the same for a local run and a SageMaker one.

The exit code is a field, set from data (the training command's own code as its job recorded it),
never parsed back out of a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

EXIT_OK, EXIT_FAILED = 0, 1
SUCCEEDED = "Succeeded"


class RunOutcome(NamedTuple):
    """An execution's end: its status, exit code, the failed step's reason, and where things went.

    `status` is the execution's (Succeeded, Failed, Stopped), or `Started` for `run --no-wait`.
    `exit_code`: 0 when it succeeded or was only started, else the training command's code, else 1.
    `failure`: `<step>: <first line of its reason>` (empty on success). `tail`: the training log's last
    lines (local runs). `steps`: every step's final state (ListPipelineExecutionSteps shape).
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
