"""The price table behind the cost estimate: SageMaker training, on-demand, per instance-hour, in USD.

An ESTIMATE, kept in the project so preflight needs no pricing API: prices change and differ by
region, and spot bills less (SageMaker reports the real savings after the run). Update the table and
PRICES_DATE together. Stdlib only: this runs inside the Preflight job too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

PRICES_DATE = "2026-11-29"
PRICES_REGION = "us-east-1"
PRICES_SOURCE = (
    "https://aws.amazon.com/sagemaker/ai/pricing/ (Training, On-Demand, US East (N. Virginia)), "
    "transcribed by hand"
)

ON_DEMAND_HOURLY_USD: dict[str, float] = {
    "ml.t3.medium": 0.05,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.736,
    "ml.g4dn.2xlarge": 0.94,
    "ml.g4dn.4xlarge": 1.505,
    "ml.g4dn.8xlarge": 2.72,
    "ml.g4dn.12xlarge": 4.89,
    "ml.g5.xlarge": 1.408,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.4xlarge": 2.03,
    "ml.g5.8xlarge": 3.06,
    "ml.g5.12xlarge": 7.09,
    "ml.g5.24xlarge": 10.18,
    "ml.g5.48xlarge": 20.36,
    "ml.p3.2xlarge": 3.825,
    "ml.p3.8xlarge": 14.688,
    "ml.p3.16xlarge": 28.152,
    "ml.p4d.24xlarge": 37.688,
    "ml.p5.48xlarge": 113.07,
}


class CostEstimate(NamedTuple):
    """The worst case of one training run: max run time x instance count x the hourly price."""

    instance_type: str
    instance_count: int
    max_run_minutes: int
    spot: bool
    hourly_usd: float | None

    @property
    def worst_case_usd(self) -> float | None:
        """The on-demand cost if the job runs its full max run time; None when the price is unknown."""
        if self.hourly_usd is None:
            return None
        return round(self.hourly_usd * self.instance_count * self.max_run_minutes / 60, 2)

    def line(self) -> str:
        """One line for people: the figure, what it assumes, and that it is an estimate."""
        what = f"{self.instance_type} x{self.instance_count} for at most {self.max_run_minutes} min"
        if self.worst_case_usd is None:
            return f"cost: {what}: no price for {self.instance_type} in the table (estimate unavailable)"
        figure = f"worst case ${self.worst_case_usd:.2f}"
        if self.spot:
            figure += " at the on-demand price (spot bills less)"
        return f"cost: {what}: {figure} — estimate from {PRICES_REGION} on-demand prices of {PRICES_DATE}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data, with where the price came from."""
        return self._asdict() | {
            "worst_case_usd": self.worst_case_usd,
            "estimate": True,
            "prices_date": PRICES_DATE,
            "prices_region": PRICES_REGION,
            "prices_source": PRICES_SOURCE,
        }


def estimate(instance_type: str, instance_count: int, max_run_minutes: int, spot: bool) -> CostEstimate:
    """The worst-case estimate for a run (from a `Preset`'s fields or the preflight input)."""
    return CostEstimate(
        instance_type, instance_count, max_run_minutes, spot, ON_DEMAND_HOURLY_USD.get(instance_type)
    )


def estimate_preset(preset: Mapping[str, Any]) -> CostEstimate:
    """The estimate for a preset as a dict (`Preset.model_dump()` shape, the execution's values applied)."""
    return estimate(
        str(preset["instance_type"]),
        int(preset.get("instance_count", 1)),
        int(preset.get("max_run_minutes", 60)),
        bool(preset.get("spot", False)),
    )
