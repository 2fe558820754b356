"""Preflight checks shared by many pipelines: each AWS answer asked for once per `upsert --all`.

The checks only read (they create, change and delete nothing), and within one upsert the answers do
not change: the role, the bucket and its region, the quota of one instance type, the training jobs in
progress are the same for every pipeline that asks. `remembered_clients` wraps the checks' boto3
clients so that the same call with the same arguments (paginated listings included) goes to AWS once;
calls that differ (a permission simulation naming another example's repository) still go each time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from steps.common.aws import client
from steps.preflight.job.checks import SERVICES


class _Answers:
    """Answers by key, each computed once even when threads ask together; errors are remembered too."""

    def __init__(self) -> None:
        self._answers: dict[str, tuple[bool, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, call: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._answers:
                try:
                    self._answers[key] = (True, call())
                except Exception as error:  # an AccessDenied is an answer the next pipeline gets too
                    self._answers[key] = (False, error)
            ok, answer = self._answers[key]
        if not ok:
            raise answer
        return answer


class _Paginator:
    def __init__(self, remembered: Remembered, operation: str) -> None:
        self._remembered, self._operation = remembered, operation

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        real = self._remembered.client.get_paginator(self._operation)
        key = f"pages {self._operation} {json.dumps(kwargs, sort_keys=True, default=str)}"
        return self._remembered.answers.get(key, lambda: list(real.paginate(**kwargs)))


class Remembered:
    """A boto3 client whose answers are kept by operation and arguments (for read-only checks)."""

    def __init__(self, real: Any) -> None:
        self.client = real
        self.answers = _Answers()

    def get_paginator(self, operation: str) -> _Paginator:
        """A paginator whose pages are fetched once per set of arguments."""
        return _Paginator(self, operation)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name.startswith("_") or not callable(attribute) or name in ("can_paginate", "get_waiter"):
            return attribute

        def call(**kwargs: Any) -> Any:
            key = f"{name} {json.dumps(kwargs, sort_keys=True, default=str)}"
            return self.answers.get(key, lambda: attribute(**kwargs))

        return call


def remembered_clients(session: Any) -> dict[str, Any]:
    """The preflight checks' clients, remembering answers: share them across the pipelines of one upsert."""
    return {service: Remembered(client(session, service)) for service in SERVICES}
