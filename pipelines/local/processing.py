"""Processing jobs on this machine: inputs copied from the local S3 folder into the job's
`/opt/ml/processing` tree, the job run, and its outputs copied back as an EndOfJob upload does.

Our own steps' containers (`python3 -m steps.<name>.container`) have local stand-ins
(`pipelines.local.builtin`); any other `python`/`python3` entry point runs as a process with this
interpreter; anything else needs its image, which a local run does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.local.jobs import AlgorithmError, Job, JobFailed
from pipelines.local.processes import run_streamed
from steps.common.limits import FAILURE_REASON_LIMIT

Handler = Callable[[Job, list[str], Any], None]
_PYTHONS = ("python", "python3")


def module_of(command: list[str]) -> str | None:
    """The module a `python -m <module> ...` command runs, else None."""
    if len(command) >= 3 and command[0].rsplit("/", 1)[-1] in _PYTHONS and command[1] == "-m":
        return command[2]
    return None


def argument(command: list[str], flag: str) -> str:
    """The value after `flag` in `command`; JobFailed when it is missing."""
    try:
        return command[command.index(flag) + 1]
    except (ValueError, IndexError):
        raise JobFailed(f"the job's command has no {flag} value: {' '.join(command)}") from None


def outputs_of(job: Job) -> list[dict[str, Any]]:
    """The job's ProcessingOutputs."""
    return list((job.request.get("ProcessingOutputConfig") or {}).get("Outputs") or [])


def run_processing_job(job: Job, host: Any, handlers: dict[str, Handler]) -> None:
    """Run one processing job in its tree; JobFailed with the FailureReason when it fails.

    `host` is the local client: its `s3`, `events`, `python` and `base_env` are used.
    """
    for item in job.request.get("ProcessingInputs") or []:
        source = item.get("S3Input")
        if source is None:
            raise JobFailed(f"input {item.get('InputName')}: only S3 inputs run locally")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise JobFailed(
                f"input {item.get('InputName')}: {source['S3DataType']} inputs do not run locally"
            )
        host.s3.download(source["S3Uri"], job.local(source["LocalPath"]))
    for output in outputs_of(job):
        job.local(output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)

    app = job.request["AppSpecification"]
    command = [
        str(part)
        for part in [*(app.get("ContainerEntrypoint") or []), *(app.get("ContainerArguments") or [])]
    ]
    handler = handlers.get(module_of(command) or "")
    if handler is not None:
        handler(job, command, host)
    elif command and command[0].rsplit("/", 1)[-1] in _PYTHONS:
        _run_python(job, command, host)
    else:
        raise JobFailed(
            f"{app.get('ImageUri')} with entry point {command[:1]} needs its image; a local run has no Docker"
        )

    for output in outputs_of(job):
        target = output["S3Output"]
        host.s3.upload(job.local(target["LocalPath"]), target["S3Uri"])


def _run_python(job: Job, command: list[str], host: Any) -> None:
    env = dict(host.base_env)
    env.update(
        {name: job.localize(str(value)) for name, value in (job.request.get("Environment") or {}).items()}
    )
    job.ml.mkdir(parents=True, exist_ok=True)
    finished = run_streamed(
        [host.python, *(job.localize(part) for part in command[1:])],
        cwd=job.root,
        env=env,
        on_line=lambda line: host.events.job_log(job.name, line),
        max_seconds=(job.request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"),
    )
    job.exit_code, job.tail = finished.code, finished.tail
    if finished.code != 0:
        message = job.ml / "output" / "message"
        reason = (
            message.read_text()[:FAILURE_REASON_LIMIT] if message.is_file() else "\n".join(finished.tail[-5:])
        )
        raise AlgorithmError(f"exit code {finished.code}: {reason}")
