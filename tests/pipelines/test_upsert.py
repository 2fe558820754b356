"""`python -m pipelines.upsert` against the moto server over real HTTP: create, update, unchanged, --all."""

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from pipelines import upsert
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas
from tests.harness.network import no_network
from tests.harness.transient import flaky_sagemaker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def account(aws):
    """An account where preflight passes for the nanogpt presets."""
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    for instance in ("ml.m5.xlarge", "ml.g5.xlarge"):
        quotas.set_sagemaker_quota(f"{instance} for training job usage", 2)
        quotas.set_sagemaker_quota(f"{instance} for spot training job usage", 2)
    return aws


def _sagemaker():
    return boto3.client("sagemaker", region_name=REGION)


def _pipelines() -> list[str]:
    return sorted(p["PipelineName"] for p in _sagemaker().list_pipelines()["PipelineSummaries"])


@pytest.mark.slow
def test_create_then_unchanged_then_updated(account, tmp_path, capsys):
    examples = tmp_path / "examples"
    shutil.copytree(
        ROOT / "examples" / "nanogpt", examples / "nanogpt", ignore=shutil.ignore_patterns("*.bin", "*.pkl")
    )
    argv = ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(examples)]

    assert upsert.main(argv) == 0
    assert "cvl-nanogpt-smoke: created" in capsys.readouterr().out
    described = _sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")
    definition = json.loads(described["PipelineDefinition"])
    assert [step["Name"] for step in definition["Steps"]] == ["Preflight", "BuildImage", "Train"]
    assert described["RoleArn"] == ROLE_ARN

    assert upsert.main(argv) == 0
    assert "cvl-nanogpt-smoke: unchanged" in capsys.readouterr().out
    again = _sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")
    assert again["LastModifiedTime"] == described["LastModifiedTime"]

    model = examples / "nanogpt" / "model.py"
    model.write_text(model.read_text() + "\n# a source change\n")
    assert upsert.main(argv) == 0
    assert "cvl-nanogpt-smoke: updated" in capsys.readouterr().out
    updated = json.loads(
        _sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineDefinition"]
    )
    assert updated != definition


@pytest.mark.slow
def test_upsert_puts_what_the_steps_read_in_s3_and_the_build_infrastructure_in_place(account):
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    definition = json.loads(
        _sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineDefinition"]
    )
    steps = {step["Name"]: step for step in definition["Steps"]}
    bundle_uri = steps["Preflight"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    context_uri = steps["BuildImage"]["Arguments"]["AppSpecification"]["ContainerArguments"][1]
    s3 = boto3.client("s3", region_name=REGION)
    bundle_prefix = bundle_uri.removeprefix(f"s3://{BUCKET}/")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=bundle_prefix)["Contents"]}
    assert {
        f"{bundle_prefix}preset.json",
        f"{bundle_prefix}run.json",
        f"{bundle_prefix}steps.zip",  # the job code, imported from the zip (PYTHONPATH)
    } <= keys
    code = s3.get_object(Bucket=BUCKET, Key=f"{bundle_prefix}steps.zip")["Body"].read()
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        assert "steps/preflight/job/container.py" in archive.namelist()
    s3.head_object(Bucket=BUCKET, Key=context_uri.removeprefix(f"s3://{BUCKET}/"))
    assert boto3.client("ecr", region_name=REGION).describe_repositories(repositoryNames=["cvl-nanogpt"])
    assert boto3.client("codebuild", region_name=REGION).batch_get_projects(
        names=["sagemaker-cvl-pipelines-image-build"]
    )["projects"]


@pytest.mark.slow
def test_all_upserts_every_preset_and_reports_json(account, capsys):
    assert upsert.main(["--all", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(p["pipeline"], p["action"]) for p in report["pipelines"]] == [
        ("cvl-nanogpt-smoke", "created"),
        ("cvl-nanogpt-train", "created"),
    ]
    assert _pipelines() == ["cvl-nanogpt-smoke", "cvl-nanogpt-train"]
    assert upsert.main(["--all", "--json"]) == 0
    assert {p["action"] for p in json.loads(capsys.readouterr().out)["pipelines"]} == {"unchanged"}


@pytest.mark.slow
def test_throttled_create_is_retried_and_creates_one_pipeline(account, capsys):
    with flaky_sagemaker("CreatePipeline", failures=2) as calls:
        assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    assert (calls.total, calls.failed) == (3, 2)
    assert _pipelines() == ["cvl-nanogpt-smoke"]


@pytest.mark.slow
def test_a_failed_preflight_sends_nothing(account, monkeypatch, capsys):
    quotas.set_sagemaker_quota("ml.m5.xlarge for training job usage", 0)
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 1
    captured = capsys.readouterr()
    assert "failed" in captured.out and "request-service-quota-increase" in captured.out + captured.err
    assert _pipelines() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "unset", "message"),
    [
        (
            ["--example", "nanogpt", "--preset", "nope"],
            None,
            "unknown preset 'nope' for nanogpt (known: smoke, train)",
        ),
        (["--example", "nope", "--preset", "train"], None, "unknown example 'nope'"),
        (["--example", "nanogpt", "--preset", "smoke"], "SAGEMAKER_ROLE_ARN", "no SageMaker execution role"),
        (["--example", "nanogpt", "--preset", "smoke"], "SAGEMAKER_OUTPUT_BUCKET", "no output bucket"),
        (
            ["--example", "nanogpt", "--preset", "smoke", "--bucket", "Bad_Bucket"],
            None,
            "not a valid S3 bucket name",
        ),
        (["--example", "nanogpt", "--preset", "smoke", "--region", "mars-1"], None, "not an AWS region"),
        (["--example", "nanogpt"], None, "say which pipeline"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(account, monkeypatch, capsys, argv, unset, message):
    if unset:
        monkeypatch.delenv(unset)
    assert upsert.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert _pipelines() == []
    assert "Contents" not in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)


@pytest.mark.slow
def test_dry_run_makes_no_network_call_and_works_without_aws_settings(tmp_path, monkeypatch, capsys):
    for name in ("AWS_DEFAULT_REGION", "SAGEMAKER_ROLE_ARN", "SAGEMAKER_OUTPUT_BUCKET", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    with no_network() as attempted:
        code = upsert.main(["--example", "nanogpt", "--preset", "train", "--dry-run", "--out", str(tmp_path)])
    assert (code, attempted) == (0, [])
    out = capsys.readouterr().out
    assert "cvl-nanogpt-train: written" in out and "placeholders stand in for region, role, bucket" in out
    definition = json.loads((tmp_path / "cvl-nanogpt-train.json").read_text())
    assert definition["Steps"][2]["Arguments"]["RoleArn"].endswith("CVL-PLACEHOLDER-set-SAGEMAKER_ROLE_ARN")


@pytest.mark.slow
def test_dry_run_writes_exactly_what_upsert_sends(account, tmp_path, capsys):
    assert (
        upsert.main(["--example", "nanogpt", "--preset", "smoke", "--dry-run", "--out", str(tmp_path)]) == 0
    )
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    sent = json.loads(_sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineDefinition"])
    assert sent == json.loads((tmp_path / "cvl-nanogpt-smoke.json").read_text())


def test_command_line_bad_input_has_no_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.upsert",
            "--example",
            "nanogpt",
            "--preset",
            "smoke",
            "--role-arn",
            "arn:aws:iam::123456789012:user/nope",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: role 'arn:aws:iam::123456789012:user/nope' is not an IAM role: use its name, "
        "arn:aws:iam::<account>:role/<path><name>, or arn:aws:sts::<account>:assumed-role/<name>/<session>"
    ]


@pytest.mark.slow
def test_schedule_is_created_then_unchanged_then_removed(account, capsys):
    argv = ["--example", "nanogpt", "--preset", "smoke", "--schedule", "rate(1 day)"]
    assert upsert.main(argv) == 0
    assert "scheduled rate(1 day)" in capsys.readouterr().out
    schedule = boto3.client("scheduler", region_name=REGION).get_schedule(
        Name="cvl-nanogpt-smoke", GroupName="cvl-pipelines"
    )
    pipeline_arn = _sagemaker().describe_pipeline(PipelineName="cvl-nanogpt-smoke")["PipelineArn"]
    assert (schedule["ScheduleExpression"], schedule["Target"]["Arn"]) == ("rate(1 day)", pipeline_arn)
    assert schedule["Target"]["RoleArn"] == ROLE_ARN

    assert upsert.main(argv) == 0
    assert "schedule unchanged (rate(1 day))" in capsys.readouterr().out
    assert upsert.main([*argv[:-1], "off"]) == 0
    assert "schedule removed" in capsys.readouterr().out
    assert boto3.client("scheduler", region_name=REGION).list_schedules()["Schedules"] == []


def test_a_malformed_schedule_is_bad_input(account, capsys):
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke", "--schedule", "every day"]) == 2
    assert "not an EventBridge Scheduler expression" in capsys.readouterr().err
    assert _pipelines() == []


@pytest.mark.slow
def test_upsert_also_works_against_plain_moto(account, monkeypatch, capsys):
    """README's try-it-locally path: moto answers ValidationException where AWS documents ResourceNotFound."""
    from moto.sagemaker.models import SageMakerModelBackend

    from tests.harness import sagemaker_api

    monkeypatch.setattr(SageMakerModelBackend, "describe_pipeline", sagemaker_api._original_describe_pipeline)
    assert upsert.main(["--example", "nanogpt", "--preset", "smoke"]) == 0
    assert "cvl-nanogpt-smoke: created" in capsys.readouterr().out


@pytest.mark.slow
def test_all_over_a_cvl_tree_renders_every_healthy_preset_and_lists_the_skipped(
    tmp_path, monkeypatch, capsys
):
    for name in ("AWS_DEFAULT_REGION", "SAGEMAKER_ROLE_ARN", "SAGEMAKER_OUTPUT_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    root = ROOT / "tests" / "fixtures" / "cvl_repo" / "examples"
    out = tmp_path / "defs"
    with no_network() as attempted:
        code = upsert.main(["--all", "--dry-run", "--examples-root", str(root), "--out", str(out)])
    assert (code, attempted) == (1, [])  # every other pipeline rendered, then exit 1 for the skipped
    printed = capsys.readouterr().err  # the skipped, with their reasons, are problems: on stderr
    written = sorted(path.name for path in out.glob("cvl-*.json"))
    assert written == [
        "cvl-arm-policy-predict.json",
        "cvl-arm-policy-think.json",
        "cvl-captioner-predict.json",
        "cvl-causal-bias-study-discovery.json",
        "cvl-causal-bias-study-fast.json",
        "cvl-causal-bias-study-report.json",
        "cvl-clipgen-predict.json",
        "cvl-clipgen-test.json",
        "cvl-masklora-train.json",
        "cvl-noscript-train.json",
        "cvl-pointmap-predict.json",
        "cvl-signal-prep-preprocess.json",
        "cvl-speedrun-train.json",
        "cvl-stagechat-train-sft.json",
        "cvl-stagechat-train.json",
        "cvl-tinygpt-char-train-quick.json",
        "cvl-tinygpt-char-train.json",
        "cvl-twincam-predict.json",
    ]
    # A preset longer than SageMaker's 2500 characters a hyperparameter travels in parts.
    stagechat = json.loads((out / "cvl-stagechat-train.json").read_text())
    values = stagechat["Steps"][2]["Arguments"]["HyperParameters"]
    parts = [values["cvl_preset"], values["cvl_preset_2"]]
    assert all(len(part) <= 2500 for part in parts) and "cvl_preset_3" not in values
    assert json.loads("".join(parts))["command"][:2] == ["bash", "-c"]
    # No definition holds this machine's path, though one fixture script builds one (captioner leaky).
    checkout = str(ROOT)
    for name in written:
        text = (out / name).read_text()
        assert checkout not in text and checkout.lstrip("/") not in text, name
    assert "broken/bad_yaml: skipped: " in printed and "line 3: not valid YAML" in printed
    assert "broken/unknown_setting: skipped: " in printed and "sagemaker: train.instance" in printed
    # Each definition was checked against botocore's SageMaker model before it was written.
    train = json.loads((out / "cvl-tinygpt-char-train.json").read_text())
    preset = json.loads(train["Steps"][2]["Arguments"]["HyperParameters"]["cvl_preset"])
    assert preset["command"] == ["python", "train.py", "--out", "logs"]
    assert preset["spot"] is True  # from the example.yaml sagemaker: block


def test_one_healthy_example_works_whatever_its_neighbours_hold(tmp_path, capsys):
    root = ROOT / "tests" / "fixtures" / "cvl_repo" / "examples"
    argv = [
        "--example",
        "agentic/data/signal_prep",
        "--preset",
        "preprocess",
        "--dry-run",
        "--out",
        str(tmp_path),
    ]
    assert upsert.main([*argv, "--examples-root", str(root)]) == 0
    assert (tmp_path / "cvl-signal-prep-preprocess.json").is_file()


@pytest.mark.slow
def test_a_deleted_pipeline_upserted_again_is_created_again(account, capsys):
    argv = ["--example", "nanogpt", "--preset", "smoke"]
    assert upsert.main(argv) == 0
    _sagemaker().delete_pipeline(PipelineName="cvl-nanogpt-smoke", ClientRequestToken="d" * 32)
    capsys.readouterr()

    assert upsert.main(argv) == 0

    assert "cvl-nanogpt-smoke: created" in capsys.readouterr().out
    assert "cvl-nanogpt-smoke" in _pipelines()
