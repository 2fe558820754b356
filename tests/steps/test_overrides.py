"""`Overrides`: one parse and one validation for every way a run's parameter values arrive."""

from __future__ import annotations

import json

import pytest

from configs import BadInput
from configs.nanogpt import PRESETS
from steps.train.overrides import Overrides
from steps.train.parameters import parameter_specs

SPECS = parameter_specs(PRESETS["smoke"], "s3://bucket/nanogpt/smoke")


def test_command_line_text_is_typed_by_its_parameter() -> None:
    overrides = Overrides.parse(
        SPECS, ["max_iters=7", "InstanceCount=2", "compile=true", "learning_rate=1e-3"], ["--seed=3"]
    )
    assert overrides.values == {
        "max_iters": 7,
        "InstanceCount": 2,
        "compile": True,
        "learning_rate": 0.001,
        "ExtraArgs": json.dumps(["--seed=3"]),
    }
    assert {"Name": "compile", "Value": "true"} in overrides.as_parameters()


def test_python_values_take_the_same_checks_and_none_means_not_given() -> None:
    overrides = Overrides.from_values(
        SPECS, {"InstanceType": "ml.g5.xlarge", "OutputPath": "s3://my-bucket/out/", "ExtraArgs": None}
    )
    assert overrides.values == {"InstanceType": "ml.g5.xlarge", "OutputPath": "s3://my-bucket/out"}
    with pytest.raises(BadInput, match="InstanceType 'gpu.big' is not a SageMaker instance type"):
        Overrides.from_values(SPECS, {"InstanceType": "gpu.big"})


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("InstanceType=gpu.big", "--set InstanceType 'gpu.big' is not a SageMaker instance type: use ml."),
        ("InstanceCount=two", "--set InstanceCount='two': InstanceCount is of type Integer"),
        ("InstanceCount=0", "--set InstanceCount 0 must be at least 1"),
        ("OutputPath=/tmp/out", "--set OutputPath '/tmp/out' is not an S3 URI"),
        ("ExtraArgs=--seed=1", "--set ExtraArgs must be a JSON list of strings"),
        (
            "Instancetype=ml.g5.xlarge",
            "--set Instancetype: no such parameter; the closest: InstanceType (String), ",
        ),
        ("max_iters", "--set 'max_iters' is not NAME=VALUE"),
        ("InstanceType=", "--set InstanceType= is empty"),
    ],
)
def test_bad_values_are_one_line_saying_what_to_do(assignment: str, message: str) -> None:
    with pytest.raises(BadInput) as raised:
        Overrides.parse(SPECS, [assignment])
    assert str(raised.value).startswith(message), str(raised.value)
    assert "\n" not in str(raised.value)


def test_applied_to_gives_the_preset_this_execution_runs() -> None:
    preset = PRESETS["smoke"]
    overrides = Overrides.parse(SPECS, ["InstanceType=ml.p4d.24xlarge", "InstanceCount=3", "max_iters=9"])
    applied = overrides.applied_to(preset)
    assert (applied.instance_type, applied.instance_count) == ("ml.p4d.24xlarge", 3)
    assert applied.hyperparameters == preset.hyperparameters  # hyperparameters stay parameters
    assert Overrides.parse(SPECS, []).applied_to(preset) is preset


def test_an_overrides_is_only_made_against_the_pipelines_parameters() -> None:
    with pytest.raises(ValueError, match="validated against the pipeline's parameters"):
        Overrides(values={"InstanceType": "ml.g5.xlarge"})


def test_python_api_values_that_look_like_credentials_are_refused_unquoted() -> None:
    # What SageMakerRunner.run(args=[...], instance_type=...) passes: Python values, not --set text.
    token = "hf_" + "Zx9" * 12  # built at run time: the repository holds no credential-shaped string
    with pytest.raises(BadInput) as caught:
        Overrides.from_values(SPECS, {"ExtraArgs": json.dumps(["--hub-token", token])})
    assert str(caught.value).startswith("ExtraArgs --hub-token holds what looks like a Hugging Face token")
    assert token not in str(caught.value)
    with pytest.raises(BadInput, match="^max_iters holds what looks like") as caught:
        Overrides.from_values(
            SPECS, {"max_iters": token}
        )  # an Integer: refused before the type error quotes it
    assert token not in str(caught.value)
