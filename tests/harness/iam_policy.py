"""IAM's policy evaluation for identity policies, as AWS documents it, for the harness's simulator.

moto's own matcher (`moto.iam.access_control`) treats a statement without `Resource` as matching every
resource (so `NotResource` allows everything), turns a failed condition on an Allow into a Deny, and knows
few operators. This one follows the IAM User Guide ("Policy evaluation logic", "IAM JSON policy elements"):

- a statement applies when its `Action` (or `NotAction`) and `Resource` (or `NotResource`) match and
  every condition holds; actions match case-insensitively, resources case-sensitively, `*` and `?` wild;
- an applicable Deny wins over any Allow; no applicable Allow is an implicit deny;
- conditions: operators AND, keys AND, a key's values OR. A key missing from the request context makes
  the test false, except for negated operators (`StringNotEquals`, `ArnNotLike`, ...), which are then
  true, `...IfExists`, which is then true, and `Null`, which tests exactly that;
- a policy variable (`${aws:username}`) is not substituted here, so it never matches a literal: the
  simulator has no request to take its value from, and AWS would not match it to a different string.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Context = Mapping[str, Sequence[str]]
ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, (str, bool, int, float)) else list(value)


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    if "${" in pattern:
        return False  # an unresolved policy variable matches nothing
    if not case:
        pattern, value = pattern.lower(), value.lower()
    # fnmatch's [..] classes are not IAM syntax: escape them so only * and ? are wild.
    pattern = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, pattern)


def _equals(expected: str, actual: str) -> bool:
    return "${" not in expected and expected == actual


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(expected: str, actual: str) -> bool:
        try:
            return compare(float(actual), float(expected))
        except ValueError:
            return False

    return test


def _ip(expected: str, actual: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


# Positive tests; the negated operators are their negation (see _NEGATED).
_TESTS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _equals,
    "StringEqualsIgnoreCase": lambda e, a: "${" not in e and e.lower() == a.lower(),
    "StringLike": lambda e, a: _glob(e, a),
    "ArnEquals": _equals,
    "ArnLike": lambda e, a: _glob(e, a),
    "Bool": lambda e, a: "${" not in e and e.lower() == a.lower(),
    "BinaryEquals": _equals,
    "NumericEquals": _numeric(lambda a, e: a == e),
    "NumericLessThan": _numeric(lambda a, e: a < e),
    "NumericLessThanEquals": _numeric(lambda a, e: a <= e),
    "NumericGreaterThan": _numeric(lambda a, e: a > e),
    "NumericGreaterThanEquals": _numeric(lambda a, e: a >= e),
    "DateEquals": _equals,
    "IpAddress": _ip,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
}


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    quantifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    present = key in context
    if operator == "Null":
        return (wanted[0].lower() == "true") == (not present)
    negated = operator in _NEGATED
    test = _TESTS.get(_NEGATED.get(operator, operator))
    if test is None:
        return False  # an operator IAM does not know never holds
    if not present:
        return if_exists or negated
    actual = [str(v) for v in context[key]]
    if quantifier == "ForAllValues":
        matched = all(any(test(w, a) for w in wanted) for a in actual)
    else:  # single-valued keys, and ForAnyValue
        matched = any(test(w, a) for w in wanted for a in actual)
    return not matched if negated else matched


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None, context: Context) -> bool:
    """Whether every test of a statement's `Condition` holds in the request `context`."""
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, tests in (condition or {}).items()
        for key, expected in tests.items()
    )


def _matches(statement: Mapping[str, Any], element: str, value: str, *, case: bool) -> bool | None:
    if element in statement:
        return any(_glob(p, value, case=case) for p in _as_list(statement[element]))
    if "Not" + element in statement:
        return not any(_glob(p, value, case=case) for p in _as_list(statement["Not" + element]))
    return None


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    """Whether `statement` speaks about `action` on `resource` in `context` (its Effect aside)."""
    if not _matches(statement, "Action", action, case=False):
        return False
    # An identity policy statement names Resource or NotResource; one with neither matches nothing.
    if not _matches(statement, "Resource", resource, case=True):
        return False
    return conditions_hold(statement.get("Condition"), context)


def statements(document: Any) -> list[dict[str, Any]]:
    """A policy document's statements (a dict, or its JSON text), as a list."""
    policy = json.loads(document) if isinstance(document, str) else document
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def decide(documents: Sequence[Any], action: str, resource: str, context: Context) -> str:
    """`allowed`, `explicitDeny` or `implicitDeny` for `action` on `resource` under `documents`."""
    allowed = False
    for document in documents:
        for statement in statements(document):
            if not statement_applies(statement, action, resource, context):
                continue
            if statement.get("Effect") == "Deny":
                return EXPLICIT_DENY
            allowed = allowed or statement.get("Effect") == "Allow"
    return ALLOWED if allowed else IMPLICIT_DENY
