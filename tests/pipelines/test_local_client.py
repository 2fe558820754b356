"""The local job client piece by piece: S3 folder, processing jobs, BuildImage with and without Docker,
unsupported calls, and the progress printer."""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from configs import resolve_target
from pipelines.cli.run_printer import Progress, format_duration
from pipelines.define.staging import base_facts
from pipelines.local import JobFailed, LocalJobClient, LocalS3
from pipelines.local.builtin import docker_engine
from steps.build_image.job.context import archive_digest
from steps.common.run_facts import RUN_FACTS_FILE, BuiltImage

FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.txt"
case "$1 $2" in
  "info "*) exit 0 ;;
  "image inspect") [ -f "$(dirname "$0")/built" ] && echo sha256:feed && exit 0; exit 1 ;;
  "build -t") touch "$(dirname "$0")/built"; echo "Step 1/9 : FROM pytorch"; exit 0 ;;
esac
exit 3
"""


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.started: list[str] = []

    def job_started(self, name: str) -> None:
        self.started.append(name)

    def job_log(self, name: str, line: str) -> None:
        self.lines.append(line)


def make_client(tmp_path: Path) -> tuple[LocalJobClient, Recorder]:
    events = Recorder()
    client = LocalJobClient(
        work_dir=tmp_path / "work",
        s3=LocalS3(tmp_path / "s3"),
        output_dir=tmp_path / "out",
        checkpoint_dir=tmp_path / "ckpt",
        base_env=dict(os.environ),
        events=events,
    )
    return client, events


def build_request(client: LocalJobClient) -> dict:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Dockerfile", "FROM pytorch\n")
        zf.writestr("cvl_entry/__main__.py", "print('entry')\n")
    data = archive.getvalue()
    digest = archive_digest(data)  # the context digest: names, executable bits, contents
    client.s3.put(f"s3://b/contexts/{digest}.zip", data)
    target = resolve_target(region="us-east-1", role_arn="arn:aws:iam::123456789012:role/r", bucket="bkt")
    facts = base_facts("demo", "smoke", target).with_image(
        BuiltImage(f"s3://b/contexts/{digest}.zip", digest, "abc", "local/cvl-demo:abc")
    )
    client.s3.put(f"s3://b/bundle/{RUN_FACTS_FILE}", facts.to_json().encode())
    return {
        "AppSpecification": {
            "ImageUri": "sklearn",
            "ContainerEntrypoint": [
                "python3",
                "-m",
                "steps.build_image.job.container",
                "--bundle",
                "/opt/ml/processing/input/bundle",
            ],
            "ContainerArguments": [
                "--context-uri",
                f"s3://b/contexts/{digest}.zip",
                "--context-digest",
                digest,
            ],
        },
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium"}},
        "ProcessingInputs": [
            {
                "InputName": "bundle",
                "S3Input": {"S3Uri": "s3://b/bundle/", "LocalPath": "/opt/ml/processing/input/bundle"},
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {
                        "S3Uri": "s3://b/out/build",
                        "LocalPath": "/opt/ml/processing/output/result",
                    },
                }
            ]
        },
    }


def test_build_image_without_docker_registers_the_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    client, events = make_client(tmp_path)
    client.create_processing_job("BuildImage-1", **build_request(client))
    described = client.describe_processing_job("BuildImage-1")
    assert described["ProcessingJobStatus"] == "Completed"
    result = json.loads(client.s3.read("b", "out/build/build.json"))
    assert result == {"image_uri": "local/cvl-demo:abc", "cached": False, "build_id": None}
    assert client.images["local/cvl-demo:abc"].is_file()
    assert any("no Docker engine" in line for line in events.lines)
    assert events.started == ["BuildImage-1"]


def test_build_image_builds_with_docker_when_an_engine_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert docker_engine() == str(docker)
    client, events = make_client(tmp_path)
    client.base_env["PATH"] = os.environ["PATH"]
    client.create_processing_job("BuildImage-1", **build_request(client))
    assert json.loads(client.s3.read("b", "out/build/build.json")) == {
        "image_uri": "local/cvl-demo:abc",
        "cached": False,
        "build_id": "sha256:feed",
    }
    calls = (bin_dir / "calls.txt").read_text().splitlines()
    assert calls[:3] == ["info", "info", "image inspect --format {{.Id}} local/cvl-demo:abc"]
    assert calls[3].startswith("build -t local/cvl-demo:abc ")
    assert "Step 1/9 : FROM pytorch" in events.lines

    client.create_processing_job("BuildImage-2", **build_request(client))
    assert json.loads(client.s3.read("b", "out/build/build.json"))["cached"] is True


def test_a_tampered_context_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    client, _ = make_client(tmp_path)
    request = build_request(client)
    request["AppSpecification"]["ContainerArguments"][3] = "0" * 64
    with pytest.raises(JobFailed, match="does not have digest"):
        client.create_processing_job("BuildImage-1", **request)
    assert client.describe_processing_job("BuildImage-1")["ProcessingJobStatus"] == "Failed"


def test_other_python_processing_jobs_run_with_their_paths_in_the_job_tree(tmp_path: Path) -> None:
    client, events = make_client(tmp_path)
    client.s3.put(
        "s3://b/code/job.py",
        b"import sys, pathlib\nprint('args', sys.argv[1:])\n"
        b"pathlib.Path(sys.argv[2], 'done.txt').write_text('ok')\n",
    )
    client.create_processing_job(
        "Other-1",
        AppSpecification={
            "ImageUri": "x",
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/job.py"],
            "ContainerArguments": ["--out", "/opt/ml/processing/output/o"],
        },
        ProcessingResources={},
        ProcessingInputs=[
            {
                "InputName": "code",
                "S3Input": {"S3Uri": "s3://b/code/", "LocalPath": "/opt/ml/processing/input/code"},
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "o",
                    "S3Output": {"S3Uri": "s3://b/o", "LocalPath": "/opt/ml/processing/output/o"},
                }
            ]
        },
    )
    assert client.s3.read("b", "o/done.txt") == b"ok"
    assert any(
        line.startswith("args ['--out', '") and "/jobs/Other-1/opt/ml/" in line for line in events.lines
    )


def test_jobs_that_need_their_image_and_unsupported_calls_fail_clearly(tmp_path: Path) -> None:
    client, _ = make_client(tmp_path)
    with pytest.raises(JobFailed, match="needs its image"):
        client.create_processing_job(
            "Spark-1",
            AppSpecification={"ImageUri": "spark", "ContainerEntrypoint": ["spark-submit"]},
            ProcessingResources={},
        )
    with pytest.raises(NotImplementedError, match="create_transform_job"):
        client.create_transform_job("t")
    with pytest.raises(JobFailed, match="was not built by this run"):
        client.create_training_job(
            "Train-1",
            AlgorithmSpecification={"TrainingImage": "elsewhere:1"},
            ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
            OutputDataConfig={"S3OutputPath": "s3://b/o"},
        )


def test_s3_folder_refuses_keys_outside_it(tmp_path: Path) -> None:
    s3 = LocalS3(tmp_path / "s3")
    with pytest.raises(ValueError, match="outside"):
        s3.put("s3://b/../../etc/x", b"")
    with pytest.raises(FileNotFoundError, match="s3://b/missing"):
        s3.read("b", "missing")


def test_progress_prints_each_state_change_once_with_durations() -> None:
    out = io.StringIO()
    progress = Progress(out)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    progress.steps([{"StepName": "Train", "StepStatus": "Executing", "StartTime": start}])
    progress.steps([{"StepName": "Train", "StepStatus": "Executing", "StartTime": start}])
    ended = start + timedelta(seconds=125)
    progress.steps(
        [
            {
                "StepName": "Train",
                "StepStatus": "Failed",
                "StartTime": start,
                "EndTime": ended,
                "FailureReason": "boom\nmore",
            }
        ]
    )
    progress.log("iter 0", "algo-2")
    assert out.getvalue().splitlines() == [
        "==> Train: Executing",
        "==> Train: Failed in 2 min 05 s: boom",
        "    algo-2 | iter 0",
    ]
    assert format_duration(4.25) == "4.2 s" and format_duration(3725) == "1 h 02 min"


FLAKY_JOB = b"""import pathlib, sys
marker = pathlib.Path(sys.argv[1])
if not marker.exists():
    marker.write_text("once")
    print("botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the "
          "GetObject operation: Rate exceeded", file=sys.stderr)
    sys.exit(1)
print("done on attempt 2")
"""


def _python_job(client: LocalJobClient, name: str, marker: Path) -> dict:
    return client.create_processing_job(
        name,
        AppSpecification={
            "ImageUri": "x",
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/job.py"],
            "ContainerArguments": [str(marker)],
        },
        ProcessingResources={},
        ProcessingInputs=[
            {
                "InputName": "code",
                "S3Input": {"S3Uri": "s3://b/code/", "LocalPath": "/opt/ml/processing/input/code"},
            }
        ],
    )


def test_a_local_job_is_retried_as_its_step_policy_says_for_the_classes_it_names(tmp_path: Path) -> None:
    from steps.sdk.retries import PROCESSING_RETRY

    waits: list[float] = []
    client, events = make_client(tmp_path)
    client.sleep = waits.append
    client.s3.put("s3://b/code/job.py", FLAKY_JOB)
    _python_job(client, "Flaky-1", tmp_path / "marker")
    assert waits == [PROCESSING_RETRY.interval_seconds]  # throttling: retried once, after the policy's wait
    assert "cvl: Step.THROTTLING: retrying in 5 s (the step's retry policy)" in events.lines
    assert "done on attempt 2" in events.lines


def test_a_local_job_failing_for_its_own_reason_is_not_retried(tmp_path: Path) -> None:
    waits: list[float] = []
    client, _ = make_client(tmp_path)
    client.sleep = waits.append
    client.s3.put(
        "s3://b/code/job.py", b"import sys\nprint('ValueError: bad input', file=sys.stderr)\nsys.exit(3)\n"
    )
    with pytest.raises(JobFailed):
        _python_job(client, "Own-1", tmp_path / "marker")
    assert waits == []
