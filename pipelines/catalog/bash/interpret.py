"""Walk a preset script as bash would, without running anything, and collect the commands it runs.

Variables, arrays, `export`, `set --`, `shift`, `cd`, `source`, functions, `if`/`case`/`for`/`while`,
`&&`/`||`, command substitution (`$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)`, `git rev-parse
--show-toplevel`, `dirname`, ...) and sibling scripts (`bash "$SCRIPT_DIR/train.sh" "$@"`, two levels
deep) are followed. A `docker run` (also via `eval`) or any other command is recorded as a `Call`, with
the file whose absence guarded it (`if [ ! -f data/x ]; then docker run ...; fi`).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import NamedTuple

from pipelines.catalog.bash.conditions import Guard, decide, mentions_docker_run
from pipelines.catalog.bash.lexer import Lit, ShellSyntaxError, Token, tokenize
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
    parse,
)
from pipelines.catalog.bash.substitution import command_output
from pipelines.catalog.bash.words import UNKNOWN, USER_ARGS, Expander, Value, known, lookup_in

MAX_DEPTH = 2  # sibling scripts followed: a preset script, its sibling, and the sibling's sibling
_MAX_STEPS = 20000
_ASSIGNMENT_PREFIX = ("export", "declare", "local", "readonly", "typeset")


class Call(NamedTuple):
    """A command the script runs: its fields, the script and line, and the guarding file (absolute)."""

    argv: tuple[str, ...]
    script: Path
    line: int
    guard: str | None


class _Stop(Exception):
    """`exit` (or `return` outside a function)."""


class Walk:
    """One walk of a script: its variables, positional parameters, working folder and the calls seen."""

    def __init__(
        self, example_dir: Path, repo_root: Path | None, env: dict[str, str], args: list[str]
    ) -> None:
        self.example_dir = example_dir.resolve()
        self.repo_root = repo_root
        self.variables: dict[str, Value] = dict(env)
        self.positional = [*args, USER_ARGS]
        self.cwd = str(self.example_dir)
        self.script = self.example_dir / "script.sh"
        self.functions: dict[str, tuple[Node, ...]] = {}
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.guard: str | None = None
        self.depth = 0
        self.steps = 0
        self.output: list[str] | None = None

    # -- running -----------------------------------------------------------------------------------
    def run_file(self, script: Path, args: list[str] | None = None) -> None:
        """Walk `script` (a sibling when called from another script: `args` become `$@`)."""
        saved = (self.script, self.positional)
        self.script = script.resolve()
        if args is not None:
            self.positional = args
        try:
            self.run(parse(script.read_text("utf-8", "replace")))
        except _Stop:
            pass
        finally:
            self.script, self.positional = saved

    def run(self, nodes: tuple[Node, ...]) -> bool:
        """Walk `nodes`; returns whether the last one (as far as can be told) succeeded."""
        status = True
        for node in nodes:
            self.steps += 1
            if self.steps > _MAX_STEPS:
                raise ShellSyntaxError("the script loops too long to be followed")
            status = self.node(node)
        return status

    def node(self, node: Node) -> bool:
        """Walk one command of any kind; whether it succeeded, as far as can be told."""
        if isinstance(node, Simple):
            return self.simple(node)
        if isinstance(node, AndOr):
            return self._and_or(node)
        if isinstance(node, Pipeline):
            return all([self.node(command) for command in node.commands])
        if isinstance(node, Group):
            return self.run(node.body)
        if isinstance(node, Function):
            self.functions[node.name] = node.body
            return True
        if isinstance(node, If):
            return self._if(node)
        if isinstance(node, Case):
            return self._case(node)
        return self._loop(node)

    def _and_or(self, node: AndOr) -> bool:
        """`x && y`, `x || y`: y runs as bash would run it when x is a test decided here."""
        verdict = self.condition((node.left,))
        if isinstance(verdict, Guard):
            if node.op == "&&" and mentions_docker_run((node.right,)):
                return self._guarded(verdict.path, (node.right,))
            verdict = not os.path.exists(verdict.path)
        if verdict is None:
            left = self.node(node.left)
            # `x || y`: assume x worked (y is a fallback or an error exit); `x && y`: both run.
            return left if node.op == "||" else self.node(node.right)
        if verdict == (node.op == "&&"):
            return self.node(node.right)
        return verdict

    def _guarded(self, path: str, body: tuple[Node, ...]) -> bool:
        """Walk `body` as run only when `path` (a file of the example) is missing: a prepare step."""
        outer, self.guard = self.guard, path
        try:
            return self.run(body)
        finally:
            self.guard = outer

    def _if(self, node: If) -> bool:
        for condition, body in node.branches:
            verdict = self.condition(condition)
            if isinstance(verdict, Guard):
                if mentions_docker_run(body):
                    return self._guarded(verdict.path, body)
                verdict = not os.path.exists(verdict.path)
            if verdict:
                return self.run(body)
        return self.run(node.orelse)

    def _case(self, node: Case) -> bool:
        value = self.expander().text(node.word)
        for patterns, body in node.arms:
            for pattern in patterns:
                text = self.expander().text(pattern)
                if known(value) and known(text) and fnmatch.fnmatchcase(value, text):
                    return self.run(body)
        return True

    def _loop(self, node: Loop) -> bool:
        if node.kind == "for":
            items = [field for token in node.items for field in self.expander().fields(token)]
            for item in items:
                self.variables[node.name] = item
                self.run(node.body)
            return True
        for _ in range(100):
            verdict = self.condition(node.condition)
            if (verdict is True) == (node.kind == "until") or isinstance(verdict, Guard) or verdict is None:
                return True
            self.run(node.body)
        return True

    def condition(self, nodes: tuple[Node, ...]) -> bool | Guard | None:
        """A condition's verdict: True, False, a `Guard` (a missing-file test), or None (unknown)."""
        return decide(nodes, self.expander(), self.cwd, self.example_dir)

    # -- simple commands ---------------------------------------------------------------------------
    def expander(self) -> Expander:
        """An expander over the current variables, arguments and folder."""
        lookup = lookup_in(self.variables, self.positional, str(self.script), self.cwd)
        return Expander(lookup, self.substitute)

    def argv(self, node: Simple) -> list[str]:
        """The fields of a simple command after expansion."""
        expand = self.expander()
        return [field for token in node.words for field in expand.fields(token)]

    def simple(self, node: Simple) -> bool:
        """Assignments, then the command (a built-in, a function, a sibling script, or a recorded call)."""
        words = list(node.words)
        assigned: dict[str, Value] = {}
        while words and (words[0].op == "array" or _assignment(words[0])):
            name, value = self.assignment(words.pop(0))
            assigned[name] = value
        if not words:
            self.variables.update(assigned)
            return True
        expand = self.expander()
        argv = [field for token in words for field in expand.fields(token)]
        return self.command(argv, node.line, assigned, words)

    def assignment(self, token: Token) -> tuple[str, Value]:
        """The variable an assignment word (`X=v`, `X+=v`, `A=(...)`, `A+=(...)`) sets, and its value."""
        expand = self.expander()
        if token.op == "array":
            name, append = token.name.rstrip("+="), token.name.endswith("+=")
            items = [field for item in token.items for field in expand.fields(item)]
            before = self.variables.get(name)
            base = before if isinstance(before, list) else ([before] if before else [])
            return name, (base + items if append else items)
        head = token.parts[0]
        assert isinstance(head, Lit), "callers pass assignment words (_assignment) only"
        name, _, first = head.text.partition("=")
        append = name.endswith("+")
        name = name.rstrip("+")
        rest = (head._replace(text=first), *token.parts[1:])
        value = "".join(expand.fields(Token(parts=rest))) if rest else ""
        before = self.variables.get(name)
        return name, ((before if isinstance(before, str) else "") + value if append else value)

    def command(self, argv: list[str], line: int, assigned: dict[str, Value], words: list[Token]) -> bool:
        """Run one expanded command as bash would, recording what it would start."""
        name = argv[0] if argv else ""
        if name in _ASSIGNMENT_PREFIX:
            for token in words[1:]:
                if token.op == "array" or _assignment(token):
                    key, value = self.assignment(token)
                    self.variables[key] = value
            return True
        if name == "!" and len(argv) > 1:
            return not self.command(argv[1:], line, assigned, words[1:])
        if name == "eval":
            return self.run(parse(" ".join(argv[1:])))
        if name in ("exit", "return"):
            if name == "exit" and len(argv) > 1 and argv[1] not in ("0",) and self.output is None:
                self.problems.append(f"{self.script.name} line {line}: exits with {argv[1]} before running")
            raise _Stop
        if name == "set":
            if "--" in argv:
                self.positional = argv[argv.index("--") + 1 :]
            return True
        if name == "shift":
            count = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
            given = [arg for arg in self.positional if arg != USER_ARGS][count:]
            self.positional = [*given, USER_ARGS] if USER_ARGS in self.positional else given
            return True
        if name == "unset":
            for key in argv[1:]:
                self.variables.pop(key, None)
            return True
        if name == "cd":
            target = argv[1] if len(argv) > 1 and argv[1] != "--" else (argv[2] if len(argv) > 2 else "/root")
            self.cwd = os.path.normpath(os.path.join(self.cwd, target)) if known(target) else UNKNOWN
            return known(target) and os.path.isdir(self.cwd)
        if name in ("source", ".") and len(argv) > 1:
            return self._source(argv[1])
        if name in self.functions:
            saved = self.positional
            self.positional = argv[1:]
            try:
                return self.run(self.functions[name])
            except _Stop:
                return True
            finally:
                self.positional = saved
        if self.output is not None:
            return self._output(argv)
        sibling = self._sibling(argv)
        if sibling is not None:
            return self._call_sibling(sibling, argv, line, assigned)
        if name in ("bash", "sh") and len(argv) > 2 and argv[1] in ("-c", "-lc", "-ec"):
            return self.run(parse(argv[2]))
        self.calls.append(Call(tuple(argv), self.script, line, self.guard))
        return True

    def _source(self, path: str) -> bool:
        file = Path(self.cwd, path)
        if known(path) and file.is_file() and file.suffix in (".sh", "") and self.depth < MAX_DEPTH:
            self.run_file(file, list(self.positional))
        return True

    def _sibling(self, argv: list[str]) -> Path | None:
        """The script a command runs (`bash x.sh`, `exec ./x.sh`, `"$SCRIPT_DIR/x.sh"`), if it is one."""
        rest = argv[1:] if argv and argv[0] == "exec" else argv
        if rest and rest[0] in ("bash", "sh"):
            rest = rest[1:]
            while rest and rest[0].startswith("-") and rest[0] not in ("-c", "-lc", "-ec"):
                rest = rest[1:]
        if not rest or not rest[0].endswith(".sh") or not known(rest[0]):
            return None
        path = Path(self.cwd, rest[0])
        return path if path.is_file() else None

    def _call_sibling(self, path: Path, argv: list[str], line: int, assigned: dict[str, Value]) -> bool:
        if self.depth >= MAX_DEPTH:
            self.problems.append(
                f"{self.script.name} line {line}: calls scripts more than {MAX_DEPTH} levels deep"
            )
            return False
        args = argv[argv.index(next(a for a in argv if a.endswith(".sh"))) + 1 :]
        saved = dict(self.variables), self.cwd
        self.variables.update(assigned)
        self.depth += 1
        self.cwd = str(path.parent)
        try:
            self.run_file(path, args)
        finally:
            self.depth -= 1
            self.variables, self.cwd = saved
        return True

    # -- command substitution ----------------------------------------------------------------------
    def substitute(self, text: str) -> str:
        """The output of `$(text)` where it can be known here (paths, echo, git's top level), else UNKNOWN."""
        saved = (self.output, self.cwd, dict(self.variables))
        self.output = []
        try:
            self.run(parse(text))
            result = "".join(self.output).rstrip("\n")
        except (_Stop, ShellSyntaxError, RecursionError, ValueError, OSError):
            result = UNKNOWN
        finally:
            self.output, self.cwd, self.variables = saved[0], saved[1], saved[2]
        return result

    def _output(self, argv: list[str]) -> bool:
        assert self.output is not None
        self.output.append(command_output(argv, self.cwd, self.repo_root))
        return True


def _assignment(token: Token) -> bool:
    head = token.parts[0] if token.parts else None
    if not isinstance(head, Lit) or head.quoted:
        return False
    name = head.text.split("=", 1)[0].rstrip("+")
    return "=" in head.text and name.isidentifier()


def walk(
    script: Path, example_dir: Path, repo_root: Path | None, env: dict[str, str], args: list[str]
) -> Walk:
    """Walk a preset's script with the preset's environment and arguments; the calls it would make."""
    state = Walk(example_dir, repo_root, env, args)
    state.run_file(script)
    return state


__all__ = ["Call", "MAX_DEPTH", "Walk", "tokenize", "walk"]
