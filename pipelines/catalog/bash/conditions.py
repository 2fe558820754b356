"""Bash test expressions (`[ ... ]`, `[[ ... ]]`, `test`) evaluated as far as they can be known here.

A test for a missing file inside the example folder (`[ ! -f "$SCRIPT_DIR/data/x.bin" ]`) is a
`Guard`: the commands it guards prepare that file, so they become a prepare step that runs when it is
missing. A test on a host path outside the example folder is host state, not the job's: its verdict is
None (undecidable), as is one on an unknown value.
"""

from __future__ import annotations

import fnmatch
import operator
import os
from pathlib import Path
from typing import NamedTuple

from pipelines.catalog.bash.lexer import Lit, Token
from pipelines.catalog.bash.parser import (
    AndOr,
    Case,
    Function,
    Group,
    If,
    Loop,
    Node,
    Pipeline,
    Simple,
    keyword,
)
from pipelines.catalog.bash.words import UNKNOWN, Expander, known, secrets_in

_FILE_TESTS = frozenset({"-f", "-e", "-d", "-s", "-x", "-r", "-w", "-L", "-h", "-a"})
_NUMERIC = {
    "-eq": operator.eq,
    "-ne": operator.ne,
    "-gt": operator.gt,
    "-ge": operator.ge,
    "-lt": operator.lt,
    "-le": operator.le,
}

Verdict = bool | None


class Guard(NamedTuple):
    """A test that a file of the example folder is missing; `path` is absolute."""

    path: str


def decide(nodes: tuple[Node, ...], expand: Expander, cwd: str, example_dir: Path) -> Verdict | Guard:
    """A condition's verdict: True, False, a `Guard` (a missing-file test), or None (unknown).

    Tests (`[`, `[[`, `test`) joined by `&&`/`||` are decided together, as bash would run them.
    """
    if len(nodes) != 1:
        return None
    node = nodes[0]
    if isinstance(node, AndOr):
        # A command on the left has effects bash would see: only tests decide without running it.
        left = decide((node.left,), expand, cwd, example_dir)
        return None if left is None else both(left, node.op, decide((node.right,), expand, cwd, example_dir))
    if not isinstance(node, Simple) or not node.words:
        return None
    if keyword(node.words[0]) == "!" and len(node.words) > 1:
        inner = decide((Simple(node.words[1:], node.line),), expand, cwd, example_dir)
        return None if inner is None else not _settled(inner)
    if keyword(node.words[0]) == "[[":
        return evaluate(conditional_words(node.words, expand), cwd, example_dir)
    argv = [field for token in node.words for field in expand.fields(token)]
    if argv and argv[0] in ("[", "test", "true", "false"):
        return evaluate(argv, cwd, example_dir)
    return None


def conditional_words(words: tuple[Token, ...], expand: Expander) -> list[str]:
    """The words of `[[ ... ]]`: each one field (no splitting), the right of `=`/`==`/`!=` a pattern."""
    args: list[str] = []
    for token in words:
        after_comparison = bool(args) and args[-1] in ("=", "==", "!=")
        args.append(expand.pattern(token) if after_comparison else expand.text(token))
    return args


def evaluate(argv: list[str], cwd: str, example_dir: Path) -> Verdict | Guard:
    """The verdict of a test command's fields (`[`, `[[`, `test`, `true`, `false`).

    For `[[ ... ]]` the fields are its words unsplit, and the right side of `=`, `==` and `!=` is a
    pattern (its quoted parts escaped, see `Expander.pattern`): bash matches it, it does not compare.
    """
    args = list(argv)
    if args[0] in ("true", "false"):
        return args[0] == "true"
    patterns = args[0] == "[["
    args = args[1:]
    if args and args[-1] in ("]", "]]"):
        args = args[:-1]
    return _expression(args, cwd, example_dir, patterns)


def both(left: Verdict | Guard, op: str, right: Verdict | Guard) -> Verdict | Guard:
    """The verdict of `left && right` or `left || right` (`&&`/`-a`, `||`/`-o`).

    A Guard stays a Guard when the other side does not decide alone (`[ "$X" = default ] && [ ! -d
    "$X" ]` guards what it runs by that folder); two Guards together are taken as they are here.
    """
    if isinstance(left, Guard) and isinstance(right, Guard):
        left, right = _settled(left), _settled(right)
    deciding = True if op in ("||", "-o") else False
    if deciding in (left, right):
        return deciding
    if None in (left, right):
        return None
    guards = [side for side in (left, right) if isinstance(side, Guard)]
    return guards[0] if guards else not deciding


def _settled(verdict: Verdict | Guard) -> Verdict:
    """A Guard taken as its test is here: the file is missing unless it is in the checkout."""
    return not os.path.exists(verdict.path) if isinstance(verdict, Guard) else verdict


def _expression(args: list[str], cwd: str, example_dir: Path, patterns: bool) -> Verdict | Guard:
    for joiner in ("||", "-o", "&&", "-a"):
        if joiner in args and not (joiner == "-a" and args.index(joiner) == 0):
            position = args.index(joiner)
            left = _expression(args[:position], cwd, example_dir, patterns)
            right = _expression(args[position + 1 :], cwd, example_dir, patterns)
            return both(left, joiner, right)
    negated = bool(args) and args[0] == "!"
    if negated:
        args = args[1:]
    verdict = _primary(args, cwd, example_dir, negated, patterns)
    if isinstance(verdict, Guard) or verdict is None:
        return verdict
    return not verdict if negated else verdict


def _primary(args: list[str], cwd: str, example_dir: Path, negated: bool, patterns: bool) -> Verdict | Guard:
    if len(args) == 1:
        return _non_empty(args[0])
    if len(args) == 2 and args[0] in ("-n", "-z"):
        present = _non_empty(args[1])
        return None if present is None else (present if args[0] == "-n" else not present)
    if len(args) == 2 and args[0] in _FILE_TESTS:
        if args[1] == "":
            return False  # `[ -d "" ]`: no such file, wherever the script runs
        if not known(args[1]) or UNKNOWN in cwd:
            return None
        path = os.path.normpath(os.path.join(cwd, args[1]))
        if not Path(path).is_relative_to(example_dir):
            # Host state (a model in the host's cache, a file in $HOME): not the job's. A script that
            # exits when the host lacks it would run on SageMaker, where the job fetches what it needs.
            return None
        if negated and args[0] in ("-f", "-e", "-d", "-s"):
            return Guard(path)
        return os.path.exists(path)
    if len(args) == 3:
        left, op, right = args
        if not (known(left) and known(right)):
            return None
        if op in ("=", "==", "!="):
            same = fnmatch.fnmatchcase(left, right) if patterns else left == right
            return same if op != "!=" else not same
        if op in _NUMERIC and left.lstrip("-").isdigit() and right.lstrip("-").isdigit():
            return bool(_NUMERIC[op](int(left), int(right)))
    return None


def _non_empty(value: str) -> Verdict:
    if secrets_in(value):
        return True  # a host secret the script forwards: taken as set, so its forwarding is seen
    return None if not known(value) else value != ""


def mentions_docker_run(nodes: tuple[Node, ...]) -> bool:
    """True when `nodes` contain a command naming `docker` or a sibling `.sh` script (syntactically)."""
    for node in nodes:
        if isinstance(node, Simple):
            texts = [part.text for token in node.words for part in token.parts if isinstance(part, Lit)]
            if any(text == "docker" or text.endswith(".sh") for text in texts):
                return True
        elif isinstance(node, AndOr):
            if mentions_docker_run((node.left, node.right)):
                return True
        elif isinstance(node, Pipeline | Group | Function | Loop):
            children = node.commands if isinstance(node, Pipeline) else node.body
            if mentions_docker_run(children):
                return True
        elif isinstance(node, If):
            bodies = [body for _, body in node.branches] + [node.orelse]
            if any(mentions_docker_run(body) for body in bodies):
                return True
        elif isinstance(node, Case) and any(mentions_docker_run(body) for _, body in node.arms):
            return True
    return False
