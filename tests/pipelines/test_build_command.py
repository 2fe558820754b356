"""`python -m pipelines.build`: output and exit codes, against the moto server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.build import main
from steps.common.aws import aws_session, client
from tests.conftest import BUCKET, REGION, ROOT
from tests.harness.codebuild import FakeCodeBuild, patched_codebuild
from tests.harness.moto_server import ACCOUNT, MotoServer

REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    example = tmp_path / "examples" / "demo"
    example.mkdir(parents=True)
    (example / "example.yaml").write_text("name: demo\ndescription: a demo\n")
    (example / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\n")
    (example / "train.py").write_text("print('training')\n")
    return example.parent


@pytest.fixture
def codebuild(aws: MotoServer) -> Iterator[FakeCodeBuild]:
    client(aws_session(REGION), "s3").create_bucket(Bucket=BUCKET)
    with patched_codebuild() as fake:
        yield fake


def run(examples: Path, *extra: str) -> int:
    return main(
        [
            "--example",
            "demo",
            "--preset",
            "train",
            "--examples-root",
            str(examples),
            "--poll-seconds",
            "0",
            *extra,
        ]
    )


def nothing_created() -> bool:
    session = aws_session(REGION)
    return (
        not client(session, "iam").list_roles()["Roles"]
        and not client(session, "codebuild").list_projects()["projects"]
        and not client(session, "ecr").describe_repositories()["repositories"]
        and "Contents" not in client(session, "s3").list_objects_v2(Bucket=BUCKET)
    )


@pytest.mark.slow
def test_first_run_builds_and_second_run_is_cached(
    examples: Path, codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(examples) == 0
    out, err = capsys.readouterr()
    build_id = codebuild.started[0].build_id
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["image"].startswith(f"{REGISTRY}/cvl-demo:")
    assert lines["cached"].startswith("no")
    assert lines["build"] == build_id
    assert lines["logs"].startswith("https://console.aws.amazon.com/cloudwatch/")
    assert "created CodeBuild project sagemaker-cvl-pipelines-image-build" in err
    assert "created ECR repository cvl-demo" in err

    assert run(examples) == 0
    out, err = capsys.readouterr()
    again = dict(line.split(None, 1) for line in out.splitlines())
    assert again["image"] == lines["image"] and again["cached"].startswith("yes")
    assert "build" not in again and "created" not in err
    assert len(codebuild.started) == 1


@pytest.mark.slow
def test_json_output(examples: Path, codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(examples, "--json") == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert set(result) == {"image_uri", "cached", "build_id", "log_link"}
    assert result["cached"] is False and result["build_id"] == codebuild.started[0].build_id


@pytest.mark.slow
def test_failed_build_exits_1_naming_phase_and_logs(
    examples: Path, codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    codebuild.fail_next("BUILD", message="pip install failed")
    assert run(examples) == 1
    err = capsys.readouterr().err
    error_line = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_line) == 1
    assert "phase BUILD: pip install failed" in error_line[0] and "#logEvent:group=" in error_line[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "unset", "says"),
    [
        (["--example", "nope", "--preset", "train"], None, "unknown example 'nope'"),
        (["--example", "demo", "--preset", "huge"], None, "unknown preset 'huge'"),
        (["--example", "demo", "--preset", "train"], "SAGEMAKER_OUTPUT_BUCKET", "--bucket"),
        (["--example", "demo", "--preset", "train", "--region", "mars-1"], None, "not an AWS region"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(
    examples: Path,
    codebuild: FakeCodeBuild,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    unset: str | None,
    says: str,
) -> None:
    if unset:
        monkeypatch.delenv(unset)
    assert main([*argv, "--examples-root", str(examples)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("error: ") and says in err
    assert nothing_created()


@pytest.mark.slow
def test_example_without_dockerfile_is_bad_input(
    examples: Path, codebuild: FakeCodeBuild, capsys: pytest.CaptureFixture[str]
) -> None:
    (examples / "demo" / "Dockerfile").unlink()
    assert run(examples) == 2
    assert "has no Dockerfile" in capsys.readouterr().err
    assert nothing_created()


@pytest.mark.slow
def test_the_command_does_not_load_the_sagemaker_sdk() -> None:
    probe = (
        "import sys, pipelines.build; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sagemaker'))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
