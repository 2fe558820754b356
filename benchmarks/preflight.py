"""Preflight wall time: all checks with their AWS calls made concurrently vs the same calls one after another.

Runs against one moto server that this script starts on 127.0.0.1, in a child process (so the server's
own CPU work does not compete with the timed client for the GIL, as AWS's would not), with 50-80 ms added
to every request: about a round trip from a laptop to an AWS region. The account is ready: every check
passes, and three spot training jobs are running, so the quota check describes them.

    python benchmarks/preflight.py [--pairs 7] [--low-ms 50] [--high-ms 80]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from configs import resolve_target  # noqa: E402
from pipelines.define.staging import base_facts  # noqa: E402
from steps.preflight.job.check_support import PreflightInput  # noqa: E402
from steps.preflight.job.checks import run_checks  # noqa: E402
from tests.harness import faults, preflight_world  # noqa: E402
from tests.harness.moto_server import MotoServer  # noqa: E402
from tests.harness.network import only_loopback  # noqa: E402
from tests.harness.quotas import set_sagemaker_quota  # noqa: E402
from tests.harness.training_jobs import start_running_job  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution"
BUCKET = "cvl-bench-bucket"
FACTS = base_facts(
    "nanogpt", "train", resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET, environ={})
)
PRESET = {
    "instance_type": "ml.g5.xlarge",
    "instance_count": 1,
    "spot": True,
    "max_run_minutes": 120,
    "max_wait_minutes": 240,
    "checkpoint": {"dir": "logs"},
    "channels": {"train": f"s3://{BUCKET}/data/shakespeare/"},
}


def _fake_aws_environment() -> None:
    # Fake credentials and no user config: nothing here may reach AWS.
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )


def serve(low_ms: float, high_ms: float, endpoint: Queue, stop: Event) -> None:
    """The server process: moto with the preflight harness, a ready account, and latency on every request."""
    _fake_aws_environment()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = MotoServer()
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    try:
        preflight_world.ready_account(ROLE_ARN, BUCKET)
        set_sagemaker_quota("ml.g5.xlarge for spot training job usage", 8)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        for index in range(3):
            start_running_job(sagemaker, f"running-{index}", "ml.g5.xlarge", spot=True, role_arn=ROLE_ARN)
        with faults.latency(low_ms, high_ms):
            endpoint.put(server.endpoint)
            stop.wait(timeout=600)
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="alternating concurrent/sequential pairs (>= 5)")
    parser.add_argument("--low-ms", type=float, default=50.0)
    parser.add_argument("--high-ms", type=float, default=80.0)
    args = parser.parse_args()
    if args.pairs < 5:
        parser.error("--pairs must be at least 5")

    _fake_aws_environment()
    context = multiprocessing.get_context("spawn")
    endpoint_queue, stop = context.Queue(), context.Event()
    server = context.Process(
        target=serve, args=(args.low_ms, args.high_ms, endpoint_queue, stop), daemon=True
    )
    server.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_queue.get(timeout=120)
        times, requests, checks = _measure(args.pairs)
    finally:
        stop.set()
        server.join(timeout=30)

    concurrent, sequential = statistics.median(times[True]), statistics.median(times[False])
    added = f"{args.low_ms:g}-{args.high_ms:g} ms"
    print(f"preflight, {checks} checks, against moto on 127.0.0.1 (own process) with {added} added to")
    print(f"every request (about an AWS round trip); {args.pairs} alternating pairs, one boto3 session")
    print(f"  HTTP requests per run: concurrent {requests[True]}, sequential {requests[False]}")
    print(f"  concurrent  median {concurrent * 1000:7.0f} ms  runs: {_ms(times[True])}")
    print(f"  sequential  median {sequential * 1000:7.0f} ms  runs: {_ms(times[False])}")
    print(f"  sequential / concurrent = {sequential / concurrent:.2f}x")
    return 0


def _measure(pairs: int) -> tuple[dict[bool, list[float]], dict[bool, int], int]:

    spec = PreflightInput.from_run(PRESET, FACTS)
    # One session, as one command run has; its service models are parsed before timing starts.
    session = boto3.Session(region_name=REGION)
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url))
    times: dict[bool, list[float]] = {True: [], False: []}
    requests: dict[bool, int] = {}
    with only_loopback():
        expected = run_checks(spec, session)
        assert all(result.status == "pass" for result in expected), expected
        for _ in range(pairs):
            for concurrent in (True, False):
                before = len(sent)
                start = time.perf_counter()
                results = run_checks(spec, session, concurrent=concurrent)
                times[concurrent].append(time.perf_counter() - start)
                requests[concurrent] = len(sent) - before
                assert results == expected, "concurrent and sequential runs disagree"
    return times, requests, len(expected)


def _ms(seconds: list[float]) -> str:
    return " ".join(f"{value * 1000:.0f}" for value in seconds)


if __name__ == "__main__":
    sys.exit(main())
