"""The step bundle: what the Preflight and BuildImage jobs receive, and that it runs where they run."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from configs import resolve_target
from pipelines.define.staging import base_facts
from steps.sdk.bundle import CODE_ARCHIVE, MANIFEST, container_sources, make_bundle

TARGET = resolve_target(
    region="us-east-1", role_arn="arn:aws:iam::123456789012:role/r", bucket="bkt", environ={}
)
FACTS = base_facts("nanogpt", "smoke", TARGET)


def test_bundle_is_deterministic_and_content_addressed():
    first = make_bundle('{"a": 1}', FACTS)
    again = make_bundle('{"a": 1}', FACTS)
    other = make_bundle('{"a": 2}', FACTS)
    moved = make_bundle('{"a": 1}', base_facts("nanogpt", "train", TARGET))
    assert first == again
    assert first.digest != other.digest
    assert first.digest != moved.digest
    assert first.s3_prefix("b") == f"s3://b/cvl-pipelines/bundles/{first.digest[:32]}/"
    assert json.loads(first.files[MANIFEST]) == sorted(name for name in first.files if name != MANIFEST)


def test_bundle_holds_the_container_code_and_not_the_sdk_side():
    names = set(container_sources())
    assert {
        "steps/preflight/job/container.py",
        "steps/build_image/job/container.py",
        "steps/common/aws.py",
    } <= names
    assert not any(name.endswith(("factory.py", "processing.py", "sdk.py")) for name in names)


def test_job_modules_run_on_the_processing_images_python_3_9():
    """SageMaker's sklearn 1.2-1 processing image runs Python 3.9: no 3.10+ syntax or calls in the bundle."""
    for name, source in container_sources().items():
        tree = ast.parse(source, filename=name, feature_version=(3, 9))
        if any(isinstance(node, ast.AnnAssign | ast.FunctionDef) for node in ast.walk(tree)):
            assert b"from __future__ import annotations" in source, (
                f"{name}: `X | Y` annotations need it on 3.9"
            )
        type_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "zip":
                assert not any(keyword.arg == "strict" for keyword in node.keywords), (
                    f"{name}: zip(strict=) is 3.10+"
                )
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("sagemaker", "pydantic", "configs", "pipelines"), (
                    f"{name} imports {node.module}, which the processing image does not have"
                )


def test_the_jobs_run_from_the_bundles_code_archive(tmp_path):
    bundle = make_bundle('{"a": 1}', FACTS)
    assert json.loads(bundle.files[MANIFEST]) == sorted([CODE_ARCHIVE, "preset.json", "run.json"])
    for name, data in bundle.files.items():
        (tmp_path / name).write_bytes(data)
    for module in ("steps.preflight.job.container", "steps.build_image.job.container"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            env={"PYTHONPATH": str(tmp_path / CODE_ARCHIVE), "PATH": os.environ.get("PATH", "")},
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "--bundle" in done.stdout
