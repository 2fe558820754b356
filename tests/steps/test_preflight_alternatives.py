"""Ranked alternatives when the quota for the chosen instance type is short (issue 20)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from configs import resolve_target
from configs.instance_table import instance_rows
from pipelines.define.staging import base_facts
from steps.common.run_facts import InstanceFacts
from steps.preflight.job.alternatives import candidates
from steps.preflight.job.checks import run_preflight
from steps.preflight.job.report import format_table
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world
from tests.harness.moto_server import MotoServer
from tests.harness.quotas import set_sagemaker_quota
from tests.harness.training_jobs import start_running_job

FACTS = base_facts("nanogpt", "train", resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET))
G5 = {"instance_type": "ml.g5.xlarge", "instance_count": 1, "spot": False, "max_run_minutes": 60}
TABLE = tuple(InstanceFacts.from_row(row) for row in instance_rows())


@pytest.fixture
def account(aws: MotoServer) -> MotoServer:
    preflight_world.ready_account(ROLE_ARN, BUCKET)
    return aws


def quota_result(preset: dict[str, Any]) -> Any:
    results = run_preflight(preset, FACTS, boto3.Session(region_name=REGION))
    return {result.name: result for result in results}["quota"], results


def test_candidates_never_downgrade_gpus_memory_or_architecture() -> None:
    names = [row.instance_type for row in candidates("ml.g5.xlarge", TABLE)]
    assert names[0] == "ml.g6.xlarge" and "ml.g5.xlarge" in names  # cheapest first: an L4 (Ada) is cheaper
    assert "ml.g4dn.xlarge" not in names  # 16 GB per GPU and an older architecture (Turing)
    assert "ml.g5.2xlarge" in names and "ml.g6e.xlarge" in names and "ml.g5.12xlarge" in names
    prices = [row.usd_per_hour for row in candidates("ml.g5.xlarge", TABLE)]
    assert prices == sorted(prices)
    four = [row.instance_type for row in candidates("ml.g5.12xlarge", TABLE)]
    assert all(row.gpus >= 4 for row in TABLE if row.instance_type in four)
    assert "ml.g5.2xlarge" not in four


@pytest.mark.slow
def test_a_zero_quota_lists_the_types_with_room_cheapest_first_with_commands(account: MotoServer) -> None:
    set_sagemaker_quota("ml.g5.2xlarge for training job usage", 2)
    set_sagemaker_quota("ml.g6e.xlarge for training job usage", 1)
    result, results = quota_result(G5)
    assert result.status == "fail"
    assert [(a.instance_type, a.spot, a.headroom) for a in result.alternatives] == [
        ("ml.g5.2xlarge", False, 2),
        ("ml.g6e.xlarge", False, 1),
    ]
    first = result.alternatives[0]
    assert first.command == (
        "python -m pipelines.run --example nanogpt --preset train --set InstanceType=ml.g5.2xlarge"
    )
    assert result.fix.startswith("run on ml.g5.2xlarge on-demand: room for 2, $1.51/h")
    table = format_table(results)
    assert "instance types with room for this run, cheapest first:" in table
    assert "  ml.g6e.xlarge on-demand: room for 1, $2.34/h: python -m pipelines.run" in table


def test_headroom_counts_running_jobs_and_the_other_market_is_offered(account: MotoServer) -> None:
    set_sagemaker_quota("ml.g5.2xlarge for training job usage", 1)
    sagemaker = boto3.Session(region_name=REGION).client("sagemaker")
    start_running_job(sagemaker, "busy", "ml.g5.2xlarge", 1, role_arn=ROLE_ARN)
    set_sagemaker_quota("ml.g5.xlarge for spot training job usage", 1)
    result, _ = quota_result(G5)
    assert [(a.instance_type, a.spot) for a in result.alternatives] == [("ml.g5.xlarge", True)]
    assert "set spot: true in the preset" in result.alternatives[0].line()


def test_no_alternative_keeps_the_increase_command_alone(account: MotoServer) -> None:
    result, _ = quota_result(G5)
    assert result.alternatives == ()
    assert result.fix.startswith("raise quota ")
