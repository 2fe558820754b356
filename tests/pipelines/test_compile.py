"""The pure compile: golden definitions, determinism, parameters, and no network at all."""

import json
import re
from pathlib import Path

import pytest

from configs import BadInput, resolve_target
from pipelines import catalog
from pipelines.define.compile import compile_pipeline
from pipelines.define.names import pipeline_name
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness.network import no_network

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
TARGET = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, environ={})


def normalize(definition: str) -> dict:
    """The definition with content hashes masked, so goldens change only when the pipeline's shape does.

    Masked: the step bundle's digest in its S3 prefix (`bundles/<digest>/`, changes with container code),
    the build context's digest in its S3 key and in BuildImage's `--context-digest` argument (changes
    with the example's files or the entry point). Nothing else is masked.
    """
    text = re.sub(r"bundles/[0-9a-f]{32}/", "bundles/<bundle-digest>/", definition)
    text = re.sub(r"[0-9a-f]{64}", "<context-digest>", text)
    return json.loads(text)


def _compile(preset_name: str, target=TARGET):
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", preset_name)
    return compile_pipeline(example, preset_name, preset, target)


@pytest.fixture(scope="module")
def train():
    """The bundled nanogpt `train` preset, compiled once for this module."""
    return _compile("train")


@pytest.fixture(scope="module")
def train_steps(train):
    return {s["Name"]: s for s in json.loads(train.definition)["Steps"]}


@pytest.mark.slow
@pytest.mark.parametrize("preset_name", ["smoke", "train"])
def test_definition_matches_golden_file(preset_name, update_golden, train):
    compiled = train if preset_name == "train" else _compile(preset_name)
    golden = GOLDEN / f"{compiled.name}.json"
    actual = normalize(compiled.definition)
    if update_golden:
        golden.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    assert actual == json.loads(golden.read_text()), f"run pytest --update-golden and review {golden}"


@pytest.mark.slow
def test_compiling_twice_is_byte_identical_and_names_the_same_digest(train):
    first, second = train, _compile("train")
    assert first.definition == second.definition
    assert first.digest == second.digest
    assert first.bundle.digest == second.bundle.digest


@pytest.mark.slow
def test_compile_makes_no_network_call_without_any_aws_settings(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    placeholder = resolve_target(allow_placeholders=True, environ={})
    with no_network() as attempted:
        compiled = _compile("train", placeholder)
    assert attempted == []
    assert "CVL-PLACEHOLDER" in compiled.definition


def test_each_preset_value_becomes_a_typed_parameter_with_its_default(train):
    definition = json.loads(train.definition)
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]}
    assert parameters["InstanceType"] == ("String", "ml.g5.xlarge")
    assert parameters["InstanceCount"] == ("Integer", 1)
    assert parameters["OutputPath"] == ("String", f"s3://{BUCKET}/nanogpt/train")
    assert parameters["max_iters"] == ("Integer", 5000)
    assert parameters["learning_rate"] == ("Float", 0.001)
    assert parameters["compile"] == ("Boolean", True)
    assert parameters["device"] == ("String", "cuda")


def test_hyperparameters_reach_the_training_job_as_strings(train_steps):
    hyperparameters = train_steps["Train"]["Arguments"]["HyperParameters"]
    assert hyperparameters["max_iters"] == {
        "Std:Join": {"On": "", "Values": [{"Get": "Parameters.max_iters"}]}
    }
    assert all(isinstance(v, str) or ("Std:Join" in v or "Get" in v) for v in hyperparameters.values())
    preset = json.loads(hyperparameters["cvl_preset"])
    assert preset["command"][:2] == ["python", "train.py"] and preset["checkpoint"]["dir"] == "logs"


def test_dag_runs_preflight_and_build_in_parallel_then_train_on_the_built_image(train_steps):
    steps = train_steps
    assert set(steps) == {"Preflight", "BuildImage", "Train"}
    assert "DependsOn" not in steps["Preflight"] and "DependsOn" not in steps["BuildImage"]
    assert steps["Train"]["DependsOn"] == ["Preflight"]
    image = steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    assert image["Std:JsonGet"]["PropertyFile"] == {"Get": "Steps.BuildImage.PropertyFiles.BuildResult"}
    assert image["Std:JsonGet"]["Path"] == "image_uri"
    assert all(steps[name].get("DisplayName") and steps[name].get("Description") for name in steps)


def test_upsert_time_fields_are_baked_in_from_the_preset(train_steps):
    arguments = train_steps["Train"]["Arguments"]
    assert arguments["EnableManagedSpotTraining"] is True
    assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert arguments["ResourceConfig"]["VolumeSizeInGB"] == 50
    assert arguments["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"


@pytest.mark.slow
def test_a_source_change_changes_the_build_steps_arguments(tmp_path):
    import shutil

    copy = tmp_path / "examples" / "nanogpt"
    shutil.copytree(
        ROOT / "examples" / "nanogpt", copy, ignore=shutil.ignore_patterns("*.bin", "*.pkl", "logs")
    )
    example, preset = catalog.resolve(tmp_path / "examples", "nanogpt", "smoke")
    before = compile_pipeline(example, "smoke", preset, TARGET)
    (copy / "model.py").write_text((copy / "model.py").read_text() + "\n# changed\n")
    after = compile_pipeline(example, "smoke", preset, TARGET)
    build = [
        json.loads(c.definition)["Steps"][1]["Arguments"]["AppSpecification"]["ContainerArguments"]
        for c in (before, after)
    ]
    assert build[0] != build[1]


def test_pipeline_names_follow_the_contract_and_sagemakers_rules():
    assert pipeline_name("nanogpt", "train") == "cvl-nanogpt-train"
    assert pipeline_name("my_example.v2", "smoke") == "cvl-my-example-v2-smoke"
    with pytest.raises(BadInput):
        pipeline_name("x" * 300, "train")


def test_steps_retry_the_failure_classes_worth_retrying(train_steps):
    """Training retries capacity and resource limits with backoff; processing retries service faults."""
    from steps.sdk.retries import PROCESSING_RETRY, TRAINING_RETRY

    def rule(step):
        policies = step["RetryPolicies"]
        return [
            (tuple(p["ExceptionType"]), p["IntervalSeconds"], p["BackoffRate"], p["MaxAttempts"])
            for p in policies
        ]

    assert rule(train_steps["Train"]) == [tuple(TRAINING_RETRY)]
    assert TRAINING_RETRY.exception_types == ("SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT")
    assert TRAINING_RETRY.backoff_rate > 1
    for name in ("Preflight", "BuildImage"):
        assert rule(train_steps[name]) == [tuple(PROCESSING_RETRY)]
    assert PROCESSING_RETRY.exception_types == ("Step.SERVICE_FAULT", "Step.THROTTLING")


def test_train_runs_on_the_instance_type_preflight_settled_on(train, train_steps):
    """Studio and scheduled runs get the fallback too: Train reads its type from Preflight's property file."""
    instance_type = train_steps["Train"]["Arguments"]["ResourceConfig"]["InstanceType"]
    assert instance_type == {
        "Std:JsonGet": {
            "Path": "instance_type",
            "PropertyFile": {"Get": "Steps.Preflight.PropertyFiles.PreflightResult"},
        }
    }
    parameters = {p["Name"]: p for p in json.loads(train.definition)["Parameters"]}
    assert parameters["InstanceFallback"] == {
        "Name": "InstanceFallback",
        "Type": "Boolean",
        "DefaultValue": False,
    }
    arguments = train_steps["Preflight"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert "--fallback" in arguments
