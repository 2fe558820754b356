"""The training step's metric definitions, and the same regexes read back from a log as series.

SageMaker reads `MetricDefinitions` from the training job's log (Studio charts them, the job reports the
final values); a local run and `report` parse the same log lines with the same regexes, so the series a
local run shows is the one SageMaker would chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from configs import BadInput, Preset
from configs.metrics import DEFAULT_METRICS, MAX_METRIC_DEFINITIONS


def metric_definitions(preset: Preset) -> dict[str, str]:
    """The preset's metrics over the defaults, by name; `BadInput` past the service's count limit."""
    definitions = DEFAULT_METRICS | dict(preset.metrics)
    if len(definitions) > MAX_METRIC_DEFINITIONS:
        raise BadInput(
            f"the preset has {len(definitions)} metric definitions with the {len(DEFAULT_METRICS)} defaults; "
            f"SageMaker takes {MAX_METRIC_DEFINITIONS}: drop some from `metrics`"
        )
    return definitions


class Point(NamedTuple):
    """One value of a metric: `at`, the n-th time the log printed it (from 0), and the value."""

    at: int
    value: float


class MetricCollector:
    """Reads log lines as they come (local jobs, CloudWatch events) into each metric's series."""

    def __init__(self, definitions: dict[str, str] | None = None) -> None:
        self.patterns: dict[str, re.Pattern[str]] = {}
        self.points: dict[str, list[Point]] = {}
        self.define(definitions or {})

    def define(self, definitions: dict[str, str]) -> None:
        """Read these metrics too (a remote run learns them from its training job once it exists)."""
        for name, regex in definitions.items():
            self.patterns[name] = re.compile(regex)
            self.points.setdefault(name, [])

    def feed(self, line: str) -> None:
        """Take one log line: every metric whose regex matches gets its first group as a value."""
        for name, pattern in self.patterns.items():
            found = pattern.search(line)
            if found is None:
                continue
            try:
                value = float(found.group(1))
            except (TypeError, ValueError):
                continue
            self.points[name].append(Point(len(self.points[name]), value))

    def series(self) -> dict[str, list[Point]]:
        """Every metric printed at least once, with its values in log order."""
        return {name: list(points) for name, points in self.points.items() if points}


def metric_series(lines: Iterable[str], definitions: dict[str, str]) -> dict[str, list[Point]]:
    """Every value each metric's regex finds in `lines` (first group), in log order; empty series left out."""
    collector = MetricCollector(definitions)
    for line in lines:
        collector.feed(line)
    return collector.series()
