"""The training entry point: turns a SageMaker training job's config into the example's command.

Copied into the training image as the folder /opt/cvl/cvl_entry (its ENTRYPOINT runs the folder) and run
the same way by `pipelines.run --local`. Standard library only, Python >= 3.8: it runs with whatever
Python the example's image has.

Reads `<ml>/input/config/hyperparameters.json` (`cvl_preset` and its parts, `cvl_extra_args`, one value
per preset hyperparameter) and `resourceconfig.json`; links the preset's mount points to the code dir
(`mounts`); runs the prepare commands and the command in the code dir (or the preset's `workdir` in it),
once per host or under torchrun (`distribution`); links the checkpoint folder to `<ml>/checkpoints`, adding the resume
switch only when a checkpoint is there; copies the kept folders, and every file the command created or
changed in the code dir, into the model dir; on failure writes `<ml>/output/failure` and exits with the
command's code. `<ml>` is `CVL_ML_ROOT` (default /opt/ml), the code dir `CVL_CODE_DIR` (default: the
working directory).
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

from .command import (
    DEFAULT_MASTER_PORT,
    count_gpus,
    cvl_environment,
    distributed_command,
    hyperparameter_args,
    link_checkpoints,
    read_resources,
    resume_args,
    shown,
    sm_environment,
)
from .log import log
from .mounts import (
    link_mounts,
    pop_preset_text,
    python_path,
    runs_under_torchrun,
    shared_memory_note,
    unlink_mounts,
)
from .outputs import destination, fail, failure_reason, keep_changes, keep_folders, snapshot
from .secrets_manager import SecretError, read_secrets
from .supervise import Supervisor


def read_config(root: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The hyperparameter values, the preset and the extra arguments; OSError/KeyError/ValueError when
    the job's config is unreadable."""
    with open(os.path.join(root, "input", "config", "hyperparameters.json")) as handle:
        values = json.load(handle)
    preset = json.loads(pop_preset_text(values))
    extra = json.loads(values.pop("cvl_extra_args", None) or "[]")
    return values, preset, [str(arg) for arg in extra]


def job_environment(
    root: str,
    code_dir: str,
    resources: dict[str, Any],
    gpus: int,
    values: dict[str, Any],
    preset: dict[str, Any],
) -> dict[str, str]:
    """The commands' environment (secrets aside): ours, SageMaker's, CVL's, then the preset's (ours wins)."""
    env = dict(os.environ)
    env.update(sm_environment(root, resources, gpus, values, preset))
    env.update(cvl_environment(root, code_dir, env))
    env.update({str(k): str(v) for k, v in preset.get("environment", {}).items() if k not in os.environ})
    # The code dir first, then the script's entries (a vendored tree: relative to the code dir).
    script_path = preset.get("environment", {}).get("PYTHONPATH")
    env["PYTHONPATH"] = python_path(code_dir, script_path, os.environ.get("PYTHONPATH"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def main(argv: list[str] | None = None) -> int:
    """Run the training job described by the `/opt/ml` tree; returns the exit code.

    SageMaker starts the image with the argument `train`, which is accepted and ignored.
    """
    root = os.environ.get("CVL_ML_ROOT", "/opt/ml")
    code_dir = os.path.abspath(os.environ.get("CVL_CODE_DIR") or os.getcwd())
    supervisor = Supervisor()
    supervisor.install()
    try:
        values, preset, extra = read_config(root)
    except (OSError, KeyError, ValueError) as error:
        return fail(root, f"cvl entry point: unreadable job config: {error!r}", 1)

    resources = read_resources(root)
    gpus = count_gpus(dict(os.environ))
    env = job_environment(root, code_dir, resources, gpus, values, preset)
    try:
        secrets = read_secrets(preset, dict(os.environ))
    except (SecretError, OSError, ValueError) as error:
        return fail(root, f"cvl entry point: {error}", 1)
    supervisor.mask_values(secrets.values())
    env.update(secrets)
    # The script's mount points (/workspace ...) as links to the code dir; a local run removes its own.
    on_sagemaker = "CVL_ML_ROOT" not in os.environ
    made, notes = link_mounts(preset.get("mounts") or {}, code_dir, on_sagemaker)
    for note in [*notes, shared_memory_note(preset)]:
        if note:
            log(note)
    try:
        return _train(root, code_dir, preset, values, extra, resources, gpus, env, supervisor)
    finally:
        if not on_sagemaker:
            unlink_mounts(made)


def _train(
    root: str,
    code_dir: str,
    preset: dict[str, Any],
    values: dict[str, Any],
    extra: list[str],
    resources: dict[str, Any],
    gpus: int,
    env: dict[str, str],
    supervisor: Supervisor,
) -> int:
    """The prepare steps, then the command; the outputs kept; returns the exit code."""
    work_dir = os.path.join(code_dir, preset.get("workdir") or "")

    for step in preset.get("prepare", []):
        if not os.path.exists(os.path.join(code_dir, step["creates"])):
            log(f"prepare: {' '.join(step['command'])}")
            code, tail = supervisor.stream(step["command"], work_dir, env)
            if code != 0:
                what = f"prepare `{' '.join(step['command'])}`"
                return fail(root, failure_reason(what, code, tail, supervisor.stopped_by), code)

    if supervisor.stopped_by is not None:
        stopped = supervisor.stopped_by
        return fail(root, f"stopped by {signal.Signals(stopped).name} before training", 128 + stopped)
    checkpoint_dir = os.path.join(root, "checkpoints")
    link_checkpoints(preset, code_dir, checkpoint_dir)
    command = list(preset["command"]) + hyperparameter_args(preset, values)
    command += resume_args(preset, checkpoint_dir) + extra
    # One process, as `docker run` ran it, unless the preset asks for torchrun (and the command does not
    # launch its own): a single-GPU or inference command is never wrapped.
    procs = 1
    if runs_under_torchrun(preset, command):
        procs = int(os.environ.get("CVL_NUM_PROCESSES") or max(1, gpus))
        port = os.environ.get("CVL_MASTER_PORT") or DEFAULT_MASTER_PORT
        command = distributed_command(command, resources, procs, port)
    log(
        f"{len(resources['hosts'])} host(s) x {procs} process(es), {gpus} GPU(s) on {resources['current_host']}"
    )
    log(f"running: {' '.join(command)}")
    before = snapshot(code_dir)
    code, tail = supervisor.stream(command, work_dir, env)
    if code != 0:
        return fail(root, failure_reason(f"`{shown(command)}`", code, tail, supervisor.stopped_by), code)
    keep_folders(preset, code_dir, env["SM_MODEL_DIR"])
    changed = keep_changes(before, code_dir, env["SM_MODEL_DIR"])
    if changed:
        where = destination(env["SM_MODEL_DIR"], env["SM_MODEL_DIR"])
        log(f"kept {changed} file(s) the run wrote in its folder -> {where}")
    return 0
