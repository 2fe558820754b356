"""The example's ECR repository: created on demand with scanning and a lifecycle policy; tag lookups."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
    """
    wanted = tags or resource_tags()
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        found = None
    if found is None:
        try:
            ecr.create_repository(
                repositoryName=name, imageScanningConfiguration={"scanOnPush": True}, tags=tag_list(wanted)
            )
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle_policy())
            return True
        except ecr.exceptions.RepositoryAlreadyExistsException:
            found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
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
    return False


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
