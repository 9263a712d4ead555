"""The data that flows through the pipeline: desired state, live state.

Desired state comes from the spec loader (:mod:`reconciler.spec`), live state from the
reader (:mod:`reconciler.cloud.reader`). Both are frozen, plain data; the planner turns the pair
into a :class:`reconciler.plan.Plan`.

Field values are JSON-like (dict, list, str, int, float, bool, None). In desired state,
secret values (``password``, ``saslPassword``, URIs carrying credentials) are
:class:`reconciler.secrets.Secret` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Location:
    """Where something was written: file and 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Lifecycle:
    """Our own per-database directives (spec ``lifecycle``)."""

    prevent_destroy: bool = False
    backup_before_delete: bool = True
    backup_before_update: bool = False
    backup_path: str | None = None
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportSpec:
    """A one-off import done right after the database is created (spec ``import``).

    ``import_from_uri`` entries are ``str`` or, when they carry credentials, ``Secret``.
    """

    source_type: str
    import_from_uri: tuple[Any, ...]


@dataclass(frozen=True)
class DatabaseSpec:
    """One database as the spec wants it.

    ``fields`` holds the API request fields written in the spec (with the subscription's
    ``defaults`` merged underneath), using the API's request names (``sourceIp``,
    ``remoteBackup``, ``regexRules`` …). Only these fields are managed. ``tags`` are the
    database tags (key → value) when the spec manages them, None when it does not.
    """

    subscription_id: int
    name: str
    fields: Mapping[str, Any]
    location: Location
    state: Literal["present", "absent"] = "present"
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    import_: ImportSpec | None = None
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SubscriptionSpec:
    """One subscription as the spec wants it; databases in spec order (files sorted)."""

    id: int
    prune: bool
    databases: tuple[DatabaseSpec, ...]
    location: Location


@dataclass(frozen=True)
class DesiredState:
    """Everything the spec files ask for, subscriptions in first-seen order."""

    subscriptions: tuple[SubscriptionSpec, ...]
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveDatabase:
    """One database as the API returned it (``raw`` is the API object, unmodified).

    ``tags`` (key → value) are read only for a database whose spec manages them; None when
    they were not read.
    """

    id: int
    name: str
    status: str
    raw: Mapping[str, Any]
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class LiveSubscription:
    """One subscription and its databases as read from the API."""

    id: int
    name: str
    status: str
    raw: Mapping[str, Any]
    databases: tuple[LiveDatabase, ...]

    @property
    def is_pro_single_region(self) -> bool:
        """True when the subscription is a Pro single-region one we can manage."""
        return bool(self.raw.get("deploymentType", "single-region") == "single-region")


@dataclass(frozen=True)
class LiveState:
    """The live account as far as the spec needs it.

    ``subscriptions`` maps id → subscription for every subscription named in the spec that
    exists; ``missing`` lists the ids the API answered 404 for.
    """

    subscriptions: Mapping[int, LiveSubscription]
    missing: tuple[int, ...] = ()
