"""The SDK session of a local run: the SDK's `LocalPipelineSession`, with our job client and S3 folder.

Compiling with it makes steps return their arguments (it is a `PipelineSession`); executing with it
sends every job to `LocalJobClient` and every S3 read to `LocalS3`. Its boto3 session has dummy
credentials of its own, so no AWS configuration or credentials are needed or read, and
`offline_guard` refuses any connection off the machine while the run is in this process.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from pipelines.local.store import LocalS3


class OffMachineConnection(RuntimeError):
    """Something in a local run tried to reach a host that is not this machine."""


def _on_machine(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX (e.g. the Docker socket) stays on the machine


@contextmanager
def offline_guard() -> Iterator[None]:
    """Refuse connections to anything but loopback and Unix sockets in this process.

    The SDK creates boto3 clients and telemetry requests of its own; in a local run none of them may
    leave the machine, so a stray call fails here instead of reaching AWS.
    """
    # Whatever is installed now (the real methods, or an outer guard) handles what this one allows.
    outer_connect, outer_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: Any, address: Any) -> None:
        if not _on_machine(address):
            raise OffMachineConnection(f"a local run does not connect off this machine (tried {address!r})")
        outer_connect(sock, address)

    def connect_ex(sock: Any, address: Any) -> int:
        if not _on_machine(address):
            raise OffMachineConnection(f"a local run does not connect off this machine (tried {address!r})")
        return outer_connect_ex(sock, address)

    # Replacing the class's methods is the point of the guard (restored below), so method-assign is meant.
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = outer_connect, outer_connect_ex  # type: ignore[method-assign]


def offline_boto_session(region: str) -> Any:
    """A boto3 session with dummy credentials: no profile, credentials file or metadata lookup."""
    return boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)


def local_pipeline_session(region: str, bucket: str, s3: LocalS3, client: Any | None = None) -> Any:
    """A `LocalPipelineSession` whose S3 is `s3` and whose `sagemaker_client` is `client`."""
    from sagemaker.core.workflow.pipeline_context import LocalPipelineSession

    class _Session(LocalPipelineSession):
        """`LocalPipelineSession` reading and writing S3 objects in a local folder."""

        def read_s3_file(self, bucket: str, key_prefix: str) -> str:
            """Read one object (the local executor's `JsonGet` of a property file)."""
            return s3.read(bucket, key_prefix).decode("utf-8")

        def upload_string_as_file_body(self, body: str, bucket: str, key: str, kms_key: Any = None) -> str:
            """Write one object."""
            s3.put(f"s3://{bucket}/{key}", body.encode("utf-8"))
            return f"s3://{bucket}/{key}"

        def default_bucket(self) -> str:
            """The run's bucket, without asking STS or S3."""
            return bucket

    session = _Session(boto_session=offline_boto_session(region), default_bucket=bucket)
    if client is not None:
        session.sagemaker_client = client
    return session
