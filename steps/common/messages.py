"""Service text made fit for a message: one line, no markup. Stdlib only (runs in the step images too).

A proxy or an emulator lacking an API answers with an HTML error page; its markup must never reach a
user's terminal, a preflight table or a FailureReason.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
HTML_PAGE = "the answer was an HTML error page, not the service's (a proxy, or an emulator without this API)"


def is_markup(text: str) -> bool:
    """Whether `text` looks like an HTML (or XML-ish) page rather than a message."""
    lowered = text.lower()
    return "<html" in lowered or "<!doctype" in lowered or "<body" in lowered or "</" in lowered


def one_line(text: str, limit: int = 400) -> str:
    """`text` as one line of at most `limit` characters; an HTML page becomes what it is and its title."""
    if is_markup(text):
        title = _TITLE.search(text)
        heading = html.unescape(_TAG.sub(" ", title.group(1))) if title else ""
        text = f"{HTML_PAGE}: {heading}" if heading.strip() else HTML_PAGE
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
