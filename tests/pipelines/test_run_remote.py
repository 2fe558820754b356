"""`python -m pipelines.run` without `--local`, against the moto server over real HTTP: upsert, start with
the overrides, follow steps and every host's log, download the model, fail with the command's exit
code, and stop the execution on Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.logs.models import logs_backends

from pipelines import run
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas, sagemaker_pipelines
from tests.harness.moto_server import ACCOUNT
from tests.harness.sagemaker_pipelines import Script
from tests.harness.signals import default_sigint
from tests.harness.training_jobs import mark_in_progress

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "cvl-nanogpt-smoke"
JOB = "cvl-nanogpt-smoke-2026-01-01-00-00-00-000"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture
def account(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """An account where preflight passes, executions follow scripts, and polling does not wait; the
    working folder is a temporary one (a run downloads its model into outputs/ under it)."""
    monkeypatch.chdir(tmp_path)
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)
    sagemaker_pipelines.install()
    sagemaker_pipelines.reset()
    monkeypatch.setenv("CVL_POLL_SECONDS", "0")
    return aws


def _sagemaker() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def training_job(*, hosts: int = 2) -> str:
    """A training job with a model.tar.gz in S3 and one log stream per host."""
    _sagemaker().create_training_job(
        TrainingJobName=JOB,
        AlgorithmSpecification={
            "TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cvl-nanogpt:x",
            "TrainingInputMode": "File",
        },
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/nanogpt/smoke"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": hosts, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 1800},
    )
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET,
        Key=f"nanogpt/smoke/{JOB}/output/model.tar.gz",
        Body=_tar_gz({"logs/ckpt.pt": b"checkpoint bytes"}),
    )
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    for host in range(1, hosts + 1):
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=f"{JOB}/algo-{host}-1767225600")
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{JOB}"


def _tar_gz(files: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def exit_record(code: int) -> None:
    """The output.tar.gz SageMaker uploads from /opt/ml/output/data of a job whose command failed: it
    holds the entry point's exit record."""
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET,
        Key=f"nanogpt/smoke/{JOB}/output/output.tar.gz",
        Body=_tar_gz({"cvl-exit.json": json.dumps({"exit_code": code}).encode()}),
    )


def log(host: int, message: str) -> None:
    """Append one event to a host's stream, as the training container would (backend, no HTTP)."""
    event = {"timestamp": int(time.time() * 1000), "message": message}
    logs_backends[ACCOUNT][REGION].put_log_events(LOG_GROUP, f"{JOB}/algo-{host}-1767225600", [event])


def started(script: Script) -> None:
    script.step("Preflight", "Executing")
    script.step("BuildImage", "Executing")


def training(job_arn: str) -> Any:
    def tick(script: Script) -> None:
        script.step("Preflight", "Succeeded", ProcessingJob={"Arn": "arn:aws:sagemaker:::processing-job/p"})
        script.step("BuildImage", "Succeeded", ProcessingJob={"Arn": "arn:aws:sagemaker:::processing-job/b"})
        script.step("Train", "Executing", TrainingJob={"Arn": job_arn})
        log(1, "iter 0: loss 4.17 (host 1)")
        log(2, "rank 1 joined (host 2)")

    return tick


def more_logs(script: Script) -> None:
    log(1, "iter 40: loss 3.21 (host 1)")


def succeeded(script: Script) -> None:
    script.step("Train", "Succeeded")
    script.finish("Succeeded")


@pytest.mark.slow
def test_run_upserts_starts_with_overrides_follows_and_downloads(
    account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()
    script = sagemaker_pipelines.script_next_execution(
        PIPELINE, Script([started, training(job_arn), more_logs, succeeded])
    )
    argv = [
        "--example",
        "nanogpt",
        "--preset",
        "smoke",
        "--output-dir",
        str(tmp_path),
        "--set",
        "max_iters=7",
    ]
    assert run.main([*argv, "--", "--seed=3"]) == 0
    out = capsys.readouterr().out

    assert f"{PIPELINE}: created" in out
    states = [line for line in out.splitlines() if line.startswith("==> ")]
    assert states[:2] == ["==> Preflight: Executing", "==> BuildImage: Executing"]
    assert states[-1].startswith("==> Train: Succeeded in ")
    assert "    algo-1 | iter 0: loss 4.17 (host 1)" in out
    assert "    algo-2 | rank 1 joined (host 2)" in out
    assert out.index("iter 0: loss") < out.index("iter 40: loss") < out.index("==> Train: Succeeded")
    assert (tmp_path / "model" / "logs" / "ckpt.pt").read_bytes() == b"checkpoint bytes"
    assert "\nmodel: model\n" in out  # as typed from the working folder (the test's tmp_path)
    assert script.status == "Succeeded"

    arn = _sagemaker().list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"
    ]
    parameters = _sagemaker().list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
        "PipelineParameters"
    ]
    assert {p["Name"]: p["Value"] for p in parameters} == {
        "max_iters": "7",
        "ExtraArgs": json.dumps(["--seed=3"]),
    }


@pytest.mark.slow
def test_failed_training_fails_the_run_with_the_command_exit_code(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()
    reason = (
        "AlgorithmError: `python train.py` exited with code 2: ...\ntrain.py: unknown config key 'bogus_key'"
    )

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure=reason)
        script.finish("Failed", "Step failure: One or multiple steps failed.")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    exit_record(2)
    assert run.main(["--example", "nanogpt", "--preset", "smoke", "--skip-preflight"]) == 2
    captured = capsys.readouterr()
    assert "==> Train: Failed in " in captured.out
    assert (
        "error: the execution failed: Train: AlgorithmError: `python train.py` exited with code 2"
        in captured.err
    )


@pytest.mark.slow
def test_a_failed_job_without_an_exit_record_exits_1_whatever_its_reason_says(account: Any) -> None:
    job_arn = training_job()

    def failed(script: Script) -> None:
        script.step("Train", "Failed", failure="AlgorithmError: `python train.py` exited with code 7: ...")
        script.finish("Failed")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), failed]))
    assert run.main(["--example", "nanogpt", "--preset", "smoke", "--skip-preflight"]) == 1


@pytest.mark.slow
def test_ctrl_c_stops_the_execution_and_its_training_job(account: Any, tmp_path: Path) -> None:
    job_arn = training_job()

    def still_training(script: Script) -> None:
        training(job_arn)(script)
        mark_in_progress(JOB, REGION)

    script = sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, still_training]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.run",
            "--example",
            "nanogpt",
            "--preset",
            "smoke",
            "--skip-preflight",
        ],
        cwd=tmp_path,
        env={**os.environ, "CVL_POLL_SECONDS": "0.2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if not line or "iter 0: loss" in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen) + out + err
    assert "==> Train: Executing" in "".join(seen)
    assert "interrupted: stopping the execution" in out
    assert len(script.stop_requests) == 1 and script.status == "Stopping"

    arn = _sagemaker().list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"
    ]
    assert (
        _sagemaker().describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopped"
    )
    steps = _sagemaker().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert {s["StepName"]: s["StepStatus"] for s in steps}["Train"] == "Stopped"
    assert _sagemaker().describe_training_job(TrainingJobName=JOB)["TrainingJobStatus"] == "Stopped"


def test_stop_pipeline_execution_is_shaped_as_documented(account: Any) -> None:
    sagemaker = _sagemaker()
    sagemaker.create_pipeline(
        PipelineName="p",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=ROLE_ARN,
    )
    script = sagemaker_pipelines.script_next_execution("p", Script([]))
    arn = sagemaker.start_pipeline_execution(PipelineName="p")["PipelineExecutionArn"]
    assert (
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="t" * 32)[
            "PipelineExecutionArn"
        ]
        == arn
    )
    assert script.status == "Stopping" and script.stop_requests == ["t" * 32]
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Stopped"
    )
    with pytest.raises(sagemaker.exceptions.ConflictException):
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="u" * 32)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn + "x", ClientRequestToken="v" * 32)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.stop_training_job(TrainingJobName="nope")
