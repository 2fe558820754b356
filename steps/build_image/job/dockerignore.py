"""`.dockerignore` rules as Docker applies them (moby/patternmatcher, BuildKit's context walk).

Patterns are relative to the context root; `*` and `?` never cross `/`; `**` spans any number of
directories; `!` re-includes; the last matching pattern wins; a pattern that matches a directory
excludes everything below it. Stdlib only: it also runs inside the BuildImage job.
"""

from __future__ import annotations

import posixpath
import re
from typing import NamedTuple

_REGEX_SPECIAL = ".+()|{}$"
_WILDCARDS = "*?[\\"


class BadPattern(ValueError):
    """A `.dockerignore` line Docker would reject too (e.g. an unclosed `[`)."""


def _clean(pattern: str) -> str:
    """Go's `filepath.Clean` for slash paths (posixpath keeps a leading `//`, Go does not)."""
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a `.dockerignore` file, normalized as Docker's `ignorefile.ReadAll` does.

    A line starting with `#` is a comment (only in the first column); blank lines are skipped;
    each pattern is cleaned (`./a/` -> `a`, `a//b` -> `a/b`) and a leading `/` is dropped.
    """
    patterns = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix("\ufeff") if number == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = _clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


class _Pattern(NamedTuple):
    text: str
    exclusion: bool
    kind: str  # "exact", "prefix", "suffix" or "regex", as patternmatcher optimizes them
    regex: re.Pattern[str] | None


def _compile(text: str) -> _Pattern:
    """Translate one cleaned pattern exactly as moby/patternmatcher's `Pattern.compile` does."""
    exclusion = text.startswith("!")
    raw = text[1:] if exclusion else text
    if not raw:
        raise BadPattern('illegal exclusion pattern: "!"')
    body = _clean(raw)
    regex, kind, i, step = "^", "exact", 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "*" and body[i + 1 : i + 2] == "*":
            i += 2 if body[i + 2 : i + 3] == "/" else 1  # `**/` is read as `**`
            if i + 1 >= len(body):
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex, kind = regex + ".*", "regex"
            else:
                regex, kind = regex + "(.*/)?", "regex"
            if step == 0:
                kind = "suffix"
        elif ch == "*":
            regex, kind = regex + "[^/]*", "regex"
        elif ch == "?":
            regex, kind = regex + "[^/]", "regex"
        elif ch in _REGEX_SPECIAL:
            regex += "\\" + ch
        elif ch == "\\":
            if i + 1 < len(body):
                i += 1
                regex, kind = regex + "\\" + body[i], "regex"
            else:
                regex += "\\\\"
        elif ch in "[]":
            regex, kind = regex + ch, "regex"
        else:
            regex += ch
        i += 1
        step += 1
    compiled = None
    if kind == "regex":
        try:
            compiled = re.compile(regex + "$")
        except re.error as error:
            raise BadPattern(f".dockerignore pattern {text!r} is not valid: {error}") from None
    return _Pattern(body, exclusion, kind, compiled)


def _match(pattern: _Pattern, path: str) -> bool:
    if pattern.kind == "exact":
        return path == pattern.text
    if pattern.kind == "prefix":
        return path.startswith(pattern.text[:-2])
    if pattern.kind == "suffix":
        suffix = pattern.text[2:]
        return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
    assert pattern.regex is not None
    return pattern.regex.match(path) is not None


def _segment_may_match(segment: str, name: str) -> bool:
    if not any(ch in segment for ch in _WILDCARDS):
        return segment == name
    if "\\" in segment or "[" in segment:
        return True  # too clever to rule out cheaply: assume it may match
    regex = "".join("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in segment)
    return re.fullmatch(regex, name) is not None


class DockerIgnore:
    """A compiled `.dockerignore`: `excluded(path)` answers as Docker does for a context-relative path."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [_compile(p) for p in patterns if p]

    def excluded(self, path: str) -> bool:
        """Whether Docker leaves `path` (slash-separated, relative to the context root) out of the context.

        A pattern matches a path when it matches the path itself or any of its parent folders;
        the last matching pattern decides.
        """
        parents = path.split("/")[:-1]
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = _match(pattern, path)
            if not match:
                match = any(_match(pattern, "/".join(parents[: i + 1])) for i in range(len(parents)))
            if match:
                matched = not pattern.exclusion
        return matched

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether some `!` pattern could match a path strictly below `directory` (conservative).

        When a folder is excluded and this is False, every path below it is excluded too (its
        only extra parents lie below the folder), so the walk can skip the folder unread.
        """
        parts = directory.split("/")
        for pattern in self.patterns:
            if not pattern.exclusion:
                continue
            segments = pattern.text.split("/")
            if any("**" in segment for segment in segments):
                return True
            if len(segments) > len(parts) and all(
                _segment_may_match(segments[i], part) for i, part in enumerate(parts)
            ):
                return True
        return False
