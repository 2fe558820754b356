"""`RunFacts`: what a pipeline's jobs know about their run (`run.json` in the step bundle), one parser.

Written by staging (`pipelines.define.staging`) and read by the Preflight and BuildImage jobs and by the
local runner. Stdlib only and Python 3.9: it runs in SageMaker's sklearn processing image, which has no
pydantic, so this is a frozen dataclass whose `from_json` refuses a missing, unknown or non-text key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

# The step bundle's data files, beside the job code.
RUN_FACTS_FILE = "run.json"
PRESET_FILE = "preset.json"
_HOW_TO_FIX = "upsert the pipeline again with this version of cvl-pipelines"


class RunFactsError(ValueError):
    """`run.json` is not what this version writes (missing, unknown or malformed keys)."""


@dataclass(frozen=True)
class InstanceFacts:
    """One training instance type, as the Preflight job ranks alternatives with it.

    In `run.json` a row `[type, gpus, GB per GPU, vCPUs, GB RAM, USD/h, architecture]`
    (`configs/instance_table.py` renders them from `configs/instances.py`)."""

    instance_type: str
    gpus: int
    vram_gb_per_gpu: int
    vcpus: int
    ram_gb: int
    usd_per_hour: float
    architecture: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> InstanceFacts:
        """From a row; `RunFactsError` when it is not one."""
        kinds: tuple[type | tuple[type, ...], ...] = (str, int, int, int, int, (int, float), str)
        if (
            not isinstance(row, (list, tuple))
            or len(row) != len(kinds)
            or not all(isinstance(row[i], k) and not isinstance(row[i], bool) for i, k in enumerate(kinds))
        ):
            raise RunFactsError(
                f"instance row {row!r} is not [type, gpus, GB per GPU, vCPUs, GB RAM, USD/h, architecture]"
            )
        kind, gpus, vram, vcpus, ram, price, architecture = row
        return cls(kind, gpus, vram, vcpus, ram, float(price), architecture)

    def as_row(self) -> list[object]:
        """The row `from_row` reads."""
        # Field by field: `dataclasses.astuple` deep-copies, and `upsert --all` writes 44 rows a pipeline.
        return [getattr(self, name) for name in _ROW]


_ROW = tuple(f.name for f in fields(InstanceFacts))


@dataclass(frozen=True)
class BuiltImage:
    """The build context a pipeline trains on, and the image built from it."""

    context_uri: str
    context_digest: str
    image_tag: str
    image_uri: str


@dataclass(frozen=True)
class RunFacts:
    """Where one example preset runs: names, account, region, bucket, role, ECR and CodeBuild.

    `image` is None for the facts the preflight checks need before any build context exists; staging
    adds it (`with_image`) before writing `run.json`. `instance_types`: the listed training types, for
    the Preflight job's alternatives (it cannot import `configs`).
    """

    example: str
    preset: str
    pipeline: str
    region: str
    account: str
    bucket: str
    role_arn: str
    repository: str
    codebuild_project: str
    output_prefix: str
    instance_types: tuple[InstanceFacts, ...] = ()
    image: BuiltImage | None = None

    def with_image(self, image: BuiltImage) -> RunFacts:
        """These facts with the build context and image set."""
        return replace(self, image=image)

    def to_dict(self) -> dict[str, object]:
        """The facts as `run.json` holds them: one flat object (the image's keys beside the rest)."""
        data: dict[str, object] = {name: getattr(self, name) for name in _TEXT_KEYS}
        data["instance_types"] = [row.as_row() for row in self.instance_types]
        if self.image is not None:
            data.update({f.name: getattr(self.image, f.name) for f in fields(BuiltImage)})
        return data

    def to_json(self) -> str:
        """`run.json`'s text: sorted keys, one per line (stable bytes for equal facts)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RunFacts:
        """Parse `run.json`; `RunFactsError` names what is missing, unknown or not text."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise RunFactsError(f"{RUN_FACTS_FILE} is not JSON ({error}): {_HOW_TO_FIX}") from None
        if not isinstance(data, dict):
            raise RunFactsError(f"{RUN_FACTS_FILE} is not a JSON object: {_HOW_TO_FIX}")
        return cls._from_mapping(data)

    @classmethod
    def read(cls, path: Path) -> RunFacts:
        """`RunFacts.from_json` of the file at `path`; `RunFactsError` (naming `path`) when it is unreadable."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise RunFactsError(f"cannot read {path} ({error.strerror}): {_HOW_TO_FIX}") from None
        try:
            return cls.from_json(text)
        except RunFactsError as error:
            raise RunFactsError(f"{path}: {error}") from None

    @classmethod
    def _from_mapping(cls, data: dict[str, Any]) -> RunFacts:
        image = [f.name for f in fields(BuiltImage)]
        unknown = sorted(set(data) - set(_TEXT_KEYS) - {"instance_types"} - set(image))
        if unknown:
            raise RunFactsError(f"{RUN_FACTS_FILE} has unknown keys {', '.join(unknown)}: {_HOW_TO_FIX}")
        given_image = [name for name in image if name in data]
        # The image's keys come together or not at all: half a build context names no image.
        texts = list(_TEXT_KEYS) + (image if given_image else [])
        missing = [name for name in [*texts, "instance_types"] if name not in data]
        if missing:
            raise RunFactsError(f"{RUN_FACTS_FILE} lacks {', '.join(missing)}: {_HOW_TO_FIX}")
        not_text = [name for name in texts if not isinstance(data[name], str) or not data[name]]
        if not_text:
            raise RunFactsError(
                f"{RUN_FACTS_FILE}: {', '.join(not_text)} must be non-empty strings: {_HOW_TO_FIX}"
            )
        rows = data["instance_types"]
        if not isinstance(rows, list):
            raise RunFactsError(f"{RUN_FACTS_FILE}: instance_types must be a list of rows: {_HOW_TO_FIX}")
        try:
            instance_types = tuple(InstanceFacts.from_row(row) for row in rows)
        except RunFactsError as error:
            raise RunFactsError(f"{RUN_FACTS_FILE}: {error}: {_HOW_TO_FIX}") from None
        facts = cls(**{name: data[name] for name in _TEXT_KEYS}, instance_types=instance_types)
        if given_image:
            return facts.with_image(BuiltImage(**{name: data[name] for name in image}))
        return facts


# Every field but the instance table and the image: non-empty text.
_TEXT_KEYS = tuple(f.name for f in fields(RunFacts) if f.name not in ("instance_types", "image"))
