import pytest
from pydantic import ValidationError

from configs import Checkpoint, Prepare, Preset, declared_presets


def _error(**fields) -> str:
    with pytest.raises(ValidationError) as caught:
        Preset(command=["python", "train.py"], **fields)
    return str(caught.value)


def test_minimal_preset_has_documented_defaults():
    preset = Preset(command=["python", "train.py"])
    assert (preset.instance_type, preset.instance_count, preset.spot) == ("ml.m5.xlarge", 1, False)


@pytest.mark.parametrize("bad", ["g5.xlarge", "ml.g5", "ML.G5.XLARGE", "ml..xlarge"])
def test_instance_type_must_be_ml_family_size(bad):
    assert "ml.<family>.<size>" in _error(instance_type=bad)


def test_instance_count_at_least_one():
    assert "greater than or equal to 1" in _error(instance_count=0)


def test_spot_needs_max_wait_and_says_what_to_set():
    message = _error(spot=True, max_run_minutes=60)
    assert "max_wait_minutes" in message and "max_wait_minutes=120" in message


def test_spot_max_wait_must_cover_max_run():
    assert "must be >= max_run_minutes" in _error(spot=True, max_run_minutes=60, max_wait_minutes=30)


def test_max_wait_without_spot_is_rejected():
    assert "only to spot" in _error(max_wait_minutes=30)


@pytest.mark.parametrize("uri", ["bucket/path", "s3:/bucket", "s3://B/x", "https://bucket/x"])
def test_s3_uris_must_be_well_formed(uri):
    assert "is not an S3 URI" in _error(channels={"train": uri})
    assert "is not an S3 URI" in _error(output_path=uri)


@pytest.mark.parametrize("name", ["bad name", "x" * 65, "a.b", ""])
def test_hyperparameter_names_must_be_valid_parameter_names(name):
    assert "not a valid pipeline parameter name" in _error(hyperparameters={name: 1})


@pytest.mark.parametrize("name", ["InstanceType", "ExtraArgs", "Env_X", "cvl_preset"])
def test_reserved_hyperparameter_names_are_rejected(name):
    assert "reserved" in _error(hyperparameters={name: 1})


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, None])
def test_hyperparameter_values_must_be_scalar(value):
    _error(hyperparameters={"lr": value})


def test_unknown_fields_are_rejected():
    assert "Extra inputs are not permitted" in _error(instance_typo="ml.m5.xlarge")


def test_paths_must_stay_inside_the_example():
    with pytest.raises(ValidationError, match="relative to the example folder"):
        Checkpoint(dir="../elsewhere")
    with pytest.raises(ValidationError, match="relative to the example folder"):
        Prepare(command=["x"], creates="/abs/path")


def test_presets_are_frozen():
    preset = Preset(command=["python", "train.py"])
    with pytest.raises(ValidationError):
        preset.instance_count = 3  # type: ignore[misc]


@pytest.mark.parametrize("name", ["smoke", "train"])
def test_nanogpt_presets_round_trip_through_json(name):
    preset = declared_presets()["nanogpt"][name]
    again = Preset.model_validate_json(preset.model_dump_json())
    assert again == preset
    assert again.model_dump_json() == preset.model_dump_json()


def test_nanogpt_presets_resume_from_and_keep_the_log_dir():
    for preset in declared_presets()["nanogpt"].values():
        assert "--log_dir=logs" in preset.command
        assert preset.checkpoint is not None and preset.checkpoint.dir == "logs"
        assert preset.checkpoint.resume_args == ("--init_from=resume",)
        assert preset.keep == ("logs",)
        assert preset.prepare[0].creates == "data/shakespeare_char/train.bin"
    train = declared_presets()["nanogpt"]["train"]
    assert (train.instance_type, train.hyperparameters["max_iters"], train.spot) == (
        "ml.g5.xlarge",
        5000,
        True,
    )


def test_an_invalid_preset_module_is_bad_input_naming_the_file(tmp_path, monkeypatch):
    import configs
    from configs import BadInput
    from configs.registry import declared_presets as registry

    broken = tmp_path / "zz_broken.py"
    broken.write_text(
        "from configs.preset import Preset\nPRESETS = {'x': Preset(command=['python'], instance_type='g5')}\n"
    )
    monkeypatch.setattr(configs, "__path__", [*configs.__path__, str(tmp_path)])
    registry.cache_clear()
    try:
        with pytest.raises(BadInput, match=r"configs/zz_broken.py: instance_type: .*ml.<family>.<size>"):
            registry()
    finally:
        registry.cache_clear()
