"""Local stand-ins for our own processing containers, which talk to AWS when they run on SageMaker.

Preflight re-validates the preset it was given and reports the AWS checks as skipped. BuildImage takes
the build context from the local S3 folder (as CodeBuild would), checks its digest, and reports the
image it would build: `local/<repository>:<tag>`, built with Docker when an engine answers, and in any
case registered with the client so the training job runs on that context.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from configs import Preset
from pipelines.local.jobs import Job, JobFailed
from pipelines.local.processes import run_streamed
from pipelines.local.processing import Handler, argument, outputs_of
from pipelines.local.store import split_uri
from steps.build_image.factory import RESULT_FILE, RESULT_OUTPUT
from steps.build_image.job.context import archive_digest
from steps.common.run_facts import PRESET_FILE, RUN_FACTS_FILE, RunFacts, RunFactsError
from steps.preflight.job.checks import CHECKS
from steps.preflight.job.container import RESULT_FILE as PREFLIGHT_RESULT_FILE
from steps.preflight.job.container import RESULT_OUTPUT as PREFLIGHT_RESULT_OUTPUT
from steps.preflight.job.container import execution_preset, parse_arguments
from steps.preflight.job.prices import estimate_preset

DOCKER_TIMEOUT_SECONDS = 15


def _bundle(job: Job, command: list[str]) -> tuple[Path, RunFacts]:
    bundle = job.local(argument(command, "--bundle"))
    try:
        return bundle, RunFacts.read(bundle / RUN_FACTS_FILE)
    except RunFactsError as error:
        raise JobFailed(f"the step bundle's run facts: {error}") from None


def local_preflight(job: Job, command: list[str], host: Any) -> None:
    """Check what needs no AWS (the preset with the execution's values, re-validated as the container
    would); skip the rest."""
    bundle, facts = _bundle(job, command)
    say = lambda text: host.events.job_log(job.name, text)  # noqa: E731
    try:
        arguments = parse_arguments(command[command.index("--bundle") :])
        preset = Preset.model_validate(
            execution_preset(json.loads((bundle / PRESET_FILE).read_text()), arguments)
        )
    except (OSError, ValueError) as error:
        raise JobFailed(f"Preflight failed: [preset] {str(error).splitlines()[0]}") from None
    checkpoint = f"checkpoints in {preset.checkpoint.dir}" if preset.checkpoint else "no checkpoint folder"
    say(f"preset    PASS     {preset.instance_type} x{preset.instance_count}, {checkpoint}")
    say(f"cost      {estimate_preset(preset.model_dump()).line().removeprefix('cost: ')}")
    if preset.spot:
        say("spot      NOTE     a local run is never interrupted; rerun with the same --output-dir to resume")
    skipped = ", ".join(name for name, _, _ in CHECKS)
    say(f"aws       SKIPPED  {skipped}: need an AWS account")
    say(
        f"          run them: python -m pipelines.preflight --example {facts.example} --preset {facts.preset}"
    )
    # No quota here to fall back from: Train runs on the execution's own type, as the real step says.
    _write_result(
        job, PREFLIGHT_RESULT_OUTPUT, PREFLIGHT_RESULT_FILE, {"instance_type": preset.instance_type}
    )


def _write_result(job: Job, output: str, name: str, payload: dict[str, Any]) -> None:
    """Write a processing job's property file where SageMaker would upload it from."""
    found = next((o for o in outputs_of(job) if o["OutputName"] == output), None)
    if found is None:
        raise JobFailed(f"the {job.name} job has no {output!r} output")
    target = job.local(found["S3Output"]["LocalPath"]) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload))


def docker_engine() -> str | None:
    """The docker CLI when an engine answers `docker info`, else None."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        answered = subprocess.run([docker, "info"], capture_output=True, timeout=DOCKER_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if answered.returncode == 0 else None


def _docker_build(job: Job, docker: str, image: str, context: Path, host: Any) -> tuple[bool, str]:
    inspect = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True
    )
    if inspect.returncode == 0:
        return True, inspect.stdout.strip()
    with zipfile.ZipFile(context) as archive:
        archive.extractall(job.root / "context")
    finished = run_streamed(
        [docker, "build", "-t", image, str(job.root / "context")],
        cwd=job.root,
        env=dict(host.base_env),
        on_line=lambda line: host.events.job_log(job.name, line),
    )
    if finished.code != 0:
        raise JobFailed(
            f"docker build of {image} failed (exit code {finished.code}): " + "\n".join(finished.tail[-5:])
        )
    built = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True
    )
    return False, built.stdout.strip()


def local_build_image(job: Job, command: list[str], host: Any) -> None:
    """Fetch and verify the context, report (and with Docker, build) the image, write `build.json`."""
    _, facts = _bundle(job, command)
    context_uri, digest = argument(command, "--context-uri"), argument(command, "--context-digest")
    try:
        data = host.s3.read(*split_uri(context_uri))
    except FileNotFoundError as error:
        raise JobFailed(str(error)) from None
    if archive_digest(data) != digest:
        raise JobFailed(f"build context {context_uri} does not have digest {digest}")
    context = job.root / "context.zip"
    context.write_bytes(data)
    with zipfile.ZipFile(context) as archive:
        files = len(archive.namelist())
    if facts.image is None:
        raise JobFailed(f"the step bundle's {RUN_FACTS_FILE} names no image: upsert the pipeline again")
    image = f"local/{facts.repository}:{facts.image.image_tag}"
    say = lambda text: host.events.job_log(job.name, text)  # noqa: E731
    say(f"context   {files} files, {len(data) / 1e6:.1f} MB zipped, sha256 {digest[:12]}")
    docker = docker_engine()
    if docker is None:
        cached, build_id = False, None
        say(f"image     {image} (not built: no Docker engine; the local run uses the context itself)")
    else:
        cached, build_id = _docker_build(job, docker, image, context, host)
        say(f"image     {image} ({'cached' if cached else 'built'} with Docker)")
    _write_result(
        job, RESULT_OUTPUT, RESULT_FILE, {"image_uri": image, "cached": cached, "build_id": build_id}
    )
    host.register_image(image, context)


HANDLERS: dict[str, Handler] = {
    "steps.preflight.job.container": local_preflight,
    "steps.build_image.job.container": local_build_image,
}
