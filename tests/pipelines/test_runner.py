"""The seed runner's API, whole, against the moto server: the seed's own example script, each job
method, variants for fixed fields (the shared pipeline and its schedule untouched), exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from configs.nanogpt import PRESETS
from pipelines import SageMakerRunner, upsert
from pipelines.define.variants import FixedFields, apply, variant_name
from pipelines.deploy.schedules import SCHEDULE_GROUP
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import quotas, sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.harness.training_jobs import mark_in_progress
from tests.pipelines.test_run_remote import (
    JOB,
    PIPELINE,
    account,
    exit_record,
    log,
    started,
    succeeded,
    training,
    training_job,
)

__all__ = ["account"]  # the fixture, shared with the run tests


def _sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def _parameters(pipeline: str) -> dict[str, str]:
    arn = _sagemaker().list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"
    ]
    parameters = _sagemaker().list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]}


def _train_arguments(pipeline: str) -> dict[str, Any]:
    definition = json.loads(_sagemaker().describe_pipeline(PipelineName=pipeline)["PipelineDefinition"])
    return next(step for step in definition["Steps"] if step["Name"] == "Train")["Arguments"]


def _seed_variant() -> str:
    """The pipeline the seed's call runs: its defaults (on-demand, 60 min, 50 GB) are not the train preset's."""
    train = PRESETS["train"]
    chosen = apply(train, FixedFields(spot=False, max_run_minutes=60, volume_size_gb=50))
    return "cvl-nanogpt-" + variant_name("train", train, chosen, None)


@pytest.mark.slow
def test_the_seeds_example_script_runs_and_returns_0(account: Any, tmp_path: Path) -> None:
    pipeline = _seed_variant()
    quotas.set_sagemaker_quota("ml.g4dn.xlarge for training job usage", 1)
    job_arn = training_job()
    sagemaker_pipelines.script_next_execution(pipeline, Script([started, training(job_arn), succeeded]))

    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)  # the seed's constructor, nothing else
    code = runner.run(
        example="nanogpt",
        preset="train",
        args=["--max_iters=1000"],
        instance_type="ml.g4dn.xlarge",
        output_path=f"s3://{BUCKET}/nanogpt/",
        local_output_dir=str(tmp_path),
    )
    assert code == 0
    assert _parameters(pipeline) == {
        "InstanceType": "ml.g4dn.xlarge",
        "InstanceCount": "1",
        "OutputPath": f"s3://{BUCKET}/nanogpt",
        "ExtraArgs": '["--max_iters=1000"]',
    }
    train = _train_arguments(pipeline)
    assert "EnableManagedSpotTraining" not in train
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert train["ResourceConfig"]["VolumeSizeInGB"] == 50
    assert (tmp_path / "model" / "logs" / "ckpt.pt").read_bytes() == b"checkpoint bytes"


@pytest.mark.slow
def test_spot_from_the_runner_leaves_the_shared_pipeline_and_its_schedule_alone(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke", "--schedule", "rate(1 day)"]) == 0
    shared = _sagemaker().describe_pipeline(PipelineName=PIPELINE)
    smoke = PRESETS["smoke"]
    fixed = FixedFields(spot=True, max_run_minutes=smoke.max_run_minutes, volume_size_gb=smoke.volume_size_gb)
    variant = "cvl-nanogpt-" + variant_name("smoke", smoke, apply(smoke, fixed), None)
    job_arn = training_job()
    sagemaker_pipelines.script_next_execution(variant, Script([started, training(job_arn), succeeded]))

    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)
    assert (
        runner.run("nanogpt", "smoke", [], None, None, spot=True, max_run_minutes=30, volume_size_gb=30) == 0
    )
    assert f"variant {variant}" in capsys.readouterr().out

    after = _sagemaker().describe_pipeline(PipelineName=PIPELINE)
    assert after["PipelineDefinition"] == shared["PipelineDefinition"]  # what the schedule runs
    scheduler = boto3.client("scheduler", region_name=REGION)
    schedule = scheduler.get_schedule(Name=PIPELINE, GroupName=SCHEDULE_GROUP)
    assert schedule["Target"]["Arn"] == shared["PipelineArn"]
    assert schedule["Target"]["SageMakerPipelineParameters"] == {}
    assert "EnableManagedSpotTraining" not in _train_arguments(PIPELINE)
    spot = _train_arguments(variant)
    assert spot["EnableManagedSpotTraining"] is True
    assert spot["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}

    # The preset's own fixed values run the shared pipeline itself; the same spot call reuses the variant.
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), succeeded]))
    assert runner.run("nanogpt", "smoke", [], None, None, max_run_minutes=30, volume_size_gb=30) == 0
    sagemaker_pipelines.script_next_execution(variant, Script([started, training(job_arn), succeeded]))
    assert (
        runner.run("nanogpt", "smoke", [], None, None, spot=True, max_run_minutes=30, volume_size_gb=30) == 0
    )
    names = [p["PipelineName"] for p in _sagemaker().list_pipelines()["PipelineSummaries"]]
    assert sorted(names) == sorted([PIPELINE, variant])


@pytest.mark.slow
def test_a_failed_run_returns_the_commands_exit_code(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure="AlgorithmError: `python train.py` exited with code 3: ...")
        script.finish("Failed")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    exit_record(3)
    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)
    assert runner.run("nanogpt", "smoke", [], None, None, max_run_minutes=30, volume_size_gb=30) == 3
    assert "error: the execution failed: Train: AlgorithmError" in capsys.readouterr().err


def test_a_bad_argument_returns_2_with_one_line_and_creates_nothing(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)
    assert runner.run("nanogpt", "train", [], "gpu.big", f"s3://{BUCKET}/x/") == 2
    assert capsys.readouterr().err == (
        "error: InstanceType 'gpu.big' is not a SageMaker instance type: use ml.<family>.<size>, "
        "e.g. ml.g5.xlarge\n"
    )
    assert runner.run("nanogpt", "train", [], "ml.g5.xlarge", f"s3://{BUCKET}/x/", max_run_minutes=0) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert _sagemaker().list_pipelines()["PipelineSummaries"] == []


@pytest.mark.slow
def test_the_job_methods_work_on_executions(account: Any, capsys: pytest.CaptureFixture[str]) -> None:
    job_arn = training_job()

    def still_training(script: Script) -> None:
        training(job_arn)(script)
        mark_in_progress(JOB, REGION)

    script = sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, still_training]))
    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)
    assert run_no_wait() == 0
    (job,) = runner.list_jobs()
    arn = job["job_id"]
    assert (job["status"], job["pipeline"]) == ("Executing", PIPELINE)
    assert runner.list_jobs(status_filter="Completed") == []
    assert [j["job_id"] for j in runner.list_jobs(status_filter="InProgress")] == [arn]

    runner.tail_logs(arn.rsplit("/", 1)[-1], follow=False)  # before training: no job yet
    assert "no training job yet" in capsys.readouterr().out
    _sagemaker().list_pipeline_execution_steps(PipelineExecutionArn=arn)  # the service moves on
    log(1, "iter 7: loss 3.9 (host 1)")
    runner.tail_logs(arn, follow=False)
    assert "algo-1 | iter 7: loss 3.9 (host 1)" in capsys.readouterr().out

    status = runner.get_job_status(arn)
    assert status["status"] == "Executing" and status["secondary_status"] == "Train"
    assert (status["instance_type"], status["training_job"]) == ("ml.m5.xlarge", JOB)
    assert status["output_path"] == f"s3://{BUCKET}/nanogpt/smoke"

    assert runner.stop_job(arn) is True
    assert len(script.stop_requests) == 1
    assert runner.stop_job(arn) is False  # already stopped
    assert runner.get_job_status(arn)["status"] == "Stopped"
    capsys.readouterr()
    runner.tail_logs(arn)  # follow: the whole log, then the end of the execution
    followed = capsys.readouterr().out
    assert "algo-1 | iter 7: loss 3.9 (host 1)" in followed and "==> Train: Stopped" in followed


def run_no_wait() -> int:
    from pipelines import run

    return run.main(["--example", "nanogpt", "--preset", "smoke", "--skip-preflight", "--no-wait"])


def test_importing_the_runner_loads_no_sdk() -> None:
    probe = "import sys; from pipelines import SageMakerRunner; print(sorted(m for m in sys.modules if m.startswith('sagemaker')))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_input_path_becomes_the_training_channel_of_a_variant(account: Any) -> None:
    smoke = PRESETS["smoke"]
    uri = f"s3://{BUCKET}/datasets/shakespeare"
    fixed = FixedFields(max_run_minutes=30, volume_size_gb=30, input_channel=True)
    variant = "cvl-nanogpt-" + variant_name("smoke", smoke, apply(smoke, fixed, uri), None)
    job_arn = training_job()
    sagemaker_pipelines.script_next_execution(variant, Script([started, training(job_arn), succeeded]))
    runner = SageMakerRunner(role_arn=ROLE_ARN, region=REGION)
    assert runner.run("nanogpt", "smoke", [], None, None, uri, max_run_minutes=30, volume_size_gb=30) == 0
    assert _parameters(variant)["Input_training"] == uri
    (channel,) = _train_arguments(variant)["InputDataConfig"]
    assert channel["ChannelName"] == "training"
