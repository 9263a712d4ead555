"""The plan: inert, frozen data describing what apply will do.

A :class:`Plan` is built by :mod:`reconciler.planning.planner`, rendered by :mod:`reconciler.render`
and executed by :mod:`reconciler.apply.executor`; none of those are methods here.

Request bodies may hold :class:`reconciler.secrets.Secret` values; renderers mask them and
the executor reveals them only when sending. A request path for an action on a database
that does not exist yet (the follow-up update, the import and the tags after a create) contains the
placeholder :data:`NEW_DATABASE_ID`, which the executor replaces with the id the create
task returned.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

NEW_DATABASE_ID = "{databaseId}"


class ActionKind(enum.Enum):
    """Action kinds, with the symbol used in text plans."""

    BACKUP = "backup"
    UPGRADE = "upgrade"
    UPDATE = "update"
    TAG = "tag"
    CREATE = "create"
    IMPORT = "import"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        """The one-character mark used in text plans."""
        return _SYMBOLS[self]


_SYMBOLS = {
    ActionKind.BACKUP: "»",
    ActionKind.UPGRADE: "↑",
    ActionKind.UPDATE: "~",
    ActionKind.TAG: "#",
    ActionKind.CREATE: "+",
    ActionKind.IMPORT: "←",
    ActionKind.DELETE: "-",
}


@dataclass(frozen=True)
class FieldChange:
    """One field-level change. ``before`` is None for creates; secrets are Secret objects.

    ``sensitive`` is True when either side is a secret: renderers then print
    ``(sensitive value changed)`` and never the values.
    """

    path: str
    before: Any
    after: Any
    sensitive: bool = False


@dataclass(frozen=True)
class ApiRequest:
    """The exact request an action sends: method, path relative to the API base, body."""

    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class PlannedAction:
    """One step of the plan.

    ``reason`` is the human-facing why (``before delete``, ``follow-up: fields the create
    call ignores``); apply decisions never read it.
    """

    kind: ActionKind
    subscription_id: int
    database_id: int | None
    name: str
    changes: tuple[FieldChange, ...]
    request: ApiRequest
    reason: str = ""


@dataclass(frozen=True)
class UnmanagedDatabase:
    """A live database named in no file, in a subscription whose prune is off."""

    subscription_id: int
    database_id: int
    name: str


@dataclass(frozen=True)
class SubscriptionSummary:
    """Header facts for one subscription of the plan."""

    id: int
    name: str
    live_databases: int
    spec_databases: int


class RefusalRule(enum.Enum):
    """The safety rule a refusal names; the values are short, stable identifiers."""

    MISSING_SUBSCRIPTION = "missing-subscription"
    NOT_SINGLE_REGION = "not-single-region"
    CREATE_ONLY = "create-only"
    VERSION_NOT_COMPARABLE = "version-not-comparable"
    DOWNGRADE = "downgrade"
    PASSWORD_WHILE_DEFAULT_USER_DISABLED = "password-while-default-user-disabled"
    NO_BACKUP_LOCATION = "no-backup-location"
    PREVENT_DESTROY = "prevent-destroy"
    DELETE_THRESHOLD = "delete-threshold"
    UNKNOWN_DATABASE_ID = "unknown-database-id"


@dataclass(frozen=True)
class Refusal:
    """A safety rule the plan breaks: the plan is shown but must not be applied.

    ``database_name``/``database_id`` and ``field`` are None when the rule is about a whole
    subscription or database. ``message`` is the sentence shown to people; ``str()`` returns
    it, so renderers and error messages print a refusal as that sentence.
    """

    rule: RefusalRule
    subscription_id: int
    message: str
    database_name: str | None = None
    database_id: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Notice:
    """A spec field of an existing database that the plan could not compare.

    The API did not return it (never does, like ``saslPassword``, or left it out of this
    answer), so the plan cannot promise the database is as the spec says. ``message`` is
    the sentence shown (``cannot compare saslPassword: not returned by the API``).
    """

    subscription_id: int
    database_name: str
    database_id: int
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of the account's system log (``GET /logs``), checked and scrubbed.

    ``time`` is ISO-8601 UTC (``2026-11-20T14:02:00Z``); ``api_key_name`` is None for a
    change made in the console (the log names an API key only for API calls).
    """

    id: int
    time: str
    originator: str
    api_key_name: str | None
    resource: str
    type: str
    description: str


@dataclass(frozen=True)
class History:
    """The system-log entries that concern one database, or its subscription itself.

    ``database_id`` is None for the entries of the subscription itself. ``entries`` are
    newest first; ``older`` counts further matching entries left out; ``since`` is the time
    of the newest change made with this tool's own API key, before which nothing is shown
    ("" when unknown or not found). History is informational: it is not fingerprinted.
    """

    subscription_id: int
    database_id: int | None
    name: str
    entries: tuple[HistoryEntry, ...]
    older: int = 0
    since: str = ""


@dataclass(frozen=True)
class Plan:
    """Actions in execution order, unmanaged databases, refusals, notices, the fingerprint.

    A plan with ``refusals`` must not be applied; the CLI exits 1 after showing it. A plan
    with ``notices`` may be applied, but it is not "in sync": fields could not be compared.
    ``history`` (who changed the databases the plan changes, from the system log) and
    ``history_notes`` (why it is missing or partial) inform only: apply never reads them.
    """

    subscriptions: tuple[SubscriptionSummary, ...]
    actions: tuple[PlannedAction, ...]
    unmanaged: tuple[UnmanagedDatabase, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    fingerprint: str = ""
    notices: tuple[Notice, ...] = ()
    history: tuple[History, ...] = ()
    history_notes: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """True when the plan holds at least one action."""
        return bool(self.actions)

    def count(self, kind: ActionKind) -> int:
        """Return how many actions of ``kind`` the plan holds."""
        return sum(1 for a in self.actions if a.kind is kind)
