"""constraints.txt (the lock every install uses) must agree with pyproject.toml; the check says how to fix it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools import lock


def test_the_lock_agrees_with_pyproject() -> None:
    assert lock.disagreement() == ""


def test_the_lock_pins_torch_without_a_local_label() -> None:
    # `torch==2.13.0` is what pip satisfies with the CPU build on this disk and with PyPI's build elsewhere.
    pins = lock.LOCK.read_text().splitlines()
    assert "torch==2.13.0" in pins
    assert not any(line.startswith("s3fs==0.") for line in pins)  # not the 2019 release pip backtracks to


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    pyproject, constraints = tmp_path / "pyproject.toml", tmp_path / "constraints.txt"
    shutil.copy(lock.PYPROJECT, pyproject)
    shutil.copy(lock.LOCK, constraints)
    return pyproject, constraints


def test_a_new_dependency_missing_from_the_lock_names_it_and_the_fix(tmp_path: Path) -> None:
    pyproject, constraints = _copies(tmp_path)
    text = pyproject.read_text().replace('"pytest>=8",', '"pytest>=8",\n    "Tabulate>=0.9",', 1)
    pyproject.write_text(text)

    problem = lock.disagreement(pyproject, constraints)

    assert problem.splitlines() == [problem]
    assert "pins no tabulate" in problem
    assert "`.venv/bin/python tools/lock.py`" in problem


def test_a_changed_version_range_makes_the_lock_stale(tmp_path: Path) -> None:
    pyproject, constraints = _copies(tmp_path)
    pyproject.write_text(pyproject.read_text().replace('"pydantic>=2,<3"', '"pydantic>=2.5,<3"', 1))

    assert "was resolved from other pyproject.toml dependencies" in lock.disagreement(pyproject, constraints)


def test_a_missing_lock_says_how_to_make_it(tmp_path: Path) -> None:
    problem = lock.disagreement(lock.PYPROJECT, tmp_path / "constraints.txt")

    assert problem.startswith("constraints.txt is missing: refresh it with")


def test_the_check_command_exits_1_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    # CI runs it as a plain script with the system Python, before any install.
    pyproject, constraints = _copies(tmp_path)
    constraints.write_text(constraints.read_text().replace("\nboto3==", "\n# boto3==", 1))
    done = subprocess.run(
        [
            sys.executable,
            "tools/lock.py",
            "--check",
            "--pyproject",
            str(pyproject),
            "--lock",
            str(constraints),
        ],
        cwd=lock.ROOT,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "constraints.txt pins no boto3 (asked for in pyproject.toml): "
        "refresh it with `.venv/bin/python tools/lock.py` and commit both files"
    )
