"""What a build needs to know about where it runs: region, account, bucket, repository, project.

Stdlib only (it is read from `run.json` inside the BuildImage job), and Python 3.9 compatible,
like every module the job imports: SageMaker's sklearn 1.2-1 processing image runs Python 3.9.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from steps.common.permissions import PROJECT_NAME
from steps.common.run_facts import RunFacts
from steps.common.tags import resource_tags

CONTEXT_PREFIX = "cvl-pipelines/contexts"

# ECR's repository name grammar: lowercase components joined by single `.`, `_` or `-`.
_REPOSITORY_PATTERN = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def repository_name(example: str) -> str:
    """The ECR repository of an example, `cvl-<example>`; ValueError when ECR would refuse the name."""
    name = f"cvl-{example}"
    if len(name) > 256 or not _REPOSITORY_PATTERN.match(name):
        raise ValueError(
            f"example name {example!r} cannot name an ECR repository ({name!r}): use lowercase letters "
            "and digits separated by single '.', '_' or '-'"
        )
    return name


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix(region: str) -> str:
    """The DNS suffix of a region's service endpoints (ECR registries live under it)."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def console_host(region: str) -> str:
    """The AWS console host that serves a region."""
    if region.startswith("cn-"):
        return "console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return "console.amazonaws-us-gov.com"
    return "console.aws.amazon.com"


@dataclass(frozen=True)
class BuildFacts:
    """Where images of one example are built and pushed."""

    region: str
    account: str
    bucket: str
    repository: str
    project: str = PROJECT_NAME

    @classmethod
    def of(cls, run: RunFacts) -> BuildFacts:
        """The build facts among a run's facts (`run.json`)."""
        return cls(
            region=run.region,
            account=run.account,
            bucket=run.bucket,
            repository=run.repository,
            project=run.codebuild_project,
        )

    @property
    def example(self) -> str:
        """The example whose images the repository holds (`cvl-<example>`)."""
        return self.repository[len("cvl-") :]

    @property
    def tags(self) -> dict[str, str]:
        """The tags of the example's repository."""
        return resource_tags(example=self.example)

    @property
    def partition(self) -> str:
        """The ARN partition (aws, aws-cn, aws-us-gov)."""
        return partition(self.region)

    @property
    def registry(self) -> str:
        """The account's ECR registry host in the region."""
        return f"{self.account}.dkr.ecr.{self.region}.{url_suffix(self.region)}"

    def image_uri(self, tag: str) -> str:
        """The URI of `<repository>:<tag>`."""
        return f"{self.registry}/{self.repository}:{tag}"

    def context_key(self, digest: str) -> str:
        """The content-addressed S3 key of a build context."""
        return f"{CONTEXT_PREFIX}/{self.repository}/{digest}.zip"

    def context_uri(self, digest: str) -> str:
        """The S3 URI of a build context."""
        return f"s3://{self.bucket}/{self.context_key(digest)}"
