"""The repository's `cvlization` package travels with the examples that use it: in the build context
(so in the image and in `--local`), and in the content hash."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from configs import resolve_target
from pipelines import catalog
from pipelines.define.staging import stage
from tests.harness.local_run import run_locally

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_REPO = ROOT / "tests" / "fixtures" / "cvl_repo"


def _staged(examples: Path, name: str, preset: str):
    example, chosen = catalog.resolve(examples, name, preset)
    target = resolve_target(region=None, role_arn=None, bucket=None, allow_placeholders=True)
    return stage(example, preset, chosen, target)


def _names(staged) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(staged.context.pack().data)).namelist())


def test_an_example_that_imports_cvlization_ships_it_and_one_that_does_not_ships_nothing(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE_REPO, repo)
    examples = repo / "examples"
    using, other = _staged(examples, "tinygpt-char", "train"), _staged(examples, "signal_prep", "preprocess")
    # The package imports cvl.core itself (a dataset builder), so cvl.core's files travel with it.
    assert {"cvlization/__init__.py", "cvlization/paths.py", "cvl/core/downloads.py", "train.py"} <= _names(
        using
    )
    assert not any(name.startswith(("cvlization/", "cvl/")) for name in _names(other))

    # A change to the package rebuilds only the images that ship it.
    (repo / "cvlization" / "paths.py").write_text("# changed\n", encoding="utf-8")
    assert _staged(examples, "tinygpt-char", "train").context.digest != using.context.digest
    assert _staged(examples, "signal_prep", "preprocess").context.digest == other.context.digest


def test_an_example_importing_cvl_core_gets_its_files_too(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE_REPO, repo)
    (repo / "examples" / "agentic" / "data" / "signal_prep" / "fetch.py").write_text(
        "from cvl.core.downloads import download\n"
    )
    names = _names(_staged(repo / "examples", "signal_prep", "preprocess"))
    assert {"cvl/__init__.py", "cvl/_version.py", "cvl/core/__init__.py", "cvl/core/downloads.py"} <= names
    assert not any(name.startswith("cvlization/") for name in names)  # it does not use the package


@pytest.mark.slow
def test_a_local_run_imports_the_shipped_package_and_brings_back_what_it_wrote(tmp_path):
    finished = run_locally(
        *("--example", "generative/llm/tinygpt", "--preset", "train_quick"),
        *("--examples-root", str(FIXTURE_REPO / "examples"), "--output-dir", str(tmp_path), "--", "--seen"),
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "prepared train.txt" in finished.stdout  # the guarded data run, as a prepare step
    model = tmp_path / "model"
    # Written in the working folder: kept; written to CVL_OUTPUTS: in the model artifacts.
    metrics = json.loads((model / "artifacts" / "metrics.json").read_text())
    assert metrics == {"iters": 2, "tag": "quick", "extra": ["--seen"]}
    assert (model / "logs" / "model.txt").read_text().startswith("8 symbols")
    assert (model / "outputs" / "summary.txt").read_text() == "done\n"
    assert not (model / "train.py").exists()  # unchanged code is not copied back
