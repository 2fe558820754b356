"""`pipelines.report` and the report a remote run writes: the page holds the series the log printed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipelines import report, run
from pipelines.operate.outcome import LocalRunRecord, write_record
from steps.train.metrics import Point
from tests.harness import sagemaker_pipelines
from tests.harness.sagemaker_pipelines import Script
from tests.pipelines.test_run_remote import (
    JOB,
    PIPELINE,
    account,
    log,
    started,
    succeeded,
    training,
    training_job,
)

__all__ = ["account"]

SMOKE = ["--example", "nanogpt", "--preset", "smoke"]


def plotted(page: str) -> dict[str, list[float]]:
    """Each metric plot's y values, as plotly's figure data in the page holds them."""
    found: dict[str, list[float]] = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S):
        for trace in json.loads(match.group(1)):
            if trace.get("type") == "scatter":
                found[trace["name"]] = trace["y"]
    return found


@pytest.mark.slow
def test_a_remote_run_writes_its_report_with_the_series_of_its_log(
    account: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.sagemaker.models import sagemaker_backends

    from tests.conftest import REGION
    from tests.harness.moto_server import ACCOUNT

    job_arn = training_job()
    # What the Train step declares (moto keeps the job's AlgorithmSpecification as given).
    spec = sagemaker_backends[ACCOUNT][REGION].training_jobs[JOB].algorithm_specification
    spec["MetricDefinitions"] = [{"Name": "loss", "Regex": r"iter \d+: loss ([0-9.]+)"}]

    def more(script: Script) -> None:
        log(1, "iter 10: loss 3.50 (host 1)")
        log(1, "iter 20: loss 2.75 (host 1)")

    sagemaker_pipelines.script_next_execution(PIPELINE, Script([started, training(job_arn), more, succeeded]))
    out = tmp_path / "out"
    assert run.main([*SMOKE, "--skip-preflight", "--output-dir", str(out)]) == 0
    # As typed from the working folder (the account fixture's, tmp_path): relative.
    assert f"\nreport: {out.relative_to(Path.cwd())}/report.html\n" in capsys.readouterr().out
    page = (out / "report.html").read_text()
    assert plotted(page) == {"loss": [4.17, 3.5, 2.75]}  # training() logged iter 0: loss 4.17
    assert "<td>InstanceType</td>" in page and "Succeeded" in page

    assert report.main(["--example", "nanogpt", "--preset", "smoke", "--out", str(tmp_path / "again")]) == 0
    assert plotted((tmp_path / "again" / "report.html").read_text()) == {"loss": [4.17, 3.5, 2.75]}


def test_report_of_a_local_run_from_its_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = LocalRunRecord(
        "nanogpt", "smoke", "Succeeded", 0, "",
        ({"StepName": "Preflight", "StepStatus": "Succeeded", "StartTime": 1796292000.0,
          "EndTime": 1796292002.0},  # the local executor's epoch seconds
         {"StepName": "Train", "StepStatus": "Succeeded", "StartTime": "2026-12-03T10:00:03+00:00",
          "EndTime": "2026-12-03T10:01:03+00:00"}),
        (),
        {"loss": [Point(0, 4.2), Point(1, 3.1)], "val_loss": [Point(0, 3.9)]},
        {"InstanceType": "ml.m5.xlarge", "max_iters": "40"},
        "cost: ml.m5.xlarge x1 for at most 30 min: worst case $0.12",
    )  # fmt: skip
    write_record(tmp_path, record)
    assert report.main(["--local", str(tmp_path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["final_metrics"] == {"loss": 3.1, "val_loss": 3.9}
    page = Path(answer["report"]).read_text()
    assert plotted(page) == {"loss": [4.2, 3.1], "val_loss": [3.9]}
    timeline = re.search(r'"base":\[([^\]]*)\]', page)
    assert timeline is not None and timeline.group(1) == "0.0,3.0"  # Train started 3 s after Preflight
    assert "worst case $0.12" in page and "<td>max_iters</td><td>40</td>" in page


def test_report_without_a_run_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main(["--region", "us-east-1"]) == 2
    assert capsys.readouterr().err == (
        "error: say which run: EXECUTION, --example E --preset P (its latest), or --local DIR\n"
    )
