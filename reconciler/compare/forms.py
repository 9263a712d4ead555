"""Canonical forms of request-shaped field values, desired or live.

One small function per kind of value; the field catalogue
(:mod:`reconciler.compare.fields`) says which one each field uses. Sets become sorted,
de-duplicated lists; numbers lose a ``.0``; server defaults are folded (the default regex
pair is ``[]``); secrets and URIs with credentials are wrapped in
:class:`~reconciler.secrets.Secret`. A value of an unexpected shape is returned as it is, so
it simply compares unequal later. Also the version helpers (``"7.4"`` → ``(7, 4)``) the
comparison, the planner and the executor share.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.secrets import Secret, has_credentials, map_leaves

#: Source IPs Redis Cloud gives a database that names none: every address when the
#: subscription has public endpoint access, the private ranges (RFC 1918, RFC 6598) when not.
PUBLIC_SOURCE_IPS = ["0.0.0.0/0"]
PRIVATE_SOURCE_IPS = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"]
#: The regex rules a database with ``default-regex-rules`` sharding reports; the same as none.
DEFAULT_REGEX_RULES = [r".*\{(?<tag>.*)\}.*", "(?<tag>.*)"]

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")


def plain(value: Any) -> Any:
    """Return a JSON-like value with integral floats made ints (recursively)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    return map_leaves(value, _integral)


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def secret(value: Any) -> Any:
    """Return ``value`` wrapped in :class:`Secret` when it is a plain string."""
    return Secret(value) if isinstance(value, str) else value


def protect(value: Any) -> Any:
    """Return ``value`` wrapped in :class:`Secret` when it is a string carrying credentials."""
    if isinstance(value, str) and has_credentials(value):
        return Secret(value)
    return value


def protect_deep(value: Any) -> Any:
    """Return a copy of a JSON-like value with credential-bearing strings wrapped."""
    return map_leaves(value, protect)


def sort_key(value: Any) -> tuple[int, str]:
    """Return a total-order key for mixed values; secrets sort by a digest, never clear."""
    if isinstance(value, Secret):
        return (2, hashlib.sha256(value.reveal().encode()).hexdigest())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, repr(value))
    return (0, f"{value:030.10f}")


def _as_set(items: Iterable[Any]) -> list[Any]:
    """Return the distinct items, sorted: a set in a JSON-friendly, comparable form."""
    distinct: list[Any] = []
    for item in items:
        if item not in distinct:
            distinct.append(item)
    return sorted(distinct, key=sort_key)


def string_set(value: Any) -> Any:
    """Return a list of strings as a sorted set (sourceIp)."""
    return _as_set(plain(value)) if isinstance(value, (list, tuple)) else value


def alert_set(value: Any) -> Any:
    """Return alerts as a sorted set of ``{name, value}`` (extra keys dropped)."""
    if not isinstance(value, (list, tuple)):
        return value
    alerts = [
        {"name": a.get("name"), "value": plain(a.get("value"))} if isinstance(a, Mapping) else a
        for a in value
    ]
    distinct: list[Any] = []
    for alert in alerts:
        if alert not in distinct:
            distinct.append(alert)
    return sorted(distinct, key=lambda a: sort_key(_alert_key(a)))


def _alert_key(alert: Any) -> Any:
    """Return a sortable description of one alert."""
    if isinstance(alert, Mapping):
        return f"{alert.get('name')}\0{sort_key(alert.get('value'))}"
    return alert


def regex_patterns(value: Any) -> Any:
    """Return regex rules as an ordered list of patterns; the server default pair is []."""
    if not isinstance(value, (list, tuple)):
        return value
    if value and all(isinstance(r, Mapping) for r in value):
        value = [r.get("pattern") for r in sorted(value, key=lambda r: sort_key(r.get("ordinal")))]
    patterns = list(value)
    return [] if patterns == DEFAULT_REGEX_RULES else patterns


def remote_backup(value: Any) -> Any:
    """Return remoteBackup without storageType; only ``active`` matters when it is false.

    The API does not return ``storageType``: it is implied by the storage path.
    """
    if not isinstance(value, Mapping):
        return value
    if value.get("active") is False:
        return {"active": False}
    out = {k: protect(v) for k, v in value.items() if k != "storageType"}
    if isinstance(out.get("timeUTC"), str):
        out["timeUTC"] = _time_text(out["timeUTC"])
    return out


def _time_text(text: str) -> str:
    """Return ``H:MM`` as ``HH:MM``; other text unchanged."""
    m = _TIME.match(text)
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else text


def same_half_day(want: Any, have: Any) -> bool:
    """Return True when two ``HH:MM`` times are equal modulo 12 hours."""
    a = _TIME.match(want) if isinstance(want, str) else None
    b = _TIME.match(have) if isinstance(have, str) else None
    if a is None or b is None:
        return False
    return int(a.group(1)) % 12 == int(b.group(1)) % 12 and a.group(2) == b.group(2)


def module_names(value: Any) -> Any:
    """Return module names as a sorted set."""
    if not isinstance(value, (list, tuple)):
        return value
    return _as_set(m.get("name") if isinstance(m, Mapping) else m for m in value)


def endpoint_set(value: Any) -> Any:
    """Return replicaOf endpoints as a sorted set (credentials wrapped in Secret)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return value
    return _as_set(protect(e) for e in value)


def sync_source_set(value: Any) -> Any:
    """Return ``replica.syncSources`` endpoints as a sorted set."""
    if value is None:
        return []
    if not isinstance(value, Mapping) or not isinstance(value.get("syncSources"), (list, tuple)):
        return value
    return endpoint_set(
        [s.get("endpoint") if isinstance(s, Mapping) else s for s in value["syncSources"]]
    )


#: How a certificate field compares: whether any is set (the API tells nothing more).
CERTIFICATES_SET = "(certificates set)"
CERTIFICATES_NONE = "(no certificates)"


def presence(value: Any) -> Any:
    """Return :data:`CERTIFICATES_SET` or :data:`CERTIFICATES_NONE` for a certificate value.

    A non-empty list or text, or a true flag, is set. The API reports client certificates
    only as ``tlsClientAuthentication`` / ``sslClientAuthentication`` booleans, so they
    compare by presence; a value of another shape is returned as it is.
    """
    if value is None:
        return CERTIFICATES_NONE
    if isinstance(value, (bool, list, tuple, str)):
        return CERTIFICATES_SET if value else CERTIFICATES_NONE
    return value


def backup_path(value: Any) -> Any:
    """Return a periodic backup path: None and "" both mean none; credentials wrapped."""
    return "" if value is None else protect(value)


def lower_text(value: Any) -> Any:
    """Return text in lower case (query performance factor ``Standard`` → ``standard``)."""
    return value.lower() if isinstance(value, str) else value


def version_text(value: Any) -> Any:
    """Return a Redis version as text (``7.4`` → ``"7.4"``)."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def release_version(value: Any) -> Any:
    """Return a Redis version as the spec writes it, major.minor text: ``7.4`` and
    ``"7.4.2"`` (a patch level an old database may read back with) → ``"7.4"``."""
    version = version_tuple(value)
    return ".".join(map(str, version[:2])) if version and len(version) > 2 else version_text(value)


def version_tuple(value: Any) -> tuple[int, ...] | None:
    """Return ``"7.4"`` as ``(7, 4)``; None when it is not a dotted version."""
    text = version_text(value)
    return _parsed_version(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=256)
def _parsed_version(text: str) -> tuple[int, ...] | None:
    """Return :func:`version_tuple` of a text (remembered: a plan parses few distinct ones)."""
    if not _VERSION.match(text.strip()):
        return None
    return tuple(int(p) for p in text.strip().split("."))


def major(value: Any) -> int | None:
    """Return the major version number, or None."""
    version = version_tuple(value)
    return version[0] if version else None


def same_version(desired: Any, live: Any) -> bool:
    """Return True when ``live`` is the desired version (compared on the desired parts)."""
    want, have = version_tuple(desired), version_tuple(live)
    if want is None or have is None:
        return bool(version_text(desired) == version_text(live))
    return have[: len(want)] == want
