"""Pure helpers for :mod:`reconciler.cloud.client`: error answers made short, safe single lines.

Nothing here touches HTTP (only :mod:`reconciler.cloud.transport` does): the helpers take
plain values, the answer's body bytes and its ``Content-Type``. Secrets are masked before any
text is shortened, so that a cut never leaves part of one behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reconciler.secrets import scrub

EXCERPT_MAX = 200

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def error_details(body: bytes, content_type: str, secrets: tuple[str, ...]) -> tuple[str, str]:
    """Return ``(error type, description)`` from the body of a non-2xx answer of any shape.

    ``secrets`` are masked before any text is shortened: a cut must not leave part of one.
    """
    text = scrub(body.decode("utf-8", errors="replace"), secrets)
    try:
        data = json.loads(text)
    except ValueError:
        data = None

    def line(value: Any) -> str:
        return _line(None if value is None else scrub(str(value), secrets))

    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):
            return line(error.get("type")), line(error.get("description", error.get("message")))
        if "type" in data or "description" in data:
            return line(data.get("type")), line(data.get("description"))
        if isinstance(error, str) or "message" in data:
            return line(error), line(data.get("message"))
    return "", _excerpt(text, content_type)


def _excerpt(text: str, content_type: str) -> str:
    """A short single line from an opaque body: an HTML page's title, else its first line."""
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAG.sub(" ", text)
    lines = (line.strip() for line in text.splitlines())
    return _line(next((line for line in lines if line), ""))


def _line(value: Any) -> str:
    """One line of at most ``EXCERPT_MAX`` characters (empty for None)."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= EXCERPT_MAX else text[: EXCERPT_MAX - 1] + "…"
