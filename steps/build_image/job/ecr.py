"""The example's ECR repository: created on demand with scanning and a lifecycle policy; tag lookups."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from steps.common.errors import is_access_denied
from steps.common.tags import missing_tags, resource_tags, tag_list

KEEP_TAGGED_IMAGES = 20
EXPIRE_UNTAGGED_DAYS = 7


def lifecycle_policy(keep_tagged: int = KEEP_TAGGED_IMAGES, untagged_days: int = EXPIRE_UNTAGGED_DAYS) -> str:
    """The repository's lifecycle policy: expire untagged images after some days, keep the last N tagged."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"expire untagged images after {untagged_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"keep the {keep_tagged} most recent tagged images",
            # ECR wants a tag filter on a `tagged` rule; `*` matches every tag.
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["*"],
                "countType": "imageCountMoreThan",
                "countNumber": keep_tagged,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


def ensure_repository(ecr: Any, name: str, *, tags: Mapping[str, str] | None = None) -> bool:
    """Make sure repository `name` exists with `tags`, scan on push and a lifecycle policy; True when created.

    Runs with the user's credentials (upsert, build): the pipeline's execution role cannot create
    repositories. Missing tags are added, a lifecycle policy the user wrote is kept. A create whose answer
    was lost (the retry hears RepositoryAlreadyExists) is configured like any existing repository.
    A user whose policy allows creating repositories but not tagging them or setting their lifecycle
    (AmazonSageMakerFullAccess, a Studio role) gets a working repository; its upkeep is left to the next
    upsert by someone who may (tags and lifecycle are housekeeping, not what a build needs).
    """
    wanted = tags or resource_tags()
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        found = None
    if found is None:
        try:
            try:
                ecr.create_repository(
                    repositoryName=name,
                    imageScanningConfiguration={"scanOnPush": True},
                    tags=tag_list(wanted),
                )
            except ClientError as error:
                if not is_access_denied(error):  # tagging on create needs ecr:TagResource too
                    raise
                ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
            _upkeep(
                lambda: ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle_policy())
            )
            return True
        except ecr.exceptions.RepositoryAlreadyExistsException:
            found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    _upkeep(lambda: _put_right(ecr, found, wanted))
    return False


def _upkeep(call: Callable[[], Any]) -> None:
    try:
        call()
    except ClientError as error:
        if not is_access_denied(error):
            raise


def _put_right(ecr: Any, found: Mapping[str, Any], wanted: Mapping[str, str]) -> None:
    name = found["repositoryName"]
    present = ecr.list_tags_for_resource(resourceArn=found["repositoryArn"]).get("tags", [])
    missing = missing_tags(wanted, present)
    if missing:
        ecr.tag_resource(resourceArn=found["repositoryArn"], tags=tag_list(missing))
    if not found.get("imageScanningConfiguration", {}).get("scanOnPush"):
        ecr.put_image_scanning_configuration(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
        )
    try:
        ecr.get_lifecycle_policy(repositoryName=name)
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle_policy())


class RepositoryMissing(RuntimeError):
    """The example's ECR repository does not exist; only the user's machine creates it (upsert, build)."""


def image_exists(ecr: Any, repository: str, tag: str, region: str) -> bool:
    """Whether `repository:tag` is in ECR; RepositoryMissing when the repository itself is."""
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    except ecr.exceptions.RepositoryNotFoundException:
        raise RepositoryMissing(
            f"ECR repository {repository} does not exist in {region}: run `python -m pipelines.upsert` "
            "again from a machine with ECR rights (it creates the repository)"
        ) from None
    return True
