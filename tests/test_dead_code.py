"""No dead code in configs, steps and pipelines: vulture (settings in pyproject.toml) finds nothing, and
every name its whitelist (tools/vulture_whitelist.py) excuses is still defined in the packages."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHITELIST = ROOT / "tools" / "vulture_whitelist.py"


def test_vulture_finds_no_dead_code() -> None:
    done = subprocess.run([sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_the_whitelist_excuses_only_names_the_code_has() -> None:
    excused = {
        node.attr for node in ast.walk(ast.parse(WHITELIST.read_text())) if isinstance(node, ast.Attribute)
    }
    code = "\n".join(
        path.read_text()
        for package in ("configs", "steps", "pipelines")
        for path in (ROOT / package).rglob("*.py")
    )
    stale = sorted(name for name in excused if not re.search(rf"\b{re.escape(name)}\b", code))
    assert stale == [], f"drop from {WHITELIST.name}: {stale}"
