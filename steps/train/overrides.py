"""`Overrides`: the pipeline parameter values one execution is started with, parsed and validated once.

`run --set NAME=VALUE`, `run -- ARGS`, `run --local` and the Python runner all build one `Overrides`
against the pipeline's `ParameterSpec`s; everything downstream (the local preflight, the local
executor, StartPipelineExecution) receives it, never a loose dict. `check_value` is the one place a
value is judged: names, types, emptiness, the instance type's shape, S3 URIs, the `ExtraArgs` list.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from configs import BadInput, Preset, credentials
from configs.preset import INSTANCE_TYPE_PATTERN, S3_URI_PATTERN
from steps.train.parameters import ParameterSpec, parse_override

ParameterValue = bool | int | float | str
_PYTHON_TYPES: dict[str, type[ParameterValue]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": bool,
}
EXTRA_ARGS = "ExtraArgs"


def _closest(name: str, specs: Iterable[ParameterSpec]) -> str:
    """The few parameters nearest to a mistyped `name` (difflib's ratio, case aside), with their types."""
    by_lower = {spec.name.lower(): spec for spec in specs}
    nearest = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.0)
    return ", ".join(f"{by_lower[key].name} ({by_lower[key].type})" for key in nearest)


def check_value(spec: ParameterSpec, value: ParameterValue) -> None:
    """Raise `BadInput` (one line, with the fix) when `value` is not acceptable for `spec`'s parameter.

    The single place a parameter value is judged; checks on values (e.g. for credentials) belong here.
    """
    if spec.type == "String" and value == "":  # SageMaker rejects empty parameter values
        raise BadInput(f"{spec.name}= is empty: give it a value")
    if spec.name == "InstanceType" and not INSTANCE_TYPE_PATTERN.match(str(value)):
        raise BadInput(
            f"InstanceType {value!r} is not a SageMaker instance type: use ml.<family>.<size>, e.g. ml.g5.xlarge"
        )
    if spec.name == "InstanceCount" and int(value) < 1:
        raise BadInput(f"InstanceCount {value} must be at least 1")
    if (spec.name == "OutputPath" or spec.name.startswith("Input_")) and not S3_URI_PATTERN.match(str(value)):
        raise BadInput(f"{spec.name} {value!r} is not an S3 URI: use s3://<bucket>/<prefix>")
    if spec.name == EXTRA_ARGS and not _is_json_string_list(str(value)):
        raise BadInput('ExtraArgs must be a JSON list of strings, e.g. ["--seed=1"] (or use -- ARGS)')


def refuse_credentials(spec: ParameterSpec, value: Any) -> None:
    """`BadInput` naming the parameter (never the value) when `value` looks like a credential.

    Runs on the value as given, before it is typed: a type error message would quote it.
    """
    if not isinstance(value, str):
        return
    if spec.name == EXTRA_ARGS and _is_json_string_list(value):
        credentials.check_arguments(EXTRA_ARGS, json.loads(value))
    else:
        credentials.check_value(spec.name, value, spec.name)


def _is_json_string_list(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _typed(spec: ParameterSpec, value: Any) -> ParameterValue:
    """`value` as the parameter's Python type; text is parsed, other types must already match."""
    expected = _PYTHON_TYPES[spec.type]
    if isinstance(value, str) and expected is not str:
        try:
            return parse_override(spec, value)
        except ValueError:
            raise BadInput(f"{spec.name}={value!r}: {spec.name} is of type {spec.type}") from None
    if expected is float and type(value) is int:
        return float(value)
    if type(value) is not expected:
        raise BadInput(f"{spec.name}={value!r}: {spec.name} is of type {spec.type}")
    return value


class Overrides(BaseModel):
    """Parameter values for one execution, by parameter name, typed as the pipeline declares them.

    Build it with `parse` (command-line text) or `from_values` (Python values); both validate every
    name and value against the pipeline's parameters, so an `Overrides` is always valid.
    """

    # Errors never quote the input: a refused value may be a credential.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    values: dict[str, ParameterValue] = {}

    @field_validator("values", mode="before")
    @classmethod
    def _against_specs(cls, values: Mapping[str, Any], info: ValidationInfo) -> dict[str, ParameterValue]:
        specs: list[ParameterSpec] | None = (info.context or {}).get("specs")
        if specs is None:
            raise ValueError(
                "Overrides are validated against the pipeline's parameters: use parse/from_values"
            )
        by_name = {spec.name: spec for spec in specs}
        typed: dict[str, ParameterValue] = {}
        for name, value in values.items():
            if name not in by_name:
                raise BadInput(f"{name}: no such parameter; the closest: {_closest(name, specs)}")
            refuse_credentials(by_name[name], value)
            typed[name] = _typed(by_name[name], value)
            check_value(by_name[name], typed[name])
        if "OutputPath" in typed:
            typed["OutputPath"] = str(typed["OutputPath"]).rstrip("/")
        return typed

    @classmethod
    def from_values(cls, specs: Sequence[ParameterSpec], values: Mapping[str, Any]) -> Overrides:
        """Overrides from Python values by parameter name (None values are left out)."""
        present = {name: value for name, value in values.items() if value is not None}
        try:
            return cls.model_validate({"values": present}, context={"specs": list(specs)})
        except ValidationError as error:  # pydantic wraps the validator's BadInput: unwrap it
            raise BadInput(str(error.errors()[0].get("ctx", {}).get("error", error))) from None

    @classmethod
    def parse(
        cls, specs: Sequence[ParameterSpec], assignments: Sequence[str], extra_args: Sequence[str] = ()
    ) -> Overrides:
        """Overrides from `--set NAME=VALUE` texts and the `-- ARGS` passed to the training command."""
        values: dict[str, Any] = {}
        for assignment in assignments:
            name, equals, text = assignment.partition("=")
            if not equals:
                raise BadInput(f"--set {assignment!r} is not NAME=VALUE (e.g. --set InstanceCount=2)")
            values[name] = text
        if extra_args:
            credentials.check_arguments("-- ARGS", extra_args)
            values[EXTRA_ARGS] = json.dumps(list(extra_args))
        try:
            return cls.from_values(specs, values)
        except BadInput as error:
            raise BadInput(f"--set {error}") from None

    def get(self, name: str) -> ParameterValue | None:
        """The overridden value of one parameter, or None."""
        return self.values.get(name)

    def as_parameters(self) -> list[dict[str, str]]:
        """StartPipelineExecution's `PipelineParameters` (values as strings, Booleans as true/false)."""
        return [{"Name": name, "Value": parameter_text(value)} for name, value in self.values.items()]

    def applied_to(self, preset: Preset) -> Preset:
        """The preset as this execution runs it (instance type, count, output path): what preflight checks."""
        update = {
            field: self.values[name]
            for name, field in (
                ("InstanceType", "instance_type"),
                ("InstanceCount", "instance_count"),
                ("OutputPath", "output_path"),
            )
            if name in self.values
        }
        return preset.replace(**update) if update else preset


def parameter_text(value: ParameterValue) -> str:
    """A parameter value as the service takes it (Boolean parameters as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
