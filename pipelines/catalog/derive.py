"""Presets derived from an example's own preset scripts (the `docker run` each one makes).

Rules, in order: normalise the declared preset (`configs.example.DeclaredPreset`); skip `build`,
servers (published ports, detached runs, `serve`/`demo`/`stop`) and missing scripts; walk the script
as bash would (`pipelines.catalog.bash.interpret`) with the preset's environment first and its arguments
as `$@`; the last `docker run` is the command, earlier ones prepare steps (`Prepare(command,
creates=...)` when a missing-file test guards them); `/workspace` and `/cvlization_repo` become the
code folder. Host secrets the script forwards (`-e HF_TOKEN`) leave the environment: they become secret
references by convention (`secrets: {HF_TOKEN: cvl/HF_TOKEN}`, read from Secrets Manager when the job
starts) and are named in `forwarded_secrets`.
"""

from __future__ import annotations

import os
import shlex
from typing import NamedTuple

from pydantic import ValidationError

from configs import BadInput, Example, Preset
from configs.credentials import secret_id_for
from configs.example import DeclaredPreset, max_run_for
from configs.preset import Prepare
from pipelines.catalog.bash.interpret import Call, walk
from pipelines.catalog.bash.lexer import ShellSyntaxError
from pipelines.catalog.bash.words import UNKNOWN, USER_ARGS, known, looks_secret, secrets_in
from pipelines.catalog.docker_run import DockerRun, docker_run_at, gpu_count, parse_docker_run, size_gb
from pipelines.catalog.image_facts import ImageFacts, choose_instance, image_facts
from pipelines.catalog.paths import OutsideExample, PathMap
from pipelines.catalog.runtime import (
    Flag,
    host_folders,
    host_paths_in,
    image_workdir,
    missing_files,
    runtime_of,
)
from steps.train.factory import container_preset_json

SERVER_PRESETS = ("serve", "demo", "stop")
_HOST_PROGRAMS = frozenset(
    {"python", "python3", "uv", "pip", "pip3", "streamlit", "jupyter", "conda", "poetry"}
)
# The job sets these itself: the code folder (with the shipped package) is on PYTHONPATH, and CVL's
# I/O folders point into the job's model artifacts and input channel, not at host mounts.
_SET_BY_THE_JOB = frozenset({"PYTHONPATH", "CVL_INPUTS", "CVL_OUTPUTS", "CVL_WORK_DIR"})
_PREPARE_MARKER = ".cvl/always-prepare-{}"  # never created: an unguarded earlier run prepares every time


class Derived(NamedTuple):
    """A declared preset as this tool runs it (`preset`), or why it cannot (`reason`)."""

    name: str
    preset: Preset | None
    reason: str = ""
    source: str = ""
    forwarded_secrets: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()


class _NotDerivable(Exception):
    """The preset cannot be run as a training job; the message says why."""


def derive_presets(example: Example) -> list[Derived]:
    """Every declared preset of `example`, derived or with the reason it is not offered."""
    return [derive_one(example, name, declared) for name, declared in example.presets.items()]


def derive_one(example: Example, name: str, declared: DeclaredPreset) -> Derived:
    """One declared preset, derived from its script (or its `command:` field)."""
    try:
        return _derive(example, name, declared)
    except _NotDerivable as why:
        return Derived(name, None, str(why))


def _derive(example: Example, name: str, declared: DeclaredPreset) -> Derived:
    script = declared.script
    if name == "build" or name.startswith("build-") or (script or "").startswith("build"):
        raise _NotDerivable("builds the image on the host (the BuildImage step builds it)")
    if name.startswith(SERVER_PRESETS):
        raise _NotDerivable(f"runs a server or stops one ({name}), not a training job")
    description = declared.description or f"{script or declared.command} (derived)"
    if script is None:
        if not declared.command:
            raise _NotDerivable("declares neither a script nor a command")
        command = shlex.split(declared.command) + list(declared.args)
        facts = image_facts(example.path)
        flags = missing_files(command, example.path, None, False)
        preset = _preset(example, name, description, command, facts=facts)
        return Derived(name, preset, source="example.yaml command", flags=tuple(flags))
    path = example.path / script
    if not path.is_file():
        raise _NotDerivable(f"its script {script} is not in the example folder")
    if path.suffix != ".sh" and not path.read_bytes().startswith(b"#!/bin/bash") and path.suffix:
        raise _NotDerivable(f"its script {script} is not a shell script (it runs on the host)")
    try:
        state = walk(
            path, example.path, example.repo_root, declared.env | declared.script_env, list(declared.args)
        )
    except (ShellSyntaxError, RecursionError, UnicodeDecodeError) as error:
        raise _NotDerivable(f"{script} cannot be read as bash: {error}") from None
    runs = [
        (call, parse_docker_run(call.argv, at)) for call in state.calls if (at := docker_run_at(call.argv))
    ]
    if not runs:
        raise _NotDerivable(_no_docker_run(script, state.calls, state.problems))
    (main_call, main), earlier = runs[-1], runs[:-1]
    if main is None:
        raise _NotDerivable(f"{script} line {main_call.line}: a docker run without an image")
    if main.published or main.detached:
        raise _NotDerivable(
            f"runs a server ({'publishes ' + ', '.join(main.published) if main.published else 'detached'})"
        )
    _check_image(example, main.image)
    warnings: list[str] = []
    secrets: list[str] = []
    paths = _paths(example, main)
    try:
        workdir = paths.set_workdir(main.workdir if main.workdir and known(main.workdir) else None)
        command = _command(main, main_call, paths, secrets, warnings)
        prepare = [
            _prepare(example, call, run, index, main, workdir, secrets, warnings)
            for index, (call, run) in enumerate(earlier)
        ]
    except OutsideExample as error:
        raise _NotDerivable(str(error)) from None
    runtime = runtime_of(main, paths)
    environment = _environment(main, paths, secrets, warnings)
    if runtime.pythonpath and runtime.pythonpath != ".":
        environment["PYTHONPATH"] = runtime.pythonpath
    facts = image_facts(example.path)
    flags = [
        *runtime.flags,
        *missing_files(command, example.path, workdir, bool(prepare)),
    ]
    flags += image_workdir(main, paths)
    # Folders the script made in the example folder before its docker run (`mkdir -p outputs`).
    prepare = host_folders(state.calls[: state.calls.index(main_call)], paths, workdir) + prepare
    gpus = max(example.resources.gpu, gpu_count(main.gpus))
    references = {name: secret_id_for(name) for name in dict.fromkeys(secrets)}
    preset = _preset(
        example,
        name,
        description,
        command,
        prepare,
        environment,
        gpus,
        workdir,
        references,
        runtime.mounts,
        facts,
        size_gb(main.shm_size),
    )
    return Derived(
        name,
        preset,
        source=f"derived from {script}",
        forwarded_secrets=tuple(dict.fromkeys(secrets)),
        warnings=tuple(warnings),
        flags=tuple(flags),
    )


def _no_docker_run(script: str, calls: list[Call], problems: list[str]) -> str:
    if problems:
        return problems[0]
    host = next((call for call in calls if os.path.basename(call.argv[0]) in _HOST_PROGRAMS), None)
    if host:
        return f"runs on the host ({' '.join(host.argv[:3])[:60]}), not in the example's image"
    return f"{script} runs no `docker run` in the example's image"


def _check_image(example: Example, image: str) -> None:
    """An upstream image (`org/name:tag`) that is not the example's own cannot be built from its Dockerfile."""
    if "/" not in image or not known(image):
        return
    own = {example.name, example.path.name, example.image.split(":")[0].rsplit("/", 1)[-1]}
    if image.split(":")[0].rsplit("/", 1)[-1] not in own:
        raise _NotDerivable(f"runs the upstream image {image}, not one built from the example's Dockerfile")


def _paths(example: Example, run: DockerRun, workdir: str | None = None) -> PathMap:
    """The path map of one docker run: its mounts whose sources are known here."""
    mounts = tuple((source, target) for source, target in run.mounts if known(source) and known(target))
    paths = PathMap(example.path, example.repo_root, mounts)
    paths.workdir = workdir
    return paths


def _command(
    run: DockerRun, call: Call, paths: PathMap, secrets: list[str], warnings: list[str]
) -> list[str]:
    fields = ([run.entrypoint] if run.entrypoint else []) + list(run.command)
    if not fields:
        raise _NotDerivable(
            f"{call.script.name} line {call.line}: runs the image's default command (name one)"
        )
    if fields[0].startswith("-"):
        raise _NotDerivable(
            f"{call.script.name} line {call.line}: passes only arguments to the image's own entrypoint"
        )
    if USER_ARGS in fields[:-1]:
        warnings.append(
            'the user\'s -- ARGS are appended at the end of the command, not where the script puts "$@"'
        )
    fields = [field for field in fields if field != USER_ARGS]
    if any(USER_ARGS in field for field in fields):
        warnings.append('"$@" sits inside a quoted string of the command: the user\'s -- ARGS go at its end')
        fields = [field.replace(USER_ARGS, "") for field in fields]
    if not fields:
        raise _NotDerivable(
            f"{call.script.name} line {call.line}: the command in the image is the user's -- ARGS"
        )
    for field in fields:
        if secrets_in(field):
            raise _NotDerivable(f"passes the host secret {secrets_in(field)[0]} on the command line")
        if UNKNOWN in field:
            raise _NotDerivable(
                f"{call.script.name} line {call.line}: the command depends on a value known only when the script runs"
            )
    return [paths.field(field) for field in fields]


def _prepare(
    example: Example,
    call: Call,
    run: DockerRun | None,
    index: int,
    main: DockerRun,
    workdir: str | None,
    secrets: list[str],
    warnings: list[str],
) -> Prepare:
    if run is None or run.image != main.image:
        raise _NotDerivable(f"{call.script.name} line {call.line}: an earlier docker run uses another image")
    command = _command(run, call, _paths(example, run, workdir), secrets, warnings)
    creates = _PREPARE_MARKER.format(index)
    if call.guard:  # a guard is always a file of the example folder
        creates = os.path.relpath(call.guard, example.path.resolve())
    return Prepare(command=tuple(command), creates=creates)


def _environment(run: DockerRun, paths: PathMap, secrets: list[str], warnings: list[str]) -> dict[str, str]:
    environment: dict[str, str] = {}
    for name, value in run.env:
        if value is None or secrets_in(value) or looks_secret(name):
            if looks_secret(name) or (value and secrets_in(value)):
                secrets.append(name)
                warnings.append(
                    f"host secret {name} is read from Secrets Manager secret {secret_id_for(name)} (create it once)"
                )
            else:
                warnings.append(f"host variable {name} is not passed on (set it in the sagemaker: block)")
            continue
        if name in _SET_BY_THE_JOB:
            continue
        if not known(value):
            warnings.append(f"{name} depends on the host when the script runs; left out")
            continue
        try:
            environment[name] = paths.field(value)
        except OutsideExample as error:
            warnings.append(f"{name} left out: {error}")
    return environment


def _preset(
    example: Example,
    name: str,
    description: str,
    command: list[str],
    prepare: list[Prepare] | None = None,
    environment: dict[str, str] | None = None,
    gpus: int = 0,
    workdir: str | None = None,
    secrets: dict[str, str] | None = None,
    mounts: dict[str, str] | None = None,
    facts: ImageFacts | None = None,
    shm_size_gb: int | None = None,
) -> Preset:
    resources = example.resources
    if gpus > resources.gpu:
        # The script asks for more GPUs than example.yaml: its vram_gb stays the total it declares.
        resources = resources.replace(gpu=gpus)
    try:
        instance_type = choose_instance(resources, facts)
    except ValueError as error:
        raise _NotDerivable(str(error)) from None
    try:
        preset = Preset(
            description=" ".join(description.split())[:300],
            command=tuple(command),
            prepare=tuple(prepare or ()),
            environment=environment or {},
            secrets=secrets or {},
            # The scripts forward them only when set on the host: a missing secret leaves them unset.
            optional_secrets=tuple(sorted(secrets or {})),
            instance_type=instance_type,
            volume_size_gb=max(resources.disk_gb, 30),
            max_run_minutes=max_run_for(name),
            workdir=workdir,
            mounts=mounts or {},
            shm_size_gb=shm_size_gb,
        )
        text = container_preset_json(preset)
    except ValidationError as error:
        raise _NotDerivable(f"{error.errors()[0]['msg']}") from None
    except BadInput as error:
        raise _NotDerivable(str(error)) from None
    leaked = host_paths_in(text, example.path, example.repo_root)
    if leaked:
        raise _NotDerivable(
            f"the job would receive this machine's path {leaked[0]} (the script builds it from its own "
            "location): a definition must not hold host paths"
        )
    return preset
