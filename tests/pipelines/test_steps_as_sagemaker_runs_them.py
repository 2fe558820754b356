"""bootstrap -> preflight -> upsert -> run -> the steps as SageMaker runs them, for the roles people have.

Three execution roles, each in an account an admin bootstrapped once with the real `bootstrap`:

- bootstrap's own (`cvl-sagemaker-execution`), the caller holding the user's declared grants;
- Studio's: `AmazonSageMakerFullAccess` under `/service-role/`, the SDK default bucket, the commands run
  with the role's own credentials (a Studio terminal) and the role named by its assumed-role ARN;
- a hand-made minimal role under `/teams/ml/`, named by its name, the caller holding the user's grants.

IAM is real for the Studio and minimal roles (`call_log.enforced`: their policies decide every call). The
Preflight and BuildImage steps run as SageMaker runs them (`tests/harness/sagemaker_steps.py`) with the
role's credentials; each call they make, and each call SageMaker Pipelines makes as the role for the
Train step, must be allowed by the role's policies and declared in steps/common/permissions.py.
Where a role lacks what a preset needs, preflight fails with the one fix, and after it, passes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest

from pipelines import bootstrap, preflight, run, upsert
from steps.common import permissions
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import call_log, preflight_world, quotas, roles_world, sagemaker_pipelines
from tests.harness.codebuild import FakeCodeBuild, patched_codebuild
from tests.harness.moto_server import MotoServer
from tests.harness.sagemaker_steps import definition, recorded_calls, refused, resolve, run_step

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "cvl-nanogpt-smoke"
SECRET = "cvl/HF_TOKEN"


class World(NamedTuple):
    """An account with one role: its real ARN, how the user names it, the bucket, who runs the commands."""

    role_arn: str
    given: str
    bucket: str
    caller: Any  # a context manager: the Studio role's credentials, or the user's


def _world(kind: str, aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> World:
    if kind == "studio":
        monkeypatch.setenv(roles_world.LOAD_MANAGED_POLICIES, "true")
        aws.reset()  # IAM loads AWS's managed policies when its backend is made
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)  # the admin's one bootstrap
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 2)
    if kind == "bootstrap":
        return World(ROLE_ARN, ROLE_ARN, BUCKET, contextlib.nullcontext)
    if kind == "studio":
        arn = roles_world.studio_role(REGION)
        with roles_world.as_role(arn) as assumed:
            given = assumed  # what a Studio terminal's credentials say
        return World(arn, given, roles_world.sdk_default_bucket(REGION), lambda: roles_world.as_role(arn))
    arn = roles_world.minimal_role(BUCKET)
    return World(arn, roles_world.MINIMAL_ROLE_NAME, BUCKET, contextlib.nullcontext)


@contextlib.contextmanager
def as_user(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The world's user at a terminal: its role and bucket configured, its credentials, IAM deciding."""
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", world.given)
    monkeypatch.setenv("SAGEMAKER_OUTPUT_BUCKET", world.bucket)
    with call_log.enforced(world.role_arn), world.caller():
        yield


def example_root(tmp_path: Path, secrets: dict[str, str] | None = None) -> Path:
    """nanogpt in a temporary examples root; `secrets` given to its smoke preset (example.yaml's block)."""
    examples = tmp_path / "examples"
    shutil.copytree(
        ROOT / "examples" / "nanogpt", examples / "nanogpt", ignore=shutil.ignore_patterns("*.bin", "*.pkl")
    )
    if secrets:
        yaml = examples / "nanogpt" / "example.yaml"
        block = "".join(f"      {name}: {secret}\n" for name, secret in secrets.items())
        yaml.write_text(yaml.read_text() + f"sagemaker:\n  smoke:\n    secrets:\n{block}")
    return examples


def preflight_table(examples: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = preflight.main(["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def statuses(table: str) -> dict[str, str]:
    rows = [line.split() for line in table.splitlines() if line[:1].strip() and len(line.split()) > 1]
    return {row[0]: row[1] for row in rows if row[1] in ("PASS", "WARN", "FAIL")}


def fix_of(table: str, check: str) -> str:
    """The `fix:` line printed under a check's row."""
    lines = table.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(check + " "))
    return lines[row + 1].strip().removeprefix("fix: ")


def train_calls(role_arn: str, steps: dict[str, Any], defaults: dict[str, Any]) -> list[call_log.Call]:
    """What SageMaker Pipelines asks of AWS as the role to run the Train step (and the job's image pull)."""
    train = steps["Train"]["Arguments"]
    image_repository = "cvl-nanogpt"
    return [
        call_log.Call(permissions.EXECUTION, "sagemaker", "CreateTrainingJob",
                      {"TrainingJobName": "pipelines-abc-Train", "RoleArn": train["RoleArn"]}, REGION),
        call_log.Call(permissions.EXECUTION, "ecr", "BatchGetImage", {"repositoryName": image_repository}, REGION),
        call_log.Call(permissions.EXECUTION, "ecr", "GetDownloadUrlForLayer", {"repositoryName": image_repository}, REGION),
        call_log.Call(permissions.EXECUTION, "logs", "CreateLogStream",
                      {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": "x"}, REGION),
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bootstrap", "studio", "minimal"])
def test_each_role_preflights_upserts_runs_and_its_steps_run(
    kind: str,
    aws: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = _world(kind, aws, monkeypatch)
    examples = example_root(tmp_path)
    sagemaker_pipelines.install()
    sagemaker_pipelines.reset()
    with patched_codebuild() as codebuild:
        with as_user(world, monkeypatch):
            code, table = preflight_table(examples, capsys)
            print(table)
            assert code == 0, table
            assert f"role {world.role_arn}" in table  # the real ARN, its path included
            assert (
                upsert.main(["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples)])
                == 0
            )
            run_args = [
                "--example",
                "nanogpt",
                "--preset",
                "smoke",
                "--examples-root",
                str(examples),
                "--no-wait",
            ]
            assert run.main(run_args) == 0
        expected = {
            "bootstrap": {"PASS"},
            # a Studio role may not ask quotas or simulate: those checks warn; nothing fails
            "studio": {"PASS", "WARN"},
            # no quota lookup nor simulation for the step: a warn naming the checks the step skips
            "minimal": {"PASS", "WARN"},
        }[kind]
        assert set(statuses(table).values()) == expected, table
        if kind == "minimal":
            assert "a run works, but without the Preflight step's quota check" in table

        steps, defaults = definition(PIPELINE)
        log = tmp_path / "calls.jsonl"
        assert steps["Train"]["Arguments"]["RoleArn"] == world.role_arn
        step = run_step(steps["Preflight"], defaults, tmp_path / "preflight", log, world.role_arn)
        print(step.stdout)
        assert step.returncode == 0, step.stdout + step.stderr
        if kind == "bootstrap":
            assert "FAIL" not in step.stdout and "WARN" not in step.stdout, step.stdout
        build = run_step(steps["BuildImage"], defaults, tmp_path / "build", log, world.role_arn)
        assert build.returncode == 0, build.stdout + build.stderr
        result = json.loads((tmp_path / "build" / "result" / "build.json").read_text())
        assert result["cached"] is False and result["build_id"] == codebuild.started[-1].build_id
        assert codebuild.started[-1].request["projectName"] == permissions.PROJECT_NAME

        calls = recorded_calls(log) + train_calls(world.role_arn, steps, defaults)
        assert ("codebuild", "StartBuild") in {(call.service, call.operation) for call in calls}
        assert not any(
            call.operation.startswith(("Put", "Delete")) for call in calls
        )  # the role changes nothing
        assert call_log.uncovered(calls) == []
        # What IAM refused the role is only what a run does without (the step's own checks warn).
        optional = {
            a for g in permissions.EXECUTION_GRANTS if g.when == permissions.OPTIONAL for a in g.actions
        }
        assert [r for r in refused(world.role_arn, calls) if r.split()[0] not in optional] == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["studio", "minimal"])
def test_a_preset_with_a_secret_fails_with_the_one_fix_then_passes(
    kind: str,
    aws: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = _world(kind, aws, monkeypatch)
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString="hf_" + "x" * 8)
    examples = example_root(tmp_path, {"HF_TOKEN": SECRET})
    with as_user(world, monkeypatch):
        code, table = preflight_table(examples, capsys)
    print(table)
    assert code == 1 and statuses(table)["secrets"] == "FAIL", table
    fix = fix_of(table, "secrets")
    print(fix)
    if kind == "studio":  # the managed policy reads secrets tagged SageMaker=true
        assert f"aws secretsmanager tag-resource --secret-id {SECRET} --tags Key=SageMaker,Value=true" in fix
        boto3.client("secretsmanager").tag_resource(
            SecretId=SECRET, Tags=[{"Key": "SageMaker", "Value": "true"}]
        )
    else:  # nothing but a grant gives a hand-made role a secret
        assert f"python -m pipelines.bootstrap --grant-to {world.role_arn}" in fix
        assert bootstrap.main(["--grant-to", world.given, "--bucket", world.bucket]) == 0
        attached = capsys.readouterr().out
        print(attached)
        assert "secretsmanager:GetSecretValue" in attached and "ProjectSecrets" in attached
    with as_user(world, monkeypatch):
        code, table = preflight_table(examples, capsys)
    print(table)
    assert code == 0 and statuses(table)["secrets"] == "PASS", table


@pytest.fixture
def bootstrapped(aws: MotoServer, tmp_path: Path) -> Iterator[FakeCodeBuild]:
    """bootstrap's account with nanogpt smoke upserted by the user."""
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    with patched_codebuild() as codebuild:
        examples = example_root(tmp_path)
        assert (
            upsert.main(["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples)]) == 0
        )
        yield codebuild


@pytest.mark.slow
def test_with_instance_fallback_the_preflight_step_picks_a_type_with_room_and_train_runs_on_it(
    bootstrapped: Any, tmp_path: Path
) -> None:
    from tests.harness.quotas import set_sagemaker_quota

    set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    set_sagemaker_quota("ml.m5.2xlarge for training job usage", 1)
    steps, defaults = definition(PIPELINE)
    log = tmp_path / "calls.jsonl"

    refused = run_step(
        steps["Preflight"], defaults, tmp_path / "off", log, ROLE_ARN
    )  # InstanceFallback: false
    assert refused.returncode == 1
    assert (
        "ml.m5.2xlarge on-demand: room for 1" in (tmp_path / "off" / "message").read_text() + refused.stdout
    )

    started_with_fallback = defaults | {
        "InstanceFallback": True
    }  # Studio's "start" form, or a preset default
    picked = run_step(steps["Preflight"], started_with_fallback, tmp_path / "on", log, ROLE_ARN)
    assert picked.returncode == 0, picked.stdout + picked.stderr
    assert "falling back to ml.m5.2xlarge (room for 1, $0.46/h" in picked.stdout
    written = json.loads((tmp_path / "on" / "result" / "preflight.json").read_text())
    assert written == {"instance_type": "ml.m5.2xlarge"}
    files = {"Preflight.PreflightResult": written, "BuildImage.BuildResult": {"image_uri": "image:tag"}}
    train = resolve(steps["Train"]["Arguments"], started_with_fallback, files)
    assert train["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
