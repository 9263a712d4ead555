"""The checks ``plan`` (and ``apply``) make once the account is read, before any change.

For every database the spec wants present:

- the cross-field rules of :mod:`.rules` again, a field the spec leaves out known from the
  live database, or for a database the plan creates from the value Redis Cloud gives it by
  default (the field catalogue's API defaults);
- the values the request would carry, against the account's own lists
  (:class:`~reconciler.cloud.AccountLookups`): ``redisVersion`` (the subscription's Redis
  versions), ``modules`` names (on a new database: modules are create-only),
  ``queryPerformanceFactor`` and ``dataPersistence``. A value equal to the live one is
  never refused (it is not sent), and a lookup is read only when some value needs it;
- what the live account forbids: a new database's ``port`` used by a live database of the
  subscription (or by a new one before it in the spec), a ``redisVersion`` change of a
  memcached database (it cannot be upgraded), and a ``periodicBackupPath`` change on a
  database whose backup ``remoteBackup`` set (the API keeps that backup's destination).

Every problem is located at the field in the spec file (see :mod:`.locate`); all of them
are raised together as one :class:`~reconciler.errors.SpecError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.cloud import AccountLookups, ApiClient, Offered
from reconciler.compare import API_DEFAULTS, live_to_request, same_version
from reconciler.errors import SpecError
from reconciler.model import DatabaseSpec, DesiredState, LiveState, LiveSubscription
from reconciler.preflight.locate import Refusal, locate
from reconciler.preflight.rules import MEMCACHED, RULES, broken_rules

#: The schedule a backup set by ``periodicBackupPath`` reads back with.
DAILY = "every-24-hours"

#: Fields whose rules depend on the Redis version (other than the version itself).
_VERSION_DEPENDENT = frozenset(
    field for rule in RULES if "redisVersion" in rule.fields for field in rule.fields
) - {"redisVersion"}


@dataclass(frozen=True)
class _Database:
    """One database to check: its spec, its live request form (None: it will be created)."""

    subscription_id: int
    spec: DatabaseSpec
    live: Mapping[str, Any] | None
    ports: Mapping[Any, str]

    @property
    def new(self) -> bool:
        return self.live is None

    def known(self) -> dict[str, Any]:
        """Return the field values the request would leave the database with."""
        underneath = API_DEFAULTS if self.live is None else self.live
        return {**underneath, **self.spec.fields}

    def changes(self, field: str) -> bool:
        """Return True when ``field`` is written and would be sent (new, or not the live value)."""
        if field not in self.spec.fields:
            return False
        return (
            self.live is None
            or field not in self.live
            or not _same(field, self.spec.fields[field], self.live[field])
        )


def check_account(client: ApiClient, desired: DesiredState, live: LiveState) -> None:
    """Check ``desired`` against the account ``live`` was read from.

    Raises:
        SpecError: every database problem found, located, in file order.
    """
    lookups = AccountLookups(client)
    refusals = [
        refusal for database in _databases(desired, live) for refusal in _check(database, lookups)
    ]
    if refusals:
        raise SpecError(locate(refusals, desired.files))


def _databases(desired: DesiredState, live: LiveState) -> Iterator[_Database]:
    for sub in desired.subscriptions:
        live_sub = live.subscriptions.get(sub.id)
        if live_sub is None:
            continue  # the plan refuses a missing subscription
        by_name = {db.name: db for db in live_sub.databases}
        ports = _ports(live_sub)
        for spec in sub.databases:
            if spec.state == "present":
                live_db = _live_fields(live_sub, by_name.get(spec.name))
                yield _Database(sub.id, spec, live_db, dict(ports))
                if live_db is None and spec.fields.get("port") is not None:
                    ports.setdefault(spec.fields["port"], spec.name)  # the next creates'


def _ports(sub: LiveSubscription) -> dict[Any, str]:
    """Return the port of every live database of ``sub`` → the database's name."""
    ports: dict[Any, str] = {}
    for db in sub.databases:
        port = live_to_request(db.raw, sub.raw).get("port")
        if port is not None:
            ports.setdefault(port, db.name)
    return ports


def _live_fields(sub: LiveSubscription, db: Any) -> Mapping[str, Any] | None:
    return None if db is None else live_to_request(db.raw, sub.raw)


def _check(database: _Database, lookups: AccountLookups) -> Iterator[Refusal]:
    view = database.known()
    note = _default_version(database, view, lookups)
    for rule in broken_rules(view, database.spec.fields, new=database.new, sent=database.changes):
        message = rule.message(view)
        if note and "redisVersion" in rule.fields:
            message += note
        yield Refusal(database.spec, rule.at, message)
    yield from _live_conflicts(database)
    yield from _offered(database, lookups)


def _live_conflicts(database: _Database) -> Iterator[Refusal]:
    """Yield what the live account forbids: a port in use, an upgrade or a backup path."""
    fields, live = database.spec.fields, database.live
    port = fields.get("port")
    if live is None and port in database.ports:
        message = (
            f"port {port} is already used by database {database.ports[port]!r} of "
            f"subscription {database.subscription_id}: choose another port, or leave port out"
        )
        yield Refusal(database.spec, "port", message)
    if live is None:
        return
    if live.get("protocol") == MEMCACHED and database.changes("redisVersion"):
        message = (
            f"a memcached database cannot be upgraded: its Redis version stays "
            f"{live.get('redisVersion')}; remove redisVersion"
        )
        yield Refusal(database.spec, "redisVersion", message)
    if database.changes("periodicBackupPath") and _scheduled(live.get("remoteBackup")):
        message = (
            "periodicBackupPath cannot change the backup of a database set with remoteBackup "
            "(it has its own schedule): write remoteBackup with its storagePath instead"
        )
        yield Refusal(database.spec, "periodicBackupPath", message)


def _scheduled(backup: Any) -> bool:
    """Return True for a live backup set by ``remoteBackup`` (a periodicBackupPath backup
    reads as active, every 24 hours, with no time of day)."""
    if not isinstance(backup, Mapping) or not backup.get("storagePath"):
        return False
    return backup.get("timeUTC") is not None or backup.get("interval") != DAILY


def _default_version(database: _Database, view: dict[str, Any], lookups: AccountLookups) -> str:
    """Put the subscription's default Redis version in ``view`` for a new database.

    Only when the spec names no version and writes a field whose rules depend on it; returns
    the note to add to such a rule's message ("" when the default is not known).
    """
    if not database.new or "redisVersion" in view:
        return ""
    if not _VERSION_DEPENDENT & set(database.spec.fields):
        return ""
    versions = lookups.redis_versions(database.subscription_id)
    if versions is None or versions.default is None:
        return ""
    view["redisVersion"] = versions.default
    return f" ({versions.default} is the subscription's default Redis version)"


def _offered(database: _Database, lookups: AccountLookups) -> Iterator[Refusal]:
    fields = database.spec.fields
    if database.changes("redisVersion"):
        versions = lookups.redis_versions(database.subscription_id)
        if versions is not None and not _listed(fields["redisVersion"], versions, same_version):
            yield _refused(
                database,
                "redisVersion",
                f"subscription {database.subscription_id}'s Redis versions",
                versions,
            )
    if database.new and isinstance(fields.get("modules"), list):
        yield from _modules(database, lookups)
    factor = fields.get("queryPerformanceFactor")
    if database.changes("queryPerformanceFactor") and not _is_standard(factor):
        factors = lookups.query_performance_factors()
        if factors is not None and not _listed(factor, factors, _same_text):
            yield _refused(
                database,
                "queryPerformanceFactor",
                "the account's query performance factors",
                factors,
            )
    if database.changes("dataPersistence"):
        options = lookups.data_persistence()
        if options is not None and not _listed(fields["dataPersistence"], options, _same_text):
            yield _refused(
                database, "dataPersistence", "the account's data persistence options", options
            )


def _modules(database: _Database, lookups: AccountLookups) -> Iterator[Refusal]:
    names = [m.get("name") for m in database.spec.fields["modules"] if isinstance(m, Mapping)]
    if not names:
        return
    offered = lookups.modules()
    if offered is None:
        return
    unknown = [name for name in names if not _listed(name, offered, _same_text)]
    if unknown:
        message = (
            f"module {', '.join(repr(n) for n in unknown)} is not among the account's "
            f"modules: {', '.join(offered.values)}"
        )
        yield Refusal(database.spec, "modules", message)


def _refused(database: _Database, field: str, what: str, offered: Offered) -> Refusal:
    value = database.spec.fields[field]
    message = f"{value!r} is not among {what}: {', '.join(offered.values)}"
    return Refusal(database.spec, field, message)


def _listed(value: Any, offered: Offered, same: Any) -> bool:
    return any(same(value, listed) for listed in offered.values)


def _same_text(desired: Any, listed: Any) -> bool:
    return isinstance(desired, str) and desired.lower() == str(listed).lower()


def _is_standard(factor: Any) -> bool:
    return isinstance(factor, str) and factor.lower() == "standard"


def _same(field: str, desired: Any, live: Any) -> bool:
    if field == "redisVersion":
        return same_version(desired, live)
    return _same_text(desired, live) if isinstance(live, str) else bool(desired == live)
