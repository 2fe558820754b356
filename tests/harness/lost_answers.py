"""Lost answers: a request that takes effect in the in-process moto server, whose reply is a 500.

What a dropped connection or a failing front end looks like to a client: the resource was created, the
client hears `InternalFailure` and botocore's retry sends the same request again. `lose_answer("iam",
"CreateRole")` does that to the first successful CreateRole; the request is recognised as botocore's
service model describes it (X-Amz-Target for JSON services, `Action=` for query services, method and
request URI for REST services such as S3 and Scheduler), the service by the credential scope it is
signed for.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import parse_qs

import botocore.session
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_MODELS = botocore.session.get_session()
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


class Lost:
    """How many answers were lost so far."""

    def __init__(self) -> None:
        self.count = 0


def _matcher(service: str, operation: str) -> Callable[[dict[str, Any], bytes], bool]:
    model = _MODELS.get_service_model(service)
    op = model.operation_model(operation)
    signing = model.signing_name
    protocol = model.protocol
    method = op.http["method"]
    path, _, query = op.http["requestUri"].partition("?")
    # `{Key+}` spans slashes, `{Bucket}` does not.
    pattern = re.compile(
        "^" + re.sub(r"\{[^}]+\+\}", ".+", re.sub(r"\{[^}+]+\}", "[^/]+", path)).rstrip("/") + "/?$"
    )
    required = {part.split("=")[0] for part in query.split("&") if part}

    def matches(environ: dict[str, Any], body: bytes) -> bool:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not scope or scope.group(1) != signing or environ["REQUEST_METHOD"] != method:
            return False
        if protocol == "json":
            return environ.get("HTTP_X_AMZ_TARGET", "").endswith(f".{operation}")
        if protocol == "query":
            return parse_qs(body.decode()).get("Action") == [operation]
        keys = set(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)) - {"x-id"}
        # A REST operation whose URI names no sub-resource (CreateBucket, PutObject) has none in the query.
        return bool(pattern.match(environ.get("PATH_INFO", ""))) and (
            required <= keys if required else not keys
        )

    return matches


_ERROR_BODY = {
    "json": (
        b'{"__type":"InternalFailure","message":"We encountered an internal error."}',
        "application/x-amz-json-1.1",
    ),
    "rest-json": (b'{"message":"We encountered an internal error."}', "application/json"),
}
_XML_ERROR = (
    b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
    b"<Message>We encountered an internal error.</Message></Error></ErrorResponse>",
    "text/xml",
)


@contextmanager
def lose_answer(service: str, operation: str, times: int = 1) -> Iterator[Lost]:
    """The first `times` successful `operation` requests of `service` take effect and are answered 500."""
    matches = _matcher(service, operation)
    body_500, content_type = _ERROR_BODY.get(_MODELS.get_service_model(service).protocol, _XML_ERROR)
    original = DomainDispatcherApplication.__call__
    lost = Lost()
    one_at_a_time = threading.Lock()  # the server is threaded: never lose more than `times`

    def serve(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        if lost.count >= times:
            return original(self, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if not matches(environ, body):
            return original(self, environ, start_response)
        with one_at_a_time:
            if lost.count >= times:
                return original(self, environ, start_response)
            return _lose(self, environ, start_response)

    def _lose(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        heard: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            heard["status"], heard["headers"] = status, headers
            return lambda _data: None

        answer = b"".join(original(self, environ, capture))
        if not heard["status"].startswith("2"):  # it did not take effect: pass the real answer on
            start_response(heard["status"], heard["headers"])
            return [answer]
        lost.count += 1
        start_response("500 Internal Server Error", [("Content-Type", content_type)])
        return [body_500]

    with mock.patch.object(DomainDispatcherApplication, "__call__", serve):
        yield lost
