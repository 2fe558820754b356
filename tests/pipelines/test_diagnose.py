"""`pipelines.diagnose` and the diagnosis `run` prints: each failure class from what the service reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines import diagnose, run
from pipelines.operate.diagnosis import Evidence, FailureClass
from pipelines.operate.diagnosis import diagnose as classify
from pipelines.operate.outcome import LocalRunRecord, write_record
from tests.harness import sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.harness.training_jobs import end_job
from tests.pipelines.test_run_remote import (
    JOB,
    PIPELINE,
    account,
    exit_record,
    log,
    started,
    training,
    training_job,
)

__all__ = ["account"]

SMOKE = ["--example", "nanogpt", "--preset", "smoke"]
ROLE = "arn:aws:sts::123456789012:assumed-role/AmazonSageMaker-ExecutionRole-20261203/SageMaker"


def _job(**fields: Any) -> dict[str, Any]:
    return {"ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1}, **fields}


def _failed_train(reason: str) -> tuple[dict[str, Any], ...]:
    return ({"StepName": "Train", "StepStatus": "Failed", "FailureReason": reason},)


CASES = {
    FailureClass.QUOTA: Evidence(
        "nanogpt", "train", "Failed",
        steps=_failed_train(
            "ResourceLimitExceeded: The account-level service limit 'ml.g5.xlarge for training job usage' is 0 "
            "Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use "
            "AWS Service Quotas to request an increase for this quota."
        ),
    ),
    FailureClass.CAPACITY: Evidence(
        "nanogpt", "train", "Failed",
        training_job=_job(FailureReason="CapacityError: Unable to provision requested ML compute capacity. "
                          "Please retry using a different ML instance type."),
    ),
    FailureClass.IMAGE_PULL: Evidence(
        "nanogpt", "train", "Failed",
        training_job=_job(FailureReason="ClientError: Requested image 123456789012.dkr.ecr.us-east-1.amazonaws"
                          ".com/cvl-nanogpt:0f3a not found."),
    ),
    FailureClass.NO_INTERPRETER: Evidence(
        "webapp", "train", "Failed",
        log_lines=('exec: "python3": executable file not found in $PATH',),
        training_job=_job(FailureReason="AlgorithmError: the container could not start"),
    ),
    FailureClass.OUT_OF_MEMORY: Evidence(
        "nanogpt", "train", "Failed",
        log_lines=(
            "iter 10: loss 3.1",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 22.19 GiB total)",
        ),
        training_job=_job(FailureReason="AlgorithmError: `python train.py` exited with code 1"),
        exit_code=1,
    ),
    FailureClass.MISSING_MODULE: Evidence(
        "nanogpt", "train", "Failed",
        log_lines=("Traceback (most recent call last):", "ModuleNotFoundError: No module named 'tiktoken'"),
        exit_code=1,
    ),
    FailureClass.COMMAND_EXIT: Evidence(
        "nanogpt", "train", "Failed",
        log_lines=("ValueError: block_size must be positive",),
        training_job=_job(FailureReason="AlgorithmError: `python train.py` exited with code 3\nValueError"),
        exit_code=3,
    ),
    FailureClass.SPOT_WITHOUT_CHECKPOINT: Evidence(
        "nanogpt", "train", "Stopped",
        training_job=_job(EnableManagedSpotTraining=True, SecondaryStatus="Interrupted"),
    ),
    FailureClass.TIME_LIMIT: Evidence(
        "nanogpt", "train", "Stopped",
        training_job=_job(SecondaryStatus="MaxRuntimeExceeded", StoppingCondition={"MaxRuntimeInSeconds": 3600}),
    ),
    FailureClass.ACCESS_DENIED: Evidence(
        "nanogpt", "train", "Failed",
        log_lines=(
            f"botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the "
            f"GetObject operation: User: {ROLE} is not authorized to perform: s3:GetObject on resource: "
            "arn:aws:s3:::data-bucket/train.bin because no identity-based policy allows the s3:GetObject action",
        ),
        exit_code=1,
    ),
    FailureClass.MISSING_SECRET: Evidence(
        "nanogpt", "train", "Failed",
        training_job=_job(FailureReason="cvl-entry: secret cvl/wandb: ResourceNotFoundException: Secrets Manager "
                          "can't find the specified secret."),
        exit_code=1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("expected", list(CASES), ids=[kind.name.lower() for kind in CASES])
def test_each_failure_class_is_recognised_with_its_proof_and_fix(expected: FailureClass) -> None:
    found = classify(CASES[expected])
    assert found.failure_class == expected
    assert found.evidence, "the lines that prove it"
    assert found.fix


def test_fixes_are_commands_for_this_example() -> None:
    assert (
        "python -m pipelines.run --example nanogpt --preset train --fallback"
        in classify(CASES[FailureClass.QUOTA]).fix
    )
    memory = classify(CASES[FailureClass.OUT_OF_MEMORY])
    assert memory.fix.endswith("--set InstanceType=ml.g6e.xlarge")  # 48 GB per GPU, the cheapest with more
    assert "secret cvl/wandb" not in classify(CASES[FailureClass.MISSING_SECRET]).fix
    assert "--name cvl/wandb" in classify(CASES[FailureClass.MISSING_SECRET]).fix
    denied = classify(CASES[FailureClass.ACCESS_DENIED]).fix
    assert denied.startswith(
        "grant s3:GetObject on arn:aws:s3:::data-bucket/train.bin to the role AmazonSageMaker-ExecutionRole-20261203"
    )
    assert classify(CASES[FailureClass.COMMAND_EXIT]).exit_code == 3


@pytest.mark.slow
def test_diagnose_an_execution_by_arn_from_its_steps_job_and_logs(
    account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    job_arn = training_job()

    def out_of_memory(script: Script) -> None:
        log(1, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB")
        end_job(JOB, "Failed", failure_reason="AlgorithmError: `python train.py` exited with code 1")
        script.step("Train", "Failed", failure="AlgorithmError: `python train.py` exited with code 1")
        script.finish("Failed", "Step failure: One or multiple steps failed.")

    exit_record(1)
    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), out_of_memory]))
    assert run.main([*SMOKE, "--skip-preflight"]) == 1
    err = capsys.readouterr().err
    assert "diagnosis: out of memory (in Train), exit code 1" in err
    assert "  | torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB" in err

    arn = sagemaker_pipelines_arn()
    assert diagnose.main([arn, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["class"] == "out of memory" and found["step"] == "Train" and found["exit_code"] == 1
    assert found["fix"].startswith("the command ran out of GPU memory")
    assert diagnose.main(SMOKE) == 0  # the latest execution of that pipeline
    assert capsys.readouterr().out.startswith("diagnosis: out of memory (in Train)")


def sagemaker_pipelines_arn() -> str:
    import boto3

    from tests.conftest import REGION

    summaries = boto3.client("sagemaker", region_name=REGION).list_pipeline_executions(PipelineName=PIPELINE)
    return str(summaries["PipelineExecutionSummaries"][0]["PipelineExecutionArn"])


def test_diagnose_a_local_run_from_the_record_it_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = LocalRunRecord(
        "nanogpt", "smoke", "Failed", 2, "Train: `python train.py` exited with code 2", (),
        ("step 1", "ValueError: --max_iters must be positive"),
    )  # fmt: skip
    write_record(tmp_path, record)
    assert diagnose.main(["--local", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "diagnosis: the command's own non-zero exit (in Train), exit code 2"
    assert "  | ValueError: --max_iters must be positive" in lines
    assert lines[-1].endswith("python -m pipelines.run --example nanogpt --preset smoke --local")


def test_diagnose_without_a_run_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert diagnose.main(["--region", "us-east-1"]) == 2
    assert capsys.readouterr().err == (
        "error: say which run: EXECUTION, --example E --preset P (its latest), or --local DIR\n"
    )
    assert diagnose.main(["--local", str(tmp_path)]) == 2
    assert "no cvl-run.json there: give the output folder a local run printed" in capsys.readouterr().err
