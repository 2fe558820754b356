"""`benchmarks/tree.py --shape real | --examples-root DIR`: a whole tree, before and after, side by side.

Against one moto server, for each code version (`--baseline DIR`, a checkout of the code before, then
this checkout), in this order: `upsert --all --skip-preflight` with nothing deployed or uploaded (all
created), the same again three times (all unchanged; the median is the figure); then `upsert --all --dry-run` into an empty folder (cold) for
each version, then again for each (nothing changed). Each figure comes with the load average (1 min)
when it started and what the command reported, counted by action.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import boto3

from benchmarks.upsert import BUCKET, REGION

GOALS = {"created": 90.0, "unchanged": 5.0, "dry run, cold": 120.0, "dry run, again": 10.0}


class Figure:
    """One timed command: seconds, the load average when it started, its exit code and actions; for a
    repeated one, the median run, with every run's seconds in `runs`."""

    def __init__(
        self, seconds: float, load: float, code: int, actions: Counter[str], runs: tuple[float, ...] = ()
    ) -> None:
        self.seconds, self.load, self.code, self.actions, self.runs = seconds, load, code, actions, runs

    def cell(self) -> str:
        done = ", ".join(f"{count} {action}" for action, count in sorted(self.actions.items()))
        spread = f"median of {', '.join(f'{run:.1f}' for run in self.runs)}; " if len(self.runs) > 1 else ""
        return f"{self.seconds:.1f} s ({spread}load {self.load:.1f}; {done}; exit {self.code})"


def median_figure(figures: list[Figure]) -> Figure:
    """The median of repeated runs of one command (an odd number of them), every run's seconds kept."""
    ordered = sorted(figures, key=lambda figure: figure.seconds)
    middle = ordered[len(ordered) // 2]
    runs = tuple(figure.seconds for figure in figures)
    return Figure(middle.seconds, middle.load, middle.code, middle.actions, runs)


def timed_upsert(checkout: Path, arguments: list[str], env: dict[str, str]) -> Figure:
    """Run `python -m pipelines.upsert ARGS --json` from `checkout`'s code; time it and count its actions."""
    command = [sys.executable, "-m", "pipelines.upsert", *arguments, "--json"]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env | {"PYTHONPATH": str(checkout)}, cwd=checkout, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    try:
        actions = Counter(p["action"] for p in json.loads(done.stdout)["pipelines"])
    except (ValueError, KeyError):
        actions = Counter({"unreadable output": 1})
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return Figure(seconds, load, done.returncode, actions)


def nothing_deployed(endpoint: str) -> None:
    """Delete every pipeline, every upload of ours and every ECR repository: a cold account."""
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=endpoint)
    for page in sagemaker.get_paginator("list_pipelines").paginate():
        for summary in page["PipelineSummaries"]:
            sagemaker.delete_pipeline(
                PipelineName=summary["PipelineName"], ClientRequestToken=f"{time.time_ns():032d}"
            )
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="cvl-pipelines/"):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=endpoint)
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            ecr.delete_repository(repositoryName=repository["repositoryName"], force=True)


def measure(
    root: Path, versions: dict[str, Path], env: dict[str, str], scratch: Path
) -> dict[str, dict[str, Figure]]:
    """The four figures for each version, measured in the order the module docstring gives."""
    figures: dict[str, dict[str, Figure]] = {label: {} for label in versions}
    upsert = ["--all", "--skip-preflight", "--examples-root", str(root)]
    for label, checkout in versions.items():
        nothing_deployed(env["AWS_ENDPOINT_URL"])
        figures[label]["created"] = timed_upsert(checkout, upsert, env)
        # A few seconds each, so the machine's noise is a large part: the median of three.
        figures[label]["unchanged"] = median_figure([timed_upsert(checkout, upsert, env) for _ in range(3)])
        print(f"{label}: created {figures[label]['created'].cell()}", file=sys.stderr)
        print(f"{label}: unchanged {figures[label]['unchanged'].cell()}", file=sys.stderr)
    for name in ("dry run, cold", "dry run, again"):
        for label, checkout in versions.items():
            out = scratch / f"definitions-{label}"
            if name == "dry run, cold":
                shutil.rmtree(out, ignore_errors=True)
            dry = ["--all", "--dry-run", "--examples-root", str(root), "--out", str(out)]
            figures[label][name] = timed_upsert(checkout, dry, env)
            print(f"{label}: {name} {figures[label][name].cell()}", file=sys.stderr)
    return figures


def report(figures: dict[str, dict[str, Figure]]) -> None:
    """Print the figures as a Markdown table, with after/before ratios when there is a before."""
    labels = list(figures)
    header = ["", *labels] + (["after / before"] if len(labels) == 2 else []) + ["goal"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, goal in GOALS.items():
        cells = [figures[label][name].cell() for label in labels]
        if len(labels) == 2:
            before, after = (figures[label][name].seconds for label in labels)
            cells.append(f"{after / before:.3f}")
        print(f"| {name} | " + " | ".join(cells) + f" | <= {goal:.0f} s |")
