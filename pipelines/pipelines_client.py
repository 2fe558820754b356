"""`PipelinesClient`: every call this project makes to the SageMaker Pipelines API, in one place.

Callers get what they need back (ARNs, statuses, steps), so nobody describes a pipeline twice to learn
its ARN. Imports no SDK: a boto3 SageMaker client is all it needs.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from steps.common.aws import client

if TYPE_CHECKING:
    from pipelines.compile import CompiledPipeline
    from steps.train.overrides import Overrides


PIPELINE_PREFIX = "cvl-"


class Summary(NamedTuple):
    """A deployed pipeline as ListPipelines (or DescribePipeline) shows it: its ARN and description."""

    arn: str
    description: str


class Published(NamedTuple):
    """What `publish` did (`created`, `updated` or `unchanged`; `would create`/`would update` when it
    was not to send), the pipeline's ARN, and what changed in words when asked (`pipelines.diff`)."""

    action: str
    arn: str
    changes: tuple[str, ...] = ()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class PipelinesClient:
    """The SageMaker Pipelines calls of this project, over one boto3 SageMaker client."""

    def __init__(self, sagemaker: Any) -> None:
        self.sagemaker = sagemaker

    @classmethod
    def of(cls, session: Any) -> PipelinesClient:
        """A client on a boto3 session (our retry mode and endpoint)."""
        return cls(client(session, "sagemaker"))

    def describe(self, name: str) -> dict[str, Any] | None:
        """DescribePipeline's answer, or None when there is no such pipeline.

        AWS documents ResourceNotFound; local emulators (moto) answer ValidationException "Could not find".
        """
        try:
            return self.sagemaker.describe_pipeline(PipelineName=name)
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", "")).lower()
            if _code(error) == "ResourceNotFound" or (
                _code(error) == "ValidationException" and "could not find" in message
            ):
                return None
            raise

    def publish(self, compiled: CompiledPipeline, *, send: bool = True, diff: bool = False) -> Published:
        """Create or update the pipeline, or leave it when its definition and description are unchanged.

        With `diff`, say what an update changes against the deployed definition; without `send`, only
        say what would be done.
        """
        from pipelines.compile import canonical_json
        from pipelines.diff import definition_changes
        from steps.common.tags import resource_tags, tag_list

        request: dict[str, Any] = {
            "PipelineName": compiled.name,
            "PipelineDisplayName": compiled.name,
            "PipelineDefinition": compiled.definition,
            "PipelineDescription": compiled.description,
            "RoleArn": compiled.target.role_arn,
        }
        tags = tag_list(resource_tags(compiled.example, compiled.preset))
        existing = self.describe(compiled.name)
        if existing is None:
            if not send:
                return Published("would create", "", ("new pipeline",) if diff else ())
            # botocore retries (throttling, 5xx) resend this token, so a retried create returns the first
            # one instead of a second. A token of this call only: one derived from the definition would
            # make a re-create after a deletion answer "created" and create nothing.
            created = self.sagemaker.create_pipeline(
                **request, Tags=tags, ClientRequestToken=str(uuid.uuid4())
            )
            return Published("created", str(created["PipelineArn"]))
        arn = str(existing["PipelineArn"])
        deployed = canonical_json(existing.get("PipelineDefinition", "{}"))
        if deployed == compiled.definition and existing.get("PipelineDescription") == compiled.description:
            return Published("unchanged", arn)
        changes: tuple[str, ...] = ()
        if diff:
            changes = tuple(definition_changes(deployed, compiled.definition)) or (
                "description only (the definition is the same)",
            )
        if not send:
            return Published("would update", arn, changes)
        updated = self.sagemaker.update_pipeline(**request)
        # UpdatePipeline takes no tags: a pipeline created before a tag was added gets it now.
        self.sagemaker.add_tags(ResourceArn=updated["PipelineArn"], Tags=tags)
        return Published("updated", str(updated["PipelineArn"]), changes)

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
        steps: list[dict[str, Any]] = []
        # Oldest first: steps started in the same second then keep their order.
        request: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
        while True:
            page = self.sagemaker.list_pipeline_execution_steps(**request)
            steps += page.get("PipelineExecutionSteps", [])
            if not page.get("NextToken"):
                return steps
            request["NextToken"] = page["NextToken"]

    def stop(self, arn: str, job: str | None = None) -> None:
        """Stop the execution and its running training job (stopping one that already ended is a no-op)."""
        try:
            self.sagemaker.stop_pipeline_execution(
                PipelineExecutionArn=arn, ClientRequestToken=str(uuid.uuid4())
            )
        except ClientError as error:
            if _code(error) != "ConflictException":  # it ended meanwhile
                raise
        if job is not None:
            try:
                self.sagemaker.stop_training_job(TrainingJobName=job)
            except ClientError as error:
                if _code(error) != "ValidationException":
                    raise

    def training_job(self, name: str) -> dict[str, Any]:
        """DescribeTrainingJob's answer."""
        return self.sagemaker.describe_training_job(TrainingJobName=name)

    def pipeline_names(self, prefix: str = PIPELINE_PREFIX) -> list[str]:
        """The names of the pipelines starting with `prefix` (all pages of ListPipelines)."""
        return list(self.summaries(prefix))

    def summaries(self, prefix: str = PIPELINE_PREFIX) -> dict[str, Summary]:
        """Every pipeline starting with `prefix`, by name: 100 a call (all pages of ListPipelines)."""
        found: dict[str, Summary] = {}
        request: dict[str, Any] = {"PipelineNamePrefix": prefix, "MaxResults": 100}
        while True:
            page = self.sagemaker.list_pipelines(**request)
            for summary in page.get("PipelineSummaries", []):
                name = str(summary["PipelineName"])
                if name.startswith(prefix):
                    found[name] = Summary(
                        str(summary["PipelineArn"]), str(summary.get("PipelineDescription", ""))
                    )
            if not page.get("NextToken"):
                return found
            request["NextToken"] = page["NextToken"]

    def summaries_of(self, names: list[str]) -> dict[str, Summary]:
        """The deployed ones among `names`, in as few calls as the API allows: DescribePipeline for a
        handful, else ListPipelines pages (100 pipelines a call, descriptions included)."""
        if len(names) > 3:
            wanted = set(names)
            return {name: summary for name, summary in self.summaries().items() if name in wanted}
        found = {}
        for name in names:
            described = self.describe(name)
            if described is not None:
                found[name] = Summary(
                    str(described["PipelineArn"]), str(described.get("PipelineDescription", ""))
                )
        return found

    def executions(self, pipeline: str, max_results: int = 20) -> list[dict[str, Any]]:
        """The pipeline's most recent executions, newest first (ListPipelineExecutions summaries)."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "PipelineName": pipeline,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": min(max_results, 100),
        }
        while len(found) < max_results:
            page = self.sagemaker.list_pipeline_executions(**request)
            found += page.get("PipelineExecutionSummaries", [])
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
        return found[:max_results]

    def parameters(self, arn: str) -> dict[str, str]:
        """The parameter values an execution was started with (only those given), by name."""
        page = self.sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
        return {str(p["Name"]): str(p["Value"]) for p in page.get("PipelineParameters", [])}

    def retry(self, arn: str, token: str | None = None) -> str:
        """Re-run a failed execution from its failed steps (RetryPipelineExecution); returns its ARN."""
        return str(
            self.sagemaker.retry_pipeline_execution(
                PipelineExecutionArn=arn, ClientRequestToken=token or str(uuid.uuid4())
            )["PipelineExecutionArn"]
        )
