"""Check each step's Arguments against botocore's model of the API the step calls, before anything is sent.

SageMaker only validates a step's arguments when the step runs, minutes into an execution. Here a
misspelled key, a missing required field, a value of the wrong type or length is caught at upsert.
Pipeline expressions stand for a value of the type they resolve to: `Get` of a parameter has that
parameter's type, `Std:Join` is a string, `Std:JsonGet` and step properties may be anything.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import botocore.session

from configs import BadInput

STEP_OPERATIONS = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "RegisterModel": "CreateModelPackage",
}
# Names the SDK leaves out of a definition because SageMaker fills them in at execution time.
FILLED_AT_EXECUTION = {"ProcessingJobName", "TrainingJobName"}
_PARAMETER_KINDS = {"String": "string", "Integer": "integer", "Float": "float", "Boolean": "boolean"}
_ANY = "any"


class DefinitionError(BadInput):
    """A step's arguments would be rejected by SageMaker; the message names the step and the field."""


@cache
def _sagemaker_model() -> Any:

    return botocore.session.get_session().get_service_model("sagemaker")


def validate_definition(definition: str | dict[str, Any], service_model: Any | None = None) -> None:
    """Raise `DefinitionError` for the first step argument that botocore's model rejects.

    `service_model` is botocore's SageMaker model (`client.meta.service_model`); passing the one a
    client already loaded saves parsing it again.
    """
    model = service_model or _sagemaker_model()
    document = json.loads(definition) if isinstance(definition, str) else definition
    parameter_kinds = {p["Name"]: _PARAMETER_KINDS[p["Type"]] for p in document.get("Parameters", [])}
    # A parameter's default is what a scheduled or plain run sends: it must fit where it is used.
    defaults = {p["Name"]: p["DefaultValue"] for p in document.get("Parameters", []) if "DefaultValue" in p}
    for step in _steps(document.get("Steps", [])):
        operation = STEP_OPERATIONS.get(step.get("Type", ""))
        if operation is None:
            continue
        shape = model.operation_model(operation).input_shape
        problems = list(_check(shape, step.get("Arguments", {}), "", (parameter_kinds, defaults), True))
        if problems:
            raise DefinitionError(f"step {step['Name']} ({operation}): {problems[0]}")


def _steps(steps: list[dict[str, Any]]) -> Any:
    """Every step, those a Condition step runs on either branch included."""
    for step in steps:
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments", {})
            yield from _steps(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))


def _expression_kind(value: Any, parameter_kinds: dict[str, str]) -> str | None:
    """The kind a pipeline expression resolves to, or None when `value` is not an expression."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((key, inner),) = value.items()
    if key == "Std:Join":
        return "string"
    if key == "Std:JsonGet":
        return _ANY
    if key == "Get" and isinstance(inner, str):
        if inner.startswith("Parameters."):
            return parameter_kinds.get(inner.removeprefix("Parameters."), "unknown parameter")
        if inner.startswith("Execution."):
            return "string"
        return _ANY
    return None


def _check(
    shape: Any, value: Any, path: str, parameters: tuple[dict[str, str], dict[str, Any]], top: bool = False
) -> Any:
    where = path or "Arguments"
    kinds, defaults = parameters
    expression = _expression_kind(value, kinds)
    if expression is not None:
        if expression == "unknown parameter":
            yield f"{where} refers to a parameter the pipeline does not declare"
        elif expression != _ANY and not _kind_fits(expression, shape.type_name):
            yield f"{where} is a pipeline {expression} but the API expects a {shape.type_name}"
        elif shape.type_name == "string" and str(value.get("Get", "")).startswith("Parameters."):
            name = value["Get"].removeprefix("Parameters.")
            if isinstance(defaults.get(name), str):
                yield from _length(shape, len(defaults[name]), f"{where} (parameter {name}'s default)")
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            yield f"{where} must be an object"
            return
        for name in shape.required_members:
            if name not in value and not (top and name in FILLED_AT_EXECUTION):
                yield f"{where}.{name} is required"
        for name, member in value.items():
            if name not in shape.members:
                yield f"{where}.{name} is not a field of {shape.name}"
            else:
                yield from _check(
                    shape.members[name], member, f"{path + '.' if path else ''}{name}", parameters
                )
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{where} must be a list"
            return
        yield from _length(shape, len(value), where)
        for index, item in enumerate(value):
            yield from _check(shape.member, item, f"{where}[{index}]", parameters)
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{where} must be a map"
            return
        yield from _length(shape, len(value), where)
        for key, item in value.items():
            yield from _check(shape.key, key, f"{where} key {key!r}", parameters)
            yield from _check(shape.value, item, f"{where}[{key!r}]", parameters)
    else:
        yield from _check_scalar(shape, value, where)


def _check_scalar(shape: Any, value: Any, where: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            yield f"{where} must be a string, got {type(value).__name__} {value!r}"
            return
        yield from _length(shape, len(value), where)
        pattern = _compiled(shape.metadata.get("pattern"))
        if pattern is not None and not pattern.fullmatch(value):
            yield f"{where} {value[:60]!r} does not match {pattern.pattern}"
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            yield f"{where} {value!r} is not one of {', '.join(enum)}"
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"{where} must be an integer, got {value!r}"
            return
        yield from _range(shape, value, where)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield f"{where} must be a number, got {value!r}"
    elif kind == "boolean" and not isinstance(value, bool):
        yield f"{where} must be true or false, got {value!r}"


@cache
def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    """The API's pattern as a Python regex; None for Java-only syntax (`\\p{L}` classes), left unchecked."""
    if not pattern:
        return None
    try:
        return re.compile(pattern, flags=re.DOTALL)
    except re.error:
        return None


def _length(shape: Any, length: int, where: str) -> Any:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        yield f"{where} is too short ({length} < {low})"
    if high is not None and length > high:
        yield f"{where} is too long ({length} > {high})"


def _range(shape: Any, value: int, where: str) -> Any:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield f"{where} is {value}, below the minimum {low}"
    if high is not None and value > high:
        yield f"{where} is {value}, above the maximum {high}"


def _kind_fits(expression: str, api_type: str) -> bool:
    if expression == api_type:
        return True
    return (expression, api_type) in {("integer", "long"), ("float", "double"), ("integer", "float")}
