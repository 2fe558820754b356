"""Credentials refused: each documented pattern, in a preset's environment, hyperparameters and commands;
the message names the field and says to use `secrets`, and never holds the value."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from configs import BadInput, Preset
from configs.credentials import CREDENTIAL_PATTERNS, check_arguments, credential_kind

# Fake credentials of each documented shape, built at run time so the repository itself holds none
# (the repository's secrets scan must stay clean).
FAKES: dict[str, str] = {
    "AWS access key id": "AKIA" + "Z7Q2" * 4,
    "Hugging Face token": "hf_" + "aB3" * 12,
    "GitHub token": "ghp_" + "x9Y" * 12,
    "OpenAI-style API key": "sk-proj-" + "Ab1" * 10,
    "private key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
    "W&B API key": hashlib.sha1(b"a fake W&B key").hexdigest(),
}
# The field each fake sits in: W&B keys are recognised only where the name says W&B.
FIELD = {kind: ("WANDB_API_KEY" if kind == "W&B API key" else "SOME_SETTING") for kind in FAKES}


def test_every_documented_pattern_has_a_fake() -> None:
    assert sorted(FAKES) == sorted(pattern.kind for pattern in CREDENTIAL_PATTERNS)


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_each_pattern_is_recognised_alone_and_inside_a_longer_value(kind: str) -> None:
    value = FAKES[kind]
    assert credential_kind(FIELD[kind], value) == kind
    assert credential_kind(FIELD[kind], f"https://user:{value}@example.com/x") == kind


@pytest.mark.parametrize(
    "value",
    [
        "cuda",
        "ml.g5.xlarge",
        "s3://bucket/nanogpt/train",
        hashlib.sha1(b"a git commit").hexdigest(),  # a git commit id's shape, outside a W&B field
        "hf_hub_cache",
        "sk-learn",
        "AKIA-not-a-key",
        "-----BEGIN CERTIFICATE-----",
        "gpt-4o-mini",
    ],
)
def test_ordinary_values_pass(value: str) -> None:
    assert credential_kind("SOME_SETTING", value) is None


def _refused(**fields: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Preset(**({"command": ["python", "train.py"]} | fields))
    return str(caught.value)


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_credential_in_the_environment_is_refused_by_field_without_the_value(kind: str) -> None:
    message = _refused(environment={FIELD[kind]: FAKES[kind]})
    assert f"environment.{FIELD[kind]} holds what looks like a {kind}" in message
    assert f"secrets: {{{FIELD[kind]}: cvl/{FIELD[kind]}}}" in message
    assert FAKES[kind] not in message
    assert FAKES[kind].splitlines()[0] not in message


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_credential_in_the_hyperparameters_is_refused_without_the_value(kind: str) -> None:
    name = FIELD[kind].lower()
    message = _refused(hyperparameters={"lr": 0.1, name: FAKES[kind]})
    assert f"hyperparameters.{name} holds what looks like a {kind}" in message
    assert FAKES[kind].splitlines()[0] not in message


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_credential_in_a_command_is_refused_without_the_value(kind: str) -> None:
    option = f"--{FIELD[kind].lower()}"
    message = _refused(command=["python", "train.py", f"{option}={FAKES[kind]}"])
    assert f"command {option} holds what looks like a {kind}" in message
    message = _refused(prepare=[{"command": ["python", "get.py", option, FAKES[kind]], "creates": "data"}])
    assert f"prepare[0].command {option} holds" in message
    assert FAKES[kind].splitlines()[0] not in message


def test_arguments_are_named_by_their_option_or_position() -> None:
    token = FAKES["Hugging Face token"]
    with pytest.raises(BadInput, match=r"^-- ARGS --token holds .* secrets: \{TOKEN: cvl/TOKEN\}"):
        check_arguments("-- ARGS", ["--epochs=3", "--token", token])
    with pytest.raises(BadInput, match=r"^-- ARGS argument 2 holds"):
        check_arguments("-- ARGS", ["train", token])


def test_secrets_name_secrets_under_the_project_prefix() -> None:
    preset = Preset(command=["python", "train.py"], secrets={"HF_TOKEN": "cvl/HF_TOKEN"})
    assert preset.secrets == {"HF_TOKEN": "cvl/HF_TOKEN"}
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cvl/hf-AbCdEf"
    assert Preset(command=["python", "train.py"], secrets={"HF_TOKEN": arn}).secrets["HF_TOKEN"] == arn
    assert "outside cvl/: the execution role reads only the project's secrets" in _refused(
        secrets={"HF_TOKEN": "prod/HF_TOKEN"}
    )
    assert "not a Secrets Manager secret name or ARN" in _refused(secrets={"HF_TOKEN": "cvl/has space"})
    assert "both in environment and in secrets" in _refused(
        secrets={"HF_TOKEN": "cvl/HF_TOKEN"}, environment={"HF_TOKEN": "x"}
    )


def test_optional_secrets_must_be_secrets() -> None:
    preset = Preset(
        command=["python", "train.py"], secrets={"HF_TOKEN": "cvl/HF_TOKEN"}, optional_secrets=["HF_TOKEN"]
    )
    assert preset.optional_secrets == ("HF_TOKEN",)
    assert "optional_secrets names WANDB_API_KEY, not in secrets" in _refused(
        optional_secrets=["WANDB_API_KEY"]
    )


def test_a_credential_in_the_description_is_refused() -> None:
    message = _refused(description=f"uses token {FAKES['GitHub token']}")
    assert "description holds what looks like a GitHub token" in message
    assert FAKES["GitHub token"] not in message
