"""The baseline: a bare SageMaker SDK v3 script that builds and upserts the same three-step pipeline.

What a user would write by hand (as in the SageMaker Projects seed code): two ProcessingSteps in
parallel, a TrainingStep on the image the second one reports, `Pipeline.upsert`. Same parameters, same
instance, spot, checkpoint and output settings as `cvl-nanogpt-train`. Each name given on the command
line is one such pipeline, upserted in turn by this one process (as a loop over a tree would).

    python benchmarks/bare_sdk_upsert.py NAME [NAME ...]
"""

import os
import sys

from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.telemetry import telemetry_logging
from sagemaker.core.training.configs import CheckpointConfig, Compute, OutputDataConfig, StoppingCondition
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import (
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import Pipeline, ProcessingStep, TrainingStep
from sagemaker.train import ModelTrainer

# Same as cvl-pipelines does: no telemetry request may leave this machine.
telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None

ROLE, BUCKET, REGION = (
    os.environ["SAGEMAKER_ROLE_ARN"],
    os.environ["SAGEMAKER_OUTPUT_BUCKET"],
    os.environ["AWS_DEFAULT_REGION"],
)
HYPERPARAMETERS = {
    "device": "cuda",
    "compile": True,
    "max_iters": 5000,
    "eval_interval": 250,
    "eval_iters": 200,
    "log_interval": 10,
    "batch_size": 64,
    "block_size": 256,
    "n_layer": 6,
    "n_head": 6,
    "n_embd": 384,
    "dropout": 0.2,
    "learning_rate": 1e-3,
    "warmup_iters": 100,
    "lr_decay_iters": 5000,
    "always_save_checkpoint": True,
    "wandb_log": False,
}


def parameter(name, value):
    kind = {bool: ParameterBoolean, int: ParameterInteger, float: ParameterFloat, str: ParameterString}[
        type(value)
    ]
    return kind(name=name, default_value=value)


session = PipelineSession(default_bucket=BUCKET)
image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def processing(name, outputs=None, property_files=None):
    processor = Processor(
        role=ROLE,
        image_uri=image,
        instance_count=1,
        instance_type="ml.t3.medium",
        entrypoint=["python3", "-m", f"steps.{name.lower()}.container"],
        sagemaker_session=session,
    )
    inputs = [
        ProcessingInput(
            input_name="code",
            s3_input=ProcessingS3Input(
                s3_uri=f"s3://{BUCKET}/code/",
                local_path="/opt/ml/processing/input/code",
                s3_data_type="S3Prefix",
            ),
        )
    ]
    return ProcessingStep(
        name=name, step_args=processor.run(inputs=inputs, outputs=outputs), property_files=property_files
    )


def upsert(name):
    params = {key: parameter(key, value) for key, value in HYPERPARAMETERS.items()}
    instance_type = ParameterString(name="InstanceType", default_value="ml.g5.xlarge")
    instance_count = ParameterInteger(name="InstanceCount", default_value=1)
    output_path = ParameterString(name="OutputPath", default_value=f"s3://{BUCKET}/nanogpt/train")
    result = PropertyFile(name="BuildResult", output_name="result", path="build.json")
    preflight = processing("Preflight")
    build = processing(
        "BuildImage",
        [
            ProcessingOutput(
                output_name="result",
                s3_output=ProcessingS3Output(
                    s3_uri=f"s3://{BUCKET}/build",
                    local_path="/opt/ml/processing/output/result",
                    s3_upload_mode="EndOfJob",
                ),
            )
        ],
        [result],
    )
    trainer = ModelTrainer(
        training_image=JsonGet(step_name="BuildImage", property_file=result, json_path="image_uri"),
        role=ROLE,
        sagemaker_session=session,
        base_job_name=name,
        compute=Compute(
            instance_type=instance_type,
            instance_count=instance_count,
            volume_size_in_gb=50,
            enable_managed_spot_training=True,
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=7200, max_wait_time_in_seconds=14400),
        checkpoint_config=CheckpointConfig(
            s3_uri=Join(on="/", values=[output_path, "checkpoints"]), local_path="/opt/ml/checkpoints"
        ),
        output_data_config=OutputDataConfig(s3_output_path=output_path),
        hyperparameters={key: Join(on="", values=[p]) for key, p in params.items()},
    )
    train = TrainingStep(name="Train", step_args=trainer.train(), depends_on=[preflight])
    pipeline = Pipeline(
        name=name,
        parameters=[instance_type, instance_count, output_path, *params.values()],
        steps=[preflight, build, train],
        sagemaker_session=session,
    )
    pipeline.upsert(role_arn=ROLE)
    print("upserted", pipeline.name)


for pipeline_name in sys.argv[1:] or ["bare-nanogpt-train"]:
    upsert(pipeline_name)
