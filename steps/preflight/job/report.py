"""How preflight results are shown: a table for people, JSON for tools, a FailureReason for SageMaker."""

from __future__ import annotations

from steps.common.limits import FAILURE_REASON_LIMIT
from steps.preflight.job.check_support import CheckResult

_HEAD = "Preflight failed: "


def format_table(results: list[CheckResult]) -> str:
    """Results as aligned text: one row per check, and a `fix:` line under each warn and fail."""
    width = max([len("CHECK")] + [len(r.name) for r in results])
    lines = [f"{'CHECK':<{width}}  STATUS  DETAIL"]
    for result in results:
        lines.append(f"{result.name:<{width}}  {result.status.upper():<6}  {result.detail}")
        if result.fix and result.status != "pass":
            lines.append(f"{'':<{width}}          fix: {result.fix}")
    for result in results:
        if result.alternatives:
            lines.append("instance types with room for this run, cheapest first:")
            lines += [f"  {alternative.line()}" for alternative in result.alternatives]
    return "\n".join(lines)


def failure_reason(results: list[CheckResult], limit: int = FAILURE_REASON_LIMIT) -> str:
    """The failed checks' problems and fixes in one string of at most `limit` characters.

    Checks keep report order (most important first); what does not fit is counted, not cut mid-way,
    unless even the first one is too long.
    """
    failed = [r for r in results if r.status == "fail"]
    entries = [f"[{r.name}] {r.detail}. Fix: {r.fix}" if r.fix else f"[{r.name}] {r.detail}" for r in failed]
    message = _HEAD
    for index, entry in enumerate(entries):
        rest = len(entries) - index - 1
        tail = f" (+{rest} more in the job log)" if rest else ""
        candidate = message + (" | " if index else "") + entry
        if len(candidate + tail) <= limit:
            message = candidate
            continue
        if index == 0:
            keep = limit - len(message) - len(tail) - 3
            return message + entry[:keep] + "..." + tail
        return message + f" (+{len(entries) - index} more in the job log)"
    return message
