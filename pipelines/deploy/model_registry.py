"""The model package group a gated preset registers into: created at upsert (tagged), left as it is after.

SageMaker's CreateModelPackage needs the group to exist, and the pipeline's Register step runs as the
execution role, which may only add packages: the group is made here, with the user's credentials.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from pipelines.define.names import model_package_group
from pipelines.define.staging import Staged
from steps.common.aws import client
from steps.common.tags import resource_tags, tag_list


def _exists(sagemaker: Any, group: str) -> bool:
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as error:
        # SageMaker answers a missing group with ValidationException ("... does not exist").
        if error.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return False
        raise
    return True


def ensure_model_package_group(session: Any, staged: Staged) -> str:
    """Create the gated preset's model package group unless it exists; `created`, `exists`, or "" for a
    preset without `register`."""
    if staged.preset.gate is None:
        return ""
    group = model_package_group(staged.example.name, staged.preset.gate)
    sagemaker = client(session, "sagemaker")
    if _exists(sagemaker, group):
        return "exists"
    try:
        sagemaker.create_model_package_group(
            ModelPackageGroupName=group,
            ModelPackageGroupDescription=f"Models of the cvl example {staged.example.name}, past their gate",
            Tags=tag_list(resource_tags(staged.example.name)),
        )
    except ClientError:
        if _exists(sagemaker, group):  # another preset of the example made it meanwhile
            return "exists"
        raise
    return "created"
