"""`PipelineApi`: every call this project makes about deployed pipelines (describe, list, create, update).

Callers get what they need back (ARNs, descriptions), so nobody describes a pipeline twice to learn its
ARN. Executions have their own (`pipelines.operate.execution_api`). Imports no SDK and no compiler: a boto3
SageMaker client is all it needs.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from pipelines.define.diff import canonical_json, definition_changes
from pipelines.define.names import PIPELINE_PREFIX
from steps.common.aws import client
from steps.common.tags import resource_tags, tag_list

if TYPE_CHECKING:
    from pipelines.define.compile import CompiledPipeline


class Summary(NamedTuple):
    """A deployed pipeline as ListPipelines (or DescribePipeline) shows it: its ARN and description."""

    arn: str
    description: str


class Published(NamedTuple):
    """What `publish` did (`created`, `updated` or `unchanged`; `would create`/`would update` when it
    was not to send), the pipeline's ARN, and what changed in words when asked (`pipelines.define.diff`)."""

    action: str
    arn: str
    changes: tuple[str, ...] = ()


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore `ClientError` (empty when it has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


class PipelineApi:
    """The calls about deployed pipelines, over one boto3 SageMaker client."""

    def __init__(self, sagemaker: Any) -> None:
        self.sagemaker = sagemaker

    @classmethod
    def of(cls, session: Any) -> PipelineApi:
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
            if error_code(error) == "ResourceNotFound" or (
                error_code(error) == "ValidationException" and "could not find" in message
            ):
                return None
            raise

    def publish(self, compiled: CompiledPipeline, *, send: bool = True, diff: bool = False) -> Published:
        """Create or update the pipeline, or leave it when its definition and description are unchanged.

        With `diff`, say what an update changes against the deployed definition; without `send`, only
        say what would be done.
        """
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

    def pipeline_names(self, prefix: str = PIPELINE_PREFIX) -> list[str]:
        """The names of the pipelines starting with `prefix` (all pages of ListPipelines)."""
        return list(self.summaries(prefix))

    def summaries(self, prefix: str = PIPELINE_PREFIX) -> dict[str, Summary]:
        """Every pipeline starting with `prefix`, by name: 100 a call (all pages of ListPipelines)."""
        pages = self.sagemaker.get_paginator("list_pipelines").paginate(
            PipelineNamePrefix=prefix, PaginationConfig={"PageSize": 100}
        )
        return {
            str(summary["PipelineName"]): Summary(
                str(summary["PipelineArn"]), str(summary.get("PipelineDescription", ""))
            )
            for page in pages
            for summary in page.get("PipelineSummaries", [])
            if str(summary["PipelineName"]).startswith(prefix)
        }

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
