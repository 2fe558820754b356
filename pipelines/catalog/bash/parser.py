"""Bash tokens into a tree of commands: simple commands, `&&`/`||`, pipelines, `if`, `for`, `while`,
`case`, functions, groups and subshells.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from pipelines.catalog.bash.lexer import Lit, ShellSyntaxError, Token, tokenize

_SEPARATORS = frozenset({"\n", ";", "&"})


class Simple(NamedTuple):
    """A simple command: its words (assignment words and array literals included), and its line."""

    words: tuple[Token, ...]
    line: int


class AndOr(NamedTuple):
    """`left && right` or `left || right`."""

    left: Node
    op: str
    right: Node


class Pipeline(NamedTuple):
    """`a | b | c`."""

    commands: tuple[Node, ...]


class If(NamedTuple):
    """`if c; then b; elif c; then b; else b; fi`: (condition, body) pairs, then the else body."""

    branches: tuple[tuple[tuple[Node, ...], tuple[Node, ...]], ...]
    orelse: tuple[Node, ...]


class Loop(NamedTuple):
    """`for NAME in WORDS; do ...; done` (`items` set) or `while`/`until` (`condition` set)."""

    kind: str
    name: str
    items: tuple[Token, ...]
    condition: tuple[Node, ...]
    body: tuple[Node, ...]


class Case(NamedTuple):
    """`case WORD in PATTERN) body ;; ... esac`."""

    word: Token
    arms: tuple[tuple[tuple[Token, ...], tuple[Node, ...]], ...]


class Function(NamedTuple):
    """`name() { body; }`."""

    name: str
    body: tuple[Node, ...]


class Group(NamedTuple):
    """`{ body; }` or `( body )`."""

    body: tuple[Node, ...]


Node = Simple | AndOr | Pipeline | If | Loop | Case | Function | Group


def keyword(token: Token) -> str:
    """The token's text when it is one unquoted literal (how bash recognises keywords), else ""."""
    if token.op or len(token.parts) != 1:
        return ""
    part = token.parts[0]
    return part.text if isinstance(part, Lit) and not part.quoted else ""


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def at(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.op in ops

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and keyword(token) == word

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect_word(self, word: str) -> None:
        self.skip_separators()
        token = self.peek()
        if token is None or keyword(token) != word:
            line = token.line if token else "end"
            raise ShellSyntaxError(f"expected {word!r} at line {line}")
        self.i += 1

    def skip_separators(self) -> None:
        while self.at(*_SEPARATORS):
            self.i += 1

    def command_list(self, stop: frozenset[str]) -> tuple[Node, ...]:
        nodes: list[Node] = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token is None or keyword(token) in stop or token.op in (")", ";;", ";&"):
                return tuple(nodes)
            nodes.append(self.and_or())

    def and_or(self) -> Node:
        left = self.pipeline()
        while self.at("&&", "||"):
            op = self.take().op
            while self.at("\n"):
                self.i += 1
            left = AndOr(left, op, self.pipeline())
        return left

    def pipeline(self) -> Node:
        bang = self.take() if self.at_keyword("!") else None
        commands = [self.command()]
        while self.at("|", "|&"):
            self.i += 1
            self.skip_separators()
            commands.append(self.command())
        if bang is not None and len(commands) == 1 and isinstance(commands[0], Simple):
            # `! cmd` stays a word of the command, so a negated test is seen (`if ! [ -f x ]`).
            return Simple((bang, *commands[0].words), commands[0].line)
        return commands[0] if len(commands) == 1 else Pipeline(tuple(commands))

    def command(self) -> Node:
        token = self.peek()
        if token is None:
            raise ShellSyntaxError("a command is missing at the end of the script")
        word = keyword(token)
        if token.op == "(":
            self.i += 1
            body = self.command_list(frozenset())
            self._close(")")
            return Group(body)
        if word in ("if", "for", "while", "until", "case", "{", "function"):
            self.i += 1
            return getattr(self, f"_{ {'{': 'group'}.get(word, word) }")()
        if word and self.i + 2 < len(self.tokens) and self.tokens[self.i + 1].op == "(":
            if self.tokens[self.i + 2].op == ")":
                self.i += 3
                return self._function_body(word)
        return self._simple()

    def _close(self, op: str) -> None:
        self.skip_separators()
        token = self.peek()
        if token is None or token.op != op:
            raise ShellSyntaxError(f"expected {op!r} at line {token.line if token else 'end'}")
        self.i += 1

    def _simple(self) -> Simple:
        words: list[Token] = []
        first = self.tokens[self.i]
        line = first.line
        conditional = keyword(first) == "[["
        while (token := self.peek()) is not None:
            if token.op and token.op != "array":
                if not conditional or token.op in _SEPARATORS and token.op != "&":
                    break
                token = Token(parts=(Lit(token.op, False),), line=token.line)
            words.append(token)
            self.i += 1
            if conditional and keyword(token) == "]]":
                conditional = False
        return Simple(tuple(words), line)

    def _if(self) -> If:
        branches = []
        while True:
            condition = self.command_list(frozenset({"then"}))
            self.expect_word("then")
            body = self.command_list(frozenset({"elif", "else", "fi"}))
            branches.append((condition, body))
            ending = keyword(self.take())
            if ending == "elif":
                continue
            orelse: tuple[Node, ...] = ()
            if ending == "else":
                orelse = self.command_list(frozenset({"fi"}))
                self.expect_word("fi")
            return If(tuple(branches), orelse)

    def _for(self) -> Loop:
        name = keyword(self.take())
        items: list[Token] = []
        self.skip_separators()
        if self.at_keyword("in"):
            self.i += 1
            while (token := self.peek()) is not None and not token.op:
                items.append(self.take())
        else:
            items = [tokenize('"$@"')[0]]
        self.expect_word("do")
        body = self.command_list(frozenset({"done"}))
        self.expect_word("done")
        return Loop("for", name, tuple(items), (), body)

    def _while(self, kind: str = "while") -> Loop:
        condition = self.command_list(frozenset({"do"}))
        self.expect_word("do")
        body = self.command_list(frozenset({"done"}))
        self.expect_word("done")
        return Loop(kind, "", (), condition, body)

    def _until(self) -> Loop:
        return self._while("until")

    def _case(self) -> Case:
        word = self.take()
        self.expect_word("in")
        arms: list[tuple[tuple[Token, ...], tuple[Node, ...]]] = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token is None:
                raise ShellSyntaxError(f"`case` on line {word.line} has no `esac`")
            if keyword(token) == "esac":
                self.i += 1
                return Case(word, tuple(arms))
            if token.op == "(":
                self.i += 1
            patterns = [self.take()]
            while self.at("|"):
                self.i += 1
                patterns.append(self.take())
            self._close(")")
            body = self.command_list(frozenset({"esac"}))
            if self.at(";;", ";&"):
                self.i += 1
            arms.append((tuple(patterns), body))

    def _group(self) -> Group:
        body = self.command_list(frozenset({"}"}))
        self.expect_word("}")
        return Group(body)

    def _function(self) -> Function:
        name = keyword(self.take())
        if self.at("("):
            self.i += 2
        return self._function_body(name)

    def _function_body(self, name: str) -> Function:
        self.skip_separators()
        body = self.command()
        return Function(name, body.body if isinstance(body, Group) else (body,))


@lru_cache(maxsize=1024)
def parse(text: str) -> tuple[Node, ...]:
    """The commands of a bash script; ShellSyntaxError when it cannot be read.

    Remembered by text (the tree is immutable): presets of an example walk the same scripts."""
    parser = _Parser(tokenize(text))
    try:
        nodes = parser.command_list(frozenset())
    except IndexError:
        raise ShellSyntaxError("the script ends in the middle of a command") from None
    left = parser.peek()
    if left is not None:
        raise ShellSyntaxError(f"unexpected {left.op or 'word'!r} at line {left.line}")
    return nodes
