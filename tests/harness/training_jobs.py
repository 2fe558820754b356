"""Training jobs that are still running, in the in-process moto server.

moto creates every training job `Completed`; quota tests need jobs that hold instances, so
`start_running_job` creates one over HTTP and then marks it `InProgress` in the backend.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.models import sagemaker_backends

from tests.harness.moto_server import ACCOUNT

IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/cvl-other:latest"


def mark_in_progress(name: str, region: str = "us-east-1") -> None:
    """Set a moto training job's status to InProgress."""
    job = sagemaker_backends[ACCOUNT][region].training_jobs[name]
    job.training_job_status = "InProgress"
    job.secondary_status = "Training"


def start_running_job(
    sagemaker: Any, name: str, instance_type: str, count: int = 1, *, spot: bool = False, role_arn: str
) -> None:
    """Create a training job through `sagemaker` (a boto3 client) and leave it InProgress."""
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": 3600}
    if spot:
        stopping["MaxWaitTimeInSeconds"] = 7200
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=role_arn,
        OutputDataConfig={"S3OutputPath": "s3://cvl-other-bucket/out/"},
        ResourceConfig={"InstanceType": instance_type, "InstanceCount": count, "VolumeSizeInGB": 30},
        StoppingCondition=stopping,
        EnableManagedSpotTraining=spot,
    )
    mark_in_progress(name, sagemaker.meta.region_name)


def record_billing(
    name: str, training_seconds: int, billable_seconds: int, region: str = "us-east-1"
) -> None:
    """Give a moto training job the times DescribeTrainingJob reports once it ends (moto reports none):
    `TrainingTimeInSeconds` and `BillableTimeInSeconds` (smaller for spot: the savings)."""
    job = sagemaker_backends[ACCOUNT][region].training_jobs[name]
    job.training_time_in_seconds = training_seconds
    job.billable_time_in_seconds = billable_seconds


def end_job(
    name: str,
    status: str,
    *,
    failure_reason: str | None = None,
    secondary_status: str | None = None,
    region: str = "us-east-1",
) -> None:
    """End a moto training job as SageMaker reports it: `TrainingJobStatus` (Failed, Stopped), its
    `SecondaryStatus` (e.g. MaxRuntimeExceeded, Interrupted) and `FailureReason` (moto never fails a job)."""
    job = sagemaker_backends[ACCOUNT][region].training_jobs[name]
    job.training_job_status = status
    job.secondary_status = secondary_status or status
    job.failure_reason = failure_reason
