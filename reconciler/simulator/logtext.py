"""The descriptions of system log entries, in the style of Redis Cloud's system log.

Each names the database and its id (``Database 'sessions' (id 51170941) …``). An update
lists what changed with old and new values (``memory limit changed from 1GB to 2GB``),
but a value is shown only when it cannot be a secret: numbers, booleans, and short strings
of fields that are not credentials and hold no URI. Anything else is only said to have
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.simulator.records import dataset_size, memory_limit

#: Task kind → (noun of the request, sentence ending once it has been done; the upgrade's
#: names its payload's target version).
TASK_WORDS: Mapping[str, tuple[str, str]] = {
    "create": ("creation", "was created"),
    "update": ("update", "was updated"),
    "delete": ("deletion", "was deleted"),
    "backup": ("backup", "was backed up"),
    "import": ("data import", "received its data import"),
    "upgrade": ("upgrade", "was upgraded to Redis {targetRedisVersion}"),
}
_LABELS: Mapping[str, str] = {
    "datasetSizeInGb": "dataset size",
    "memoryLimitInGb": "memory limit",
    "replication": "replication",
    "dataPersistence": "data persistence",
    "dataEvictionPolicy": "eviction policy",
    "throughputMeasurement": "throughput",
    "sourceIp": "source IPs",
    "enableTls": "TLS",
    "respVersion": "RESP version",
    "supportOSSClusterApi": "OSS Cluster API support",
    "remoteBackup": "remote backup",
    "alerts": "alerts",
    "password": "password",
    "enableDefaultUser": "default user",
    "queryPerformanceFactor": "query performance factor",
}
_SIZES = {"datasetSizeInGb": dataset_size, "memoryLimitInGb": memory_limit}
_NEVER_SHOWN = frozenset(
    {"password", "saslUsername", "saslPassword", "clientSslCertificate", "periodicBackupPath"}
)
_MAX_SHOWN_LENGTH = 64
_MAX_TAGS_SHOWN = 10


def database_label(name: str, database_id: int, capital: bool = True) -> str:
    """Return ``Database 'NAME' (id ID)`` (``database …`` when not ``capital``)."""
    return f"{'D' if capital else 'd'}atabase '{name}' (id {database_id})"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(field: str, value: Any) -> str | None:
    """Return how ``value`` of ``field`` reads in a description; None when it is not shown."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value) + ("GB" if field in _SIZES else "")
    if field == "throughputMeasurement" and isinstance(value, dict):
        return f"{_number(value.get('value', 0))} {value.get('by', '')}".strip()
    safe = field not in _NEVER_SHOWN and "://" not in str(value) and "@" not in str(value)
    if isinstance(value, str) and safe and len(value) <= _MAX_SHOWN_LENGTH:
        return value
    return None


def _before(record: Mapping[str, Any], field: str) -> Any:
    size = _SIZES.get(field)
    return size(record) if size is not None else record.get(field)


def change_phrases(record: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """Return one phrase per field that ``changes`` really changes in ``record``."""
    phrases: list[str] = []
    for field, new in changes.items():
        old = _before(record, field)
        if field == "dryRun" or old == new:
            continue
        if field == "name":
            phrases.append(f"renamed to '{new}'")
            continue
        label = _LABELS.get(field, field)
        old_text, new_text = _shown(field, old), _shown(field, new)
        if old_text is None or new_text is None:
            phrases.append(f"{label} changed")
        else:
            phrases.append(f"{label} changed from {old_text} to {new_text}")
    return phrases


def accepted_text(kind: str, record: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """Return the description of an accepted request of ``kind`` on ``record``."""
    label = database_label(str(record["name"]), int(record["databaseId"]))
    if kind == "update":
        phrases = change_phrases(record, payload["changes"])
        return f"{label} " + ("; ".join(phrases) if phrases else "update requested")
    if kind == "upgrade":
        target = payload["targetRedisVersion"]
        return f"{label} upgrade from Redis {record['redisVersion']} to {target} requested"
    return f"{label} {TASK_WORDS[kind][0]} requested"


def ended_text(
    kind: str, name: str, database_id: int, payload: Mapping[str, Any], outcome: Mapping[str, Any]
) -> str:
    """Return the description of a finished task: done, or failed with its error type."""
    label = database_label(name, database_id)
    noun, done = TASK_WORDS[kind]
    done = done.format_map(payload) if kind == "upgrade" else done
    if "error" in outcome:
        error = outcome["error"]
        error_type = error.get("type") if isinstance(error, dict) else None
        return f"{label} {noun} failed" + (f" ({error_type})" if error_type else "")
    return f"{label} {done}"


def tag_added_text(name: str, database_id: int, key: str, value: str) -> str:
    """Return the description of one tag added."""
    return f"Tag '{key}' added to {database_label(name, database_id, capital=False)}: '{value}'"


def tag_changed_text(name: str, database_id: int, key: str, old: str, new: str) -> str:
    """Return the description of one tag's value changed."""
    label = database_label(name, database_id, capital=False)
    return f"Tag '{key}' of {label} changed from '{old}' to '{new}'"


def tag_removed_text(name: str, database_id: int, key: str) -> str:
    """Return the description of one tag removed."""
    return f"Tag '{key}' removed from {database_label(name, database_id, capital=False)}"


def tags_set_text(name: str, database_id: int, tags: list[Mapping[str, Any]]) -> str:
    """Return the description of every tag replaced (at most ten listed, then a count)."""
    pairs = [f"{tag['key']}={tag['value']}" for tag in tags[:_MAX_TAGS_SHOWN]]
    more = len(tags) - len(pairs)
    listed = ", ".join(pairs) + (f" and {more} more" if more else "") if pairs else "none"
    return f"Tags of {database_label(name, database_id, capital=False)} set to {listed}"
