"""`ExecutionApi`: every call this project makes about pipeline executions (start, describe, steps, stop, retry).

Imports no SDK and nothing of the compiler: a boto3 SageMaker client is all it needs.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from pipelines.deploy.pipeline_api import error_code
from steps.common.aws import client
from steps.train.overrides import Overrides


class ExecutionApi:
    """The calls about executions and their training jobs, over one boto3 SageMaker client."""

    def __init__(self, sagemaker: Any) -> None:
        self.sagemaker = sagemaker

    @classmethod
    def of(cls, session: Any) -> ExecutionApi:
        """A client on a boto3 session (our retry mode and endpoint)."""
        return cls(client(session, "sagemaker"))

    def start(self, pipeline: str, overrides: Overrides, token: str | None = None) -> str:
        """Start an execution with the overrides; returns its ARN."""
        return str(
            self.sagemaker.start_pipeline_execution(
                PipelineName=pipeline,
                PipelineParameters=overrides.as_parameters(),
                ClientRequestToken=token or str(uuid.uuid4()),
            )["PipelineExecutionArn"]
        )

    def describe_execution(self, arn: str) -> dict[str, Any]:
        """DescribePipelineExecution's answer."""
        return self.sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)

    def steps(self, arn: str) -> list[dict[str, Any]]:
        """Every step of an execution (all pages of ListPipelineExecutionSteps), oldest first."""
        # Oldest first: steps started in the same second then keep their order.
        pages = self.sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=arn, SortOrder="Ascending"
        )
        return [step for page in pages for step in page.get("PipelineExecutionSteps", [])]

    def stop(self, arn: str, job: str | None = None) -> None:
        """Stop the execution and its running training job (stopping one that already ended is a no-op)."""
        try:
            self.sagemaker.stop_pipeline_execution(
                PipelineExecutionArn=arn, ClientRequestToken=str(uuid.uuid4())
            )
        except ClientError as error:
            if error_code(error) != "ConflictException":  # it ended meanwhile
                raise
        if job is not None:
            try:
                self.sagemaker.stop_training_job(TrainingJobName=job)
            except ClientError as error:
                if error_code(error) != "ValidationException":
                    raise

    def training_job(self, name: str) -> dict[str, Any]:
        """DescribeTrainingJob's answer."""
        return self.sagemaker.describe_training_job(TrainingJobName=name)

    def executions(self, pipeline: str, max_results: int = 20) -> list[dict[str, Any]]:
        """The pipeline's `max_results` most recent executions, newest first (ListPipelineExecutions
        summaries, as many pages as that takes)."""
        pages = self.sagemaker.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline,
            SortBy="CreationTime",
            SortOrder="Descending",
            # 100 is the API's largest page (MaxResults).
            PaginationConfig={"MaxItems": max_results, "PageSize": min(max_results, 100)},
        )
        return [summary for page in pages for summary in page.get("PipelineExecutionSummaries", [])]

    def retry(self, arn: str, token: str | None = None) -> str:
        """Re-run a failed execution from its failed steps (RetryPipelineExecution); returns its ARN."""
        return str(
            self.sagemaker.retry_pipeline_execution(
                PipelineExecutionArn=arn, ClientRequestToken=token or str(uuid.uuid4())
            )["PipelineExecutionArn"]
        )

    def parameters(self, arn: str) -> dict[str, str]:
        """The parameter values an execution started with (all pages), by name."""
        pages = self.sagemaker.get_paginator("list_pipeline_parameters_for_execution").paginate(
            PipelineExecutionArn=arn
        )
        return {str(p["Name"]): str(p["Value"]) for page in pages for p in page.get("PipelineParameters", [])}
