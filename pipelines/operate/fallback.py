"""`run --fallback`: when the chosen instance type has no quota room, run on the first type that has.

Preflight's quota check ranks the types that fit the preset (at least the GPUs, memory per GPU and
architecture of the chosen one) by price, with their headroom. Only the same market is taken: spot or
on-demand is fixed at upsert, so switching it is the user's call (the ranked list says how).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pipelines.define.staging import Staged
from steps.preflight.job.alternatives import Alternative, same_market
from steps.preflight.job.checks import run_preflight
from steps.train.overrides import Overrides


class Fallback(NamedTuple):
    """The instance type a run falls back to, and why."""

    instead_of: str
    alternative: Alternative
    reason: str

    def line(self) -> str:
        """One line for people: what had no room and what runs instead."""
        alternative = self.alternative
        return (
            f"fallback: {self.reason}; running on {alternative.instance_type} instead of {self.instead_of} "
            f"(room for {alternative.headroom}, ${alternative.usd_per_hour:.2f}/h, the cheapest that fits)"
        )


def choose_fallback(session: Any, staged: Staged, overrides: Overrides) -> Fallback | None:
    """The first same-market alternative when the quota check fails with some; None when it passes or
    has none (the run then goes on and its preflight says why it cannot start)."""
    preset = overrides.applied_to(staged.preset)
    quota = next(result for result in run_preflight(preset, staged.facts, session) if result.name == "quota")
    if quota.status != "fail":
        return None
    chosen = same_market(quota.alternatives, preset.spot)
    return Fallback(preset.instance_type, chosen, quota.detail) if chosen else None


def with_instance_type(overrides: Overrides, staged: Staged, instance_type: str) -> Overrides:
    """`overrides` with InstanceType set (validated against the pipeline's parameters like any other)."""
    return Overrides.from_values(staged.parameters, {**overrides.values, "InstanceType": instance_type})
