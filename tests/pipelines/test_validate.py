"""The definition validator catches what SageMaker would reject only when the step runs."""

import copy
import json
from pathlib import Path

import pytest

from configs import resolve_target
from pipelines import catalog
from pipelines.define.compile import compile_pipeline
from pipelines.define.validate import DefinitionError, validate_definition
from tests.conftest import BUCKET, REGION, ROLE_ARN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def definition() -> dict:
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "train")
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, environ={})
    return json.loads(compile_pipeline(example, "train", preset, target).definition)


def _broken(definition: dict, step: int, change) -> dict:
    broken = copy.deepcopy(definition)
    change(broken["Steps"][step]["Arguments"])
    return broken


def test_the_compiled_definitions_are_valid(definition):
    validate_definition(definition)


@pytest.mark.parametrize(
    ("step", "change", "message"),
    [
        (
            2,
            lambda a: a["HyperParameters"].update(max_iters={"Get": "Parameters.max_iters"}),
            "step Train (CreateTrainingJob): HyperParameters['max_iters'] is a pipeline integer but the API expects a string",
        ),
        (
            2,
            lambda a: a["ResourceConfig"].update(InstanceCount="1"),
            "step Train (CreateTrainingJob): ResourceConfig.InstanceCount must be an integer",
        ),
        (
            2,
            lambda a: a.update(StopingCondition={}),
            "Arguments.StopingCondition is not a field of CreateTrainingJobRequest",
        ),
        (2, lambda a: a.pop("RoleArn"), "step Train (CreateTrainingJob): Arguments.RoleArn is required"),
        (
            2,
            lambda a: a["StoppingCondition"].update(MaxRuntimeInSeconds=0),
            "StoppingCondition.MaxRuntimeInSeconds is 0, below the minimum 1",
        ),
        (
            2,
            lambda a: a["HyperParameters"].update(huge="x" * 2600),
            "HyperParameters['huge'] is too long (2600 > 2500)",
        ),
        (
            2,
            lambda a: a["ResourceConfig"].update(InstanceType={"Get": "Parameters.Nope"}),
            "ResourceConfig.InstanceType refers to a parameter the pipeline does not declare",
        ),
        (
            0,
            lambda a: a["AppSpecification"].update(ContainerArguments=[]),
            "step Preflight (CreateProcessingJob): AppSpecification.ContainerArguments is too short (0 < 1)",
        ),
        (
            1,
            lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceType="m5.large"),
            "step BuildImage (CreateProcessingJob): ProcessingResources.ClusterConfig.InstanceType 'm5.large' is not one of",
        ),
    ],
)
def test_a_broken_definition_names_the_step_and_field(definition, step, change, message):
    with pytest.raises(DefinitionError) as caught:
        validate_definition(_broken(definition, step, change))
    assert message in str(caught.value)


def test_upsert_refuses_a_definition_the_api_would_reject(monkeypatch, capsys, tmp_path):
    from pipelines import upsert
    from pipelines.define import compile_pool
    from pipelines.define.compile import CompiledPipeline

    real = compile_pool.compile_staged

    def compile_with_a_bug(*args, **kwargs) -> CompiledPipeline:
        compiled = real(*args, **kwargs)
        document = json.loads(compiled.definition)
        document["Steps"][2]["Arguments"]["StoppingCondition"]["MaxRuntimeInSeconds"] = 0
        return compiled._replace(definition=json.dumps(document))

    monkeypatch.setattr(compile_pool, "compile_staged", compile_with_a_bug)
    assert (
        upsert.main(["--example", "nanogpt", "--preset", "smoke", "--dry-run", "--out", str(tmp_path)]) == 2
    )
    assert (
        "step Train (CreateTrainingJob): StoppingCondition.MaxRuntimeInSeconds is 0, below the minimum 1"
        in capsys.readouterr().err
    )
    assert not list(tmp_path.iterdir())


def test_a_parameter_default_too_long_for_its_field_is_caught_before_anything_is_sent():
    example, preset = catalog.resolve(ROOT / "examples", "nanogpt", "smoke")
    long_env = preset.model_copy(update={"environment": {"TOKENIZER_CONFIG": "x" * 600}})
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, environ={})
    compiled = compile_pipeline(example, "smoke", long_env, target)
    with pytest.raises(DefinitionError) as caught:
        validate_definition(compiled.definition)
    assert (
        "step Train (CreateTrainingJob): Environment['TOKENIZER_CONFIG'] (parameter Env_TOKENIZER_CONFIG's default) "
        "is too long (600 > 512)" in str(caught.value)
    )
