"""Ranked alternatives when the quota for the chosen instance type is short.

The candidates fit the preset as the chosen type does: at least as many GPUs, at least as much memory per
GPU, an architecture no older (a CUDA build runs forward, not back); CPU types: at least the vCPUs and
host memory. Each is shown with its quota headroom (limit minus what running jobs use) on-demand and spot,
and its price, cheapest first. The facts come as rows in the run facts (`configs/instance_table.py`).
Stdlib and boto3 only: this runs inside the Preflight job too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steps.common.run_facts import InstanceFacts

ARCHITECTURES = ("volta", "turing", "ampere", "ada", "hopper")
SERVICE_CODE = "sagemaker"
_PAGE_SIZE = 100


@dataclass(frozen=True)
class Alternative:
    """An instance type (on-demand or spot) with room for the run, and what it costs."""

    instance_type: str
    spot: bool
    headroom: int
    usd_per_hour: float
    run_command: str = "python -m pipelines.run"  # the example preset's run command, without the choice

    @property
    def command(self) -> str:
        """The command that runs the preset on this type ("" for the other market: spot is fixed at upsert)."""
        return f"{self.run_command} --set InstanceType={self.instance_type}" if self.run_command else ""

    def line(self) -> str:
        """One line for people: the type, the market, the headroom, the price, and how to use it."""
        market = "spot" if self.spot else "on-demand"
        head = f"{self.instance_type} {market}: room for {self.headroom}, ${self.usd_per_hour:.2f}/h"
        if not self.run_command:  # the other market: spot is fixed at upsert, a preset (or runner) setting
            return (
                f"{head}: set spot: {str(self.spot).lower()} in the preset (or SageMakerRunner.run(spot=...))"
            )
        return f"{head}: {self.command}"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "instance_type": self.instance_type,
            "spot": self.spot,
            "headroom": self.headroom,
            "usd_per_hour": self.usd_per_hour,
            "command": self.command,
        }


def _arch_rank(architecture: str) -> int:
    return ARCHITECTURES.index(architecture) if architecture in ARCHITECTURES else -1


def fits_in_place_of(candidate: InstanceFacts, wanted: InstanceFacts) -> bool:
    """True when a preset sized for `wanted` runs on `candidate` as well."""
    if wanted.gpus == 0:
        return candidate.gpus == 0 and candidate.vcpus >= wanted.vcpus and candidate.ram_gb >= wanted.ram_gb
    return (
        candidate.gpus >= wanted.gpus
        and candidate.vram_gb_per_gpu >= wanted.vram_gb_per_gpu
        and _arch_rank(candidate.architecture) >= _arch_rank(wanted.architecture)
    )


def quota_name(instance_type: str, spot: bool) -> str:
    """The Service Quotas name of the training quota for `instance_type` (spot or on-demand)."""
    return f"{instance_type} for {'spot training' if spot else 'training'} job usage"


def candidates(wanted: str, table: Sequence[InstanceFacts]) -> list[InstanceFacts]:
    """The listed types a preset sized for `wanted` also runs on (itself included), cheapest first."""
    facts = {row.instance_type: row for row in table}
    if wanted not in facts:
        return []
    return sorted(
        (row for row in table if fits_in_place_of(row, facts[wanted])), key=lambda row: row.usd_per_hour
    )


def quota_values(quotas: Any) -> dict[str, int]:
    """Every SageMaker quota value by lower-cased name: the applied value, else the AWS default."""
    values: dict[str, int] = {}
    for operation in ("list_aws_default_service_quotas", "list_service_quotas"):
        pages = quotas.get_paginator(operation).paginate(
            ServiceCode=SERVICE_CODE, PaginationConfig={"PageSize": _PAGE_SIZE}
        )
        for page in pages:
            for quota in page.get("Quotas", []):
                values[str(quota.get("QuotaName", "")).lower()] = int(quota.get("Value", 0))
    return values


def rank(
    wanted: str,
    spot: bool,
    need: int,
    table: Sequence[InstanceFacts],
    values: Mapping[str, int],
    in_use: Counter[tuple[str, bool]],
    run_command: str = "python -m pipelines.run",
) -> list[Alternative]:
    """The types (and markets) with room for `need` instances, cheapest first, the same market first;
    the chosen type itself appears only in the other market."""
    found: list[Alternative] = []
    for market in (spot, not spot):
        for row in candidates(wanted, table):
            if row.instance_type == wanted and market == spot:
                continue
            limit = values.get(quota_name(row.instance_type, market).lower())
            if limit is None:
                continue
            headroom = limit - in_use[(row.instance_type, market)]
            if headroom >= need:
                command = run_command if market == spot else ""
                found.append(Alternative(row.instance_type, market, headroom, row.usd_per_hour, command))
    return found


def same_market(alternatives: Sequence[Alternative], spot: bool) -> Alternative | None:
    """The first (cheapest) alternative in the run's own market: what a fallback runs on."""
    return next((alternative for alternative in alternatives if alternative.spot == spot), None)
