"""What the commands a command substitution runs print, where that can be known without running them."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.catalog.bash.words import UNKNOWN, known

_OUTPUT_COMMANDS = frozenset({"echo", "printf", "pwd", "dirname", "basename", "realpath", "readlink", "git"})


def command_output(argv: list[str], cwd: str, repo_root: Path | None) -> str:
    """The output of `argv` run in `cwd` inside `$(...)`: paths, `echo`, git's top level; else UNKNOWN."""
    name, args = argv[0], [arg for arg in argv[1:] if not arg.startswith("-")]
    if name not in _OUTPUT_COMMANDS or not known(cwd):
        return UNKNOWN
    if name in ("echo", "printf"):
        return " ".join(args) + "\n"
    if name == "pwd":
        return cwd + "\n"
    if name == "git":
        top = "--show-toplevel" in argv and repo_root is not None
        return f"{repo_root}\n" if top else UNKNOWN
    if args and known(args[0]):
        path = os.path.join(cwd, args[0])
        value = {"dirname": os.path.dirname(args[0]) or ".", "basename": os.path.basename(args[0])}
        return value.get(name, os.path.normpath(path)) + "\n"
    return UNKNOWN
