"""Why a run failed, from what the service and the job left: the failure class, the lines that prove it,
and the fix as a command.

Pure: it reads an `Evidence` (the steps as ListPipelineExecutionSteps gives them, DescribeTrainingJob's
answer, the training log's last lines, the command's exit record) and touches nothing. The rules go
from the most specific to the most general, since one failure shows several symptoms (an out-of-memory
kill is also a non-zero exit).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from configs.instance_table import instance_rows
from steps.common.run_facts import InstanceFacts
from steps.common.statuses import ExecutionStatus
from steps.preflight.job.alternatives import candidates
from steps.register.factory import GATE_FAILED_STEP
from steps.sdk.retries import FAILURE_PATTERNS


class FailureClass(StrEnum):
    """The kinds of failure a user can act on, each with its own fix."""

    QUOTA = "quota"
    CAPACITY = "capacity"
    IMAGE_PULL = "image pull"
    NO_INTERPRETER = "no interpreter in the image"
    OUT_OF_MEMORY = "out of memory"
    MISSING_MODULE = "missing module"
    MISSING_SECRET = "missing secret"
    ACCESS_DENIED = "access denied"
    SPOT_WITHOUT_CHECKPOINT = "spot interruption without a checkpoint"
    TIME_LIMIT = "time limit reached"
    PREFLIGHT = "preflight"
    IMAGE_BUILD = "image build"
    COMMAND_EXIT = "the command's own non-zero exit"
    GATE = "the model missed its registration gate"
    STOPPED = "stopped"
    UNKNOWN = "unknown"


class Evidence(NamedTuple):
    """What a failed execution left behind (remote or local), as the service shapes it."""

    example: str
    preset: str
    status: str
    steps: tuple[dict[str, Any], ...] = ()
    training_job: dict[str, Any] | None = None
    log_lines: tuple[str, ...] = ()
    exit_code: int | None = None
    missing_module_hint: str | None = None  # from the example's Dockerfile, when the example is at hand

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """(step, FailureReason) of each failed step, then the training job's own reason."""
        found = [(str(s["StepName"]), str(s["FailureReason"])) for s in self.steps if s.get("FailureReason")]
        job_reason = (self.training_job or {}).get("FailureReason")
        if job_reason:
            found.append(("Train", str(job_reason)))
        return found

    @property
    def run_command(self) -> str:
        """The command that runs this example preset again."""
        return f"python -m pipelines.run --example {self.example} --preset {self.preset}"


class Diagnosis(NamedTuple):
    """A failure's class, the step it happened in, the lines that prove it, and the fix."""

    failure_class: FailureClass
    step: str
    evidence: tuple[str, ...]
    fix: str
    exit_code: int | None = None

    def lines(self) -> list[str]:
        """For people: the class and step, the proving lines, the fix."""
        head = f"diagnosis: {self.failure_class.value}" + (f" (in {self.step})" if self.step else "")
        if self.exit_code:
            head += f", exit code {self.exit_code}"
        return [head, *(f"  | {line}" for line in self.evidence), f"fix: {self.fix}"]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (`diagnose --json`)."""
        return {
            "class": self.failure_class.value,
            "step": self.step,
            "evidence": list(self.evidence),
            "fix": self.fix,
            "exit_code": self.exit_code,
        }


_EVIDENCE_LINES = 5
_DENIED = re.compile(r"(\S+) is not authorized to perform: ([\w:*-]+)(?: on resource: (\S+?))?[.,]?(?:\s|$)")
_SECRET = re.compile(r"secret (\S+?): ResourceNotFoundException|can't find the specified secret[^\n]*")
_QUOTA = re.compile(FAILURE_PATTERNS["SageMaker.RESOURCE_LIMIT"].pattern + r"|\[quota\]", re.IGNORECASE)
_CAPACITY = FAILURE_PATTERNS["SageMaker.CAPACITY_ERROR"]  # the retry policy's own words
_PULL = re.compile(
    r"CannotStartContainerError|Failed to pull|pull access denied|manifest unknown|image.*not found"
    r"|Requested image \S+ not found",
    re.IGNORECASE,
)
_INTERPRETER = re.compile(r"python3\"?: (executable file )?not found|No such file or directory: '?python3")
_CUDA_OOM = re.compile(r"CUDA out of memory|torch\.(cuda\.)?OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED")
_HOST_OOM = re.compile(r"\bMemoryError\b|Out of memory|OOMKilled|exited with code 137|\bKilled\b")
_MODULE = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z0-9_.]+)'")
_TIME = re.compile(r"MaxRuntimeExceeded|MaxRuntimeInSeconds|exceeded the maximum run ?time", re.IGNORECASE)
_SPOT = re.compile(r"spot.*interrupt|Interrupted|MaxWaitTimeExceeded|capacity was reclaimed", re.IGNORECASE)
_EXIT = re.compile(r"exited with code (\d+)")


def _matching(texts: Sequence[str], pattern: re.Pattern[str]) -> tuple[str, ...]:
    lines = [line.strip() for text in texts for line in text.splitlines() if pattern.search(line)]
    return tuple(lines[-_EVIDENCE_LINES:])


def _bigger(instance_type: str, *, gpu_memory: bool) -> str:
    """The cheapest listed type with more memory than `instance_type` (per GPU, or host RAM)."""
    table = [InstanceFacts.from_row(row) for row in instance_rows()]
    now = next((row for row in table if row.instance_type == instance_type), None)
    if now is None:
        return ""
    roomier = [
        row
        for row in candidates(instance_type, table)
        if (row.vram_gb_per_gpu > now.vram_gb_per_gpu if gpu_memory else row.ram_gb > now.ram_gb)
    ]
    return roomier[0].instance_type if roomier else ""


def _instance_of(evidence: Evidence) -> str:
    resources = (evidence.training_job or {}).get("ResourceConfig", {})
    return str(resources.get("InstanceType", ""))


def _step_of(evidence: Evidence, pattern: re.Pattern[str]) -> str:
    return next((step for step, reason in evidence.reasons if pattern.search(reason)), "Train")


Rule = Callable[[Evidence, list[str]], "Diagnosis | None"]


def _quota(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _QUOTA)
    if not found:
        return None
    fix = f"{e.run_command} --fallback (the cheapest type that fits and has room); or raise the quota: python -m pipelines.preflight --example {e.example} --preset {e.preset} prints the request"
    return Diagnosis(FailureClass.QUOTA, _step_of(e, _QUOTA), found, fix)


def _capacity(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _CAPACITY)
    if not found:
        return None
    others = [
        row.instance_type
        for row in candidates(_instance_of(e), [InstanceFacts.from_row(r) for r in instance_rows()])
    ]
    other = next((kind for kind in others if kind != _instance_of(e)), "")
    fix = "the Train step retried capacity errors with backoff; run again later"
    if other:
        fix += f", or on another type that fits: {e.run_command} --set InstanceType={other}"
    return Diagnosis(FailureClass.CAPACITY, _step_of(e, _CAPACITY), found, fix)


def _image_pull(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _PULL)
    fix = (
        f"build and push the image again: python -m pipelines.build --example {e.example} --preset {e.preset}"
    )
    return Diagnosis(FailureClass.IMAGE_PULL, "Train", found, fix) if found else None


def _interpreter(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _INTERPRETER)
    fix = "the image has no python3 for the entry point: install it in the example's Dockerfile (e.g. `RUN apt-get update && apt-get install -y python3`), then upsert again"
    return Diagnosis(FailureClass.NO_INTERPRETER, "Train", found, fix) if found else None


def _memory(e: Evidence, texts: list[str]) -> Diagnosis | None:
    gpu = _matching(texts, _CUDA_OOM)
    host = () if gpu else _matching(texts, _HOST_OOM)
    if not gpu and not host and e.exit_code != 137:
        return None
    bigger = _bigger(_instance_of(e), gpu_memory=bool(gpu))
    what = "GPU memory" if gpu else "host memory"
    fix = f"the command ran out of {what}: " + (
        f"{e.run_command} --set InstanceType={bigger}"
        if bigger
        else "lower the batch size (-- ARGS) or the model size"
    )
    return Diagnosis(FailureClass.OUT_OF_MEMORY, "Train", gpu or host, fix, e.exit_code)


def _module(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _MODULE)
    if not found:
        return None
    module = _MODULE.search(found[-1])
    name = module.group(1) if module else "?"
    fix = (
        e.missing_module_hint
        or f"the image lacks the module {name!r}: install its package in the example's Dockerfile, then upsert again"
    )
    return Diagnosis(FailureClass.MISSING_MODULE, "Train", found, fix, e.exit_code)


def _secret(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _SECRET)
    if not found:
        return None
    named = _SECRET.search(found[-1])
    secret = named.group(1) if named and named.group(1) else "<name>"
    fix = f"create the secret in this region: aws secretsmanager create-secret --name {secret} --secret-string '...' (Studio roles read secrets tagged SageMaker=true: add --tags Key=SageMaker,Value=true)"
    return Diagnosis(FailureClass.MISSING_SECRET, "Train", found, fix, e.exit_code)


def _denied(e: Evidence, texts: list[str]) -> Diagnosis | None:
    found = _matching(texts, _DENIED)
    if not found:
        return None
    match = _DENIED.search(found[-1])
    principal, action, resource = (
        (match.group(1), match.group(2), match.group(3) or "*") if match else ("?", "?", "*")
    )
    assumed = re.match(r"arn:aws[a-z-]*:sts::\d{12}:assumed-role/([^/]+)/", principal)
    who = f"the role {assumed.group(1)}" if assumed else principal  # a job's credentials are its role's
    fix = f"grant {action} on {resource} to {who}, then: python -m pipelines.preflight --example {e.example} --preset {e.preset}"
    return Diagnosis(FailureClass.ACCESS_DENIED, _step_of(e, _DENIED), found, fix, e.exit_code)


def _spot(e: Evidence, texts: list[str]) -> Diagnosis | None:
    job = e.training_job or {}
    if not job.get("EnableManagedSpotTraining") or job.get("CheckpointConfig"):
        return None
    found = _matching([*texts, str(job.get("SecondaryStatus", ""))], _SPOT)
    fix = "declare a checkpoint in the preset (checkpoint: {dir: <folder the code saves to>}) so an interruption resumes, or run on demand (spot: false)"
    return Diagnosis(FailureClass.SPOT_WITHOUT_CHECKPOINT, "Train", found, fix) if found else None


def _time(e: Evidence, texts: list[str]) -> Diagnosis | None:
    job = e.training_job or {}
    found = _matching([*texts, str(job.get("SecondaryStatus", ""))], _TIME)
    if not found:
        return None
    minutes = int(job.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 0)) // 60
    fix = f"the job hit its {minutes} min limit: raise max_run_minutes (example.yaml `sagemaker:` block or the preset), then upsert again"
    return Diagnosis(FailureClass.TIME_LIMIT, "Train", found, fix)


def _gate(e: Evidence, texts: list[str]) -> Diagnosis | None:
    for step, reason in e.reasons:
        if step == GATE_FAILED_STEP:
            fix = "training ran, its metric missed the preset's `register` gate: train longer or change the threshold"
            return Diagnosis(FailureClass.GATE, step, (reason.splitlines()[0],), fix)
    return None


def _step_failed(e: Evidence, texts: list[str]) -> Diagnosis | None:
    for step, reason in e.reasons:
        lines = tuple(reason.splitlines()[:_EVIDENCE_LINES])
        if step == "Preflight":
            return Diagnosis(
                FailureClass.PREFLIGHT,
                step,
                lines,
                f"python -m pipelines.preflight --example {e.example} --preset {e.preset} shows each check and its fix",
            )
        if step == "BuildImage":
            return Diagnosis(
                FailureClass.IMAGE_BUILD,
                step,
                lines,
                f"python -m pipelines.build --example {e.example} --preset {e.preset} builds it from here and shows the build log",
            )
    return None


def _command(e: Evidence, texts: list[str]) -> Diagnosis | None:
    exits = _matching(texts, _EXIT)
    code = e.exit_code or (int(m.group(1)) if exits and (m := _EXIT.search(exits[-1])) else None)
    if not code:
        return None
    tail = tuple(e.log_lines[-_EVIDENCE_LINES:]) or exits
    fix = f"the training command failed on its own (its last lines above); reproduce it here: {e.run_command} --local"
    return Diagnosis(FailureClass.COMMAND_EXIT, "Train", tail, fix, code)


# Most specific first: an out-of-memory kill is also a non-zero exit, a quota failure also fails a step.
RULES: tuple[Rule, ...] = (
    _gate,
    _quota,
    _capacity,
    _image_pull,
    _interpreter,
    _memory,
    _module,
    _secret,
    _denied,
    _spot,
    _time,
    _step_failed,
    _command,
)


def diagnose(evidence: Evidence) -> Diagnosis:
    """The first rule that recognises the failure, else `unknown` with the reasons as they were given."""
    texts = [reason for _, reason in evidence.reasons] + list(evidence.log_lines)
    for rule in RULES:
        found = rule(evidence, texts)
        if found is not None:
            return found
    if evidence.status == ExecutionStatus.STOPPED:
        return Diagnosis(
            FailureClass.STOPPED,
            "",
            (),
            "it was stopped (Ctrl-C, pipelines.stop or the console): run it again",
        )
    lines = tuple(text.splitlines()[0] for text in texts[:_EVIDENCE_LINES] if text)
    return Diagnosis(
        FailureClass.UNKNOWN,
        "",
        lines,
        f"read the whole log: python -m pipelines.status --example {evidence.example} --preset {evidence.preset}",
    )
