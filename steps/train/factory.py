"""The Train TrainingStep: `ModelTrainer` (SDK v3) from a preset, its image read from BuildImage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configs import BadInput, DeployTarget, Preset
from steps.common.limits import HYPERPARAMETER_LIMIT
from steps.sdk.retries import TRAINING_RETRY, sdk_policies
from steps.train.job.mounts import PRESET_HYPERPARAMETER
from steps.train.metrics import metric_definitions
from steps.train.parameters import ParameterSpec

STEP_NAME = "Train"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
# CreateTrainingJob takes at most 100 hyperparameters; the preset may use this many of them.
MAX_PRESET_PARTS = 8


def sdk_parameters(specs: list[ParameterSpec]) -> dict[str, Any]:
    """SDK pipeline parameter objects for the specs, by name."""
    from sagemaker.core.workflow.parameters import (
        ParameterBoolean,
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )

    classes = {
        "String": ParameterString,
        "Integer": ParameterInteger,
        "Float": ParameterFloat,
        "Boolean": ParameterBoolean,
    }
    return {spec.name: classes[spec.type](name=spec.name, default_value=spec.default) for spec in specs}


def container_preset_json(preset: Preset) -> str:
    """The preset as the training entry point receives it (compact JSON), within what its hyperparameters
    can carry (`MAX_PRESET_PARTS` values of `HYPERPARAMETER_LIMIT` characters each)."""
    text = preset.model_dump_json(exclude={"description", "tags", "gate"})
    limit = HYPERPARAMETER_LIMIT * MAX_PRESET_PARTS
    if len(text) > limit:
        raise BadInput(
            f"the preset is {len(text)} characters as JSON; its hyperparameters carry at most {limit} "
            f"({MAX_PRESET_PARTS} x SageMaker's {HYPERPARAMETER_LIMIT} per hyperparameter): shorten "
            "its command, prepare steps or hyperparameters"
        )
    return text


def preset_hyperparameters(preset: Preset) -> dict[str, str]:
    """The preset JSON as hyperparameters: `cvl_preset`, and for a long one (a script's whole `bash -c`
    program) `cvl_preset_2`, `cvl_preset_3`, ...: SageMaker limits each value (`HYPERPARAMETER_LIMIT`), and the
    entry point joins the parts in order."""
    text = container_preset_json(preset)
    size = HYPERPARAMETER_LIMIT
    parts = [text[start : start + size] for start in range(0, len(text), size)]
    return {
        PRESET_HYPERPARAMETER if index == 1 else f"{PRESET_HYPERPARAMETER}_{index}": part
        for index, part in enumerate(parts, start=1)
    }


def train_step(
    *,
    pipeline_name: str,
    instance_type: Any,
    preset: Preset,
    parameters: dict[str, Any],
    image_uri: Any,
    target: DeployTarget,
    session: Any,
    depends_on: list[Any],
    tags: Mapping[str, str],
) -> Any:
    """The TrainingStep for a preset on `instance_type` (an expression: Preflight's choice), spot,
    checkpoints, output, hyperparameters, `tags`."""
    from sagemaker.core.shapes import MetricDefinition, Tag
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow import TrainingStep
    from sagemaker.train import ModelTrainer

    output_path = parameters["OutputPath"]
    # CreateTrainingJob takes hyperparameters as strings; Std:Join renders a typed parameter as one.
    hyperparameters: dict[str, Any] = {
        name: Join(on="", values=[parameters[name]]) for name in preset.hyperparameters
    }
    hyperparameters.update(preset_hyperparameters(preset))
    hyperparameters["cvl_extra_args"] = parameters["ExtraArgs"]
    checkpoint = None
    if preset.checkpoint is not None:
        checkpoint = CheckpointConfig(
            s3_uri=Join(
                on="/", values=[output_path, "checkpoints", ExecutionVariables.PIPELINE_EXECUTION_ID]
            ),
            local_path=CHECKPOINT_LOCAL_PATH,
        )
    stopping = StoppingCondition(
        max_runtime_in_seconds=preset.max_run_minutes * 60,
        max_wait_time_in_seconds=preset.max_wait_minutes * 60
        if preset.spot and preset.max_wait_minutes
        else None,
    )
    compute = Compute(
        instance_type=instance_type,
        instance_count=parameters["InstanceCount"],
        volume_size_in_gb=preset.volume_size_gb,
        enable_managed_spot_training=preset.spot or None,
        keep_alive_period_in_seconds=preset.keep_alive_minutes * 60 or None,
    )
    environment: dict[str, Any] = {name: parameters[f"Env_{name}"] for name in preset.environment}
    if preset.secrets:
        # Where the entry point reads the secrets (Secrets Manager in the pipeline's region).
        environment.setdefault("AWS_DEFAULT_REGION", target.region)
    trainer = ModelTrainer(
        training_image=image_uri,
        role=target.role_arn,
        sagemaker_session=session,
        base_job_name=pipeline_name[:39],
        compute=compute,
        stopping_condition=stopping,
        checkpoint_config=checkpoint,
        output_data_config=OutputDataConfig(s3_output_path=output_path),
        input_data_config=[
            InputData(channel_name=name, data_source=parameters[f"Input_{name}"]) for name in preset.channels
        ]
        or None,
        hyperparameters=hyperparameters,
        environment=environment,
        tags=[Tag(key=key, value=value) for key, value in sorted(tags.items())],
    ).with_metric_definitions(
        [MetricDefinition(name=name, regex=regex) for name, regex in metric_definitions(preset).items()]
    )
    return TrainingStep(
        name=STEP_NAME,
        step_args=trainer.train(),
        display_name="Train",
        description=f"{preset.instance_type} x{preset.instance_count}" + (" (spot)" if preset.spot else ""),
        depends_on=depends_on,
        retry_policies=sdk_policies(TRAINING_RETRY),
    )
