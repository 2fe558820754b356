from pathlib import Path

import pytest

from configs import BadInput
from pipelines import catalog


def _example(root: Path, folder: str, text: str) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "example.yaml").write_text(text)
    (path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return path


def test_bundled_nanogpt_is_discovered_with_its_config_presets():
    root = Path(catalog.__file__).resolve().parent.parent / "examples"
    examples = catalog.discover(root)
    assert "nanogpt" in examples
    assert set(catalog.presets_of(examples["nanogpt"])) == {"smoke", "train"}


@pytest.mark.parametrize(
    ("resources", "instance"),
    [
        ("{gpu: 1, vram_gb: 16, disk_gb: 80}", "ml.g4dn.xlarge"),
        ("{gpu: 1, vram_gb: 24}", "ml.g5.xlarge"),
        ("{gpu: 1, vram_gb: 40}", "ml.g6e.xlarge"),
        ("{gpu: 4, vram_gb: 24}", "ml.g5.12xlarge"),
        ("{gpu: 0}", "ml.m5.xlarge"),
    ],
)
def test_example_without_config_gets_a_train_preset_from_resources(tmp_path, resources, instance):
    _example(tmp_path, "nested/group/mine", f"name: mine\nresources: {resources}\n")
    example, preset = catalog.resolve(tmp_path, "mine", "train")
    assert preset.instance_type == instance
    assert preset.command == ["python", "train.py"]
    assert preset.volume_size_gb == (80 if "disk_gb: 80" in resources else 30)


def test_unknown_example_and_preset_list_the_known_ones(tmp_path):
    _example(tmp_path, "a", "name: alpha\n")
    _example(tmp_path, "b", "name: beta\n")
    with pytest.raises(BadInput, match=r"unknown example 'gamma'.*known: alpha, beta"):
        catalog.resolve(tmp_path, "gamma", "train")
    with pytest.raises(BadInput, match=r"unknown preset 'smoke' for alpha \(known: train\)"):
        catalog.resolve(tmp_path, "alpha", "smoke")


def test_malformed_example_yaml_names_the_file_and_line(tmp_path):
    path = _example(tmp_path, "broken", "name: broken\nresources: {gpu: 1\n")
    with pytest.raises(BadInput, match=rf"{path / 'example.yaml'} line \d+: not valid YAML"):
        catalog.discover(tmp_path)


def test_invalid_example_fields_name_the_field(tmp_path):
    _example(tmp_path, "bad", "name: Bad Name!\n")
    with pytest.raises(BadInput, match="example.yaml: name:"):
        catalog.discover(tmp_path)


def test_two_examples_with_one_name_is_bad_input(tmp_path):
    _example(tmp_path, "one", "name: same\n")
    _example(tmp_path, "two", "name: same\n")
    with pytest.raises(BadInput, match="two examples are named 'same'.*rename one"):
        catalog.discover(tmp_path)
