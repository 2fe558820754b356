"""What `pipelines.run` prints while an execution runs: step state changes with durations, and logs.

One printer for both paths: a local execution's `list_steps()` and the remote
`ListPipelineExecutionSteps` have the same shape (StepName, StepStatus, StartTime, EndTime,
FailureReason); times are datetimes remotely and epoch seconds locally.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from steps.common.statuses import STEP_ENDED


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def format_duration(seconds: float) -> str:
    """`4.2 s`, `3 min 05 s` or `1 h 02 min`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class Progress:
    """Prints each step's state when it changes (with its duration once it ends) and log lines."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._states: dict[str, str] = {}

    def say(self, text: str) -> None:
        """One line of our own."""
        print(text, file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        """One line that needs the user's attention: to stderr, whatever the stream."""
        print(text, file=sys.stderr, flush=True)

    def steps(self, steps: Iterable[Mapping[str, Any]]) -> None:
        """Print the state changes among `steps` (ListPipelineExecutionSteps entries), oldest first."""
        ordered = sorted(steps, key=lambda step: _seconds(step.get("StartTime")) or float("inf"))
        for step in ordered:
            name, status = str(step.get("StepName")), str(step.get("StepStatus"))
            if self._states.get(name) == status:
                continue
            self._states[name] = status
            line = f"==> {name}: {status}"
            start, end = _seconds(step.get("StartTime")), _seconds(step.get("EndTime"))
            if status in STEP_ENDED and start is not None:
                line += f" in {format_duration((end or time.time()) - start)}"
            if step.get("FailureReason"):
                line += f": {str(step['FailureReason']).splitlines()[0]}"
            self.say(line)

    def log(self, line: str, source: str | None = None) -> None:
        """One log line of a job, indented (and marked with its host when there are several)."""
        self.say(f"    {source} | {line}" if source else f"    {line}")

    def state(self, name: str) -> str | None:
        """The last printed status of a step."""
        return self._states.get(name)
