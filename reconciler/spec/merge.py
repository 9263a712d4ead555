"""Combine validated spec documents into one :class:`~reconciler.model.DesiredState`.

Subscriptions merge by id across files (first-seen order; databases in file order). Two
checks need every file at once and live here: a database named twice in a subscription,
and ``prune`` given different values for one subscription. :func:`check` reads the
documents defensively (they may hold schema errors) so these problems are reported in the
same run as all others; :func:`build` assumes documents that passed every check.

``defaults`` apply to the databases listed beside them, in the same subscription entry of
the same file: request fields and ``tags`` shallowly (a field written on the database
replaces the default whole), ``lifecycle`` key by key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.compare import SECRET_FIELDS
from reconciler.errors import SpecProblem
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    ImportSpec,
    Lifecycle,
    Location,
    SubscriptionSpec,
)
from reconciler.secrets import Secret, has_credentials
from reconciler.spec.located import Path, render_path
from reconciler.spec.yamlload import Document

# Keys of a database entry that are ours, not API request fields.
OWN_KEYS = frozenset({"name", "state", "lifecycle", "import", "tags"})
_SIZE_FIELDS = ("datasetSizeInGb", "memoryLimitInGb")


@dataclass(frozen=True)
class SpecFile:
    """A spec file that was read: its name and document."""

    file: str
    doc: Document


@dataclass(frozen=True)
class _Entry:
    """One database entry and the defaults listed beside it."""

    spec_file: SpecFile
    path: Path
    database: dict[str, Any]
    defaults: dict[str, Any]
    defaults_path: Path


@dataclass
class IndexedSubscription:
    """A subscription gathered from every file naming it, with its database entries."""

    id: int
    location: Location
    prune: bool | None = None
    prune_location: Location | None = None
    names: dict[str, Location] = field(default_factory=dict)
    database_ids: dict[int, Location] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)


def _location(spec_file: SpecFile, path: Path, *, key: bool = False) -> Location:
    line, column = spec_file.doc.position(path, key=key)
    return Location(spec_file.file, line, column)


def _problem(location: Location, path: Path, message: str) -> SpecProblem:
    return SpecProblem(location.file, location.line, location.column, render_path(path), message)


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (index, item) for the mappings of ``value`` when it is a list."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def check(files: Sequence[SpecFile]) -> tuple[list[IndexedSubscription], list[SpecProblem]]:
    """Index subscriptions and databases across ``files``; return them and the problems."""
    subscriptions: dict[int, IndexedSubscription] = {}
    problems: list[SpecProblem] = []
    for spec_file in files:
        data = spec_file.doc.data
        subs = data.get("subscriptions") if isinstance(data, dict) else None
        for index, sub in _dicts(subs):
            sub_id = sub.get("id")
            if not isinstance(sub_id, int) or isinstance(sub_id, bool):
                continue
            path: Path = ("subscriptions", index)
            where = _location(spec_file, (*path, "id"))
            acc = subscriptions.setdefault(sub_id, IndexedSubscription(sub_id, where))
            problems.extend(_check_prune(acc, spec_file, path, sub.get("prune")))
            problems.extend(_index_databases(acc, spec_file, path, sub))
    return list(subscriptions.values()), problems


def _check_prune(
    acc: IndexedSubscription, spec_file: SpecFile, path: Path, prune: Any
) -> Iterator[SpecProblem]:
    if not isinstance(prune, bool):
        return
    where = _location(spec_file, (*path, "prune"))
    if acc.prune is None:
        acc.prune, acc.prune_location = prune, where
    elif acc.prune != prune:
        message = (
            f"conflicting prune for subscription {acc.id}: {str(prune).lower()} here, "
            f"{str(acc.prune).lower()} at {acc.prune_location}"
        )
        yield _problem(where, (*path, "prune"), message)


def _index_databases(
    acc: IndexedSubscription, spec_file: SpecFile, path: Path, sub: dict[str, Any]
) -> Iterator[SpecProblem]:
    defaults = sub.get("defaults")
    defaults = defaults if isinstance(defaults, dict) else {}
    for index, database in _dicts(sub.get("databases")):
        name = database.get("name")
        if not isinstance(name, str):
            continue
        db_path: Path = (*path, "databases", index)
        where = _location(spec_file, (*db_path, "name"))
        if name in acc.names:
            message = f"database {name!r} is defined twice: here and at {acc.names[name]}"
            yield _problem(where, (*db_path, "name"), message)
            continue
        acc.names[name] = where
        entry = _Entry(spec_file, db_path, database, defaults, (*path, "defaults"))
        acc.entries.append(entry)
        yield from _check_database_id(acc, spec_file, db_path, database.get("databaseId"))
        yield from _check_sizes(entry)


def _check_database_id(
    acc: IndexedSubscription, spec_file: SpecFile, db_path: Path, database_id: Any
) -> Iterator[SpecProblem]:
    """Refuse a ``databaseId`` pinned by two entries of the same subscription."""
    if not isinstance(database_id, int) or isinstance(database_id, bool):
        return
    where = _location(spec_file, (*db_path, "databaseId"))
    if database_id in acc.database_ids:
        message = (
            f"databaseId {database_id} is pinned twice in subscription {acc.id}: here and "
            f"at {acc.database_ids[database_id]}"
        )
        yield _problem(where, (*db_path, "databaseId"), message)
    else:
        acc.database_ids[database_id] = where


def _check_sizes(entry: _Entry) -> Iterator[SpecProblem]:
    """Report a size field on the database combined with the other one from defaults."""
    for mine, other in (_SIZE_FIELDS, _SIZE_FIELDS[::-1]):
        if mine in entry.database and other in entry.defaults and other not in entry.database:
            elsewhere = _location(entry.spec_file, (*entry.defaults_path, other), key=True)
            message = (
                f"{mine} cannot be combined with {other} set in defaults at {elsewhere}: "
                "keep datasetSizeInGb (memoryLimitInGb is deprecated)"
            )
            path = (*entry.path, mine)
            yield _problem(_location(entry.spec_file, path, key=True), path, message)


def build(subscriptions: Sequence[IndexedSubscription], files: Sequence[str]) -> DesiredState:
    """Return the desired state of checked subscriptions (secrets wrapped)."""
    return DesiredState(
        subscriptions=tuple(
            SubscriptionSpec(
                id=acc.id,
                prune=bool(acc.prune),
                databases=tuple(_database(acc.id, entry) for entry in acc.entries),
                location=acc.location,
            )
            for acc in subscriptions
        ),
        files=tuple(files),
    )


def _database(subscription_id: int, entry: _Entry) -> DatabaseSpec:
    database = entry.database
    fields = {k: v for k, v in database.items() if k not in OWN_KEYS}
    for key, value in entry.defaults.items():
        if key not in ("lifecycle", "tags") and key not in fields:
            # Copied so databases sharing a default never share a mutable value.
            fields[key] = _clone(value)
    lifecycle = {**entry.defaults.get("lifecycle", {}), **database.get("lifecycle", {})}
    imported = database.get("import")
    tags = database.get("tags", entry.defaults.get("tags"))
    return DatabaseSpec(
        subscription_id=subscription_id,
        name=database["name"],
        fields=_protect(fields),
        location=_location(entry.spec_file, (*entry.path, "name")),
        state="absent" if database.get("state") == "absent" else "present",
        lifecycle=_lifecycle(lifecycle),
        import_=_import(imported) if imported is not None else None,
        tags=dict(tags) if tags is not None else None,
    )


def _lifecycle(raw: dict[str, Any]) -> Lifecycle:
    return Lifecycle(
        prevent_destroy=raw.get("preventDestroy", False),
        backup_before_delete=raw.get("backupBeforeDelete", True),
        backup_before_update=raw.get("backupBeforeUpdate", False),
        backup_path=raw.get("backupPath"),
        ignore_changes=tuple(raw.get("ignoreChanges", ())),
    )


def _import(raw: dict[str, Any]) -> ImportSpec:
    uris = tuple(_maybe_secret(uri) for uri in raw["importFromUri"])
    return ImportSpec(source_type=raw["sourceType"], import_from_uri=uris)


def _protect(fields: dict[str, Any]) -> dict[str, Any]:
    """Return ``fields`` with passwords and credential-carrying URIs wrapped in Secret."""
    for name in SECRET_FIELDS:
        if name in fields:
            fields[name] = Secret(fields[name])
    if "replicaOf" in fields:
        fields["replicaOf"] = [_maybe_secret(uri) for uri in fields["replicaOf"]]
    if "replica" in fields:
        sources = [
            {**source, "endpoint": _maybe_secret(source["endpoint"])}
            for source in fields["replica"]["syncSources"]
        ]
        fields["replica"] = {**fields["replica"], "syncSources": sources}
    return fields


def _maybe_secret(uri: str) -> str | Secret:
    return Secret(uri) if has_credentials(uri) else uri


def _clone(value: Any) -> Any:
    """Return a copy of a JSON-like value (cheaper than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value
