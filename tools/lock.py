"""Refresh or check `constraints.txt`, the lock file every install command uses (`pip install -c constraints.txt`).

    .venv/bin/python tools/lock.py            # re-resolve pyproject.toml (all extras) with uv; rewrite the lock
    python3 tools/lock.py --check             # exit 1, one line with the fix, when the two disagree

Refresh on purpose: after changing dependencies in pyproject.toml, or to take new releases; review the diff.

Why uv and not pip-compile: sagemaker-mlops requires `s3fs` with no version. pip's resolver (pip-compile is
built on it) meets aiobotocore's narrow botocore range, walks back through ~100 aiobotocore releases and
settles on s3fs 0.4.2 (2019); with an `s3fs>=2024.3` floor it was still backtracking after 11 minutes.
uv resolves the same inputs in seconds to a current s3fs, by choosing the newest boto3 that aiobotocore accepts.

Why `--find-links /opt/wheels`: `torch==2.13.0` is the CPU build lying on this machine's disk, which uv does
not look for by itself (pip does, through pip.conf). The lock writes it without its local label
(`torch==2.13.0`): pip takes that file here, and PyPI's build elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "constraints.txt"
WHEELS = Path("/opt/wheels")
REFRESH = ".venv/bin/python tools/lock.py"
_INPUTS = re.compile(r"^# inputs: sha256:([0-9a-f]{64})$", re.MULTILINE)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LOCAL_LABEL = re.compile(r"^(\S+==[^+\s]+)\+\S+", re.MULTILINE)


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Foo_Bar` and `foo-bar` are one package)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_inputs(pyproject: Path = PYPROJECT) -> tuple[str, list[str]]:
    """The project's name and every requirement string it declares (dependencies and all extras)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return project["name"], requirements


def inputs_digest(pyproject: Path = PYPROJECT) -> str:
    """sha256 of the dependency tables the lock is resolved from; any edit to them changes it."""
    project = tomllib.loads(pyproject.read_text())["project"]
    tables = {
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
    }
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def disagreement(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> str:
    """One line saying how pyproject.toml and the lock disagree and how to fix it; "" when they agree."""
    fix = f"refresh it with `{REFRESH}` and commit both files"
    if not lock.is_file():
        return f"{lock.name} is missing: {fix}"
    text = lock.read_text()
    pinned = {normalized(name) for name in _PIN.findall(text)}
    project, requirements = project_inputs(pyproject)
    wanted = {normalized(match.group(1)) for match in map(_NAME.match, requirements) if match}
    missing = sorted(wanted - pinned - {normalized(project)})
    if missing:
        return f"{lock.name} pins no {', '.join(missing)} (asked for in {pyproject.name}): {fix}"
    recorded = _INPUTS.search(text)
    if not recorded or recorded.group(1) != inputs_digest(pyproject):
        return f"{lock.name} was resolved from other {pyproject.name} dependencies: {fix}"
    return ""


def resolve() -> str:
    """Resolve pyproject.toml with every extra for this Python; the pins, annotated with who wants each."""
    if not WHEELS.is_dir():
        raise SystemExit(
            f"{WHEELS} (the CPU build of torch) is not on this machine: refresh the lock on one that has it"
        )
    command = [
        sys.executable, "-m", "uv", "pip", "compile", str(PYPROJECT.relative_to(ROOT)),
        "--all-extras", "--python-version", "3.11", "--find-links", str(WHEELS),
        "--no-header",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        lines = (error.stderr or "").strip().splitlines() or ["uv failed"]
        raise SystemExit(
            f"uv pip compile failed: {lines[-1]} (uv missing? `.venv/bin/pip install uv`)"
        ) from None
    return _LOCAL_LABEL.sub(r"\1", done.stdout)


def header() -> str:
    """What the lock file says about itself, and the digest of its inputs."""
    return (
        "# Lock file: the exact versions every install uses (`pip install -c constraints.txt -e '.[test]'`).\n"
        f"# Made by `{REFRESH}` (uv pip compile pyproject.toml --all-extras, torch from /opt/wheels);\n"
        "# refreshed on purpose, never by hand. CI fails when it disagrees with pyproject.toml.\n"
        f"# inputs: sha256:{inputs_digest()}\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Rewrite the lock, or with `--check` exit 1 (one line on stderr) when it disagrees with pyproject.toml."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; change nothing")
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT, help=argparse.SUPPRESS)
    parser.add_argument("--lock", type=Path, default=LOCK, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        problem = disagreement(args.pyproject, args.lock)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(header() + resolve())
    print(f"wrote {LOCK.name}: {len(_PIN.findall(LOCK.read_text()))} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
