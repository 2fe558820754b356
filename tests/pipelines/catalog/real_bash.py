"""Real bash, run on the same snippet the shell reader reads: the reference its tests compare with."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

# Prints each argument it gets, NUL-terminated, so empty fields and fields with spaces are seen.
_FIELDS = '__fields() { for a in "$@"; do printf \'%s\\0\' "$a"; done; }\n'
_ENV = {"HOME": "/root", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}

Variables = dict[str, "str | list[str]"]


def assignments(variables: Variables, positional: list[str]) -> str:
    """Bash lines setting `variables` (a list is an array) and the positional parameters."""
    lines = [f"set -- {' '.join(shlex.quote(arg) for arg in positional)}"]
    for name, value in variables.items():
        if isinstance(value, list):
            lines.append(f"{name}=({' '.join(shlex.quote(item) for item in value)})")
        else:
            lines.append(f"{name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def bash_fields(word: str, variables: Variables, positional: list[str], cwd: Path | None = None) -> list[str]:
    """The fields bash expands `word` to (as the arguments of a command), with `variables` set."""
    script = _FIELDS + assignments(variables, positional) + f"__fields {word}\n"
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, env=_ENV, cwd=cwd, timeout=30, check=True
    )
    return done.stdout.decode().split("\0")[:-1]


def bash_runs(script: Path, cwd: Path) -> list[str]:
    """The commands a script runs, as bash runs them: each command not found prints its line instead."""
    handler = 'command_not_found_handle() { echo "$*"; return 0; }\n'
    done = subprocess.run(
        ["bash", "-c", handler + f"source {shlex.quote(str(script))}"],
        capture_output=True,
        text=True,
        env=_ENV,
        cwd=cwd,
        timeout=30,
    )
    return done.stdout.splitlines()
