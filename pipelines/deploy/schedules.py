"""Scheduled executions: one EventBridge Scheduler schedule per pipeline, created, updated or left alone.

Scheduled runs cannot pass parameters, so they use every parameter's default (all of ours have one).
"""

from __future__ import annotations

import re
from typing import Any

from configs import BadInput
from steps.common.aws import client
from steps.common.permissions import SCHEDULE_GROUP
from steps.common.tags import resource_tags, tag_list

_EXPRESSION = re.compile(
    r"^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$"
)
OFF = "off"


def check_expression(expression: str) -> str:
    """The schedule expression if EventBridge Scheduler accepts its shape, else `BadInput`."""
    if expression != OFF and not _EXPRESSION.match(expression):
        raise BadInput(
            f"schedule {expression!r} is not an EventBridge Scheduler expression: use e.g. 'rate(1 day)', "
            "'cron(0 3 * * ? *)' or 'at(2026-12-01T03:00:00)', or 'off' to remove the schedule"
        )
    return expression


def schedule_name(pipeline: str) -> str:
    """The schedule's name: the pipeline's, within Scheduler's 64 characters."""
    return pipeline[:64]


def ensure_schedule_group(scheduler: Any) -> None:
    """Create the tagged schedule group our schedules live in, unless it exists.

    EventBridge Scheduler tags schedule groups, not schedules: the group carries `managed-by`.
    """
    try:
        scheduler.get_schedule_group(Name=SCHEDULE_GROUP)
    except scheduler.exceptions.ResourceNotFoundException:
        try:
            scheduler.create_schedule_group(Name=SCHEDULE_GROUP, Tags=tag_list(resource_tags()))
        except scheduler.exceptions.ConflictException:
            pass  # created meanwhile by another upsert


def _current(scheduler: Any, name: str, group: str) -> dict[str, Any] | None:
    try:
        return scheduler.get_schedule(Name=name, GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def _remove_ungrouped(scheduler: Any, name: str, pipeline_arn: str) -> bool:
    """Delete a schedule of this pipeline left in the default group (made before the group existed), so
    the pipeline is not started twice; True when there was one."""
    old = _current(scheduler, name, "default")
    if old is None or old.get("Target", {}).get("Arn") != pipeline_arn:
        return False
    scheduler.delete_schedule(Name=name, GroupName="default")
    return True


def ensure_schedule(session: Any, pipeline: str, pipeline_arn: str, expression: str, role_arn: str) -> str:
    """Create, update, remove or leave the pipeline's schedule; return what happened."""
    scheduler = client(session, "scheduler")
    name = schedule_name(pipeline)
    moved = _remove_ungrouped(scheduler, name, pipeline_arn)
    if expression == OFF:
        current = _current(scheduler, name, SCHEDULE_GROUP)
        if current is None:
            return "schedule removed" if moved else "no schedule"
        scheduler.delete_schedule(Name=name, GroupName=SCHEDULE_GROUP)
        return "schedule removed"
    ensure_schedule_group(scheduler)
    current = _current(scheduler, name, SCHEDULE_GROUP)
    request = {
        "Name": name,
        "GroupName": SCHEDULE_GROUP,
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Description": f"Scheduled runs of {pipeline} with its default parameters (cvl-pipelines)",
        # The role must trust scheduler.amazonaws.com and may start cvl-* pipelines (pipelines.bootstrap).
        "Target": {"Arn": pipeline_arn, "RoleArn": role_arn, "SageMakerPipelineParameters": {}},
    }
    if current is None:
        try:
            scheduler.create_schedule(**request)
        except scheduler.exceptions.ConflictException:
            # Our own create took effect and its answer was lost (botocore retried it): make sure it is ours.
            scheduler.update_schedule(**request)
        return f"scheduled {expression}"
    target = current.get("Target", {})
    if (
        current.get("ScheduleExpression") == expression
        and target.get("Arn") == pipeline_arn
        and target.get("RoleArn") == role_arn
        and current.get("State") == "ENABLED"
    ):
        return f"schedule unchanged ({expression})"
    scheduler.update_schedule(**request)
    return f"schedule updated to {expression}"
