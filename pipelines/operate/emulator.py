"""What an AWS emulator behind `AWS_ENDPOINT_URL` cannot do for an execution, found out before relying on it.

Plain moto (the README's way to try without an account) creates pipelines and executions, but runs no
step: it marks every execution Succeeded the moment it starts and lacks ListPipelineExecutionSteps.
A run there is started and said to be unfollowable up front; `status` does not call it Succeeded.
On AWS (no `AWS_ENDPOINT_URL`) nothing here makes a call.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from configs import DeployTarget
from pipelines.operate.execution_api import ExecutionApi
from steps.common.aws import endpoint_override, error_lacks_api

PROBE_EXECUTION = "cvlprobe0"  # an execution id no pipeline has: the probe asks for the steps of nothing
NOT_RUN = "NotRun"  # what `status` shows for an execution an emulator calls Succeeded without a step


def cannot_follow(api: ExecutionApi, target: DeployTarget, pipeline: str) -> str:
    """Why executions of `pipeline` cannot be followed on this endpoint (an emulator without
    ListPipelineExecutionSteps), in a few words; "" on AWS and on emulators that have it."""
    if not endpoint_override():
        return ""
    where = f"arn:{target.partition}:sagemaker:{target.region}:{target.account}:pipeline/{pipeline}"
    try:
        api.steps(f"{where}/execution/{PROBE_EXECUTION}")
    except ClientError as error:
        if error_lacks_api(error):
            return f"the emulator at {endpoint_override()} lacks ListPipelineExecutionSteps and runs no step"
    return ""  # it answered (most likely: no such execution), so steps can be listed


def ran_nothing(api: ExecutionApi, arn: str) -> bool:
    """Whether an execution an emulator reports as Succeeded ran no step (it cannot list them, or
    lists none). Always False on AWS, where a Succeeded execution ran its steps; no call is made there."""
    if not endpoint_override():
        return False
    try:
        return not api.steps(arn)
    except ClientError as error:
        if error_lacks_api(error):
            return True
        raise
