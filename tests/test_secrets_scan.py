"""A secrets scanner (detect-secrets) over the repository and over rendered definitions and templates.

Every plugin runs except `KeywordDetector`: it flags assignments by the variable's name
(`secrets={"HF_TOKEN": "cvl/HF_TOKEN"}`, moto's `AWS_SECRET_ACCESS_KEY="testing"`), and naming secrets
without their values is what this project does. Fixtures that need a credential's shape build it at
run time, so the repository itself holds none.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from detect_secrets import SecretsCollection
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.settings import transient_settings

from configs import resolve_target
from pipelines import catalog, upsert
from pipelines.define.compile import compile_staged
from pipelines.define.fingerprint import fingerprint
from pipelines.define.staging import stage
from tests.conftest import BUCKET, REGION, ROLE_ARN, ROOT

# The bundled example's training text: a megabyte of Shakespeare, data rather than configuration,
# and most of the scan's time.
NOT_SCANNED = ("examples/nanogpt/data/shakespeare_char/input.txt",)
PLUGINS = sorted(
    cls.__name__
    for cls in get_mapping_from_secret_type_to_class().values()
    if cls.__name__ != "KeywordDetector"
)


def scan(paths: Iterable[Path], content_hashes: Iterable[str] = ()) -> list[str]:
    """`file:line type` for every secret detect-secrets finds in `paths`; `content_hashes` (digests the
    render names its S3 objects and image tags by, and their prefixes) are not secrets."""
    found = SecretsCollection()
    settings: dict[str, Any] = {"plugins_used": [{"name": name} for name in PLUGINS]}
    known = sorted({digest[:size] for digest in content_hashes for size in (16, 24, 32, 64)})
    if known:
        exclude = "^(" + "|".join(known) + ")$"
        settings["filters_used"] = [
            {"path": "detect_secrets.filters.regex.should_exclude_secret", "pattern": [exclude]}
        ]
    with transient_settings(settings):
        for path in paths:
            found.scan_file(str(path))
    return sorted(f"{name}:{secret.line_number} {secret.type}" for name, secret in found)


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [
        ROOT / name for name in listed.stdout.split() if name not in NOT_SCANNED and (ROOT / name).is_file()
    ]


def test_the_scanner_finds_a_planted_key(tmp_path: Path) -> None:
    planted = tmp_path / "config.py"
    planted.write_text('AWS_ACCESS_KEY_ID = "' + "AKIA" + "Q2W3E4R5T6Y7U8I9" + '"\n')
    assert scan([planted]) == [f"{planted}:1 AWS Access Key"]


def test_the_repository_holds_no_secret() -> None:
    files = tracked_files()
    assert len(files) > 100  # the whole tree, not an empty listing
    assert scan(files) == []


def _content_hashes() -> set[str]:
    """The digests a render of the bundled examples names things by: contexts, bundles, definitions."""
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET)
    hashes = set()
    for example, name, preset in catalog.all_pairs(ROOT / "examples").pairs:
        staged = stage(example, name, preset, target)
        inputs = fingerprint(staged) or ""
        hashes |= {staged.context.digest, staged.bundle.digest, compile_staged(staged).digest, inputs}
    return hashes - {""}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["api", "cloudformation"])
def test_rendered_definitions_and_templates_hold_no_secret(tmp_path: Path, fmt: str) -> None:
    target = ["--region", REGION, "--role-arn", ROLE_ARN, "--bucket", BUCKET]
    assert upsert.main(["--all", "--dry-run", "--format", fmt, "--out", str(tmp_path), *target]) == 0
    rendered = list(tmp_path.rglob("*.json"))  # the dry run's record of fingerprints included
    assert len(rendered) >= 2
    # What the record names files by: each written file's own sha256.
    written = {hashlib.sha256(path.read_bytes()).hexdigest() for path in rendered}
    assert scan(rendered, _content_hashes() | written) == []
