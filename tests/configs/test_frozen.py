"""Frozen configs stay what they were validated as: `replace()` validates, sequences are tuples."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from configs import BadInput, Checkpoint, Preset, declared_presets
from configs.example import DeclaredPreset
from configs.preset import Frozen
from pipelines import catalog

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cvl_repo" / "examples"
SMOKE = declared_presets()["nanogpt"]["smoke"]


def _frozen_models() -> list[type[Frozen]]:
    found, todo = [], [Frozen]
    while todo:
        model = todo.pop()
        found += model.__subclasses__()
        todo += model.__subclasses__()
    return found


def test_every_frozen_config_is_found() -> None:
    names = {model.__name__ for model in _frozen_models()}
    assert {
        "Preset",
        "Prepare",
        "Checkpoint",
        "DeclaredPreset",
        "Example",
        "Resources",
        "DeployTarget",
    } <= names


@pytest.mark.parametrize("model", _frozen_models(), ids=lambda model: model.__name__)
def test_no_frozen_config_holds_a_list(model: type[Frozen]) -> None:
    lists = [
        name
        for name, field in model.model_fields.items()
        if list in {typing.get_origin(field.annotation), field.annotation}
        or any(typing.get_origin(arg) is list for arg in typing.get_args(field.annotation))
    ]
    assert lists == [], f"{model.__name__}: make {', '.join(lists)} a tuple"


def test_a_preset_cannot_be_appended_to() -> None:
    assert SMOKE.checkpoint is not None
    for sequence in (
        SMOKE.command,
        SMOKE.prepare,
        SMOKE.keep,
        SMOKE.optional_secrets,
        SMOKE.checkpoint.resume_args,
    ):
        assert isinstance(sequence, tuple)
        with pytest.raises(AttributeError):
            sequence.append("--evil")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="frozen"):
        SMOKE.command = ("python",)  # type: ignore[misc]


def test_lists_given_become_tuples() -> None:
    preset = Preset(
        command=["python", "train.py"], keep=["logs"], checkpoint={"dir": "c", "resume_args": ["-r"]}
    )
    assert preset.command == ("python", "train.py") and preset.keep == ("logs",)
    assert preset.checkpoint == Checkpoint(dir="c", resume_args=("-r",))


def test_replace_returns_a_validated_copy() -> None:
    longer = SMOKE.replace(max_run_minutes=45, command=["python", "train.py"])
    assert (longer.max_run_minutes, longer.command) == (45, ("python", "train.py"))
    assert SMOKE.max_run_minutes == 30  # the original is untouched
    assert longer.replace() == longer


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"max_run_minutes": 0}, "max_run_minutes: Input should be greater than or equal to 1"),
        ({"instance_type": "g5.xlarge"}, "instance_type: instance type 'g5.xlarge' is not of the form"),
        ({"spot": True}, "spot training needs max_wait_minutes"),
        ({"command": []}, "command: Tuple should have at least 1 item"),
        ({"instance_typo": "ml.m5.large"}, "instance_typo: Extra inputs are not permitted"),
    ],
)
def test_replace_with_a_bad_value_is_bad_input(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        SMOKE.replace(**changes)
    assert str(caught.value).startswith(problem)


def test_a_declared_preset_keeps_its_script_environment_through_replace() -> None:
    declared = DeclaredPreset.model_validate({"script": "STAGE=2 train.sh -- --fast", "args": "--x 1"})
    assert (declared.script, declared.script_env, declared.args) == (
        "train.sh",
        {"STAGE": "2"},
        ("--fast", "--x", "1"),
    )
    assert declared.replace() == declared
    assert declared.replace(description="d").script_env == {"STAGE": "2"}


@pytest.mark.parametrize("root", [ROOT / "examples", FIXTURES], ids=["bundled", "cvlization-shapes"])
def test_every_offered_preset_round_trips_through_json(root: Path) -> None:
    """Derived presets too: tuples leave as JSON arrays and come back as the same tuples."""
    offered = [preset for _, _, preset in catalog.all_pairs(root).pairs]
    assert len(offered) >= 2
    for preset in offered:
        again = Preset.model_validate_json(preset.model_dump_json())
        assert again == preset and again.model_dump_json() == preset.model_dump_json()
