"""`python -m pipelines.examples`: what each example offers, from where, and why not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import examples

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cvl_repo" / "examples"


def test_json_lists_presets_with_their_source_and_the_reasons_for_the_rest(capsys):
    assert examples.main(["--examples-root", str(FIXTURES), "--json"]) == 1  # two files cannot be read
    document = json.loads(capsys.readouterr().out)
    by_name = {entry["name"]: entry for entry in document["examples"]}
    train = next(preset for preset in by_name["tinygpt-char"]["presets"] if preset["name"] == "train")
    assert train["source"] == "derived from train.sh" and train["sagemaker_settings"] is True
    assert train["forwarded_secrets"] == ["WANDB_API_KEY"]
    assert train["instance_type"] == "ml.g5.xlarge"
    assert {item["name"]: item["kind"] for item in by_name["causal-bias-study"]["not_offered"]} == {
        "build": "build",
        "demo": "server",
        "missing": "missing script",
    }
    assert document["counts"] == {
        "examples": 14,
        "unreadable": 2,
        "offered": 18,
        "parity_clean": 16,
        "flagged": 2,
        "flagged_by_reason": {"mount outside the example": 1, "missing file": 1},
        "offered_by_source": {"derived": 15, "example.yaml command": 2, "default (python train.py)": 1},
        "not_offered": 15,
        "not_offered_by_reason": {
            "build": 8,
            "server": 2,
            "missing script": 2,
            "too big for any instance": 1,
            "host path in the definition": 1,
            "no python3 in the image": 1,
        },
    }
    assert [item["folder"] for item in document["unreadable"]] == [
        "broken/bad_yaml",
        "broken/unknown_setting",
    ]


@pytest.mark.slow
def test_text_output_ends_with_the_counts_and_the_bundled_examples_exit_0():
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.examples"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "EXAMPLE (FOLDER)",
        "    PRESET             INSTANCE           FROM",
        "nanogpt (nanogpt)",
    ]
    assert any(line.split()[:3] == ["smoke", "ml.m5.xlarge", "config"] for line in lines)
    assert (
        lines[-1]
        == "1 example read, 0 unreadable; 2 presets offered (2 config module); 2 parity-clean, 0 flagged "
        "(none); 0 not offered (none)"
    )
