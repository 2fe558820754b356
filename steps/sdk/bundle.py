"""The step bundle: the container code and the run's facts, content-addressed in S3.

Processing jobs receive it as their `bundle` input. Its S3 prefix holds the digest of every file in it,
so an unchanged bundle is never uploaded twice and a changed one never overwrites a pipeline's old one.
The container code travels as one stored zip (`CODE_ARCHIVE`, put on `PYTHONPATH`: Python imports from
it), so a bundle is four objects to upload, not one per module: `upsert --all` uploads one per pipeline.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from functools import cache
from pathlib import Path
from typing import NamedTuple

from steps.common.run_facts import PRESET_FILE, RUN_FACTS_FILE, RunFacts

STEPS_ROOT = Path(__file__).resolve().parent.parent
BUNDLE_PREFIX = "cvl-pipelines/bundles"
MANIFEST = "manifest.json"
CODE_ARCHIVE = "steps.zip"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# What the processing jobs import: the shared job code and each processing step's `job/` folder, shipped
# whole, with the package `__init__`s on their way (each imports nothing). The factories stand outside
# these folders: they need the SDK and `configs`, which the processing image lacks.
JOB_FOLDERS = ("common", "preflight/job", "build_image/job")


class Bundle(NamedTuple):
    """Files (relative path -> bytes) and the digest that names their S3 prefix."""

    files: dict[str, bytes]
    digest: str

    @property
    def key_prefix(self) -> str:
        """The S3 key prefix (no trailing `/`) of this bundle's files."""
        return f"{BUNDLE_PREFIX}/{self.digest[:32]}"

    def s3_prefix(self, bucket: str) -> str:
        """The S3 URI (ending in `/`) where this bundle lives in `bucket`."""
        return f"s3://{bucket}/{self.key_prefix}/"


def container_sources() -> dict[str, bytes]:
    """The `steps` package's job-side sources, keyed by path relative to the bundle root."""
    return dict(_job_sources())


@cache
def _job_sources() -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) of each job-side source, sorted by name. Read once per process: it is this
    checkout's own code, which the fingerprint's code digest also reads once (`code_digest`), and an
    `upsert --all` bundles it for every pipeline."""
    sources: dict[str, bytes] = {}
    for folder in JOB_FOLDERS:
        package = STEPS_ROOT / folder
        for parent in (package, *package.relative_to(STEPS_ROOT).parents):
            init = STEPS_ROOT / parent / "__init__.py"
            sources[init.relative_to(STEPS_ROOT.parent).as_posix()] = init.read_bytes()
        for path in sorted(package.rglob("*.py")):
            if "__pycache__" not in path.parts:
                sources[path.relative_to(STEPS_ROOT.parent).as_posix()] = path.read_bytes()
    return tuple(sorted(sources.items()))


@cache
def code_archive() -> bytes:
    """The container code as a zip Python imports from: sorted, stored (not deflated: the same bytes
    wherever it is made), fixed times. Made once per process, like `_job_sources`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in _job_sources():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def make_bundle(preset_json: str, run_facts: RunFacts) -> Bundle:
    """Bundle the container code (`CODE_ARCHIVE`) with `preset.json` and `run.json`; deterministic for
    equal inputs."""
    files = {
        CODE_ARCHIVE: code_archive(),
        PRESET_FILE: preset_json.encode(),
        RUN_FACTS_FILE: run_facts.to_json().encode(),
    }
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    files[MANIFEST] = json.dumps(sorted(files), indent=1).encode()
    return Bundle(files=files, digest=digest.hexdigest())
