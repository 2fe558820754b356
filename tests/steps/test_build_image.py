"""BuildImage against the moto server over HTTP, with CodeBuild builds from tests/harness/codebuild.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from configs import resolve_target
from pipelines.define.staging import base_facts
from steps.build_image.job.build_facts import BuildFacts
from steps.build_image.job.codebuild import (
    BuildFailed,
    BuildRefused,
    ProjectMissing,
    ensure_project,
    start_build,
)
from steps.build_image.job.context import image_tag, pack_context
from steps.build_image.job.ecr import RepositoryMissing, ensure_repository, image_exists
from steps.build_image.job.iam import ROLE_NAME
from steps.build_image.job.image_builder import (
    BuildResult,
    ContextMissing,
    ContextRef,
    SharedInfrastructure,
    build_image,
    ensure_infrastructure,
    upload_context,
)
from steps.common.aws import aws_session, client
from steps.common.run_facts import BuiltImage
from steps.sdk.bundle import make_bundle
from tests.conftest import BUCKET, REGION
from tests.harness.codebuild import FakeCodeBuild, Outcome, patched_codebuild
from tests.harness.moto_server import ACCOUNT, MotoServer
from tests.steps.test_build_context import make_example

FACTS = BuildFacts(region=REGION, account=ACCOUNT, bucket=BUCKET, repository="cvl-demo")
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


@pytest.fixture
def session(aws: MotoServer) -> Any:
    session = aws_session(REGION)
    client(session, "s3").create_bucket(Bucket=BUCKET)
    return session


@pytest.fixture
def codebuild(session: Any) -> Iterator[FakeCodeBuild]:
    with patched_codebuild() as fake:
        ensure_infrastructure(session, FACTS)  # as upsert does: the project, its role, the repository
        yield fake


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return make_example(tmp_path)


@pytest.fixture
def entry(tmp_path: Path) -> Path:
    folder = tmp_path / "entry"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "__main__.py").write_text("print('entry')\n")
    (folder / "__pycache__" / "__main__.cpython-312.pyc").write_bytes(b"cache")
    return folder


def build(session: Any, example: Path, entry: Path, events: list[str] | None = None) -> BuildResult:
    sink = events.append if events is not None else None
    packed = pack_context(example, entry)
    return build_image(session, FACTS, packed, poll_seconds=0, on_event=sink, sleep=lambda _: None)


def test_project_and_role_are_created_once(session: Any) -> None:
    created = ensure_project(session, FACTS, sleep=lambda _: None)
    assert created == [
        f"IAM role {ROLE_NAME}",
        f"IAM policy cvl-pipelines-build-{REGION} on {ROLE_NAME}",
        f"IAM policy cvl-pipelines-contexts on {ROLE_NAME}",
        "CodeBuild project sagemaker-cvl-pipelines-image-build",
    ]
    assert ensure_project(session, FACTS, sleep=lambda _: None) == []

    project = client(session, "codebuild").batch_get_projects(names=["sagemaker-cvl-pipelines-image-build"])[
        "projects"
    ][0]
    assert project["environment"]["privilegedMode"] is True
    assert project["environment"]["image"] == "aws/codebuild/standard:7.0"
    assert project["environment"]["computeType"] == "BUILD_GENERAL1_MEDIUM"
    assert project["source"]["type"] == "S3" and project["artifacts"]["type"] == "NO_ARTIFACTS"
    assert (
        project["logsConfig"]["cloudWatchLogs"]["groupName"]
        == "/aws/codebuild/sagemaker-cvl-pipelines-image-build"
    )
    assert project["serviceRole"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"

    iam = client(session, "iam")
    trust = iam.get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    base = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=f"cvl-pipelines-build-{REGION}")[
        "PolicyDocument"
    ]
    resources = {s["Sid"]: s["Resource"] for s in base["Statement"]}
    assert resources["EcrPushPull"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/cvl-*"
    assert resources["BuildLogs"][0].endswith(":log-group:/aws/codebuild/sagemaker-cvl-pipelines-image-build")
    contexts = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName="cvl-pipelines-contexts")
    read = contexts["PolicyDocument"]["Statement"][0]
    # Any bucket of this account: a Studio user's SDK default bucket needs no change to the role.
    assert read["Resource"] == "arn:aws:s3:::*/cvl-pipelines/contexts/*"
    assert read["Condition"] == {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}


def test_one_upsert_sets_up_the_project_once_and_each_repository_once(session: Any) -> None:
    calls: list[str] = []
    session.events.register("before-call.iam.GetRole", lambda **_: calls.append("GetRole"))
    session.events.register("before-call.ecr.CreateRepository", lambda **_: calls.append("CreateRepository"))
    shared = SharedInfrastructure()
    facts = [FACTS, replace(FACTS, repository="cvl-other")] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        changes = [item for done in pool.map(lambda f: shared.ensure(session, f), facts) for item in done]

    # Eight pipelines of two examples: the role looked up and the project made once, each repository once.
    assert calls.count("GetRole") == 1
    assert calls.count("CreateRepository") == 2
    assert sorted(changes) == sorted(
        [
            f"IAM role {ROLE_NAME}",
            f"IAM policy cvl-pipelines-build-{REGION} on {ROLE_NAME}",
            f"IAM policy cvl-pipelines-contexts on {ROLE_NAME}",
            "CodeBuild project sagemaker-cvl-pipelines-image-build",
            "ECR repository cvl-demo",
            "ECR repository cvl-other",
        ]
    )
    names = {r["repositoryName"] for r in client(session, "ecr").describe_repositories()["repositories"]}
    assert names == {"cvl-demo", "cvl-other"}


def test_a_second_bucket_needs_no_change_to_the_role(session: Any) -> None:
    ensure_project(session, FACTS, sleep=lambda _: None)
    other = BuildFacts(region=REGION, account=ACCOUNT, bucket="cvl-other-bucket", repository="cvl-demo")
    assert ensure_project(session, other, owner=True, sleep=lambda _: None) == []
    names = client(session, "iam").list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]
    assert sorted(names) == [f"cvl-pipelines-build-{REGION}", "cvl-pipelines-contexts"]


def test_repository_is_created_once_with_scanning_and_lifecycle(session: Any) -> None:
    ecr = client(session, "ecr")
    assert ensure_repository(ecr, "cvl-demo") is True
    assert ensure_repository(ecr, "cvl-demo") is False
    repositories = ecr.describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repositories] == ["cvl-demo"]
    assert repositories[0]["imageScanningConfiguration"] == {"scanOnPush": True}
    rules = json.loads(ecr.get_lifecycle_policy(repositoryName="cvl-demo")["lifecyclePolicyText"])["rules"]
    selections = [rule["selection"] for rule in rules]
    assert {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 7,
    } in (selections)
    assert any(s["tagStatus"] == "tagged" and s["countNumber"] == 20 for s in selections)


def test_an_existing_bare_repository_is_configured_from_the_users_machine(session: Any) -> None:
    ecr = client(session, "ecr")
    ecr.create_repository(repositoryName="cvl-demo")  # as the old runner left it
    assert ensure_repository(ecr, "cvl-demo") is False
    assert ecr.describe_repositories()["repositories"][0]["imageScanningConfiguration"] == {
        "scanOnPush": True
    }
    assert ecr.get_lifecycle_policy(repositoryName="cvl-demo")["lifecyclePolicyText"]


def test_build_starts_from_the_uploaded_context_with_our_buildspec(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    events: list[str] = []
    result = build(session, example, entry, events)
    digest = pack_context(example, entry).digest

    assert result.cached is False
    assert result.image_uri == f"{REGISTRY}/cvl-demo:{image_tag(digest)}"
    [started] = codebuild.started
    assert result.build_id == started.build_id
    request = started.request
    assert request["projectName"] == "sagemaker-cvl-pipelines-image-build"
    assert request["sourceTypeOverride"] == "S3"
    assert request["sourceLocationOverride"] == f"{BUCKET}/cvl-pipelines/contexts/cvl-demo/{digest}.zip"
    assert request["idempotencyToken"].startswith(digest[:40])
    variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert variables["IMAGE_URI"] == result.image_uri and variables["REPOSITORY"] == "cvl-demo"
    assert all(v["type"] == "PLAINTEXT" for v in request["environmentVariablesOverride"])

    commands = [
        command
        for phase in yaml.safe_load(request["buildspecOverride"])["phases"].values()
        for command in phase["commands"]
    ]
    assert "docker login" in commands[0] and "aws ecr get-login-password" in commands[0]
    assert any("docker pull" in command for command in commands)
    assert any(command.startswith("docker build $CACHE_FROM") for command in commands)
    assert commands[-1] == 'docker push "$IMAGE_URI"'

    # The build downloads exactly the packed context: the rendered Dockerfile and our entry point in it.
    assert "cvl_entry/__main__.py" in started.context_files and "data/big.bin" not in started.context_files
    assert 'ENTRYPOINT ["python3", "/opt/cvl/cvl_entry"]' in started.dockerfile
    assert "build phase BUILD" in events and events[-1] == "build phase COMPLETED"
    assert result.log_link and started.build_id.split(":")[1] in result.log_link
    assert image_exists(client(session, "ecr"), "cvl-demo", image_tag(digest), REGION)


def test_unchanged_sources_start_no_build(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    first = build(session, example, entry)
    events: list[str] = []
    second = build(session, example, entry, events)
    assert second == BuildResult(first.image_uri, True, None, None)
    assert len(codebuild.requests) == 1
    assert not any("created ECR repository" in event for event in events)


def test_a_changed_file_gives_a_new_tag_and_a_new_build(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    first = build(session, example, entry)
    (example / "train.py").write_text("print('training v2')\n")
    second = build(session, example, entry)
    assert second.cached is False and second.image_uri != first.image_uri
    assert len(codebuild.started) == 2
    tags = {i["imageTag"] for i in client(session, "ecr").list_images(repositoryName="cvl-demo")["imageIds"]}
    assert tags == {first.image_uri.rsplit(":", 1)[1], second.image_uri.rsplit(":", 1)[1]}


def test_a_file_excluded_by_dockerignore_changes_nothing(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    first = build(session, example, entry)
    (example / "data" / "big.bin").write_bytes(os.urandom(1024))
    (example / "debug.log").write_text("ignored\n")
    second = build(session, example, entry)
    assert second.cached is True and second.image_uri == first.image_uri
    assert len(codebuild.started) == 1


def test_a_failed_build_names_its_phase_and_log_link(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    codebuild.fail_next("BUILD", message="Error while executing command: docker build. Reason: exit status 1")
    with pytest.raises(BuildFailed) as failure:
        build(session, example, entry)
    build_id = codebuild.started[0].build_id
    message = str(failure.value)
    assert build_id in message and "FAILED in phase BUILD" in message
    assert "docker build. Reason: exit status 1" in message
    assert "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=" in message
    assert failure.value.phase == "BUILD" and failure.value.log_link in message
    # Nothing was pushed, so the next call builds again instead of reporting a cached image.
    assert build(session, example, entry).cached is False


def test_without_a_deep_link_the_log_link_is_built_from_the_stream(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    codebuild.will_end(
        Outcome(status="FAULT", phase="PRE_BUILD", message="ecr login failed", deep_link=False)
    )
    with pytest.raises(BuildFailed) as failure:
        build(session, example, entry)
    stream = codebuild.started[0].build_id.split(":")[1]
    assert failure.value.phase == "PRE_BUILD" and "FAULT in phase PRE_BUILD: ecr login failed" in str(
        failure.value
    )
    assert failure.value.log_link == (
        "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        f"#logEvent:group=/aws/codebuild/sagemaker-cvl-pipelines-image-build;stream={stream}"
    )


def test_interrupting_the_wait_stops_the_build(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    def interrupt(event: str) -> None:
        if event == "build phase BUILD":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_image(session, FACTS, pack_context(example, entry), poll_seconds=0, on_event=interrupt)
    assert codebuild.stopped == [codebuild.started[0].build_id]


def test_a_retried_start_build_does_not_start_a_second_build(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    packed = pack_context(example, entry)
    upload_context(session, FACTS, packed)
    cb = client(session, "codebuild")
    tag = image_tag(packed.digest)
    first = start_build(cb, FACTS, digest=packed.digest, tag=tag, attempt="a1")
    assert start_build(cb, FACTS, digest=packed.digest, tag=tag, attempt="a1") == first
    assert start_build(cb, FACTS, digest=packed.digest, tag=tag, attempt="a2") != first
    assert len(codebuild.started) == 2


def test_a_build_quota_of_zero_says_which_quota_to_raise(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    codebuild.refuse_next()
    with pytest.raises(BuildRefused) as refused:
        build(session, example, entry)
    assert "Cannot have more than 0 builds in queue" in str(refused.value)
    assert "Concurrently running builds for Linux/Medium environment" in str(refused.value)


def test_without_the_project_the_error_says_how_to_create_it(
    session: Any, example: Path, entry: Path
) -> None:
    ensure_repository(client(session, "ecr"), "cvl-demo")
    with patched_codebuild(), pytest.raises(ProjectMissing, match="python -m pipelines.bootstrap"):
        build(session, example, entry)


def test_without_the_repository_the_build_says_to_upsert_and_creates_nothing(
    session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    client(session, "ecr").delete_repository(repositoryName="cvl-demo", force=True)
    with pytest.raises(RepositoryMissing, match="python -m pipelines.upsert"):
        build(session, example, entry)
    assert codebuild.requests == []
    assert client(session, "ecr").describe_repositories()["repositories"] == []


def test_a_context_missing_from_s3_starts_no_build(session: Any, codebuild: FakeCodeBuild) -> None:
    digest = "ab" * 32
    with pytest.raises(ContextMissing, match="pipelines.upsert"):
        build_image(session, FACTS, ContextRef(FACTS.context_uri(digest), digest), poll_seconds=0)
    assert codebuild.requests == []


# --- the BuildImage job, run as the processing job runs it ---

BLOCKED = ("sagemaker", "pydantic", "configs", "pipelines", "yaml")
JOB = f"""
import runpy, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("not in the processing image: " + name)

sys.meta_path.insert(0, Block())
sys.argv[0] = "steps.build_image.job.container"
runpy.run_module("steps.build_image.job.container", run_name="__main__", alter_sys=True)
"""


def job_command(
    tmp_path: Path, example: Path, entry: Path, poll: str = "0"
) -> tuple[list[str], dict[str, str], Path]:
    """Lay out the bundle as the job sees it; return the command (factory arguments), env, output dir."""
    packed = pack_context(example, entry)
    uri = upload_context(aws_session(REGION), FACTS, packed)
    tag = image_tag(packed.digest)
    target = resolve_target(
        region=REGION, role_arn=f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution", bucket=BUCKET
    )
    run = base_facts("demo", "smoke", target).with_image(
        BuiltImage(uri, packed.digest, tag, FACTS.image_uri(tag))
    )
    bundle_dir = tmp_path / "bundle"
    for name, data in make_bundle("{}", run).files.items():
        (bundle_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle_dir / name).write_bytes(data)
    output = tmp_path / "out"
    args = ["--bundle", str(bundle_dir), "--context-uri", uri, "--context-digest", packed.digest]
    args += ["--result-dir", str(output / "result"), "--message-file", str(output / "message")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(bundle_dir)}
    return [sys.executable, "-c", JOB, *args, "--poll-seconds", poll], env, output


def run_job(tmp_path: Path, example: Path, entry: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    command, env, output = job_command(tmp_path, example, entry)
    job = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return job, output


@pytest.mark.slow
def test_the_job_writes_build_json_and_is_cached_the_second_time(
    tmp_path: Path, session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    job, output = run_job(tmp_path, example, entry)
    assert job.returncode == 0, job.stderr
    result = json.loads((output / "result" / "build.json").read_text())
    assert result == {
        "image_uri": f"{REGISTRY}/cvl-demo:{image_tag(pack_context(example, entry).digest)}",
        "cached": False,
        "build_id": codebuild.started[0].build_id,
    }
    job, output = run_job(tmp_path, example, entry)
    assert job.returncode == 0, job.stderr
    assert json.loads((output / "result" / "build.json").read_text())["cached"] is True
    assert len(codebuild.started) == 1


@pytest.mark.slow
def test_the_job_reports_a_failed_build_as_its_failure_reason(
    tmp_path: Path, session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    codebuild.fail_next("BUILD", message="COPY failed: file not found in build context")
    job, output = run_job(tmp_path, example, entry)
    assert job.returncode == 1
    reason = (output / "message").read_text()
    assert "phase BUILD: COPY failed" in reason and codebuild.started[0].build_id in reason
    assert "#logEvent:group=/aws/codebuild/sagemaker-cvl-pipelines-image-build" in reason
    assert not (output / "result" / "build.json").exists()


@pytest.mark.slow
def test_the_job_never_creates_the_project(tmp_path: Path, session: Any, example: Path, entry: Path) -> None:
    job, output = run_job(tmp_path, example, entry)
    assert job.returncode == 1
    assert "python -m pipelines.upsert" in (output / "message").read_text()
    assert not client(session, "codebuild").list_projects()["projects"]
    assert not client(session, "iam").list_roles()["Roles"]


@pytest.mark.slow
def test_stopping_the_job_stops_its_build(
    tmp_path: Path, session: Any, codebuild: FakeCodeBuild, example: Path, entry: Path
) -> None:
    codebuild.will_end(Outcome(polls=10_000))  # a build that would run for a long time
    command, env, output = job_command(tmp_path, example, entry, poll="0.05")
    job = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (codebuild.started and codebuild.started[0].polls > 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        job.send_signal(signal.SIGTERM)  # how SageMaker stops a processing job
        assert job.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        job.kill()
    assert codebuild.stopped == [codebuild.started[0].build_id]
