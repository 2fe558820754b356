"""Expanding bash words into fields: parameters (with `${X:-default}` and friends), arrays, `"$@"`,
command substitution (through a callback), and word splitting of unquoted expansions.

What cannot be known before the run is marked: `UNKNOWN` inside a field, `USER_ARGS` as a field of its
own (the user's `-- ARGS`), `secret(NAME)` for a host secret the script forwards.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping

from pipelines.catalog.bash.lexer import Lit, Param, Part, Sub, Token, tokenize

UNKNOWN = "\ue001"
USER_ARGS = "\ue000@"
_SECRET = "\ue002"
_SECRET_NAME = re.compile(
    r"(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|API_KEY|ACCESS_KEY", re.IGNORECASE
)
_PARAM = re.compile(r"^(#?)([A-Za-z_][A-Za-z0-9_]*|[@*#?$!0-9-])(?:\[([^\]]*)\])?(.*)$", re.DOTALL)

Value = str | list[str] | None


def secret(name: str) -> str:
    """The placeholder standing for host secret `name`'s value."""
    return f"{_SECRET}{name}{_SECRET}"


def secrets_in(text: str) -> list[str]:
    """The names of the secret placeholders in `text`."""
    return re.findall(f"{_SECRET}([A-Za-z0-9_]+){_SECRET}", text)


def looks_secret(name: str) -> bool:
    """True for host variables that hold credentials (HF_TOKEN, WANDB_API_KEY, ...)."""
    return bool(_SECRET_NAME.search(name))


def known(text: str) -> bool:
    """True when `text` holds no unknown part and no secret."""
    return UNKNOWN not in text and _SECRET not in text and text != USER_ARGS


class Expander:
    """Expands words against variables (`lookup`) and command substitutions (`substitute`)."""

    def __init__(self, lookup: Callable[[str], Value], substitute: Callable[[str], str]) -> None:
        self.lookup = lookup
        self.substitute = substitute

    def fields(self, token: Token) -> list[str]:
        """The fields `token` expands to (an array literal expands to its items)."""
        if token.op == "array":
            return [field for item in token.items for field in self.fields(item)]
        out = _Fields()
        for part in token.parts:
            self._part(part, out)
        return out.done()

    def text(self, token: Token) -> str:
        """`token` expanded as one string (its fields joined by spaces)."""
        return " ".join(self.fields(token))

    def _part(self, part: Part, out: _Fields) -> None:
        if isinstance(part, Lit):
            out.add(part.text, split=False)
        elif isinstance(part, Sub):
            out.add(UNKNOWN if part.arith else self.substitute(part.text), split=not part.quoted)
        else:
            self._param(part, out)

    def _param(self, part: Param, out: _Fields) -> None:
        match = _PARAM.match(part.expr)
        if part.expr.startswith("!") or not match:
            out.add(UNKNOWN, split=False)
            return
        length, name, index, rest = match.groups()
        value = self.lookup(f"{name}[{index}]" if index is not None else name)
        if part.quoted and "@" not in (name, index):
            out.add("", split=False)  # a quoted expansion is a field even when empty; "$@" may be none
        if part.quoted and "*" in (name, index) and isinstance(value, list):
            value = " ".join(value)  # "$*": the items joined into one field
        if length:
            size = len(value) if isinstance(value, list) else len(value or "")
            out.add(UNKNOWN if _unknown(value) else str(size), split=False)
            return
        operator = re.match(r"^(:?[-+=?]|%%|%|##|#|//|/|\^\^|,,|:)?(.*)$", rest, re.DOTALL)
        op, word = operator.groups() if operator else ("", rest)
        value = self._operate(value, op or "", word, part.quoted, out)
        if value is None:
            return
        if isinstance(value, list):
            for position, item in enumerate(value):
                if position:
                    out.brk()
                out.add(item, split=not part.quoted)
        else:
            out.add(value, split=not part.quoted)

    def _operate(self, value: Value, op: str, word: str, quoted: bool, out: _Fields) -> Value:
        empty = value is None or value == "" or value == []
        if op in (":-", "-", ":=", "="):
            if value is None or (op.startswith(":") and empty):
                self._word(word, quoted, out)
                return None
            return value
        if op in (":+", "+"):
            if not (value is None or (op.startswith(":") and empty)):
                self._word(word, quoted, out)
            return None
        if op in (":?", "?") or op == "":
            return value
        if isinstance(value, list) or value is None:
            return UNKNOWN if op else value
        pattern = self.text(tokenize(word)[0]) if word.strip() else ""
        if not known(value) or not known(pattern) or op == ":":
            return UNKNOWN
        if op in ("%", "%%"):
            cuts = [i for i in range(len(value) + 1) if fnmatch.fnmatchcase(value[i:], pattern)]
            return value[: (cuts[-1] if op == "%" else cuts[0])] if cuts else value
        if op in ("#", "##"):
            cuts = [i for i in range(len(value) + 1) if fnmatch.fnmatchcase(value[:i], pattern)]
            return value[(cuts[0] if op == "#" else cuts[-1]) :] if cuts else value
        if op == "^^":
            return value.upper()
        if op == ",,":
            return value.lower()
        return UNKNOWN

    def pattern(self, token: Token) -> str:
        """`token` as the pattern of `[[ x == pattern ]]` or `case`: one string, its quoted parts escaped
        so that only its unquoted `*`, `?` and `[...]` match (as bash does)."""
        pieces = []
        for part in token.parts:
            text = self.text(Token(parts=(part,)))
            pieces.append(_escape_pattern(text) if part.quoted else text)
        return "".join(pieces)

    def _word(self, word: str, quoted: bool, out: _Fields) -> None:
        """The word of `${X:-word}`: its own quotes and expansions; split only when unquoted.

        Inside double quotes the word is not split, but a `"${A[@]}"` or `"$@"` in it still gives one
        field per item (`"${A[@]+"${A[@]}"}"` is `"${A[@]}"` when A has items, nothing when it has none).
        """
        tokens = [token for token in tokenize(word) if not token.op] if word else []
        for position, token in enumerate(tokens):
            if position:
                out.add(" ", split=False) if quoted else out.brk()
            parts = tuple(part._replace(quoted=True) for part in token.parts) if quoted else token.parts
            for index, field in enumerate(self.fields(Token(parts=parts))):
                if index:
                    out.brk()
                out.add(field, split=False)


def _escape_pattern(text: str) -> str:
    """`text` matched literally by `fnmatch`: each of `*?[` inside brackets."""
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)


def _unknown(value: Value) -> bool:
    items = value if isinstance(value, list) else [value or ""]
    return any(not known(item) for item in items)


class _Fields:
    """Builds fields; unquoted text is split at blanks, quoted text is kept whole."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.current: str | None = None

    def add(self, text: str, split: bool) -> None:
        if not split:
            self.current = (self.current or "") + text
            return
        for position, piece in enumerate(re.split(r"[ \t\n]+", text)):
            if position:
                self.brk()
            if piece:
                self.current = (self.current or "") + piece

    def brk(self) -> None:
        if self.current is not None:
            self.fields.append(self.current)
        self.current = None

    def done(self) -> list[str]:
        self.brk()
        return self.fields


def lookup_in(
    variables: Mapping[str, Value], positional: list[str], script: str, cwd: str
) -> Callable[[str], Value]:
    """A `lookup` over `variables`, the positional parameters, `BASH_SOURCE` and the host."""

    def lookup(key: str) -> Value:
        name, _, index = key.partition("[")
        index = index.rstrip("]")
        if name in ("@", "*"):
            return list(positional)
        if name == "#":
            return str(len([arg for arg in positional if arg != USER_ARGS]))
        if name.isdigit():
            number = int(name)
            if number == 0:
                return script
            given = [arg for arg in positional if arg != USER_ARGS]
            return given[number - 1] if number <= len(given) else None
        if name == "BASH_SOURCE":
            return [script] if index in ("@", "*") else script
        if name == "PWD":
            return cwd
        if name in ("?", "$", "!", "-", "RANDOM", "UID", "EUID", "USER"):
            return "0" if name == "?" else UNKNOWN
        value = variables.get(name)
        if value is None:
            return _host(name)
        if isinstance(value, list):
            if index in ("@", "*"):
                return list(value)
            position = int(index) if index.isdigit() else 0
            return value[position] if position < len(value) else None
        return value

    return lookup


def _host(name: str) -> Value:
    """A host variable the script reads: HOME is the container's; secrets are placeholders; others unset."""
    if name == "HOME":
        return "/root"
    if looks_secret(name):
        return secret(name)
    return None
