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

# Types the instance chooser may pick (configs/instances.py) that the transcription above lacks: EC2
# on-demand x 1.4 (SageMaker's usual markup over EC2 for these families), so a rougher estimate; the
# cost line says so. Replace with the page's figure when it is transcribed.
ROUGH_HOURLY_USD: dict[str, float] = {
    "ml.m5.24xlarge": 5.53,
    "ml.g4dn.16xlarge": 5.44,
    "ml.g5.16xlarge": 4.1,
    "ml.g6.xlarge": 1.01,
    "ml.g6.2xlarge": 1.22,
    "ml.g6.4xlarge": 1.66,
    "ml.g6.8xlarge": 2.52,
    "ml.g6.12xlarge": 5.67,
    "ml.g6.16xlarge": 4.24,
    "ml.g6.24xlarge": 7.49,
    "ml.g6.48xlarge": 16.6,
    "ml.g6e.xlarge": 2.34,
    "ml.g6e.2xlarge": 2.84,
    "ml.g6e.4xlarge": 3.79,
    "ml.g6e.8xlarge": 5.72,
    "ml.g6e.12xlarge": 13.12,
    "ml.g6e.16xlarge": 9.52,
    "ml.g6e.24xlarge": 16.72,
    "ml.g6e.48xlarge": 37.61,
    "ml.p3dn.24xlarge": 43.0,
    "ml.p4de.24xlarge": 47.11,
    "ml.p5.4xlarge": 8.6,
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
        if self.instance_type in ROUGH_HOURLY_USD:
            figure += " (rough price)"
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
    price = ON_DEMAND_HOURLY_USD.get(instance_type, ROUGH_HOURLY_USD.get(instance_type))
    return CostEstimate(instance_type, instance_count, max_run_minutes, spot, price)


def estimate_preset(preset: Mapping[str, Any]) -> CostEstimate:
    """The estimate for a preset as a dict (`Preset.model_dump()` shape, the execution's values applied)."""
    return estimate(
        str(preset["instance_type"]),
        int(preset.get("instance_count", 1)),
        int(preset.get("max_run_minutes", 60)),
        bool(preset.get("spot", False)),
    )
