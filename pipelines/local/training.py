"""Training jobs on this machine: the job's `/opt/ml` tree as SageMaker lays it out, the image's code
folder unpacked from the build context, and the image's entry point (the context's `cvl_entry/` folder) run with it.

Differences from SageMaker, by necessity: one host (`algo-1`) whose process count is InstanceCount x
max(1, GPUs here) (`CVL_NUM_PROCESSES`), so `InstanceCount=2` runs two processes under torchrun; the
image's `python` is the interpreter running this tool; the checkpoint folder is the run's
`--checkpoint-dir` (on SageMaker, CheckpointConfig's S3 URI); the model dir is moved to the output
folder instead of uploaded as model.tar.gz.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import zipfile
from pathlib import Path
from typing import Any

from pipelines.cli.command import shown_path
from pipelines.local.jobs import AlgorithmError, Job, JobFailed
from pipelines.local.processes import run_streamed
from steps.build_image.job.dockerfile import ENTRY_NAME
from steps.common.limits import FAILURE_REASON_LIMIT
from steps.train.job.command import count_gpus
from steps.train.metrics import MetricCollector

HOST = "algo-1"
# Variables a parent's own distributed run would leak into the job's torchrun.
_LEAKY = (
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "MASTER_ADDR",
    "MASTER_PORT",
    "CVL_NUM_PROCESSES",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(job: Job, name: str, content: Any) -> None:
    path = job.ml / "input" / "config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1))


def _channels(job: Job, host: Any) -> None:
    config = {}
    for channel in job.request.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        if uri.startswith("s3://") and host.s3.exists(uri):
            source = host.s3.path(uri)
        elif uri.startswith("file://") or uri.startswith("/"):
            source = Path(uri.removeprefix("file://"))
        else:
            raise JobFailed(
                f"channel {name}: {uri} is not available on this machine: "
                f"pass --set Input_{name}=/path/to/a/local/folder"
            )
        if not source.exists():
            raise JobFailed(f"channel {name}: {source} does not exist")
        target = job.ml / "input" / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source.resolve(), target_is_directory=source.is_dir())
        config[name] = {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
    _write_config(job, "inputdataconfig.json", config)


def prepare_tree(job: Job, host: Any) -> Path:
    """Lay out the job's /opt/ml tree and code folder; returns the code folder."""
    request = job.request
    image = request["AlgorithmSpecification"]["TrainingImage"]
    context = host.images.get(image)
    if context is None:
        raise JobFailed(f"image {image} was not built by this run's BuildImage step")
    code = job.local("/opt/cvl/code")
    with zipfile.ZipFile(context) as archive:
        archive.extractall(code)
    for folder in ("model", "output/data", "output/intermediate", "input/data"):
        (job.ml / folder).mkdir(parents=True, exist_ok=True)
    _write_config(job, "hyperparameters.json", request.get("HyperParameters") or {})
    resources = request["ResourceConfig"]
    _write_config(
        job,
        "resourceconfig.json",
        {
            "current_host": HOST,
            "current_instance_type": resources["InstanceType"],
            "current_group_name": "homogeneousCluster",
            "hosts": [HOST],
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": resources["InstanceType"],
                    "hosts": [HOST],
                }
            ],
            "network_interface_name": "lo",
        },
    )
    _channels(job, host)
    if request.get("CheckpointConfig"):
        host.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        local_path = job.local(request["CheckpointConfig"].get("LocalPath") or "/opt/ml/checkpoints")
        local_path.parent.mkdir(parents=True, exist_ok=True)
        local_path.symlink_to(host.checkpoint_dir.resolve(), target_is_directory=True)
    return code


def training_env(job: Job, host: Any, code: Path) -> dict[str, str]:
    """The job's environment: the user's, the request's, and where the tree is."""
    env = {name: value for name, value in host.base_env.items() if name not in _LEAKY}
    env.update({str(name): str(value) for name, value in (job.request.get("Environment") or {}).items()})
    processes = int(job.request["ResourceConfig"]["InstanceCount"]) * max(1, count_gpus(env))
    env.update(
        {
            "CVL_ML_ROOT": str(job.ml),
            "CVL_CODE_DIR": str(code),
            # Where the model dir ends up (the run's output folder), for the entry point's messages.
            "CVL_MODEL_DESTINATION": shown_path(host.output_dir / "model"),
            "CVL_NUM_PROCESSES": str(processes),
            "CVL_MASTER_PORT": str(_free_port()),
            "PYTHONUNBUFFERED": "1",
            "TRAINING_JOB_NAME": job.name,
            "TRAINING_JOB_ARN": job.describe()["TrainingJobArn"],
            # The image's `python` is, locally, the interpreter running this tool.
            "PATH": os.pathsep.join([str(Path(host.python).parent), env.get("PATH", "")]),
        }
    )
    return env


def run_training_job(job: Job, host: Any) -> None:
    """Run the training job; on success move its model dir to the run's output folder."""
    code = prepare_tree(job, host)
    # The job's MetricDefinitions, read from its log as SageMaker does: the final values are the job's.
    declared = (job.request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    metrics = MetricCollector({str(d["Name"]): str(d["Regex"]) for d in declared})

    def on_line(line: str) -> None:
        metrics.feed(line)
        host.events.job_log(job.name, line)

    finished = run_streamed(
        [host.python, str(code / ENTRY_NAME), "train"],
        cwd=code,
        env=training_env(job, host, code),
        on_line=on_line,
        max_seconds=(job.request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"),
    )
    job.extra["final_metrics"] = {name: points[-1].value for name, points in metrics.series().items()}
    job.exit_code, job.tail = finished.code, finished.tail
    if finished.code != 0:
        failure = job.ml / "output" / "failure"
        reason = (
            failure.read_text()[:FAILURE_REASON_LIMIT] if failure.is_file() else f"exit code {finished.code}"
        )
        if finished.timed_out:
            limit = job.request["StoppingCondition"]["MaxRuntimeInSeconds"]
            reason = f"MaxRuntimeExceeded: stopped after {limit} s"
        raise AlgorithmError(reason)
    model = host.output_dir / "model"
    if model.exists():
        shutil.rmtree(model)
    model.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(job.ml / "model"), model)
    output_data = job.ml / "output" / "data"
    if any(output_data.iterdir()):
        shutil.move(str(output_data), host.output_dir / "output")
    job.extra["model_dir"] = model
