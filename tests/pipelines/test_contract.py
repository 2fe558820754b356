"""What a new user met, fixed: names before settings, `--all --preset`, `run --help`, `--json` stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines import preflight, run, status, upsert


def test_a_misspelt_example_is_reported_before_region_role_and_bucket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "SAGEMAKER_ROLE_ARN", "SAGEMAKER_OUTPUT_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    for main in (upsert.main, preflight.main, run.main):
        assert main(["--example", "nanogtp", "--preset", "smoke"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "nanogtp" in err and "region" not in err.lower(), err


@pytest.mark.slow
def test_all_with_a_preset_writes_only_that_preset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upsert.main(["--all", "--preset", "smoke", "--dry-run", "--out", str(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["pipeline"] for p in document["pipelines"]] == ["cvl-nanogpt-smoke"]
    # The definition, and the record that lets a second dry run skip an unchanged one (pipelines.deploy.dry_run).
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".cvl-fingerprints.json",
        "cvl-nanogpt-smoke.json",
    ]
    assert upsert.main(["--all", "--preset", "nosuch", "--dry-run", "--out", str(tmp_path)]) == 2
    assert "no example has a preset named 'nosuch'" in capsys.readouterr().err


def test_run_help_names_the_arguments_after_the_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run.main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "[-- ARGS...]" in shown and "everything after a lone -- goes to the training command" in shown


@pytest.mark.parametrize(
    "argv",
    [
        ["--example", "nanogtp", "--preset", "smoke", "--json"],  # bad input
        ["--example", "nanogpt", "--preset", "smoke", "--json", "--region", "nowhere"],
        ["--json", "--bogus-flag"],  # a usage error
    ],
)
def test_with_json_stdout_is_one_document_whatever_happens(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for main in (upsert.main, preflight.main, run.main):
        assert main(argv) == 2
        captured = capsys.readouterr()
        document = json.loads(captured.out)
        assert document["exit_code"] == 2 and document["error"]
        assert captured.err.startswith("error: ")


def test_status_json_without_a_region_is_one_document(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert status.main(["--json"]) == 2
    assert json.loads(capsys.readouterr().out) == {
        "error": "no region: pass --region or set AWS_DEFAULT_REGION",
        "exit_code": 2,
    }
