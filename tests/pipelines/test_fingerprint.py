"""The fingerprint lets `upsert` say `unchanged` without the SDK, and never when the definition would differ."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from configs import resolve_target
from pipelines import catalog, upsert
from pipelines.define.compile import DESCRIPTION_LIMIT, compile_staged
from pipelines.define.fingerprint import current_versions, fingerprint, recorded
from pipelines.define.staging import stage
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "cvl-tiny-train"
OTHER_BUCKET = "cvl-other-bucket"
EXAMPLE_YAML = """name: tiny
description: A tiny example for fingerprint tests
resources:
  gpu: 1
  vram_gb: 16
  disk_gb: 50
"""


@pytest.fixture
def account(aws):
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=OTHER_BUCKET)
    for kind in ("training job usage", "spot training job usage"):
        quotas.set_sagemaker_quota(f"ml.g4dn.xlarge for {kind}", 2)
        quotas.set_sagemaker_quota(f"ml.g5.xlarge for {kind}", 2)
    return aws


@pytest.fixture
def examples(tmp_path):
    folder = tmp_path / "examples" / "vision" / "tiny"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text(EXAMPLE_YAML)
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\n")
    (folder / "train.py").write_text("print('training')\n")
    # example.yaml stays out of the build context: a change to it is a change to the preset alone.
    (folder / ".dockerignore").write_text("example.yaml\n")
    return tmp_path / "examples"


def _upsert(examples: Path, capsys, *extra: str) -> str:
    assert (
        upsert.main(["--example", "tiny", "--preset", "train", "--examples-root", str(examples), *extra]) == 0
    )
    return capsys.readouterr().out.split(": ")[1].split(" ")[0]


def _description() -> str:
    described = boto3.client("sagemaker", region_name=REGION).describe_pipeline(PipelineName=PIPELINE)
    return described["PipelineDescription"]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _staged(examples: Path):
    example, preset = catalog.resolve(examples, "tiny", "train")
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, allow_placeholders=False)
    return stage(example, "train", preset, target)


@pytest.mark.slow
def test_each_input_changed_in_turn_is_updated_never_unchanged(account, examples, capsys):
    assert _upsert(examples, capsys) == "created"
    assert _upsert(examples, capsys) == "unchanged"

    # A preset field (the volume, derived from example.yaml's resources), the build context unchanged.
    context = _staged(examples).context.digest
    yaml = examples / "vision" / "tiny" / "example.yaml"
    yaml.write_text(yaml.read_text().replace("disk_gb: 50", "disk_gb: 80"))
    assert _staged(examples).context.digest == context
    assert _upsert(examples, capsys) == "updated"
    assert _upsert(examples, capsys) == "unchanged"

    # A file of the build context.
    (examples / "vision" / "tiny" / "train.py").write_text("print('training harder')\n")
    assert _upsert(examples, capsys) == "updated"

    # The SDK's version: the deployed pipeline says it was made with another one.
    staged = _staged(examples)
    other_sdk = current_versions()._replace(sdk=(("sagemaker", "3.26.0"),))
    planted = _description().replace(fingerprint(staged), fingerprint(staged, other_sdk))
    assert planted != _description()
    boto3.client("sagemaker", region_name=REGION).update_pipeline(
        PipelineName=PIPELINE, PipelineDescription=planted
    )
    assert _upsert(examples, capsys) == "updated"
    assert _upsert(examples, capsys) == "unchanged"

    # The target's bucket (the execution role's policy names the first one: no preflight here).
    other = ("--bucket", OTHER_BUCKET, "--skip-preflight")
    assert _upsert(examples, capsys, *other) == "updated"
    assert _upsert(examples, capsys, *other) == "unchanged"


@pytest.mark.slow
def test_a_change_to_the_step_bundle_code_is_updated(account, examples, capsys, tmp_path):
    assert _upsert(examples, capsys) == "created"
    # This project's code, changed where only the step bundle sees it: a copy of the checkout.
    checkout = tmp_path / "checkout"
    for package in ("configs", "steps", "pipelines"):
        shutil.copytree(ROOT / package, checkout / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Dockerfile.template", checkout / "Dockerfile.template")
    checks = checkout / "steps" / "preflight" / "job" / "checks.py"
    checks.write_text(checks.read_text() + "\n# a change in the container code\n")

    done = subprocess.run(
        [sys.executable, "-m", "pipelines.upsert", "--example", "tiny", "--preset", "train"]
        + ["--examples-root", str(examples)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    assert f"{PIPELINE}: updated" in done.stdout


@pytest.mark.slow
def test_unchanged_is_reported_without_loading_the_sdk_and_force_compiles(account, examples, capsys):
    assert _upsert(examples, capsys) == "created"
    script = (
        "import sys\nfrom pipelines import upsert\n"
        "code = upsert.main(sys.argv[1:])\n"
        "print('sdk loaded' if 'sagemaker' in sys.modules else 'sdk not loaded')\n"
        "sys.exit(code)\n"
    )
    argv = ["--example", "tiny", "--preset", "train", "--examples-root", str(examples)]

    quick = subprocess.run(
        [sys.executable, "-c", script, *argv], env=_environment(), capture_output=True, text=True
    )
    forced = subprocess.run(
        [sys.executable, "-c", script, *argv, "--force"], env=_environment(), capture_output=True, text=True
    )

    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.splitlines()[-2:] == [
        f"{PIPELINE}: unchanged (sha256:{_digest()[:12]})",
        "sdk not loaded",
    ]
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-2:] == [
        f"{PIPELINE}: unchanged (sha256:{_digest()[:12]})",
        "sdk loaded",
    ]


def _digest() -> str:
    mark = recorded(_description())
    assert mark is not None
    return mark.definition


@pytest.mark.slow
def test_a_missing_upload_means_the_full_path(account, examples, capsys):
    assert _upsert(examples, capsys) == "created"
    s3 = boto3.client("s3", region_name=REGION)
    staged = _staged(examples)
    s3.delete_object(Bucket=BUCKET, Key=staged.build.context_key(staged.context.digest))

    assert _upsert(examples, capsys) == "unchanged"  # compiled and compared: the definition is the same
    s3.head_object(Bucket=BUCKET, Key=staged.build.context_key(staged.context.digest))  # uploaded again


@pytest.mark.slow
def test_the_description_keeps_its_digests_whatever_the_prose(examples):
    staged = _staged(examples)
    wordy = staged._replace(preset=staged.preset.model_copy(update={"description": "x" * 4000}))

    compiled = compile_staged(wordy)

    assert len(compiled.description) == DESCRIPTION_LIMIT
    mark = recorded(compiled.description)
    assert mark is not None
    assert mark.definition == compiled.digest[:16]
    assert mark.inputs == fingerprint(compiled.staged)


def test_an_sdk_config_in_s3_gives_no_fingerprint(examples, monkeypatch):
    # The SDK would read it from S3: nothing offline can vouch for it, so upsert compiles and compares.
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", "s3://some-bucket/sagemaker/")

    assert fingerprint(_staged(examples)) is None
