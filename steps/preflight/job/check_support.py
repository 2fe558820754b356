"""What every preflight check shares: its input, its result, the AWS clients and the error rules.

Stdlib and boto3 only: this runs inside SageMaker's sklearn processing image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from steps.common.aws import CANNOT_CONNECT, endpoint_override, error_lacks_api
from steps.common.errors import error_code, is_access_denied
from steps.common.messages import one_line
from steps.common.run_facts import RunFacts
from steps.preflight.job.alternatives import Alternative

Status = Literal["pass", "warn", "fail"]
T = TypeVar("T")

NOT_FOUND_CODES = frozenset({"404", "NoSuchBucket", "NotFound", "NoSuchEntity"})
RETRY_FIX = "check the credentials, region and network, then run preflight again"
MAX_THREADS = 16

# The IAM action behind each API a check calls, so an AccessDenied warn can name what to grant.
PERMISSION_OF_OPERATION = {
    "HeadBucket": "s3:ListBucket",
    "GetBucketLocation": "s3:GetBucketLocation",
    "ListServiceQuotas": "servicequotas:ListServiceQuotas",
    "ListAWSDefaultServiceQuotas": "servicequotas:ListAWSDefaultServiceQuotas",
    "ListTrainingJobs": "sagemaker:ListTrainingJobs",
    "DescribeTrainingJob": "sagemaker:DescribeTrainingJob",
    "GetRole": "iam:GetRole",
    "SimulatePrincipalPolicy": "iam:SimulatePrincipalPolicy",
    "GetCallerIdentity": "sts:GetCallerIdentity",
}


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: `status` is pass, warn or fail; `fix` says what to do (empty on pass)."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    alternatives: tuple[Alternative, ...] = ()  # the quota check's, when the chosen type has no room

    def as_dict(self) -> dict[str, object]:
        """The result as a JSON-ready dict."""
        found: dict[str, object] = {"name": self.name, "status": self.status, "detail": self.detail}
        found["fix"] = self.fix
        if self.alternatives:
            found["alternatives"] = [alternative.as_dict() for alternative in self.alternatives]
        return found


@dataclass(frozen=True)
class PreflightInput:
    """The run facts and the preset fields the checks read (plain data: no pydantic in the container)."""

    run: RunFacts
    instance_type: str
    instance_count: int = 1
    spot: bool = False
    max_run_minutes: int = 60
    max_wait_minutes: int | None = None
    output_path: str | None = None
    channels: Mapping[str, str] = field(default_factory=dict)
    has_checkpoint: bool = False
    secrets: tuple[tuple[str, str], ...] = ()
    optional_secrets: tuple[str, ...] = ()
    registers: bool = False  # a gated preset: its model is registered in a model package group

    @classmethod
    def from_run(cls, preset: Mapping[str, Any], facts: RunFacts) -> PreflightInput:
        """Build from a preset dict (`Preset.model_dump()` shape) and the run facts.

        Raises ValueError when the preset has no instance type.
        """
        if "instance_type" not in preset:
            raise ValueError("the preset lacks instance_type")
        return cls(
            run=facts,
            instance_type=str(preset["instance_type"]),
            instance_count=int(preset.get("instance_count", 1)),
            spot=bool(preset.get("spot", False)),
            max_run_minutes=int(preset.get("max_run_minutes", 60)),
            max_wait_minutes=preset.get("max_wait_minutes"),
            output_path=preset.get("output_path"),
            channels=dict(preset.get("channels") or {}),
            has_checkpoint=preset.get("checkpoint") is not None,
            secrets=tuple(sorted((str(k), str(v)) for k, v in (preset.get("secrets") or {}).items())),
            optional_secrets=tuple(str(name) for name in preset.get("optional_secrets") or ()),
            registers=preset.get("register") is not None,
        )

    @property
    def run_command(self) -> str:
        """The command that runs this example preset (what an alternative's line appends to)."""
        return f"python -m pipelines.run --example {self.run.example} --preset {self.run.preset}"

    @property
    def partition(self) -> str:
        """The ARN partition of the role (aws, aws-cn, aws-us-gov)."""
        parts = self.run.role_arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"


class Parallel:
    """Runs independent AWS calls together (threads: they wait on the network), or one after another."""

    def __init__(self, concurrent: bool = True) -> None:
        self.concurrent = concurrent

    def all(self, calls: list[Callable[[], T]]) -> list[T]:
        """Results of `calls` in their order; the first exception raised by a call is re-raised."""
        if not self.concurrent or len(calls) < 2:
            return [call() for call in calls]
        # A pool per fan-out, sized to it: nested fan-outs never wait on a full shared pool.
        with ThreadPoolExecutor(max_workers=min(len(calls), MAX_THREADS)) as pool:
            futures = [pool.submit(call) for call in calls]
            return [future.result() for future in futures]


@dataclass(frozen=True)
class Outcome:
    """A call's value, or the botocore error it raised (so one failed call does not hide the others)."""

    value: Any = None
    error: ClientError | BotoCoreError | None = None


def attempt(call: Callable[[], Any]) -> Callable[[], Outcome]:
    """`call` made to return an `Outcome` instead of raising a botocore error."""

    def run() -> Outcome:
        try:
            return Outcome(value=call())
        except (ClientError, BotoCoreError) as error:
            return Outcome(error=error)

    return run


@dataclass
class Context:
    """What a check gets: the input, boto3 clients made up front (clients are thread-safe, sessions are
    not), how to fan out calls, and whether the principal is the role (in the step) or the caller."""

    input: PreflightInput
    clients: Mapping[str, Any]
    parallel: Parallel
    in_step: bool = False

    def client(self, service: str) -> Any:
        """The boto3 client for `service`."""
        return self.clients[service]


def permission_of(error: ClientError) -> str:
    """The IAM action that would have allowed the refused call."""
    operation = error.operation_name
    return PERMISSION_OF_OPERATION.get(operation, operation)


def error_text(error: BaseException) -> str:
    """A one-line description of a botocore error, without a traceback."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message") or error_code(error)
        text = f"{error.operation_name}: {error_code(error)}: {one_line(str(message))}"
    else:
        text = one_line(str(error)) or type(error).__name__
    # One line, and short: it goes into a table and into a FailureReason (FAILURE_REASON_LIMIT).
    return one_line(text, 240)


def denied_result(name: str, error: ClientError, what: str) -> CheckResult:
    """The warn for a check that AWS would not let run: says which permission would let it `what`."""
    permission = permission_of(error)
    return CheckResult(
        name,
        "warn",
        f"could not check {what}: {permission} was denied",
        f"allow {permission} to the identity running preflight so it can check {what}",
    )


def guarded(
    name: str, check: Callable[[Context], CheckResult], what: str
) -> Callable[[Context], CheckResult]:
    """Wrap `check` so AccessDenied becomes a warn, an emulator's missing API a warn that says what was
    not checked, and any other botocore error a fail with its message. An endpoint that cannot be
    reached fails every check alike: that error is raised, for the caller to say once."""

    def run(context: Context) -> CheckResult:
        try:
            return check(context)
        except CANNOT_CONNECT:
            raise
        except (ClientError, ResponseParserError) as error:
            # ResponseParserError: a 5xx whose body is not the service's format (a proxy, an emulator).
            if error_lacks_api(error):
                operation = getattr(error, "operation_name", "")
                detail = f"{what} not checked: the emulator at {endpoint_override()} lacks {operation}"
                return CheckResult(name, "warn", detail, "check it against AWS")
            if isinstance(error, ClientError) and is_access_denied(error):
                return denied_result(name, error, what)
            return CheckResult(name, "fail", f"could not check {what}: {error_text(error)}", RETRY_FIX)
        except BotoCoreError as error:
            return CheckResult(name, "fail", f"could not check {what}: {error_text(error)}", RETRY_FIX)

    return run
