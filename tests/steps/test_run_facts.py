"""`RunFacts`: the one type staging writes into `run.json` and every job and the local runner read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configs import resolve_target
from configs.instance_table import instance_rows
from pipelines import catalog
from pipelines.define.staging import base_facts, stage
from steps.build_image.job.container import JobInputError, load_facts
from steps.common.run_facts import RUN_FACTS_FILE, BuiltImage, RunFacts, RunFactsError

ROOT = Path(__file__).resolve().parents[2]
TARGET = resolve_target(
    region="us-east-1", role_arn="arn:aws:iam::123456789012:role/cvl-exec", bucket="cvl-bucket", environ={}
)


@pytest.fixture(scope="module")
def staged():
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "smoke")
    return stage(example, "smoke", preset, TARGET)


def test_what_staging_writes_is_what_the_jobs_read(staged) -> None:
    written = staged.bundle.files[RUN_FACTS_FILE].decode()
    assert RunFacts.from_json(written) == staged.facts
    assert staged.facts.image is not None
    assert staged.facts.image.image_uri.startswith(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/cvl-nanogpt:"
    )


def test_run_json_keeps_its_bytes(staged) -> None:
    """The file is the flat, sorted, one-key-a-line object it was before the type existed."""
    written = staged.bundle.files[RUN_FACTS_FILE].decode()
    data = json.loads(written)
    assert written == json.dumps(data, sort_keys=True, indent=1)
    assert sorted(data) == [
        "account",
        "bucket",
        "codebuild_project",
        "context_digest",
        "context_uri",
        "example",
        "image_tag",
        "image_uri",
        "instance_types",
        "output_prefix",
        "pipeline",
        "preset",
        "region",
        "repository",
        "role_arn",
    ]
    assert data["output_prefix"] == "s3://cvl-bucket/nanogpt/smoke/"
    assert data["instance_types"] == instance_rows()  # the table's rows, as configs renders them


def test_facts_without_an_image_round_trip() -> None:
    facts = base_facts("nanogpt", "smoke", TARGET)
    assert facts.image is None
    assert RunFacts.from_json(facts.to_json()) == facts
    assert "image_uri" not in json.loads(facts.to_json())


def _without(key: str) -> str:
    data = json.loads(base_facts("nanogpt", "smoke", TARGET).to_json())
    del data[key]
    return json.dumps(data)


def test_a_missing_key_is_named() -> None:
    with pytest.raises(RunFactsError, match=r"run.json lacks role_arn: upsert the pipeline again"):
        RunFacts.from_json(_without("role_arn"))


def test_an_unknown_key_is_named() -> None:
    data = json.loads(base_facts("nanogpt", "smoke", TARGET).to_json()) | {"regoin": "eu-west-1"}
    with pytest.raises(RunFactsError, match=r"run.json has unknown keys regoin"):
        RunFacts.from_json(json.dumps(data))


def test_half_an_image_is_refused() -> None:
    data = json.loads(base_facts("nanogpt", "smoke", TARGET).to_json()) | {"image_tag": "abc"}
    with pytest.raises(RunFactsError, match=r"lacks context_uri, context_digest, image_uri"):
        RunFacts.from_json(json.dumps(data))


@pytest.mark.parametrize("value", [None, 12, "", ["us-east-1"]])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    data = json.loads(base_facts("nanogpt", "smoke", TARGET).to_json()) | {"region": value}
    with pytest.raises(RunFactsError, match=r"region must be non-empty strings"):
        RunFacts.from_json(json.dumps(data))


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_text_that_is_no_object_is_refused(text: str) -> None:
    with pytest.raises(RunFactsError, match=r"run.json is not"):
        RunFacts.from_json(text)


def test_the_build_job_says_which_file_lacks_what(tmp_path: Path) -> None:
    (tmp_path / RUN_FACTS_FILE).write_text(_without("repository"))
    with pytest.raises(JobInputError, match=rf"{tmp_path / RUN_FACTS_FILE}: run.json lacks repository"):
        load_facts(tmp_path)
    (tmp_path / RUN_FACTS_FILE).unlink()
    with pytest.raises(JobInputError, match=r"cannot read .*run.json \(No such file or directory\)"):
        load_facts(tmp_path)


def test_the_build_job_reads_its_facts(tmp_path: Path) -> None:
    facts = base_facts("nanogpt", "smoke", TARGET).with_image(BuiltImage("s3://b/c.zip", "d" * 64, "t", "u"))
    (tmp_path / RUN_FACTS_FILE).write_text(facts.to_json())
    build = load_facts(tmp_path)
    assert (build.region, build.account, build.bucket) == ("us-east-1", "123456789012", "cvl-bucket")
    assert (build.repository, build.project) == ("cvl-nanogpt", facts.codebuild_project)


@pytest.mark.parametrize(
    "row",
    [
        ["ml.g5.xlarge", 1, 24, 4, 16, 1.41],  # six fields
        ["ml.g5.xlarge", "1", 24, 4, 16, 1.41, "ampere"],  # a count as text
        ["ml.g5.xlarge", True, 24, 4, 16, 1.41, "ampere"],  # a boolean is no count
        "ml.g5.xlarge",
    ],
)
def test_an_instance_row_of_the_wrong_shape_is_named(row: object) -> None:
    data = json.loads(base_facts("nanogpt", "smoke", TARGET).to_json())
    data["instance_types"][3] = row
    with pytest.raises(RunFactsError, match=r"run.json: instance row .* is not \[type, gpus, GB per GPU"):
        RunFacts.from_json(json.dumps(data))


def test_instance_rows_round_trip_as_typed_facts() -> None:
    facts = base_facts("nanogpt", "smoke", TARGET)
    g5 = next(row for row in facts.instance_types if row.instance_type == "ml.g5.xlarge")
    assert (g5.gpus, g5.architecture) == (1, "ampere")
    assert RunFacts.from_json(facts.to_json()).instance_types == facts.instance_types
