"""`upsert --diff`: what an update changes, in words, from real compiled definitions; nothing sent with --dry-run."""

import boto3
import pytest

from configs import examples_root, resolve_target
from pipelines import catalog, upsert
from pipelines.define.compile import compile_staged
from pipelines.define.diff import definition_changes
from pipelines.define.staging import stage
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.pipelines.test_fingerprint import PIPELINE, account, examples  # noqa: F401 (fixtures)

# Each compiles pipelines with the SDK against the moto server.
pytestmark = pytest.mark.slow


def _compiled(preset):
    example, _ = catalog.resolve(examples_root(None), "nanogpt", "smoke")
    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, allow_placeholders=False)
    return compile_staged(stage(example, "smoke", preset, target))


def test_parameters_and_step_fields_that_change_are_named_with_old_and_new_values():
    example, smoke = catalog.resolve(examples_root(None), "nanogpt", "smoke")
    changed = smoke.model_copy(
        update={
            "volume_size_gb": smoke.volume_size_gb + 20,
            "hyperparameters": {**smoke.hyperparameters, "max_iters": 99, "new_knob": 3},
            "environment": {},
        }
    )
    before, after = _compiled(smoke), _compiled(changed)

    lines = definition_changes(before.definition, after.definition)

    assert "parameter added: new_knob (Integer, default 3)" in lines
    old_iters = smoke.hyperparameters["max_iters"]
    assert f"parameter max_iters: default {old_iters} -> 99" in lines
    volume = f"step Train: Arguments.ResourceConfig.VolumeSizeInGB: {smoke.volume_size_gb} -> {smoke.volume_size_gb + 20}"
    assert volume in lines
    # The preset travels as JSON in a hyperparameter: compared inside, field by field.
    assert any(
        line.startswith("step Train: Arguments.HyperParameters.cvl_preset.volume_size_gb:") for line in lines
    )
    assert definition_changes(before.definition, before.definition) == []


def test_removed_parameters_are_named():
    example, smoke = catalog.resolve(examples_root(None), "nanogpt", "smoke")
    fewer = smoke.model_copy(
        update={"hyperparameters": {k: v for k, v in smoke.hyperparameters.items() if k != "dropout"}}
    )

    lines = definition_changes(_compiled(smoke).definition, _compiled(fewer).definition)

    assert "parameter removed: dropout" in lines


def test_diff_dry_run_sends_nothing_then_diff_updates(account, examples, capsys):  # noqa: F811
    argv = ["--example", "tiny", "--preset", "train", "--examples-root", str(examples)]
    assert upsert.main(argv) == 0
    capsys.readouterr()
    sagemaker, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
    before = sagemaker.describe_pipeline(PipelineName=PIPELINE)
    objects = s3.list_objects_v2(Bucket=BUCKET)["KeyCount"]
    yaml = examples / "vision" / "tiny" / "example.yaml"
    yaml.write_text(yaml.read_text().replace("disk_gb: 50", "disk_gb: 80"))

    assert upsert.main([*argv, "--diff", "--dry-run"]) == 0
    shown = capsys.readouterr().out.splitlines()

    assert shown[0].startswith(f"{PIPELINE}: would update")
    assert "    step Train: Arguments.ResourceConfig.VolumeSizeInGB: 50 -> 80" in shown
    after = sagemaker.describe_pipeline(PipelineName=PIPELINE)
    assert after["LastModifiedTime"] == before["LastModifiedTime"]
    assert after["PipelineDefinition"] == before["PipelineDefinition"]
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == objects

    assert upsert.main([*argv, "--diff"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith(f"{PIPELINE}: updated")
    assert "    step Train: Arguments.ResourceConfig.VolumeSizeInGB: 50 -> 80" in shown
