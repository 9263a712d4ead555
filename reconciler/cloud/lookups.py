"""The values an account offers, read once per run for the plan's preflight checks.

Four lookups, each read at most once (the Redis versions once per subscription), and only
when asked for:

- ``GET /subscriptions/redis-versions?subscriptionId=ID`` → ``{"redisVersions": [{"version",
  "isDefault", …}]}``;
- ``GET /database-modules`` → ``{"modules": [{"name", …}]}``;
- ``GET /query-performance-factors`` → ``{"queryPerformanceFactors": ["2x", …]}``;
- ``GET /data-persistence`` → ``{"dataPersistence": [{"name", …}]}``.

A lookup that fails (403: the key may not read it, 404: not offered, any other API error)
or answers a shape not described here is skipped: its method returns None and a warning
says which check was left to the API. A lookup never fails the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.cloud import paths
from reconciler.errors import ApiError

logger = logging.getLogger(__name__)


class _Getter(Protocol):
    def get(self, path: str, params: Any = None) -> Any: ...


@dataclass(frozen=True)
class Offered:
    """The values a lookup listed, in its order; ``default`` is the one marked default."""

    values: tuple[str, ...]
    default: str | None = None


@dataclass(frozen=True)
class _Lookup:
    what: str
    path: str
    key: str
    item: Callable[[Any], str | None]


def _named(item: Any, field: str = "name") -> str | None:
    value = item.get(field) if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


def _text(item: Any) -> str | None:
    return item if isinstance(item, str) and item else None


_VERSIONS = _Lookup(
    "Redis versions", paths.REDIS_VERSIONS, "redisVersions", lambda i: _named(i, "version")
)
_MODULES = _Lookup("modules", paths.DATABASE_MODULES, "modules", _named)
_FACTORS = _Lookup(
    "query performance factors", paths.QUERY_PERFORMANCE_FACTORS, "queryPerformanceFactors", _text
)
_PERSISTENCE = _Lookup(
    "data persistence options", paths.DATA_PERSISTENCE, "dataPersistence", _named
)


class AccountLookups:
    """The account's lookups, each read on first use and kept for the run.

    Not thread-safe: the preflight asks from one thread.
    """

    def __init__(self, client: _Getter) -> None:
        self._client = client
        self._read: dict[tuple[str, int | None], Offered | None] = {}

    def redis_versions(self, subscription_id: int) -> Offered | None:
        """Return the Redis versions ``subscription_id`` offers, or None (skipped)."""
        return self._get(_VERSIONS, subscription_id)

    def modules(self) -> Offered | None:
        """Return the module names the account offers, or None (skipped)."""
        return self._get(_MODULES, None)

    def query_performance_factors(self) -> Offered | None:
        """Return the query performance factors the account offers, or None (skipped)."""
        return self._get(_FACTORS, None)

    def data_persistence(self) -> Offered | None:
        """Return the data persistence options the account offers, or None (skipped)."""
        return self._get(_PERSISTENCE, None)

    @property
    def requests(self) -> int:
        """How many lookups were read (or tried)."""
        return len(self._read)

    def _get(self, lookup: _Lookup, subscription_id: int | None) -> Offered | None:
        key = (lookup.path, subscription_id)
        if key not in self._read:
            self._read[key] = self._fetch(lookup, subscription_id)
        return self._read[key]

    def _fetch(self, lookup: _Lookup, subscription_id: int | None) -> Offered | None:
        params = None if subscription_id is None else {"subscriptionId": subscription_id}
        try:
            answer = self._client.get(lookup.path, params)
        except ApiError as exc:
            logger.warning("not checking %s against the account: %s", lookup.what, exc)
            return None
        offered = _parse(lookup, answer)
        if offered is None:
            shown = (
                lookup.path if params is None else f"{lookup.path}?subscriptionId={subscription_id}"
            )
            logger.warning(
                "not checking %s against the account: GET %s answered an unexpected shape",
                lookup.what,
                shown,
            )
        return offered


def _parse(lookup: _Lookup, answer: Any) -> Offered | None:
    """Return the values of a lookup answer; None when its shape is not the expected one."""
    items = answer.get(lookup.key) if isinstance(answer, dict) else None
    if not isinstance(items, list) or not items:
        return None
    values = [lookup.item(item) for item in items]
    names = [value for value in values if value is not None]
    if len(names) != len(values):
        return None
    marked = [name for name, item in zip(names, items, strict=True) if _is_default(item)]
    return Offered(tuple(names), marked[0] if marked else None)


def _is_default(item: Any) -> bool:
    return isinstance(item, dict) and item.get("isDefault") is True
