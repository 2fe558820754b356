"""Over a tree of examples, a changed file changes that example's pipelines and no other's: in `upsert
--all` (updated / unchanged) and in `upsert --all --dry-run` (written / unchanged, nothing compiled again)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from pipelines import upsert
from pipelines.deploy.dry_run import RECORD
from tests.conftest import BUCKET, REGION
from tests.harness import sagemaker_pipelines
from tests.harness.codebuild import patched_codebuild
from tests.pipelines.test_fingerprint import account  # noqa: F401  (the fixture: preflight passes)
from tests.pipelines.test_steps_as_sagemaker_runs_them import _world, as_user

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_YAML = """name: {name}
description: Example {name} of a small tree
resources:
  gpu: 1
  vram_gb: 16
  disk_gb: 50
presets:
  train:
    command: python train.py
  quick:
    command: python train.py --quick
"""
NAMES = ("alpha", "beta", "gamma")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "examples"
    for name in NAMES:
        folder = root / "vision" / name
        (folder / "src").mkdir(parents=True)
        (folder / "example.yaml").write_text(EXAMPLE_YAML.format(name=name))
        (folder / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\n")
        (folder / "train.py").write_text(f"print('training {name}')\n")
        (folder / "src" / "model.py").write_text("WEIGHTS = 3\n")
    return root


def _edit_keeping_size_and_times(path: Path, text: str) -> None:
    """What `touch -r` after an editor leaves: the same size and modification time, other content."""
    status = path.stat()
    assert len(text.encode()) == status.st_size
    path.write_text(text)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def _actions(out: str) -> dict[str, str]:
    pipelines = [line.split(": ") for line in out.splitlines() if line.startswith("cvl-")]
    return {words[0]: words[1].split(" ")[0] for words in pipelines}


def _expected(changed: str, action: str, others: str) -> dict[str, str]:
    return {
        f"cvl-{name}-{preset}": action if name == changed else others
        for name in NAMES
        for preset in ("quick", "train")
    }


@pytest.mark.slow
def test_a_changed_file_updates_its_examples_pipelines_and_no_other(account, tree, capsys):  # noqa: F811
    argv = ["--all", "--examples-root", str(tree)]
    assert upsert.main(argv) == 0
    assert set(_actions(capsys.readouterr().out).values()) == {"created"}
    assert upsert.main(argv) == 0
    assert set(_actions(capsys.readouterr().out).values()) == {"unchanged"}

    _edit_keeping_size_and_times(tree / "vision" / "beta" / "src" / "model.py", "WEIGHTS = 4\n")
    assert upsert.main(argv) == 0
    assert _actions(capsys.readouterr().out) == _expected("beta", "updated", "unchanged")

    (tree / "vision" / "gamma" / "data.csv").write_text("a,b\n1,2\n")  # a new file is a change too
    assert upsert.main(argv) == 0
    assert _actions(capsys.readouterr().out) == _expected("gamma", "updated", "unchanged")


@pytest.mark.slow
def test_a_dry_run_compiles_again_only_what_changed(tree, tmp_path, monkeypatch, capsys):
    for name in ("AWS_DEFAULT_REGION", "SAGEMAKER_ROLE_ARN", "SAGEMAKER_OUTPUT_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "definitions"
    argv = ["--all", "--dry-run", "--examples-root", str(tree), "--out", str(out)]
    assert upsert.main(argv) == 0
    assert set(_actions(capsys.readouterr().out).values()) == {"written"}
    first = {path.name: path.read_text() for path in out.glob("cvl-*.json")}
    assert len(first) == 6 and (out / RECORD).is_file()

    # Nothing changed: every file is kept, and the SDK is not even loaded.
    script = (
        "import sys\nfrom pipelines import upsert\ncode = upsert.main(sys.argv[1:])\n"
        "print('sdk loaded' if 'sagemaker' in sys.modules else 'sdk not loaded')\nsys.exit(code)\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", script, *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert set(_actions(again.stdout).values()) == {"unchanged"}
    assert again.stdout.splitlines()[-1] == "sdk not loaded"
    assert {path.name: path.read_text() for path in out.glob("cvl-*.json")} == first

    # One example's file changed (same size and times): its definitions only are compiled again.
    _edit_keeping_size_and_times(tree / "vision" / "alpha" / "src" / "model.py", "WEIGHTS = 4\n")
    assert upsert.main(argv) == 0
    assert _actions(capsys.readouterr().out) == _expected("alpha", "written", "unchanged")
    changed = json.loads((out / "cvl-alpha-train.json").read_text())
    assert changed != json.loads(first["cvl-alpha-train.json"])  # a new context digest, a new image tag

    # A definition file edited by hand is not the one written: it is written again.
    (out / "cvl-gamma-quick.json").write_text("{}\n")
    assert upsert.main(argv) == 0
    assert _actions(capsys.readouterr().out) == _expected("gamma", "unchanged", "unchanged") | {
        "cvl-gamma-quick": "written"
    }
    assert json.loads((out / "cvl-gamma-quick.json").read_text()) == json.loads(first["cvl-gamma-quick.json"])


@pytest.mark.slow
def test_uploads_lost_from_s3_are_sent_again(account, tree, capsys):  # noqa: F811
    # Six pipelines: their nine uploads are confirmed by listing, as in a whole tree.
    argv = ["--all", "--examples-root", str(tree)]
    assert upsert.main(argv) == 0
    capsys.readouterr()
    s3 = boto3.client("s3", region_name=REGION)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="cvl-pipelines/")["Contents"]}
    context = next(key for key in sorted(keys) if key.startswith("cvl-pipelines/contexts/cvl-beta/"))
    manifest = sorted(key for key in keys if key.endswith("/manifest.json"))[3]
    s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": context}, {"Key": manifest}]}
    )  # a lifecycle rule

    assert upsert.main(argv) == 0
    assert set(_actions(capsys.readouterr().out).values()) == {"unchanged"}  # compared: the same definitions
    after = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="cvl-pipelines/")["Contents"]}
    assert after == keys


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["studio", "minimal"])
def test_a_tree_is_found_unchanged_and_its_lost_uploads_sent_again_with_the_roles_people_have(
    kind, aws, monkeypatch, tree, capsys
):
    # Studio's terminal runs upsert with AmazonSageMakerFullAccess (IAM deciding every call); the minimal
    # role is the execution role a user names. Nine uploads: the listing path, not a HEAD each.
    world = _world(kind, aws, monkeypatch)
    sagemaker_pipelines.install()
    sagemaker_pipelines.reset()
    argv = ["--all", "--skip-preflight", "--examples-root", str(tree)]
    with patched_codebuild(), as_user(world, monkeypatch):
        assert upsert.main(argv) == 0
        assert set(_actions(capsys.readouterr().out).values()) == {"created"}
        assert upsert.main(argv) == 0
        assert set(_actions(capsys.readouterr().out).values()) == {"unchanged"}
    s3 = boto3.client("s3", region_name=REGION)
    keys = {
        item["Key"] for item in s3.list_objects_v2(Bucket=world.bucket, Prefix="cvl-pipelines/")["Contents"]
    }
    lost = next(key for key in sorted(keys) if key.startswith("cvl-pipelines/contexts/cvl-alpha/"))
    s3.delete_object(Bucket=world.bucket, Key=lost)

    with patched_codebuild(), as_user(world, monkeypatch):
        assert upsert.main(argv) == 0
    assert set(_actions(capsys.readouterr().out).values()) == {"unchanged"}
    s3.head_object(Bucket=world.bucket, Key=lost)  # sent again
