"""The catalog: every example.yaml shape, one unreadable file at a time, examples by name or folder path."""

from pathlib import Path

import pytest

from configs import BadInput
from pipelines import catalog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cvl_repo" / "examples"


def _example(root: Path, folder: str, text: str) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "example.yaml").write_text(text)
    (path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return path


def test_bundled_nanogpt_is_discovered_with_its_config_presets():
    root = Path(catalog.__file__).resolve().parents[2] / "examples"
    examples = catalog.discover(root)
    assert "nanogpt" in examples
    offers = catalog.offers_of(examples["nanogpt"]).offered
    assert set(offers) == {"smoke", "train"}
    assert {offer.source for offer in offers.values()} == {"config module"}


@pytest.mark.parametrize(
    ("resources", "instance"),
    [
        ("{gpu: 1, vram_gb: 16, disk_gb: 80}", "ml.g4dn.xlarge"),
        ("{gpu: 1, vram_gb: 24}", "ml.g6.xlarge"),
        ("{gpu: 1, vram_gb: 40}", "ml.g6e.xlarge"),
        ("{gpu: 4, vram_gb: 24}", "ml.g4dn.12xlarge"),  # vram_gb is the total: 6 GB a GPU
        ("{gpu: 4, vram_gb: 96}", "ml.g6.12xlarge"),
        ("{gpu: {count: 2, vram_gb: 160}}", "ml.p4de.24xlarge"),  # 80 GB a GPU
        ("{gpu: 0}", "ml.m5.xlarge"),
        ("{gpu: {count: 1, vram_gb: 20}, cpu_cores: 8, ram_gb: 32}", "ml.g6.2xlarge"),
        ("{gpu: required, vram_gb: 24}", "ml.g6.xlarge"),
        ("{gpu: 1, vram_gb: 80}", "ml.p5.4xlarge"),
        ("{gpu_count: 1, vram_gb: 48}", "ml.g6e.xlarge"),
        ("{cpu_cores: 8, disk_gb: 5}", "ml.m5.2xlarge"),
    ],
)
def test_example_without_presets_gets_a_train_preset_from_every_resources_shape(
    tmp_path, resources, instance
):
    _example(tmp_path, "nested/group/mine", f"name: mine\nresources: {resources}\n")
    example, preset = catalog.resolve(tmp_path, "mine", "train")
    assert preset.instance_type == instance
    assert preset.command == ("python", "train.py")
    assert preset.volume_size_gb == (80 if "disk_gb: 80" in resources else 30)


@pytest.mark.parametrize(
    ("extra", "instance"),
    [
        ("hardware: {gpu_required: true, min_vram_gb: 40, min_ram_gb: 32}", "ml.g6e.xlarge"),
        ("docker: {gpu: required, vram_gb: 16}", "ml.g4dn.xlarge"),
        ("docker: {gpu: optional}", "ml.m5.xlarge"),
        ("docker: tabular_image\nresources: {gpu: 0, cpu_cores: 4}", "ml.m5.xlarge"),
    ],
)
def test_hardware_and_docker_blocks_say_what_an_example_needs(tmp_path, extra, instance):
    _example(tmp_path, "mine", f"name: mine\n{extra}\npresets:\n")
    assert catalog.resolve(tmp_path, "mine", "train")[1].instance_type == instance


def test_an_example_too_big_for_any_instance_is_listed_not_offered():
    offers = catalog.offers_of(catalog.discover(FIXTURES)["avatar-big"])
    assert offers.offered == {}
    assert offers.not_offered[0].name == "train"
    assert "no SageMaker GPU instance has 1 GPU(s) with 200 GB" in offers.not_offered[0].reason
    with pytest.raises(BadInput, match="preset 'train' of avatar-big is not offered: no SageMaker GPU"):
        catalog.resolve(FIXTURES, "avatar-big", "train")


def test_one_unreadable_file_is_reported_for_its_example_only():
    tree = catalog.read(FIXTURES)
    assert {entry.folder for entry in tree.unreadable} == {"broken/bad_yaml", "broken/unknown_setting"}
    bad = next(entry for entry in tree.unreadable if entry.folder == "broken/bad_yaml")
    assert (
        bad.reason
        == f"{FIXTURES / 'broken/bad_yaml/example.yaml'} line 3: not valid YAML: fix the file's syntax"
    )
    # Its neighbours are whole, and `data` folders are searched (CVlization has examples under one).
    assert set(tree.examples) == {
        "arm-policy",
        "avatar-big",
        "captioner",
        "causal-bias-study",
        "clipgen",
        "masklora",
        "nodeagent",
        "noscript",
        "pointmap",
        "signal_prep",
        "speedrun",
        "stagechat",
        "twincam",
        "tinygpt-char",
    }
    assert catalog.resolve(FIXTURES, "signal_prep", "preprocess")[0].folder == "agentic/data/signal_prep"


def test_asking_for_the_unreadable_example_gives_its_reason():
    with pytest.raises(BadInput, match=r"bad_yaml/example.yaml line 3: not valid YAML"):
        catalog.resolve(FIXTURES, "broken/bad_yaml", "train")


def test_an_unknown_sagemaker_setting_names_the_file_and_the_key():
    with pytest.raises(BadInput) as raised:
        catalog.resolve(FIXTURES, "unknown_setting", "train")
    message = str(raised.value)
    assert message.startswith(
        f"{FIXTURES / 'broken/unknown_setting/example.yaml'}: sagemaker: train.instance:"
    )
    assert "not a Preset field" in message and "instance_type" in message


def test_sagemaker_settings_apply_to_their_preset_only():
    offers = catalog.offers_of(catalog.discover(FIXTURES)["tinygpt-char"]).offered
    train, quick = offers["train"], offers["train_quick"]
    assert train.settings_applied and not quick.settings_applied
    assert (train.preset.instance_type, train.preset.spot, train.preset.max_wait_minutes) == (
        "ml.g5.xlarge",
        True,
        180,
    )
    assert train.preset.max_run_minutes == 90
    assert quick.preset.instance_type == "ml.g4dn.xlarge" and not quick.preset.spot


def test_a_sagemaker_value_the_preset_model_rejects_is_bad_input(tmp_path):
    _example(
        tmp_path,
        "mine",
        "name: mine\nsagemaker:\n  train: {spot: true, max_wait_minutes: 30, max_run_minutes: 60}\n",
    )
    with pytest.raises(BadInput, match=r"mine/example.yaml: sagemaker: .*max_wait_minutes"):
        catalog.resolve(tmp_path, "mine", "train")


@pytest.mark.parametrize(
    "identifier",
    [
        "tinygpt-char",
        "generative/llm/tinygpt",
        "examples/generative/llm/tinygpt/",
        "llm/tinygpt",
        "tinygpt",
    ],
)
def test_an_example_is_found_by_name_or_folder_path_exact_then_suffix(identifier):
    example, preset = catalog.resolve(FIXTURES, identifier, "train")
    assert example.name == "tinygpt-char"
    assert preset.command[:2] == ("python", "train.py")


def test_a_suffix_matching_several_folders_asks_for_more_of_the_path(tmp_path):
    _example(tmp_path, "a/model", "name: first\n")
    _example(tmp_path, "b/model", "name: second\n")
    with pytest.raises(BadInput, match=r"'model' matches several folders \(a/model, b/model\): give more"):
        catalog.resolve(tmp_path, "model", "train")
    assert catalog.resolve(tmp_path, "b/model", "train")[0].name == "second"


def test_unknown_example_and_preset_list_the_known_ones(tmp_path):
    _example(tmp_path, "a", "name: alpha\n")
    _example(tmp_path, "b", "name: beta\n")
    with pytest.raises(BadInput, match=r"unknown example 'gamma'.*known: alpha, beta"):
        catalog.resolve(tmp_path, "gamma", "train")
    with pytest.raises(BadInput, match=r"unknown preset 'smoke' for alpha \(known: train\)"):
        catalog.resolve(tmp_path, "alpha", "smoke")


def test_invalid_example_fields_name_the_field(tmp_path):
    _example(tmp_path, "bad", "name: Bad Name!\n")
    _example(tmp_path, "good", "name: good\n")
    tree = catalog.read(tmp_path)
    assert "example.yaml: name:" in tree.unreadable[0].reason
    assert set(tree.examples) == {"good"}


def test_two_examples_with_one_name_are_neither_used_and_both_are_named(tmp_path):
    _example(tmp_path, "one", "name: same\n")
    _example(tmp_path, "two", "name: same\n")
    tree = catalog.read(tmp_path)
    assert "same" not in tree.examples  # which would win depends on folder order: neither does
    assert [entry.folder for entry in tree.unreadable] == ["one", "two"]
    for entry in tree.unreadable:
        assert "the name 'same' is claimed by 2 folders (one, two); neither is used" in entry.reason


def test_all_pairs_lists_every_offered_preset_and_the_skipped_examples():
    pairs = catalog.all_pairs(FIXTURES)
    names = [(example.name, preset) for example, preset, _ in pairs.pairs]
    assert ("tinygpt-char", "train") in names and ("signal_prep", "preprocess") in names
    assert ("tinygpt-char", "build") not in names
    assert {entry.folder for entry in pairs.skipped} == {"broken/bad_yaml", "broken/unknown_setting"}


def test_an_example_without_a_dockerfile_offers_nothing_and_says_why(tmp_path):
    path = _example(
        tmp_path, "cog_only", "name: cog-only\npresets:\n  predict: {command: python predict.py}\n"
    )
    (path / "Dockerfile").unlink()
    offers = catalog.offers_of(catalog.discover(tmp_path)["cog-only"])
    assert offers.offered == {}
    assert offers.not_offered == [
        catalog.NotOffered("predict", "the example has no Dockerfile (its image is built from one)")
    ]
