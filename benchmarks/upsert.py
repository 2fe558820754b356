"""Benchmark: a cold `python -m pipelines.upsert --example nanogpt --preset train` against a bare SDK v3
script that builds and upserts the same three-step pipeline, both against one moto server, alternating.

Prints the median ratio (goal <= 1.15) and the marginal seconds per extra pipeline of `--all`.
Each run creates its pipeline (the pipelines are deleted between runs, untimed), so both do a create.

    python benchmarks/upsert.py [--pairs 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import preflight_world, quotas, sagemaker_api  # noqa: E402
from tests.harness.moto_server import ACCOUNT, MotoServer  # noqa: E402

REGION, BUCKET = "us-east-1", "cvl-bench-bucket"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cvl-sagemaker-execution"


def environment(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_ROLE_ARN": ROLE_ARN,
        "SAGEMAKER_OUTPUT_BUCKET": BUCKET,
        "PYTHONPATH": str(ROOT),
        # The SDK's role check simulates IAM policies, which moto does not implement; off for both.
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def delete_pipelines(env: dict[str, str]) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=env["AWS_ENDPOINT_URL"])
    for summary in sagemaker.list_pipelines()["PipelineSummaries"]:
        sagemaker.delete_pipeline(
            PipelineName=summary["PipelineName"], ClientRequestToken=f"{time.time_ns():032d}"
        )


def examples_root(copies: int, into: Path) -> Path:
    """An examples root holding `copies` copies of nanogpt under other names (each gets a `train` preset)."""
    root = into / f"examples-{copies}"
    for index in range(copies):
        target = root / f"copy{index}"
        shutil.copytree(
            ROOT / "examples" / "nanogpt", target, ignore=shutil.ignore_patterns("*.bin", "*.pkl", "logs")
        )
        text = (target / "example.yaml").read_text().replace("name: nanogpt", f"name: copy{index}", 1)
        (target / "example.yaml").write_text(text)
    return root


def bench_account() -> tuple[MotoServer, dict[str, str]]:
    """A moto server with a ready account (bucket, bootstrapped roles, GPU quotas of 4) and the environment
    for the commands under test."""
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION}
    )
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = MotoServer()
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    sagemaker_api.install()
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    for instance in ("ml.g5.xlarge", "ml.g4dn.xlarge"):
        for kind in ("training job usage", "spot training job usage"):
            quotas.set_sagemaker_quota(f"{instance} for {kind}", 4)
    return server, environment(server.endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()

    server, env = bench_account()
    ours = [sys.executable, "-m", "pipelines.upsert", "--example", "nanogpt", "--preset", "train"]
    bare = [sys.executable, str(ROOT / "benchmarks" / "bare_sdk_upsert.py"), "cvl-nanogpt-train"]

    timed(ours, env)  # warm the OS file cache for both (the first import of the SDK reads ~250 MB)
    delete_pipelines(env)
    ours_s, bare_s = [], []
    for _ in range(args.pairs):
        ours_s.append(timed(ours, env))
        delete_pipelines(env)
        bare_s.append(timed(bare, env))
        delete_pipelines(env)
    ratios = [o / b for o, b in zip(ours_s, bare_s, strict=True)]
    print(
        f"pipelines.upsert (cold, create): median {statistics.median(ours_s):.2f} s  {[round(s, 2) for s in ours_s]}"
    )
    print(
        f"bare SDK script (cold, create):  median {statistics.median(bare_s):.2f} s  {[round(s, 2) for s in bare_s]}"
    )
    print(f"median ratio ours/bare: {statistics.median(ratios):.3f} (goal <= 1.15)")

    with tempfile.TemporaryDirectory() as scratch:
        sizes = (1, 4)
        roots = {n: examples_root(n, Path(scratch)) for n in sizes}
        all_s: dict[int, list[float]] = {n: [] for n in sizes}
        for _ in range(3):
            for n in sizes:
                all_s[n].append(
                    timed(
                        [sys.executable, "-m", "pipelines.upsert", "--all", "--examples-root", str(roots[n])],
                        env,
                    )
                )
                delete_pipelines(env)
        medians = {n: statistics.median(all_s[n]) for n in sizes}
        marginal = (medians[4] - medians[1]) / 3
        print(
            f"--all: 1 pipeline {medians[1]:.2f} s, 4 pipelines {medians[4]:.2f} s -> {marginal:.2f} s per extra pipeline"
        )
    server.stop()


if __name__ == "__main__":
    main()
