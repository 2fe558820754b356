"""The fingerprint: a digest of everything a pipeline's definition is made from, known without the SDK.

`upsert` stores it in the pipeline's description (beside the definition digest, where ListPipelines
returns it for 100 pipelines a call). When the deployed fingerprint equals the one staged now, the
definition would compile to the same JSON, so `upsert` reports `unchanged` without loading the SDK.
Anything we cannot vouch for offline makes no fingerprint (None), which means: compile and compare.

What goes in: the pipeline and example names and description, the preset JSON, the build context
digest, the step bundle digest (container code, preset, run facts), the target (region, account,
role, bucket), this project's version and the digest of its own code (an edited checkout counts), the
versions of the SDK packages, and the SDK's defaults config files (they can add fields to a definition).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from platformdirs import site_config_dir, user_config_dir

from pipelines.define.staging import Staged

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_CODE_PACKAGES = ("configs", "steps", "pipelines")
# The distributions whose code turns our step objects into the definition JSON.
SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-train")
_RECORDED = re.compile(r"definition sha256:([0-9a-f]{16}); inputs sha256:([0-9a-f]{32})")


class Versions(NamedTuple):
    """The software a definition is compiled with: ours (version and code digest) and the SDK's."""

    project: str
    code: str
    sdk: tuple[tuple[str, str], ...]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


@cache
def code_digest(root: Path = PROJECT_ROOT) -> str:
    """sha256 of this project's own sources (every file of `configs`, `steps`, `pipelines`)."""
    digest = hashlib.sha256()
    for package in _CODE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def current_versions() -> Versions:
    """The versions installed here (read from package metadata: the SDK is not imported)."""
    return Versions(
        project=_version("cvl-pipelines"),
        code=code_digest(),
        sdk=tuple((name, _version(name)) for name in SDK_DISTRIBUTIONS),
    )


def sdk_config_digest() -> str | None:
    """sha256 of the SDK's defaults config files as the SDK would find them; None when one is in S3.

    The SDK reads an admin and a user `config.yaml` (platformdirs' site and user config folders, or the
    `SAGEMAKER_ADMIN_CONFIG_OVERRIDE` / `SAGEMAKER_USER_CONFIG_OVERRIDE` file, folder or S3 URI).
    """
    digest = hashlib.sha256()
    defaults = (
        ("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", site_config_dir("sagemaker")),
        ("SAGEMAKER_USER_CONFIG_OVERRIDE", user_config_dir("sagemaker")),
    )
    for variable, folder in defaults:
        chosen = os.environ.get(variable) or os.path.join(folder, "config.yaml")
        if chosen.startswith("s3://"):
            return None
        path = Path(chosen)
        if path.is_dir():
            path = path / "config.yaml"
        digest.update(path.read_bytes() if path.is_file() else b"absent")
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(staged: Staged, versions: Versions | None = None) -> str | None:
    """The fingerprint of a staged pipeline (32 hex digits), or None when it cannot be known offline."""
    config = sdk_config_digest()
    if config is None:
        return None
    versions = versions or current_versions()
    inputs = {
        "pipeline": staged.name,
        "example": [staged.example.name, staged.example.description],
        "preset": [staged.preset_name, staged.preset.model_dump_json()],
        "context": staged.context.digest,
        "bundle": staged.bundle.digest,
        "target": staged.target.model_dump_json(),
        "versions": versions._asdict(),
        "sdk_config": config,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]


def description_tag(digest: str, inputs: str | None) -> str:
    """What the description carries for upsert: the definition digest and, when known, the fingerprint."""
    tag = f"definition sha256:{digest[:16]}"
    return f"{tag}; inputs sha256:{inputs}" if inputs else tag


class Recorded(NamedTuple):
    """What a deployed pipeline's description says it was made from: definition digest (16 hex
    digits) and fingerprint."""

    definition: str
    inputs: str


def recorded(description: str | None) -> Recorded | None:
    """The digests a deployed pipeline's description carries, or None (none, or another format)."""
    found = _RECORDED.search(description or "")
    return Recorded(found.group(1), found.group(2)) if found else None
