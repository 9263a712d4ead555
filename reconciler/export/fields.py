"""One live database → the spec fields an export writes for it.

Each database is turned into request-shaped fields by the compare stage's
``live_to_request``, and only values that differ from what Redis Cloud would choose by
itself are written (``redisVersion``, ``datasetSizeInGb`` and ``throughputMeasurement``
always: they decide size and cost). The fields kept are checked with the planner's own
comparison rules, so a live value of a shape this module does not know is left out (with a
warning) rather than shown as a change.

The database's tags are written when it has some (they were read by the export).

A remote backup or replication source that cannot be written (its URI carries
credentials, its storage type cannot be told) becomes a comment line, credentials masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compare import (
    API_DEFAULTS,
    NOT_EXPORTED_FIELDS,
    PRIVATE_SOURCE_IPS,
    PUBLIC_SOURCE_IPS,
    CompareContext,
    canonical,
    comparable_fields,
    diff_fields,
    live_to_request,
    version_tuple,
)
from reconciler.model import LiveDatabase, LiveSubscription
from reconciler.secrets import MASK, Secret, mask_uri
from reconciler.spec import flow_text, load_schema

log = logging.getLogger(__name__)

#: Never written: assigned by the server (port), never read in clear (password), or a
#: deprecated alias of ``replica``. memoryLimitInGb is written only without datasetSizeInGb.
_NEVER_WRITTEN = frozenset({"port", "password", "replicaOf"})
#: The Redis version from which a database gets RESP3 when none is asked for.
_RESP3_DEFAULT_FROM = (7, 4)
#: Backup storage path prefix → remoteBackup.storageType (the API does not return it).
_STORAGE_TYPES: tuple[tuple[str, str], ...] = (
    ("s3://", "aws-s3"),
    ("gs://", "google-blob-storage"),
    ("ftp://", "ftp"),
    ("ftps://", "ftp"),
    ("abs://", "azure-blob-storage"),
)
_AZURE_HTTPS = re.compile(r"^https://[^/]+\.blob\.core\.windows\.net/", re.IGNORECASE)
_TIMED_INTERVALS = frozenset({"every-12-hours", "every-24-hours"})


@dataclass(frozen=True)
class ExportedFields:
    """What an export writes for one database besides its name.

    ``fields`` are in the order the JSON Schema lists them; ``notes`` are comment lines for
    values that cannot be written; ``redis`` is True for a Redis (not Memcached) database,
    which has a password to leave a placeholder for.
    """

    fields: Mapping[str, Any]
    notes: tuple[str, ...]
    redis: bool


def database_fields(sub: LiveSubscription, db: LiveDatabase) -> ExportedFields:
    """Return the non-default fields of ``db`` (of ``sub``), and notes for unwritable ones."""
    live = _with_sharding_type(live_to_request(db.raw, sub.raw), db.raw)
    context = CompareContext.for_database({}, live, sub.raw)
    fields: dict[str, Any] = {}
    notes: list[str] = []
    for field in _field_order():
        if _written(field, live):
            _add_field(fields, notes, field, live, context)
    settled = _settled(sub, db, fields, live)
    if db.tags:
        settled["tags"] = dict(db.tags)
    return ExportedFields(settled, tuple(notes), live.get("protocol") == "redis")


def _with_sharding_type(live: dict[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``shardingType: custom-regex-rules`` for a database whose hashing policy is custom.

    The API does not return ``shardingType``; a database read back reports
    ``clustering.hashingPolicy`` (``standard`` or ``custom``), and ``custom`` is the one
    value known to mean custom regex rules. Without it an exported ``regexRules`` could not
    be created again. The planner never diffs ``shardingType`` against this guess: it only
    compares what the API returns.
    """
    clustering = raw.get("clustering")
    if isinstance(clustering, Mapping) and clustering.get("hashingPolicy") == "custom":
        return {**live, "shardingType": "custom-regex-rules"}
    return live


def _written(field: str, live: Mapping[str, Any]) -> bool:
    """True when ``field`` may be written: read live, not ``name``, not never-written, and
    ``memoryLimitInGb`` only for a database that reports no ``datasetSizeInGb``."""
    if field not in live or field == "name" or field in _NEVER_WRITTEN | NOT_EXPORTED_FIELDS:
        return False
    return field != "memoryLimitInGb" or "datasetSizeInGb" not in live


def _field_order() -> list[str]:
    """Return the database fields in the order the JSON Schema lists them."""
    properties: Mapping[str, Any] = load_schema()["$defs"]["Database"]["properties"]
    return list(properties)


def _add_field(
    fields: dict[str, Any],
    notes: list[str],
    field: str,
    live: Mapping[str, Any],
    ctx: CompareContext,
) -> None:
    """Add ``field`` to ``fields`` (or a comment to ``notes``) unless it holds a default."""
    value = canonical(field, live[field])
    if field == "remoteBackup":
        _add_backup(fields, notes, value)
    elif field == "replica":
        _add_replica(fields, notes, value)
    elif not _is_default(field, value, live, ctx):
        fields[field] = [{"name": n} for n in value] if field == "modules" else value


def _is_default(field: str, value: Any, live: Mapping[str, Any], ctx: CompareContext) -> bool:
    """Return True when a canonical live value is what Redis Cloud picks by itself."""
    if field == "sourceIp":
        public = ctx.public_endpoint_access
        return bool(value == canonical(field, PUBLIC_SOURCE_IPS if public else PRIVATE_SOURCE_IPS))
    if field == "modules" and ctx.redis_major is not None and ctx.redis_major >= 8:
        return True  # bundled with Redis 8 and later: listed live, refused in a request
    if field == "respVersion":
        return bool(value == _default_resp(live.get("redisVersion")))
    return field in API_DEFAULTS and bool(value == canonical(field, API_DEFAULTS[field]))


def _default_resp(version: Any) -> str | None:
    """Return the RESP version Redis Cloud gives a database of ``version`` by default."""
    parsed = version_tuple(version)
    if parsed is None:
        return None
    return "resp3" if parsed >= _RESP3_DEFAULT_FROM else "resp2"


def _add_backup(fields: dict[str, Any], notes: list[str], value: Any) -> None:
    """Add an active remote backup with its derived storageType; a comment when it cannot be."""
    if not isinstance(value, Mapping) or value.get("active") is not True:
        return
    backup: dict[str, Any] = {"active": True, "interval": value.get("interval")}
    if value.get("interval") in _TIMED_INTERVALS and value.get("timeUTC"):
        backup["timeUTC"] = value["timeUTC"]
    path = value.get("storagePath")
    storage = storage_type(path.reveal() if isinstance(path, Secret) else path)
    backup.update(storageType=storage or "?", storagePath=path)
    why = _unwritable_backup(path, storage, backup["interval"])
    if why:
        shown = flow_text({k: _shown(v) for k, v in backup.items()})
        notes.append(f"remoteBackup: {shown}  # not managed: {why}")
        return
    fields["remoteBackup"] = backup


def _unwritable_backup(path: Any, storage: str | None, interval: Any) -> str:
    """Return why a live remote backup cannot be written as a spec ("" when it can)."""
    if isinstance(path, Secret):
        return "its path carries credentials"
    if storage is None:
        return "its storage type cannot be told from its path"
    return "" if interval else "it has no interval"


def storage_type(path: Any) -> str | None:
    """Return the remoteBackup.storageType for a storage path (None when unknown)."""
    if not isinstance(path, str):
        return None
    lowered = path.lower()
    for prefix, kind in _STORAGE_TYPES:
        if lowered.startswith(prefix):
            return kind
    return "azure-blob-storage" if _AZURE_HTTPS.match(path) else None


def _add_replica(fields: dict[str, Any], notes: list[str], endpoints: Any) -> None:
    """Add ``replica.syncSources`` for a replica database (a comment when a URI has secrets)."""
    if not isinstance(endpoints, list) or not endpoints:
        return
    if any(isinstance(e, Secret) for e in endpoints):
        shown = flow_text({"syncSources": [{"endpoint": _shown(e)} for e in endpoints]})
        notes.append(f"replica: {shown}  # not managed: a source URI carries credentials")
        return
    fields["replica"] = {"syncSources": [{"endpoint": e} for e in endpoints]}


def _shown(value: Any) -> Any:
    """Return a value fit for a comment: secrets masked (URIs keep their host)."""
    if isinstance(value, Secret):
        return mask_uri(value.reveal()) if "@" in value.reveal() else MASK
    return value


def _settled(
    sub: LiveSubscription, db: LiveDatabase, fields: dict[str, Any], live: Mapping[str, Any]
) -> dict[str, Any]:
    """Return ``fields`` without any field the planner would see as a change (warned).

    This is the planner's own comparison, so a live value of an unexpected shape can never
    make ``plan`` on the export show a change.
    """
    context = CompareContext.for_database(fields, live, sub.raw)
    desired, have = comparable_fields(fields, live, context)
    changed = {c.path.split(".", 1)[0] for c in diff_fields(desired, have)}
    for field in sorted(changed):
        log.warning("database %s (db %s): %s left out (not comparable)", db.name, db.id, field)
    return {k: v for k, v in fields.items() if k not in changed}
