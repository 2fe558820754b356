"""The training entry point: turns a SageMaker training job's config into the example's command.

Baked into the training image as /opt/cvl/entry.py (its ENTRYPOINT) and run by `pipelines.run --local`.
Standard library only, Python >= 3.8: it runs with whatever Python the example's image has.

Reads `<ml>/input/config/hyperparameters.json` (`cvl_preset`, `cvl_extra_args`, one value per preset
hyperparameter) and `resourceconfig.json`; runs the prepare commands and the command in the code dir
with SageMaker's `SM_*` variables; links the checkpoint folder to `<ml>/checkpoints`, adding the resume
switch only when a checkpoint is there; copies the kept folders into the model dir; on failure writes
`<ml>/output/failure` and exits with the command's code. `<ml>` is `CVL_ML_ROOT` (default /opt/ml),
the code dir `CVL_CODE_DIR` (default: the working directory).

Processes: one per GPU of the host (`CVL_NUM_GPUS`, else `nvidia-smi -L`), at least one;
`CVL_NUM_PROCESSES` overrides the count (the local runner uses it to play several instances on one
machine). When hosts x processes > 1 the command runs under `python -m torch.distributed.run`.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

LOG_PREFIX = "cvl-entry:"
FAILURE_LIMIT = 1024  # SageMaker truncates FailureReason at 1024 characters
TAIL_LINES = 40
# Written to <ml>/output/data (uploaded as output.tar.gz) when the job fails: the exit code as data.
EXIT_RECORD = "cvl-exit.json"
DEFAULT_MASTER_PORT = "29500"

_child: subprocess.Popen | None = None
_stopped_by: int | None = None


def log(message: str) -> None:
    """Print one line of the entry point's own output, marked so it stands out in the job log."""
    print(f"{LOG_PREFIX} {message}", flush=True)


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


def _forward(signum: int, _frame: Any) -> None:
    global _stopped_by
    # A second stop request means the first was not enough: kill the command outright.
    forwarded = signal.SIGKILL if _stopped_by is not None else signum
    _stopped_by = _stopped_by or signum
    if _child is not None and _child.poll() is None:
        try:
            os.killpg(_child.pid, forwarded)
        except (ProcessLookupError, PermissionError):
            pass


def stream(command: list[str], cwd: str, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run `command`, copying its output (stdout and stderr) to ours line by line.

    Returns its exit code (128 + N when killed by signal N) and the last lines it printed.
    """
    global _child
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    # Its own process group, so a forwarded signal reaches torchrun's workers and shell children too.
    _child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=os.setpgrp
    )
    assert _child.stdout is not None
    for raw in iter(_child.stdout.readline, b""):
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    code = _child.wait()
    _child = None
    return (128 - code if code < 0 else code), list(tail)


def failure_reason(what: str, code: int, tail: list[str]) -> str:
    """`what exited with code N` plus as many of the last log lines as fit SageMaker's limit."""
    head = f"{what} exited with code {code}"
    if _stopped_by is not None:
        head += f" (stopped by {signal.Signals(_stopped_by).name})"
    lines: list[str] = []
    budget = FAILURE_LIMIT - len(head) - 16
    for line in reversed(tail):
        if len(line) + 1 > budget:
            if not lines:  # the last line alone is too long: keep its end, where errors usually are
                lines.append("..." + line[-(budget - 4) :])
            break
        lines.insert(0, line)
        budget -= len(line) + 1
    return "\n".join([head, *lines])


def fail(root: str, reason: str, code: int) -> int:
    """Write `reason` to `<ml>/output/failure` (SageMaker's FailureReason) and `{"exit_code": code}` to
    `<ml>/output/data/cvl-exit.json` (where `run` reads the code), and return `code`."""
    os.makedirs(os.path.join(root, "output", "data"), exist_ok=True)
    with open(os.path.join(root, "output", "failure"), "w") as handle:
        handle.write(reason[:FAILURE_LIMIT])
    with open(os.path.join(root, "output", "data", EXIT_RECORD), "w") as handle:
        json.dump({"exit_code": code}, handle)
    log(reason.splitlines()[0])
    return code


def keep_folders(preset: dict[str, Any], code_dir: str, model_dir: str) -> None:
    """Copy each kept folder of the code dir into the model dir, under its own name."""
    os.makedirs(model_dir, exist_ok=True)
    for folder in preset.get("keep", []):
        source = os.path.join(code_dir, folder)
        if not os.path.isdir(source):
            log(f"warning: kept folder {folder} does not exist; nothing copied")
            continue
        target = os.path.join(model_dir, os.path.basename(folder.rstrip("/")))
        shutil.copytree(source, target, dirs_exist_ok=True)
        log(f"kept {folder} -> {target}")


def main(argv: list[str] | None = None) -> int:
    """Run the training job described by the `/opt/ml` tree; returns the exit code.

    SageMaker starts the image with the argument `train`, which is accepted and ignored.
    """
    root = os.environ.get("CVL_ML_ROOT", "/opt/ml")
    code_dir = os.path.abspath(os.environ.get("CVL_CODE_DIR") or os.getcwd())
    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    try:
        with open(os.path.join(root, "input", "config", "hyperparameters.json")) as handle:
            values = json.load(handle)
        preset = json.loads(values.pop("cvl_preset"))
        extra = json.loads(values.pop("cvl_extra_args", None) or "[]")
    except (OSError, KeyError, ValueError) as error:
        return fail(root, f"cvl entry point: unreadable job config: {error!r}", 1)

    resources = read_resources(root)
    gpus = count_gpus(dict(os.environ))
    procs = int(os.environ.get("CVL_NUM_PROCESSES") or max(1, gpus))
    env = dict(os.environ)
    env.update(sm_environment(root, resources, gpus, values, preset))
    env.update({str(k): str(v) for k, v in preset.get("environment", {}).items() if k not in os.environ})
    env["PYTHONUNBUFFERED"] = "1"

    for step in preset.get("prepare", []):
        if not os.path.exists(os.path.join(code_dir, step["creates"])):
            log(f"prepare: {' '.join(step['command'])}")
            code, tail = stream(step["command"], code_dir, env)
            if code != 0:
                return fail(root, failure_reason(f"prepare `{' '.join(step['command'])}`", code, tail), code)

    if _stopped_by is not None:
        return fail(root, f"stopped by {signal.Signals(_stopped_by).name} before training", 128 + _stopped_by)
    checkpoint_dir = os.path.join(root, "checkpoints")
    link_checkpoints(preset, code_dir, checkpoint_dir)
    command = list(preset["command"]) + hyperparameter_args(preset, values)
    command += resume_args(preset, checkpoint_dir) + [str(arg) for arg in extra]
    port = os.environ.get("CVL_MASTER_PORT") or DEFAULT_MASTER_PORT
    command = distributed_command(command, resources, procs, port)
    hosts = len(resources["hosts"])
    log(f"{hosts} host(s) x {procs} process(es), {gpus} GPU(s) on {resources['current_host']}")
    log(f"running: {' '.join(command)}")
    code, tail = stream(command, code_dir, env)
    if code != 0:
        return fail(root, failure_reason(f"`{' '.join(preset['command'])}`", code, tail), code)
    keep_folders(preset, code_dir, env["SM_MODEL_DIR"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
