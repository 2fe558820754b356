"""Runs operated from the terminal, against the moto server: `run --no-wait`, `status`, `stop`,
`run --retry`, the billed seconds at the end, the cost line and `--max-cost`, and Ctrl-C when the stop
call itself fails."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from pipelines import run, status, stop
from tests.conftest import BUCKET, REGION
from tests.harness import sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.harness.training_jobs import mark_in_progress, record_billing
from tests.pipelines.test_run_remote import (
    JOB,
    PIPELINE,
    account,
    started,
    succeeded,
    training,
    training_job,
)

__all__ = ["account"]  # the fixture, shared with the run tests


SMOKE = ["--example", "nanogpt", "--preset", "smoke"]


def _sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def _executions() -> list[str]:
    summaries = _sagemaker().list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]
    return [s["PipelineExecutionArn"] for s in summaries]


@pytest.mark.slow
def test_no_wait_prints_the_execution_and_returns_while_it_runs(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    script = sagemaker_pipelines.script_next_execution(PIPELINE, Script([started]))
    assert run.main([*SMOKE, "--skip-preflight", "--no-wait"]) == 0
    out = capsys.readouterr().out
    (arn,) = _executions()
    assert f"execution {arn}" in out and f"python -m pipelines.status {arn}" in out
    assert script.polls == 0 and script.status == "Executing"  # not followed


@pytest.mark.slow
def test_status_lists_recent_executions_and_shows_one_with_its_steps(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure="AlgorithmError: `python train.py` exited with code 2\ntail")
        script.finish("Failed", "Step failure: One or multiple steps failed.")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    assert run.main([*SMOKE, "--skip-preflight"]) == 1
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started]))
    assert run.main([*SMOKE, "--skip-preflight", "--no-wait"]) == 0
    newest = _latest()
    (oldest,) = [arn for arn in _executions() if arn != newest]
    capsys.readouterr()

    assert status.main(["--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["executions"]
    assert [(e["arn"], e["status"]) for e in listed] == [(newest, "Executing"), (oldest, "Failed")]
    assert listed[1]["failure_reason"] == "Step failure: One or multiple steps failed."
    assert listed[1]["duration_seconds"] >= 0

    assert status.main(SMOKE) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["PIPELINE", "EXECUTION", "STATUS", "STARTED"]
    assert table[1].split()[:3] == [PIPELINE, newest.rsplit("/", 1)[-1], "Executing"]
    assert table[2].split()[2] == "Failed" and table[2].endswith(
        "Step failure: One or multiple steps failed."
    )

    assert status.main([oldest.rsplit("/", 1)[-1]]) == 0  # the short id
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == oldest
    assert "    Train        Failed       AlgorithmError: `python train.py` exited with code 2" in shown


def _latest() -> str:
    return _sagemaker().list_pipeline_executions(PipelineName=PIPELINE, SortOrder="Descending")[
        "PipelineExecutionSummaries"
    ][0]["PipelineExecutionArn"]


@pytest.mark.slow
def test_stop_stops_a_running_execution_and_its_training_job(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()

    def still_training(script: Script) -> None:
        training(job_arn)(script)
        mark_in_progress(JOB, REGION)

    script = sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, still_training]))
    assert run.main([*SMOKE, "--skip-preflight", "--no-wait"]) == 0
    (arn,) = _executions()
    _sagemaker().list_pipeline_execution_steps(PipelineExecutionArn=arn)  # the service moves on
    _sagemaker().list_pipeline_execution_steps(PipelineExecutionArn=arn)
    capsys.readouterr()

    assert stop.main([arn.rsplit("/", 1)[-1]]) == 0
    assert capsys.readouterr().out.strip() == f"{arn}: stopping (and training job {JOB})"
    assert len(script.stop_requests) == 1
    assert _sagemaker().describe_training_job(TrainingJobName=JOB)["TrainingJobStatus"] == "Stopped"
    assert stop.main([arn]) == 0
    assert "already Stopped: nothing to stop" in capsys.readouterr().out
    assert stop.main([arn, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "execution": arn,
        "result": "already Stopped: nothing to stop",
        "requested": False,
        "status": "Stopped",
        "training_job": None,
    }
    assert stop.main(["nosuchexecution"]) == 2
    assert capsys.readouterr().err.startswith("error: no execution nosuchexecution among")


@pytest.mark.slow
def test_retry_resumes_from_the_failed_step_only(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    job_arn = training_job()

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure="AlgorithmError: capacity")
        script.finish("Failed", "Step failure: One or multiple steps failed.")

    script = sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    assert run.main([*SMOKE, "--skip-preflight"]) == 1
    (arn,) = _executions()
    script.on_retry = [training(job_arn), succeeded]
    capsys.readouterr()

    assert run.main(["--retry", arn.rsplit("/", 1)[-1], "--region", REGION]) == 0
    out = capsys.readouterr().out
    assert f"retrying execution {arn}" in out and "==> Train: Succeeded" in out
    assert len(script.retry_requests) == 1
    steps = {
        s["StepName"]: s
        for s in _sagemaker().list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    assert {name: s["AttemptCount"] for name, s in steps.items()} == {
        "Preflight": 1,
        "BuildImage": 1,
        "Train": 2,
    }
    assert run.main(["--retry", arn, "--region", REGION]) == 1  # it succeeded: nothing to retry
    assert "ConflictException on RetryPipelineExecution" in capsys.readouterr().err


@pytest.mark.slow
def test_the_end_of_a_run_shows_the_billed_seconds_and_spot_savings(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()
    record_billing(JOB, training_seconds=1000, billable_seconds=300)
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), succeeded]))
    assert run.main([*SMOKE, "--skip-preflight", "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout is the one document; progress went to stderr
    assert document["status"] == "Succeeded" and document["exit_code"] == 0
    assert document["billing"] == {
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
        "training_seconds": 1000,
        "billable_seconds": 300,
        "spot": False,
    }
    assert "billed: 300 s of ml.m5.xlarge x2 (training 1000 s)" in captured.err


@pytest.mark.slow
def test_the_cost_line_and_max_cost_refusal(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    refused = [
        *SMOKE,
        "--set",
        "InstanceType=ml.p4d.24xlarge",
        "--set",
        "InstanceCount=2",
        "--max-cost",
        "20",
    ]
    assert run.main(refused) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "error: the worst case is $37.69 (ml.p4d.24xlarge x2 for 30 min, estimate), above --max-cost $20.00"
    )
    assert _sagemaker().list_pipelines()["PipelineSummaries"] == []  # nothing created
    assert not boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET).get("Contents")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, succeeded]))
    from tests.harness import quotas

    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)
    assert run.main([*SMOKE, "--max-cost", "1"]) == 0
    assert (
        "cvl-nanogpt-smoke: cost: ml.m5.xlarge x1 for at most 30 min: worst case $0.12 — estimate from "
        "us-east-1 on-demand prices of 2026-11-29" in capsys.readouterr().err
    )


@pytest.mark.slow
def test_the_preflight_before_run_checks_the_overridden_instance_type(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.harness import quotas

    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)  # the preset's own type passes
    quotas.set_sagemaker_quota("ml.p4d.24xlarge for training job usage", 0)
    assert run.main([*SMOKE, "--set", "InstanceType=ml.p4d.24xlarge"]) == 1
    err = capsys.readouterr().err
    assert "'ml.p4d.24xlarge for training job usage'" in err and "is 0 in us-east-1" in err
    assert _sagemaker().list_pipelines()["PipelineSummaries"] == []  # nothing was started


def test_a_bad_instance_type_is_exit_2_before_anything_is_created(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main([*SMOKE, "--set", "InstanceType=gpu.big"]) == 2
    assert capsys.readouterr().err == (
        "error: --set InstanceType 'gpu.big' is not a SageMaker instance type: use ml.<family>.<size>, "
        "e.g. ml.g5.xlarge\n"
    )
    assert _sagemaker().list_pipelines()["PipelineSummaries"] == []


@pytest.mark.slow
def test_ctrl_c_with_a_failing_stop_still_exits_130_and_says_how_to_stop(
    account: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sagemaker.responses import SageMakerResponse

    from pipelines.cli.run_printer import Progress

    def interrupted(self: Progress, steps: Any) -> None:
        raise KeyboardInterrupt

    def html_page(self: Any) -> Any:  # a proxy in the way answers with its own page
        return (
            403,
            {"Content-Type": "text/html", "status": 403},
            "<html><head><title>403 Forbidden</title></head></html>",
        )

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started]))
    monkeypatch.setattr(Progress, "steps", interrupted)
    monkeypatch.setattr(SageMakerResponse, "stop_pipeline_execution", html_page)
    assert run.main([*SMOKE, "--skip-preflight"]) == 130
    err = capsys.readouterr().err
    (arn,) = _executions()
    lines = err.splitlines()
    assert lines[-1] == "interrupted"
    assert lines[-2].startswith("the stop request failed (")
    assert lines[-2].endswith(
        f"the execution may still be running: stop it with python -m pipelines.stop {arn}"
    )
    assert "<" not in err and "403" in err, err


@pytest.mark.slow
def test_ctrl_c_answers_within_the_stop_deadline_while_every_stop_call_fails(
    account: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from pipelines.cli.run_printer import Progress
    from pipelines.operate.follow import STOP_DEADLINE_SECONDS
    from tests.harness import faults

    pressed: list[float] = []

    def interrupted(self: Progress, steps: Any) -> None:
        pressed.append(time.monotonic())
        raise KeyboardInterrupt

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started]))
    monkeypatch.setattr(Progress, "steps", interrupted)
    with faults.error("sagemaker", "StopPipelineExecution", "InternalFailure", "try again", status=500):
        assert run.main([*SMOKE, "--skip-preflight"]) == 130
        waited = time.monotonic() - pressed[0]
    assert waited < STOP_DEADLINE_SECONDS + 5  # botocore alone retried for about a minute
    (arn,) = _executions()
    err = capsys.readouterr().err
    assert (
        f"the stop request failed (no answer within 10 s); the execution may still be running: stop it with python -m pipelines.stop {arn}"
        in err
    )


@pytest.mark.slow
def test_upsert_json_with_a_failed_preflight_is_one_document_and_the_table_goes_to_stderr(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines import upsert
    from tests.harness import quotas

    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    assert upsert.main([*SMOKE, "--json"]) == 1
    captured = capsys.readouterr()
    (outcome,) = json.loads(captured.out)["pipelines"]
    assert outcome["action"] == "failed" and "request-service-quota-increase" in outcome["detail"]
    assert "CHECK" in captured.err and "quota" in captured.err
