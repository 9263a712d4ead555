"""Secret values: kept in memory, never printed, logged or written.

A :class:`Secret` wraps a resolved secret string (a password, a URI with credentials). Its
``str``/``repr`` are masked, so an accidental print or log shows ``(sensitive)``; code that
must send the value calls :meth:`Secret.reveal` at the last moment (the HTTP client does,
through :func:`reveal`). :func:`salted_digest` lets a plan file compare secrets without
holding them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

MASK = "(sensitive)"

_URI_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\s]*:[^/@\s]*)@")


class Secret:
    """A secret string that masks itself everywhere but :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the clear value; only for the request that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def has_credentials(uri: str) -> bool:
    """Return True when ``uri`` carries ``user:password@`` credentials."""
    return bool(_URI_USERINFO.match(uri))


def mask_uri(uri: str) -> str:
    """Return ``uri`` with any ``user:password@`` part replaced by the mask."""
    return _URI_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", uri)


def reveal(value: Any) -> Any:
    """Return a copy of a JSON-like value with every :class:`Secret` revealed."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [reveal(v) for v in value]
    return value


def masked(value: Any) -> Any:
    """Return a copy of a JSON-like value with every secret replaced by the mask.

    Plain strings that are URIs with credentials are masked too.
    """
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, str):
        return mask_uri(value)
    if isinstance(value, Mapping):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v) for v in value]
    return value


def salted_digest(value: Any, salt: str) -> Any:
    """Return a copy of a JSON-like value with every secret replaced by a salted SHA-256."""
    if isinstance(value, Secret):
        digest = hashlib.sha256((salt + "\0" + value.reveal()).encode()).hexdigest()
        return f"sha256:{digest}"
    if isinstance(value, Mapping):
        return {k: salted_digest(v, salt) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [salted_digest(v, salt) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    """Return True when a JSON-like value holds a :class:`Secret` anywhere."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_secret(v) for v in value)
    return False


def clear_values(value: Any) -> Iterator[str]:
    """Yield the clear text of every non-empty :class:`Secret` in a JSON-like value."""
    if isinstance(value, Secret):
        if value.reveal():
            yield value.reveal()
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from clear_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from clear_values(item)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every non-empty value of ``secrets`` replaced by the mask.

    Pass longer secrets first, so that one containing another is masked whole.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
