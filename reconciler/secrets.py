"""Secret values: kept in memory, never printed, logged or written.

A :class:`Secret` wraps a resolved secret string (a password, a URI with credentials). Its
``str``/``repr`` are masked, so an accidental print or log shows ``(sensitive)``; code that
must send the value calls :meth:`Secret.reveal` at the last moment (the HTTP client does,
through :func:`reveal`). :func:`salted_digest` lets a plan file compare secrets without
holding them. :func:`mask_uri` and :func:`mask_text` hide the ``user:password@`` part of
URIs in plain strings; :func:`mask_url` also hides query values, and :func:`url_secrets`
names the values it hid. :func:`scrub` masks every encoded form of a secret (percent, HTML
entity, JSON escape), and :class:`ScrubbingFilter` does so for log records.

Every function over JSON-like values (:func:`reveal`, :func:`masked`, :func:`salted_digest`,
:func:`contains_secret`, :func:`clear_values`) walks it with :func:`map_leaves` or
:func:`iter_leaves`, so they agree on what a container is.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
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


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every non-empty value of ``secrets`` replaced by the mask.

    Every encoded form is masked too, even mixed within one value: percent-encoding (either
    hex case, ``+`` for a space), HTML entities (named, decimal, hex) and JSON escapes
    (``\\uXXXX``, ``\\"``). Longer secrets are masked first, so that one containing another
    is masked whole.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        if any(c in text for c in "%&\\+"):
            text = _encoded_pattern(secret).sub(MASK, text)
    return text


_NAMED_ENTITIES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}


@functools.lru_cache(maxsize=256)
def _encoded_pattern(secret: str) -> re.Pattern[str]:
    """A pattern matching ``secret`` with each character in any of its encodings."""
    return re.compile("".join(_char_pattern(c) for c in secret))


def _char_pattern(char: str) -> str:
    code = ord(char)
    percent = "".join(f"%{byte:02x}" for byte in char.encode())
    forms = [
        f"(?i:{re.escape(percent)})",
        f"&#0*{code};",
        f"(?i:&#x0*{code:x};)",
    ]
    if code <= 0xFFFF:
        forms.append(f"(?i:\\\\u{code:04x})")
    if char in _NAMED_ENTITIES:
        forms.append(f"&{_NAMED_ENTITIES[char]};")
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    if char == " ":
        forms.append(r"\+")
    # The character itself last: a longer escape (a JSON-escaped backslash) must win.
    return "(?:" + "|".join([*forms, re.escape(char)]) + ")"


# --------------------------------------------------------------------------- URLs


def mask_url(url: str) -> str:
    """Return ``url`` with its ``user:password@`` part and every query value masked."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{name}={MASK}" if sep else name
        for name, sep, _ in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


#: Shorter values hidden in a URL are not scrubbed from free text: masking every "1" or
#: "abc" would garble messages, and so short a value guards nothing.
URL_SECRET_MIN = 4


def url_secrets(url: str) -> tuple[str, ...]:
    """Return the values :func:`mask_url` hides in ``url``, raw and decoded, to scrub elsewhere.

    They are the whole ``user:password`` part, the password (or a lone token before ``@``)
    and every query value, each of at least :data:`URL_SECRET_MIN` characters.
    """
    parts = urllib.parse.urlsplit(url)
    found: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        found += [userinfo, userinfo.partition(":")[2] or userinfo]
    found += [item.partition("=")[2] for item in parts.query.split("&")]
    decoded = [urllib.parse.unquote_plus(value) for value in found]
    return tuple(dict.fromkeys(v for v in (*found, *decoded) if len(v) >= URL_SECRET_MIN))


# --------------------------------------------------------------------------- logging


class ScrubbingFilter(logging.Filter):
    """A log filter that masks every registered secret (any encoding) in each record.

    The record's message is formatted, scrubbed and frozen (``args`` emptied); so is the
    text of its exception, if any. Attach it to the handlers, where records of every logger
    pass.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, *secrets: str) -> None:
        """Mask these values too, from now on (empty ones are ignored)."""
        with self._lock:
            self._secrets = tuple(dict.fromkeys((*self._secrets, *(s for s in secrets if s))))

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if secrets:
            record.msg = scrub(mask_text(record.getMessage()), secrets)
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = scrub(record.exc_text, secrets)
        return True


#: The filter the command line attaches to its log handlers.
LOG_SCRUBBER = ScrubbingFilter()
