"""`upsert --dry-run`: each definition written to `--out`, compiled again only when its inputs changed.

Beside the definitions, `.cvl-fingerprints.json` records for each pipeline written the fingerprint of
what it was made from (`pipelines.define.fingerprint`), its definition's digest and the sha256 of the file
as written. A pipeline whose fingerprint is the recorded one, and whose file is still the one written, is
not compiled again (`unchanged`); the others compile in parallel (`compile_all`) and are `written`. Only
the definitions match `*.json`: the record's name starts with a dot.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from pipelines.define.compile import CompiledPipeline
from pipelines.define.compile_pool import compile_all
from pipelines.define.fingerprint import fingerprint
from pipelines.define.staging import Staged
from pipelines.deploy.deployer import Deployed

RECORD = ".cvl-fingerprints.json"


class WrittenDefinition(BaseModel):
    """What one written definition was made from (its fingerprint), its digest, and the file's sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inputs: str
    digest: str
    file_sha256: str


class WrittenRecord(BaseModel):
    """The record beside the definitions in `--out`, by pipeline name."""

    model_config = ConfigDict(extra="forbid")

    pipelines: dict[str, WrittenDefinition] = {}


def definition_text(compiled: CompiledPipeline) -> str:
    """The definition as it is written: pretty, sorted keys."""
    return json.dumps(json.loads(compiled.definition), indent=2, sort_keys=True) + "\n"


def write_definitions(staged: list[Staged], out_dir: Path) -> list[Deployed]:
    """Write each definition that would be upserted to `out_dir/<pipeline>.json`; no network call.

    A file written before from the same inputs, and unedited since, is kept as it is (`unchanged`)."""
    record = _read_record(out_dir)
    inputs = {s.name: fingerprint(s) for s in staged}
    outcomes: dict[str, Deployed] = {}
    for s in staged:
        known, path = record.pipelines.get(s.name), out_dir / f"{s.name}.json"
        if known and known.inputs == inputs[s.name] and _file_sha256(path) == known.file_sha256:
            outcomes[s.name] = Deployed(s.name, "unchanged", known.digest, str(path))
    stale = [s for s in staged if s.name not in outcomes]
    if stale:
        out_dir.mkdir(parents=True, exist_ok=True)
        for compiled in compile_all(stale, stale[0].target.region):
            text = definition_text(compiled)
            path = out_dir / f"{compiled.name}.json"
            path.write_text(text)
            made_from = inputs[compiled.name]
            if made_from is None:  # nothing offline vouches for its inputs: compiled every time
                record.pipelines.pop(compiled.name, None)
            else:
                sha = hashlib.sha256(text.encode()).hexdigest()
                record.pipelines[compiled.name] = WrittenDefinition(
                    inputs=made_from, digest=compiled.digest, file_sha256=sha
                )
            outcomes[compiled.name] = Deployed(compiled.name, "written", compiled.digest, str(path))
        _write_record(out_dir, record)
    return [outcomes[s.name] for s in staged]


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _read_record(out_dir: Path) -> WrittenRecord:
    try:
        return WrittenRecord.model_validate_json((out_dir / RECORD).read_bytes())
    except (OSError, ValidationError):  # none yet, or not ours: every definition is compiled
        return WrittenRecord()


def _write_record(out_dir: Path, record: WrittenRecord) -> None:
    partial = out_dir / f"{RECORD}.partial"
    partial.write_text(record.model_dump_json(indent=1) + "\n")
    os.replace(partial, out_dir / RECORD)  # whole or not at all: a killed run leaves the old record
