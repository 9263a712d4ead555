"""Secret values: kept in memory, never printed, logged or written.

A :class:`Secret` wraps a resolved secret string (a password, a URI with credentials). Its
``str``/``repr`` are masked, so an accidental print or log shows ``(sensitive)``; code that
must send the value calls :meth:`Secret.reveal` at the last moment (the HTTP client does,
through :func:`reveal`). :func:`salted_digest` lets a plan file compare secrets without
holding them. :func:`mask_uri` and :func:`mask_text` hide the ``user:password@`` part of
URIs in plain strings.

Every function over JSON-like values (:func:`reveal`, :func:`masked`, :func:`salted_digest`,
:func:`contains_secret`, :func:`clear_values`) walks it with :func:`map_leaves` or
:func:`iter_leaves`, so they agree on what a container is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

MASK = "(sensitive)"

_USERINFO = r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\s]*:[^/@\s]*)@"
_URI_USERINFO = re.compile("^" + _USERINFO)
_USERINFO_ANYWHERE = re.compile(r"\b" + _USERINFO)


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
    return _URI_USERINFO.sub(_masked_userinfo, uri)


def mask_text(text: str) -> str:
    """Return free text (a reason, a refusal) with the credentials of every URI in it masked."""
    return _USERINFO_ANYWHERE.sub(_masked_userinfo, text)


def _masked_userinfo(match: re.Match[str]) -> str:
    return f"{match.group(1)}{MASK}@"


# --------------------------------------------------------------------------- JSON-like values


def map_leaves(value: Any, leaf: Callable[[Any], Any], *, sets: bool = False) -> Any:
    """Return a copy of a JSON-like value with every leaf replaced by ``leaf(leaf_value)``.

    Mappings become dicts and lists or tuples become lists; everything else (strings,
    numbers, None, :class:`Secret`) is a leaf. With ``sets`` a set or frozenset is walked
    too (and becomes a list); otherwise it is a leaf.
    """
    if isinstance(value, Mapping):
        return {k: map_leaves(v, leaf, sets=sets) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or (sets and isinstance(value, (set, frozenset))):
        return [map_leaves(v, leaf, sets=sets) for v in value]
    return leaf(value)


def iter_leaves(value: Any, *, sets: bool = False) -> Iterator[Any]:
    """Yield the leaves of a JSON-like value, depth first (see :func:`map_leaves`)."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from iter_leaves(item, sets=sets)
    elif isinstance(value, (list, tuple)) or (sets and isinstance(value, (set, frozenset))):
        for item in value:
            yield from iter_leaves(item, sets=sets)
    else:
        yield value


def reveal(value: Any) -> Any:
    """Return a copy of a JSON-like value with every :class:`Secret` revealed."""
    return map_leaves(value, _revealed)


def _revealed(leaf: Any) -> Any:
    return leaf.reveal() if isinstance(leaf, Secret) else leaf


def masked(value: Any) -> Any:
    """Return a copy of a JSON-like value with every secret replaced by the mask.

    Plain strings that are URIs with credentials are masked too.
    """
    return map_leaves(value, _masked_leaf)


def _masked_leaf(leaf: Any) -> Any:
    if isinstance(leaf, Secret):
        return MASK
    return mask_uri(leaf) if isinstance(leaf, str) else leaf


def salted_digest(value: Any, salt: str) -> Any:
    """Return a copy of a JSON-like value with every secret replaced by a salted SHA-256."""

    def digest(leaf: Any) -> Any:
        if not isinstance(leaf, Secret):
            return leaf
        return "sha256:" + hashlib.sha256((salt + "\0" + leaf.reveal()).encode()).hexdigest()

    return map_leaves(value, digest)


def contains_secret(value: Any) -> bool:
    """Return True when a JSON-like value holds a :class:`Secret` anywhere."""
    return any(isinstance(leaf, Secret) for leaf in iter_leaves(value))


def clear_values(value: Any) -> Iterator[str]:
    """Yield the clear text of every non-empty :class:`Secret` in a JSON-like value."""
    for leaf in iter_leaves(value):
        if isinstance(leaf, Secret) and leaf.reveal():
            yield leaf.reveal()


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every non-empty value of ``secrets`` replaced by the mask.

    Pass longer secrets first, so that one containing another is masked whole.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
