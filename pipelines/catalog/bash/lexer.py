"""Split a bash script into tokens as bash does: words made of quoted and unquoted parts, operators.

Handles line continuations, comments, single and double quotes, `$'...'`, `$NAME`, `${...}`, `$(...)`,
backticks, `$((...))`, process substitution, array literals (`NAME=(...)`, `NAME+=(...)`),
redirections (dropped with their target) and here-documents (skipped).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Lit(NamedTuple):
    """Literal text; `quoted` text is never split into fields."""

    text: str
    quoted: bool


class Param(NamedTuple):
    """A parameter expansion: the text inside `${...}` (or the name after `$`)."""

    expr: str
    quoted: bool


class Sub(NamedTuple):
    """A command substitution (`$(...)`, backticks) or arithmetic (`$((...))`, `arith` set)."""

    text: str
    quoted: bool
    arith: bool = False


Part = Lit | Param | Sub


class Token(NamedTuple):
    """A word (`parts`), an operator (`op`), or an array literal (`op` = "array", `name`, `items`)."""

    op: str = ""
    parts: tuple[Part, ...] = ()
    name: str = ""
    items: tuple[Token, ...] = ()
    line: int = 0


_OPERATORS = ("&&", "||", ";;", ";&", "|&", ";", "|", "&", "(", ")")  # longest first
_OPERATOR = re.compile("|".join(re.escape(op) for op in _OPERATORS))
_BLANKS = re.compile(r"[ \t]*")
# What `balanced` stops at: escapes, quotes, newlines (counted), the opener and the closer.
_BALANCED_STOPS = {"(": re.compile(r"[\\'\"`\n()]"), "{": re.compile(r"[\\'\"`\n{}]")}
_QUOTE_STOPS = {quote: re.compile(rf"[\\{quote}]") for quote in "'\"`"}
_REDIRECT = re.compile(r"(\d*|&)(>>|>&|<&|>\||<>|>|<)")
_ASSIGN_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=$")
_SPECIAL = "@*#?$!-0123456789"
# Runs of characters with no meaning of their own in a word, and inside double quotes: read at once.
_UNQUOTED_PLAIN = re.compile(r"[^ \t\n;&|()<>\\'\"$`]*")
_DOUBLE_QUOTED_PLAIN = re.compile(r"[^\"\\$`]*")


class ShellSyntaxError(ValueError):
    """The script is not something this lexer can read."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.heredocs: list[tuple[str, bool]] = []

    def peek(self, offset: int = 0) -> str:
        index = self.i + offset
        return self.text[index] if index < len(self.text) else ""

    def balanced(self, opener: str, closer: str) -> str:
        """Text up to the `closer` matching an already consumed `opener` (quotes respected)."""
        depth, start, text = 1, self.i, self.text
        stops = _BALANCED_STOPS[opener]
        while (stop := stops.search(text, self.i)) is not None:  # the next character that matters
            self.i = stop.start()
            char = text[self.i]
            if char == "\\":
                self.i += 2
                continue
            if char in "'\"`":
                end = text.find(char, self.i + 1) if char == "'" else self._quote_end(char)
                self.i = (end if end >= 0 else len(text)) + 1
                continue
            if char == "\n":
                self.line += 1
            elif char == opener:
                depth += 1
            elif char == closer:
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return text[start : self.i - 1]
            self.i += 1
        raise ShellSyntaxError(f"unbalanced {opener!r} on line {self.line}")

    def _quote_end(self, quote: str) -> int:
        index, stops = self.i + 1, _QUOTE_STOPS[quote]
        while (stop := stops.search(self.text, index)) is not None:
            if stop.group() == quote:
                return stop.start()
            index = stop.start() + 2  # an escaped character
        return -1

    def dollar(self, quoted: bool) -> Part:
        """The expansion starting at `$` (already at self.i)."""
        self.i += 1
        char = self.peek()
        if char == "(":
            if self.peek(1) == "(":
                self.i += 2
                text = self.balanced("(", ")")
                self.i += 1 if self.peek() == ")" else 0
                return Sub(text, quoted, arith=True)
            self.i += 1
            return Sub(self.balanced("(", ")"), quoted)
        if char == "{":
            self.i += 1
            return Param(self.balanced("{", "}"), quoted)
        if char == "'" and not quoted:
            end = self._quote_end("'")
            body = self.text[self.i + 1 : end]
            self.i = end + 1
            return Lit(body.encode().decode("unicode_escape", "replace"), True)
        match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", self.text[self.i :])
        if match:
            self.i += match.end()
            return Param(match.group(), quoted)
        if char and char in _SPECIAL:
            self.i += 1
            return Param(char, quoted)
        return Lit("$", quoted)

    def backtick(self, quoted: bool) -> Sub:
        """The command substitution between backticks (self.i at the opening one)."""
        end = self.text.find("`", self.i + 1)
        end = len(self.text) if end < 0 else end
        text, self.i = self.text[self.i + 1 : end], end + 1
        return Sub(text, quoted)

    def double_quoted(self) -> list[Part]:
        self.i += 1
        parts: list[Part] = []
        buffer = ""
        while self.i < len(self.text) and self.peek() != '"':
            char = self.peek()
            if char == "\\" and self.peek(1) in '"\\$`\n':
                buffer += "" if self.peek(1) == "\n" else self.peek(1)
                self.i += 2
            elif char in "$`":
                if buffer:
                    parts.append(Lit(buffer, True))
                    buffer = ""
                parts.append(self.backtick(True) if char == "`" else self.dollar(True))
            else:  # a run of plain characters at once: scripts are mostly plain text
                end = _run_end(
                    _DOUBLE_QUOTED_PLAIN, self.text, self.i + 1
                )  # this one may be a lone backslash
                self.line += self.text.count("\n", self.i, end)
                buffer += self.text[self.i : end]
                self.i = end
        self.i += 1
        return parts + [Lit(buffer, True)] if buffer or not parts else parts

    def word(self) -> tuple[Part, ...]:
        parts: list[Part] = []
        while self.i < len(self.text):
            char = self.peek()
            if char in " \t\n;&|()<>":
                if char in "<>" and self.peek(1) == "(":  # process substitution
                    self.i += 2
                    parts.append(Sub(self.balanced("(", ")"), False))
                    continue
                break
            if char == "\\":
                if self.peek(1) == "\n":
                    self.i += 2
                    self.line += 1
                    continue
                parts.append(Lit(self.peek(1), True))
                self.i += 2
            elif char == "'":
                end = self.text.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError(f"unterminated ' on line {self.line}")
                parts.append(Lit(self.text[self.i + 1 : end], True))
                self.line += self.text.count("\n", self.i, end)
                self.i = end + 1
            elif char == '"':
                parts.extend(self.double_quoted())
            elif char == "$":
                parts.append(self.dollar(False))
            elif char == "`":
                parts.append(self.backtick(False))
            else:
                end = _run_end(_UNQUOTED_PLAIN, self.text, self.i + 1)
                parts.append(Lit(self.text[self.i : end], False))
                self.i = end
        return _merge(parts)

    def skip_heredocs(self) -> None:
        for delimiter, strip_tabs in self.heredocs:
            while self.i < len(self.text):
                end = self.text.find("\n", self.i)
                end = len(self.text) if end < 0 else end
                line = self.text[self.i : end]
                self.i, self.line = end + 1, self.line + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self.heredocs = []


def _run_end(plain: re.Pattern[str], text: str, start: int) -> int:
    match = plain.match(text, start)
    return match.end() if match else start


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for part in parts:
        if (
            merged
            and isinstance(part, Lit)
            and isinstance(merged[-1], Lit)
            and merged[-1].quoted == part.quoted
        ):
            merged[-1] = Lit(merged[-1].text + part.text, part.quoted)
        else:
            merged.append(part)
    return tuple(merged)


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`; newlines are `op="\\n"` tokens. ShellSyntaxError on unbalanced quotes."""
    scan = _Scanner(text)
    tokens: list[Token] = []
    while scan.i < len(text):
        char = text[scan.i]
        if char in " \t":
            scan.i = _run_end(_BLANKS, text, scan.i + 1)
        elif char == "\\" and scan.peek(1) == "\n":
            scan.i += 2
            scan.line += 1
        elif char == "\n":
            tokens.append(Token(op="\n", line=scan.line))
            scan.i += 1
            scan.line += 1
            scan.skip_heredocs()
        elif char == "#":
            end = text.find("\n", scan.i)
            scan.i = len(text) if end < 0 else end
        elif _redirect(scan):
            continue
        elif operator := _OPERATOR.match(text, scan.i):
            scan.i = operator.end()
            tokens.append(Token(op=operator.group(), line=scan.line))
        else:
            line = scan.line
            parts = scan.word()
            head = parts[0].text if len(parts) == 1 and isinstance(parts[0], Lit) else ""
            if head and not parts[0].quoted and _ASSIGN_PREFIX.match(head) and scan.peek() == "(":
                scan.i += 1
                items = [token for token in tokenize(scan.balanced("(", ")")) if not token.op]
                tokens.append(Token(op="array", name=head, items=tuple(items), line=line))
            elif parts:
                tokens.append(Token(parts=parts, line=line))
    return tokens


def _redirect(scan: _Scanner) -> bool:
    """Consume a redirection and its target (or register a here-document); False when there is none."""
    if scan.text.startswith("<<", scan.i) and not scan.text.startswith("<<<", scan.i):
        scan.i += 2
        strip_tabs = scan.peek() == "-"
        scan.i += strip_tabs
        while scan.peek() in " \t":
            scan.i += 1
        delimiter = "".join(part.text for part in scan.word() if isinstance(part, Lit))
        scan.heredocs.append((delimiter, strip_tabs))
        return True
    match = _REDIRECT.match(scan.text, scan.i)
    if not match or (scan.text.startswith("<(", scan.i) or scan.text.startswith(">(", scan.i)):
        return False
    if match.group(1) == "&" and match.group(2) != ">":
        return False
    scan.i = match.end()
    while scan.peek() in " \t":
        scan.i += 1
    scan.word()
    return True
