"""Transient AWS faults: an API that answers throttling or 5xx a few times, then works."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.core.exceptions import JsonRESTError
from moto.sagemaker.responses import SageMakerResponse

from tests.harness.faults import _snake


class Calls:
    """How many times the faulty operation was reached, and how many of those failed."""

    def __init__(self) -> None:
        self.total = 0
        self.failed = 0


@contextmanager
def flaky_sagemaker(
    operation: str, failures: int, code: str = "ThrottlingException", status: int = 400
) -> Iterator[Calls]:
    """Make SageMaker `operation` fail `failures` times with `code`/`status`, then behave normally."""
    original = getattr(SageMakerResponse, _snake(operation))
    calls = Calls()

    def maybe_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.total += 1
        if calls.failed < failures:
            calls.failed += 1
            problem = JsonRESTError(
                code, "Rate exceeded" if status == 400 else "We encountered an internal error"
            )
            problem.code = status
            raise problem
        return original(self, *args, **kwargs)

    with mock.patch.object(SageMakerResponse, _snake(operation), maybe_fail):
        yield calls
