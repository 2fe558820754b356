"""What the job runs: the preset's command with its arguments, and the environment it runs in.

The command: the preset's, one argument per hyperparameter, the resume switch when a checkpoint is
there, the run's extra arguments; under `python -m torch.distributed.run` when hosts x processes > 1
(processes: one per GPU of the host, `CVL_NUM_GPUS`, else `nvidia-smi -L`, at least one;
`CVL_NUM_PROCESSES` overrides the count, as the local runner does to play several instances on one
machine). The environment: SageMaker's `SM_*` variables and CVL's (`CVL_OUTPUTS` in the model dir,
`CVL_INPUTS` at the input channel, the code dir first on `PYTHONPATH`).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from .log import log

DEFAULT_MASTER_PORT = "29500"
SHOWN_COMMAND_LIMIT = 600  # of FailureReason's 1024 characters; the rest is the log's tail


def render_value(raw: Any, default: Any) -> str:
    """A hyperparameter value as the command expects it, typed by the preset's default.

    SageMaker hands every value over as a string; a bool parameter may arrive as "true"/"false"
    (pipeline JSON) or "True"/"False", and is passed on as Python's `True`/`False`.
    """
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return "True"
        if lowered in ("false", "0", "no"):
            return "False"
    return text


def hyperparameter_args(preset: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """One argument per preset hyperparameter (preset order), in the preset's argument style."""
    args: list[str] = []
    for name, default in preset.get("hyperparameters", {}).items():
        value = render_value(values.get(name, default), default)
        if preset.get("argument_style", "--key=value") == "--key value":
            args += [f"--{name}", value]
        else:
            args.append(f"--{name}={value}")
    return args


def resume_args(preset: dict[str, Any], checkpoint_dir: str) -> list[str]:
    """The preset's resume switch when its resume marker (a glob) matches in the checkpoint folder."""
    checkpoint = preset.get("checkpoint")
    if not checkpoint or not checkpoint.get("resume_args"):
        return []
    found = glob.glob(os.path.join(checkpoint_dir, checkpoint.get("resume_marker") or "*"))
    if not found:
        return []
    log(f"checkpoint {os.path.basename(sorted(found)[0])} found: resuming with {checkpoint['resume_args']}")
    return list(checkpoint["resume_args"])


def link_checkpoints(preset: dict[str, Any], code_dir: str, checkpoint_dir: str) -> None:
    """Make `<code>/<checkpoint.dir>` a symlink to the folder SageMaker syncs (`<ml>/checkpoints`)."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    checkpoint = preset.get("checkpoint")
    if not checkpoint:
        return
    link = os.path.join(code_dir, checkpoint["dir"])
    if os.path.islink(link):
        os.unlink(link)
    elif os.path.exists(link):
        # A folder shipped in the image would shadow the synced checkpoints; keep it, out of the way.
        aside = f"{link}.from-image-{int(time.time())}"
        os.rename(link, aside)
        log(f"{checkpoint['dir']} existed in the image; moved to {os.path.basename(aside)}")
    os.makedirs(os.path.dirname(link) or ".", exist_ok=True)
    os.symlink(checkpoint_dir, link, target_is_directory=True)


def count_gpus(environ: dict[str, str]) -> int:
    """GPUs of this host: `CVL_NUM_GPUS`, else the lines of `nvidia-smi -L`, else 0."""
    if environ.get("CVL_NUM_GPUS"):
        return int(environ["CVL_NUM_GPUS"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))


def read_resources(root: str) -> dict[str, Any]:
    """`resourceconfig.json` (hosts, current_host), or a single `algo-1` host when it is absent."""
    path = os.path.join(root, "input", "config", "resourceconfig.json")
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {"current_host": "algo-1", "hosts": ["algo-1"]}


def distributed_command(command: list[str], resources: dict[str, Any], procs: int, port: str) -> list[str]:
    """`command` under torchrun when hosts x processes > 1, else `command` unchanged."""
    hosts = list(resources["hosts"])
    if len(hosts) * procs <= 1:
        return command
    # One host: rendezvous on loopback, so a local run needs no resolvable host name.
    master = hosts[0] if len(hosts) > 1 else "127.0.0.1"
    launcher = [
        "-m",
        "torch.distributed.run",
        f"--nnodes={len(hosts)}",
        f"--node_rank={hosts.index(resources['current_host'])}",
        f"--nproc_per_node={procs}",
        f"--master_addr={master}",
        f"--master_port={port}",
    ]
    if os.path.basename(command[0]).startswith("python"):
        return [command[0], *launcher, *command[1:]]
    return [sys.executable, *launcher, "--no-python", *command]


def sm_environment(
    root: str, resources: dict[str, Any], gpus: int, values: dict[str, Any], preset: dict[str, Any]
) -> dict[str, str]:
    """The `SM_*` variables SageMaker's training toolkit sets, for the tree rooted at `root`."""
    data_dir = os.path.join(root, "input", "data")
    channels = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
    hps = {name: values.get(name, default) for name, default in preset.get("hyperparameters", {}).items()}
    env = {
        "SM_MODEL_DIR": os.path.join(root, "model"),
        "SM_OUTPUT_DIR": os.path.join(root, "output"),
        "SM_OUTPUT_DATA_DIR": os.path.join(root, "output", "data"),
        "SM_OUTPUT_INTERMEDIATE_DIR": os.path.join(root, "output", "intermediate"),
        "SM_INPUT_DIR": os.path.join(root, "input"),
        "SM_INPUT_CONFIG_DIR": os.path.join(root, "input", "config"),
        "SM_CHECKPOINT_DIR": os.path.join(root, "checkpoints"),
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(hps),
        "SM_HOSTS": json.dumps(list(resources["hosts"])),
        "SM_CURRENT_HOST": resources["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": str(resources.get("current_instance_type", "local")),
        "SM_NETWORK_INTERFACE_NAME": str(resources.get("network_interface_name", "eth0")),
        "SM_NUM_GPUS": str(gpus),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_RESOURCE_CONFIG": json.dumps(resources),
    }
    for channel in channels:
        env[f"SM_CHANNEL_{channel.upper().replace('-', '_')}"] = os.path.join(data_dir, channel)
    return env


def cvl_environment(root: str, code_dir: str, environ: dict[str, str]) -> dict[str, str]:
    """CVL's I/O contract: `CVL_OUTPUTS` inside the model dir, `CVL_INPUTS` at the input channel (when
    there is one, or one named `inputs`/`training`), and the code folder (where the shipped `cvlization`
    package is) first on `PYTHONPATH`."""
    outputs = os.path.join(root, "model", "outputs")
    os.makedirs(outputs, exist_ok=True)
    env = {"CVL_OUTPUTS": outputs}
    data_dir = os.path.join(root, "input", "data")
    channels = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
    named = [name for name in ("inputs", "training", "train") if name in channels]
    chosen = channels[0] if len(channels) == 1 else (named[0] if named else None)
    if chosen:
        env["CVL_INPUTS"] = os.path.join(data_dir, chosen)
    existing = environ.get("PYTHONPATH")
    env["PYTHONPATH"] = code_dir + (os.pathsep + existing if existing else "")
    return env


def shown(command: list[str], limit: int = SHOWN_COMMAND_LIMIT) -> str:
    """The whole command as run (the bad argument is often the last one), its middle elided when long."""
    text = " ".join(command)
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + " ... " + text[-(limit - head - 5) :]
