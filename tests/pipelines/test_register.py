"""The Model Registry gate: a preset's `register` becomes a condition on Train's final metric, a
registration (CreateModelPackage, validated against botocore's model) and a FailStep; upsert makes the
model package group; `status` shows the registered package, or the failed gate's message."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from configs import Preset
from configs.preset import Register
from pipelines import catalog, run, status, upsert
from pipelines.define.compile import compile_pipeline
from pipelines.define.validate import DefinitionError, validate_definition
from tests.conftest import REGION
from tests.harness import sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.pipelines.test_compile import GOLDEN, ROOT, TARGET, normalize
from tests.pipelines.test_run_local import local_run
from tests.pipelines.test_run_remote import (
    PIPELINE,
    account,
    started,
    training,
    training_job,
)

__all__ = ["account"]

GATE = "register: {metric: val_loss, max: 1.5}"


def _gated(register: dict[str, Any]) -> Any:
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "smoke")
    gated = Preset.model_validate(preset.model_dump() | {"register": register})
    return compile_pipeline(example, "smoke-gated", gated, TARGET)


@pytest.fixture(scope="module")
def gated() -> Any:
    return _gated({"metric": "val_loss", "max": 1.5})


def _step(definition: str, name: str) -> dict[str, Any]:
    def walk(steps: list[dict[str, Any]]) -> Any:
        for step in steps:
            yield step
            yield from walk(step.get("Arguments", {}).get("IfSteps", []))
            yield from walk(step.get("Arguments", {}).get("ElseSteps", []))

    return next(s for s in walk(json.loads(definition)["Steps"]) if s["Name"] == name)


def test_the_gated_definition_matches_its_golden_file(gated: Any, update_golden: bool) -> None:
    golden = GOLDEN / f"{gated.name}.json"
    actual = normalize(gated.definition)
    if update_golden:
        golden.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    assert actual == json.loads(golden.read_text()), f"run pytest --update-golden and review {golden}"


def test_the_gate_reads_trains_final_metric_and_registers_what_train_made(gated: Any) -> None:
    gate = _step(gated.definition, "Gate")
    value = {"Get": "Steps.Train.FinalMetricDataList['val_loss'].Value"}
    assert gate["Arguments"]["Conditions"] == [
        {"Type": "LessThanOrEqualTo", "LeftValue": value, "RightValue": 1.5}
    ]
    register = _step(gated.definition, "Register")
    assert register["Type"] == "RegisterModel"
    arguments = register["Arguments"]
    assert arguments["ModelPackageGroupName"] == "cvl-nanogpt"
    assert arguments["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    train_image = _step(gated.definition, "Train")["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    assert container["Image"] == train_image  # the image it trained in
    failed = _step(gated.definition, "GateFailed")
    assert failed["Arguments"]["ErrorMessage"] == {
        "Std:Join": {"On": "", "Values": ["val_loss ", value, " is above the gate 1.5"]}
    }
    validate_definition(gated.definition)  # CreateModelPackage's arguments as botocore models them


def test_a_min_gate_compares_the_other_way_and_names_its_own_group() -> None:
    compiled = _gated({"metric": "accuracy", "min": 0.9, "group": "cvl-shakespeare"})
    assert _step(compiled.definition, "Gate")["Arguments"]["Conditions"][0]["Type"] == "GreaterThanOrEqualTo"
    assert _step(compiled.definition, "Register")["Arguments"]["ModelPackageGroupName"] == "cvl-shakespeare"
    message = _step(compiled.definition, "GateFailed")["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[-1] == " is below the gate 0.9"


def test_validation_reaches_the_registration_inside_the_condition(gated: Any) -> None:
    document = json.loads(gated.definition)
    register = _step(json.dumps(document), "Register")
    (gate,) = [s for s in document["Steps"] if s["Name"] == "Gate"]
    gate["Arguments"]["IfSteps"] = [
        register | {"Arguments": register["Arguments"] | {"ModelApprovalStatus": "Pending"}}
    ]
    with pytest.raises(DefinitionError, match="Register .CreateModelPackage.: ModelApprovalStatus 'Pending'"):
        validate_definition(document)


@pytest.mark.parametrize(
    ("register", "says"),
    [
        ({"metric": "perplexity", "max": 1}, "is not one of the preset's metrics"),
        ({"metric": "val_loss"}, "exactly one of max"),
        ({"metric": "val_loss", "max": 1, "min": 0}, "exactly one of max"),
        ({"metric": "val_loss", "max": 1, "group": "team-models"}, "must start with cvl-"),
    ],
)
def test_a_gate_sagemaker_could_not_run_is_refused(register: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Preset(command=["python", "train.py"], register=register)


def test_a_preset_metric_may_be_the_gate() -> None:
    preset = Preset(
        command=["x"], metrics={"bleu": r"bleu=([0-9.]+)"}, register={"metric": "bleu", "min": 20}
    )
    assert preset.gate == Register(metric="bleu", min=20)


def _gated_root(tmp_path: Path) -> Path:
    """The bundled examples with nanogpt's example.yaml declaring the gate in its `sagemaker:` block."""
    root = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "nanogpt", root / "nanogpt")
    with (root / "nanogpt" / "example.yaml").open("a") as yaml:
        yaml.write(f"sagemaker:\n  smoke:\n    {GATE}\n")
    return root


def _groups() -> list[str]:
    found = boto3.client("sagemaker", region_name=REGION).list_model_package_groups()
    return [g["ModelPackageGroupName"] for g in found["ModelPackageGroupSummaryList"]]


def test_upsert_creates_the_tagged_model_package_group_once(
    account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _gated_root(tmp_path)
    argv = ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(root), "--skip-preflight"]
    assert upsert.main(argv) == 0
    assert _groups() == ["cvl-nanogpt"]
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    group = sagemaker.describe_model_package_group(ModelPackageGroupName="cvl-nanogpt")
    tags = {
        t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=group["ModelPackageGroupArn"])["Tags"]
    }
    assert tags["managed-by"] == "cvl-pipelines" and tags["cvl:example"] == "nanogpt"
    assert upsert.main([*argv, "--force"]) == 0  # the full path again: the group is left as it is
    assert _groups() == ["cvl-nanogpt"]


def _package() -> str:
    """A model package in the group, as the Register step's CreateModelPackage makes it."""
    return boto3.client("sagemaker", region_name=REGION).create_model_package(
        ModelPackageGroupName="cvl-nanogpt",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cvl-nanogpt:x"}],
            "SupportedContentTypes": [],
            "SupportedResponseMIMETypes": [],
        },
    )["ModelPackageArn"]


def _latest() -> str:
    found = boto3.client("sagemaker", region_name=REGION).list_pipeline_executions(
        PipelineName=PIPELINE, SortOrder="Descending"
    )
    return str(found["PipelineExecutionSummaries"][0]["PipelineExecutionArn"])


def test_a_metric_past_the_gate_registers_and_status_shows_the_package(
    account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _gated_root(tmp_path)
    job_arn = training_job()

    def registered(script: Script) -> None:
        script.step("Train", "Succeeded", TrainingJob={"Arn": job_arn})
        script.step("Gate", "Succeeded", Condition={"Outcome": "True"})
        script.step("Register", "Succeeded", RegisterModel={"Arn": _package()})
        script.finish("Succeeded")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), registered]))
    argv = ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(root), "--skip-preflight"]
    assert run.main(argv) == 0
    capsys.readouterr()
    assert status.main([_latest()]) == 0
    shown = capsys.readouterr().out
    package = boto3.client("sagemaker", region_name=REGION).list_model_packages(
        ModelPackageGroupName="cvl-nanogpt"
    )["ModelPackageSummaryList"][0]["ModelPackageArn"]
    assert f"model package {package} (registered PendingManualApproval" in shown
    assert status.main([_latest(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_package"] == package


def test_a_failed_gate_ends_the_run_failed_naming_metric_value_and_threshold(
    account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _gated_root(tmp_path)
    job_arn = training_job()
    message = "val_loss 2.31 is above the gate 1.5"

    def gate_failed(script: Script) -> None:
        script.step("Train", "Succeeded", TrainingJob={"Arn": job_arn})
        script.step("Gate", "Succeeded", Condition={"Outcome": "False"})
        script.step("GateFailed", "Failed", failure=message, Fail={"ErrorMessage": message})
        script.finish("Failed", f"Step failure: One or multiple steps failed. {message}")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), gate_failed]))
    argv = ["--example", "nanogpt", "--preset", "smoke", "--examples-root", str(root), "--skip-preflight"]
    assert run.main(argv) == 1
    assert "diagnosis: the model missed its registration gate (in GateFailed)" in capsys.readouterr().err
    assert status.main([_latest()]) == 0
    shown = capsys.readouterr().out
    assert f"GateFailed   Failed       {message}" in shown
    assert "model package" not in shown


@pytest.mark.slow
@pytest.mark.parametrize(("threshold", "passes"), [(100, True), (0.001, False)])
def test_a_local_run_evaluates_the_gate_and_leaves_registration_to_sagemaker(
    tmp_path: Path, threshold: float, passes: bool
) -> None:
    root = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "nanogpt", root / "nanogpt")
    with (root / "nanogpt" / "example.yaml").open("a") as yaml:
        yaml.write(f"sagemaker:\n  smoke:\n    register: {{metric: val_loss, max: {threshold}}}\n")
    done = local_run(tmp_path / "out", "--examples-root", str(root))
    if passes:
        assert done.returncode == 0, done.stdout[-3000:]
        assert re.search(
            r"^gate      val_loss [0-9.]+ passed \(<= 100\); registration happens on SageMaker: "
            r"run without --local to register the model in cvl-nanogpt$",
            done.stdout,
            re.M,
        ), done.stdout[-3000:]
        assert "==> Gate: Succeeded" in done.stdout
    else:
        assert done.returncode == 1, done.stdout[-3000:]
        assert re.search(
            r"GateFailed: Failed .*: val_loss [0-9.]+ is above the gate 0.001$", done.stdout, re.M
        )
        assert "diagnosis: the model missed its registration gate (in GateFailed)" in done.stderr
    assert "DEBUG" not in done.stderr
