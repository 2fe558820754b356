"""The tags on everything cvl-pipelines creates, from one place: cost splits by example in Cost Explorer.

`managed-by=cvl-pipelines` on every resource (pipelines, processing and training jobs, the ECR
repositories, the CodeBuild project, the roles, the bucket, the schedule group), `cvl:example` where a
resource belongs to one example, `cvl:preset` where it belongs to one preset. Activate `cvl:example`
and `cvl:preset` as cost allocation tags (Billing console) to split costs by them.

Stdlib only and Python 3.9 compatible: the BuildImage job imports it (it may create the repository).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MANAGED_BY_KEY = "managed-by"
MANAGED_BY = "cvl-pipelines"
EXAMPLE_KEY = "cvl:example"
PRESET_KEY = "cvl:preset"
PIPELINE_KEY = "cvl:pipeline"


def resource_tags(
    example: str | None = None, preset: str | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The tags of a resource of `example` (and `preset`), after the preset's own `extra` tags:
    ours win, so a preset cannot mislabel its costs."""
    tags = dict(extra or {})
    tags[MANAGED_BY_KEY] = MANAGED_BY
    if example:
        tags[EXAMPLE_KEY] = example
    if preset:
        tags[PRESET_KEY] = preset
    return dict(sorted(tags.items()))


def tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """Tags as the AWS APIs take them: `[{"Key": k, "Value": v}]` (CodeBuild spells them `key`/`value`)."""
    return [{key: name, value: tags[name]} for name in sorted(tags)]


def missing_tags(
    wanted: Mapping[str, str], present: list[dict[str, str]], key: str = "Key"
) -> dict[str, str]:
    """The wanted tags a resource lacks or holds with another value (`present` in the API's list form)."""
    value = "Value" if key == "Key" else "value"
    have = {item[key]: item.get(value) for item in present}
    return {name: text for name, text in wanted.items() if have.get(name) != text}


def ensure_role_tags(iam: Any, role_name: str) -> bool:
    """Add the tags a role of ours lacks (one made before they existed); True when some were added."""
    pages = iam.get_paginator("list_role_tags").paginate(RoleName=role_name)
    missing = missing_tags(resource_tags(), [tag for page in pages for tag in page.get("Tags", [])])
    if missing:
        iam.tag_role(RoleName=role_name, Tags=tag_list(missing))
    return bool(missing)
