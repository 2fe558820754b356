"""The `Preset`: everything one training run of an example needs, as frozen, strict data."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from configs.credentials import SECRET_PREFIX, check_arguments, check_mapping, check_value
from configs.errors import BadInput, first_problem
from configs.metrics import DEFAULT_METRICS, check_metric

INSTANCE_TYPE_PATTERN = re.compile(r"^ml\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$")
PARAMETER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
S3_URI_PATTERN = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A Secrets Manager secret's name (1-512 of these characters), or its ARN.
SECRET_ID_PATTERN = re.compile(
    r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$"
)

# Names the pipeline itself uses; a hyperparameter may not shadow them.
RESERVED_PARAMETER_NAMES = frozenset({"InstanceType", "InstanceCount", "OutputPath", "ExtraArgs"})

# CreateModelPackageGroup's ModelPackageGroupName.
MODEL_PACKAGE_GROUP_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

HyperparameterValue = StrictBool | StrictInt | StrictFloat | StrictStr


def _relative_path(value: str) -> str:
    if not value or value.startswith("/") or ".." in value.split("/"):
        raise ValueError(f"path {value!r} must be relative to the example folder, without '..'")
    return value


RelativePath = Annotated[str, AfterValidator(_relative_path)]


class Frozen(BaseModel):
    """Base for config models: immutable (sequences are tuples), unknown keys rejected.

    Validation errors never quote the input: a preset may hold a value that must not be printed
    (a credential refused by `configs.credentials`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, validated as a new model is (pydantic's `model_copy(update=...)` is
        not: it would let a bad value, or a list, into a frozen model); `BadInput` names the problem."""
        try:
            return self.model_validate(self.model_dump() | changes)
        except ValidationError as error:
            raise BadInput(first_problem(error)) from None


class Prepare(Frozen):
    """A command run before training, skipped when `creates` already exists (e.g. data preparation)."""

    command: tuple[str, ...] = Field(min_length=1)
    creates: RelativePath


class Checkpoint(Frozen):
    """The folder the training code writes checkpoints to and resumes from.

    On SageMaker this folder is `/opt/ml/checkpoints` (synced to S3 by `CheckpointConfig`), so a spot
    interruption resumes; `resume_args` are added to the command only when `resume_marker` exists in it.
    """

    dir: RelativePath
    resume_marker: RelativePath = "*"
    resume_args: tuple[str, ...] = ()


class Register(Frozen):
    """Register the trained model in the Model Registry when its final `metric` passes a gate: at most
    `max`, or at least `min` (exactly one). `group`: the model package group (default `cvl-<example>`)."""

    group: StrictStr | None = None
    metric: StrictStr
    max: StrictInt | StrictFloat | None = None
    min: StrictInt | StrictFloat | None = None

    @field_validator("group")
    @classmethod
    def _group_name(cls, value: str | None) -> str | None:
        if value is not None and not MODEL_PACKAGE_GROUP_PATTERN.match(value):
            raise ValueError(
                f"register.group {value!r} is not a model package group name: 1-63 letters, digits, '-'"
            )
        if value is not None and not value.startswith("cvl-"):
            raise ValueError(
                f"register.group {value!r} must start with cvl-: the roles may register only in cvl-* groups"
            )
        return value

    @property
    def passes(self) -> str:
        """What passes the gate, as a comparison: `<= 1.5`, `>= 0.9`."""
        return f"<= {self.max}" if self.max is not None else f">= {self.min}"

    @model_validator(mode="after")
    def _one_threshold(self) -> Register:
        if (self.max is None) == (self.min is None):
            raise ValueError("register needs exactly one of max (register when <= max) or min (when >= min)")
        return self


class Preset(Frozen):
    """What one training run of an example needs.

    `hyperparameters`, `environment`, `channels`, the instance type and count and the output path become
    pipeline parameters (their values here are the defaults); the other fields are fixed when the
    pipeline is upserted because SageMaker does not accept pipeline variables for them.

    `mounts` are the mount points of the example's `docker run` (container path -> path in the code
    folder, `.` for the folder itself): the training entry point links each to the code, so the command
    finds `/workspace/...` as it did, and what it writes there is kept with the model. `distribution`:
    `none` runs the command once per host (as `docker run` did, the process seeing every GPU);
    `torchrun` runs one process per GPU under `torch.distributed.run`. `shm_size_gb` is the script's
    `--shm-size`: SageMaker takes no `docker run` options, so the job says when its /dev/shm is smaller.

    `secrets` maps an environment variable to a Secrets Manager secret (name under `cvl/`, or ARN): the
    definition holds only the secret's id; the training entry point reads the value when the job starts.
    A variable in `optional_secrets` is left unset when its secret cannot be read (as a host variable a
    CVlization script forwards only when set); any other unreadable secret fails the job at start.
    A value that looks like a credential anywhere else is refused (`configs.credentials`).
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, validate_by_name=True, serialize_by_alias=True
    )

    description: str = ""
    command: tuple[str, ...] = Field(min_length=1)
    workdir: RelativePath | None = None
    prepare: tuple[Prepare, ...] = ()
    hyperparameters: dict[str, HyperparameterValue] = {}
    argument_style: Literal["--key=value", "--key value"] = "--key=value"
    environment: dict[str, StrictStr] = {}
    secrets: dict[str, StrictStr] = {}
    optional_secrets: tuple[str, ...] = ()
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = Field(default=1, ge=1, le=100)
    # Runs started anywhere (Studio, a schedule) may take the cheapest type that fits when the chosen one
    # has no quota room: the Preflight step picks it and Train runs on it (pipeline parameter InstanceFallback).
    instance_fallback: bool = False
    volume_size_gb: int = Field(default=30, ge=1, le=16384)
    max_run_minutes: int = Field(default=60, ge=1, le=28 * 24 * 60)
    spot: bool = False
    max_wait_minutes: int | None = Field(default=None, ge=1, le=28 * 24 * 60)
    checkpoint: Checkpoint | None = None
    keep: tuple[RelativePath, ...] = ()
    mounts: dict[str, str] = {}
    distribution: Literal["none", "torchrun"] = "none"
    shm_size_gb: int | None = Field(default=None, ge=1)
    channels: dict[str, str] = {}
    output_path: str | None = None
    keep_alive_minutes: int = Field(default=0, ge=0, le=60)
    tags: dict[str, str] = {}
    # name -> regex (first group: the value) SageMaker reads from the log; added to DEFAULT_METRICS.
    metrics: dict[str, str] = {}
    # The model registered (PendingManualApproval) when the final value of one of those metrics passes.
    # Written `register` (the alias); the attribute is `gate`, as `register` would shadow BaseModel's.
    gate: Register | None = Field(default=None, alias="register")

    @field_validator("metrics")
    @classmethod
    def _metrics_sagemaker_takes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, regex in value.items():
            check_metric(name, regex)
        return value

    @field_validator("instance_type")
    @classmethod
    def _instance_type_shape(cls, value: str) -> str:
        if not INSTANCE_TYPE_PATTERN.match(value):
            raise ValueError(
                f"instance type {value!r} is not of the form ml.<family>.<size>, e.g. ml.g5.xlarge"
            )
        return value

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameter_names(cls, value: dict[str, HyperparameterValue]) -> dict[str, HyperparameterValue]:
        for name in value:
            if not PARAMETER_NAME_PATTERN.match(name):
                raise ValueError(
                    f"hyperparameter name {name!r} is not a valid pipeline parameter name: "
                    "use 1-64 letters, digits, '-' or '_'"
                )
            if name in RESERVED_PARAMETER_NAMES or name.startswith(("Env_", "Input_", "cvl_")):
                raise ValueError(f"hyperparameter name {name!r} is reserved by cvl-pipelines: rename it")
        check_mapping("hyperparameters", value)
        return value

    @field_validator("environment")
    @classmethod
    def _environment_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not ENV_NAME_PATTERN.match(name):
                raise ValueError(f"environment variable name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
        check_mapping("environment", value)
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_references(cls, value: dict[str, str]) -> dict[str, str]:
        for name, secret_id in value.items():
            if not ENV_NAME_PATTERN.match(name):
                raise ValueError(f"secrets: variable name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
            if not SECRET_ID_PATTERN.match(secret_id):
                raise ValueError(f"secrets.{name}: {secret_id!r} is not a Secrets Manager secret name or ARN")
            if not secret_id.split(":secret:")[-1].startswith(SECRET_PREFIX):
                raise ValueError(
                    f"secrets.{name}: {secret_id!r} is outside {SECRET_PREFIX}: the execution role reads "
                    f"only the project's secrets, named {SECRET_PREFIX}<name> (e.g. {SECRET_PREFIX}{name})"
                )
        return value

    @field_validator("mounts")
    @classmethod
    def _mount_points(cls, value: dict[str, str]) -> dict[str, str]:
        for target, source in value.items():
            if not target.startswith("/") or target in ("/", "/opt", "/opt/ml") or ".." in target.split("/"):
                raise ValueError(
                    f"mounts: {target!r} must be an absolute container path other than /, /opt, /opt/ml"
                )
            if target.startswith("/opt/ml/"):
                raise ValueError(f"mounts: {target!r} is inside /opt/ml, which SageMaker lays out")
            if source != ".":
                _relative_path(source)
        return value

    @field_validator("channels")
    @classmethod
    def _channel_uris(cls, value: dict[str, str]) -> dict[str, str]:
        for name, uri in value.items():
            if not re.match(r"^[A-Za-z0-9_-]{1,48}$", name):
                raise ValueError(f"channel name {name!r} must be 1-48 letters, digits, '-' or '_'")
            _check_s3_uri(uri, f"channel {name!r}")
        return value

    @field_validator("output_path")
    @classmethod
    def _output_uri(cls, value: str | None) -> str | None:
        if value is not None:
            _check_s3_uri(value, "output_path")
        return value

    @model_validator(mode="after")
    def _commands_without_credentials(self) -> Preset:
        # The commands travel in the definition too (the `cvl_preset` hyperparameter), the description
        # in the pipeline's.
        check_value("description", self.description)
        check_arguments("command", self.command)
        for index, step in enumerate(self.prepare):
            check_arguments(f"prepare[{index}].command", step.command)
        if self.checkpoint is not None:
            check_arguments("checkpoint.resume_args", self.checkpoint.resume_args)
        return self

    @model_validator(mode="after")
    def _gate_on_a_metric(self) -> Preset:
        if self.gate is not None:
            names = sorted(DEFAULT_METRICS | self.metrics)
            if self.gate.metric not in names:
                raise ValueError(
                    f"register.metric {self.gate.metric!r} is not one of the preset's metrics "
                    f"({', '.join(names)}): name one, or declare it under metrics"
                )
        return self

    @model_validator(mode="after")
    def _optional_secrets_are_secrets(self) -> Preset:
        unknown = sorted(set(self.optional_secrets) - set(self.secrets))
        if unknown:
            raise ValueError(
                f"optional_secrets names {', '.join(unknown)}, not in secrets: add it to secrets"
            )
        return self

    @model_validator(mode="after")
    def _secret_or_value(self) -> Preset:
        both = sorted(set(self.secrets) & set(self.environment))
        if both:
            raise ValueError(
                f"{', '.join(both)} is both in environment and in secrets: keep it in secrets only"
            )
        return self

    @model_validator(mode="after")
    def _spot_needs_max_wait(self) -> Preset:
        if self.spot:
            if self.max_wait_minutes is None:
                raise ValueError(
                    "spot training needs max_wait_minutes (>= max_run_minutes): "
                    f"set max_wait_minutes={self.max_run_minutes * 2}"
                )
            if self.max_wait_minutes < self.max_run_minutes:
                raise ValueError(
                    f"max_wait_minutes ({self.max_wait_minutes}) must be >= max_run_minutes "
                    f"({self.max_run_minutes}): a spot job waits for capacity and then runs"
                )
        elif self.max_wait_minutes is not None:
            raise ValueError("max_wait_minutes applies only to spot training: set spot=True or remove it")
        return self


def _check_s3_uri(uri: str, what: str) -> None:
    if not S3_URI_PATTERN.match(uri):
        raise ValueError(f"{what} {uri!r} is not an S3 URI: use s3://<bucket>/<prefix>")
