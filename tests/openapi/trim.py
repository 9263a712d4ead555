"""Regenerate ``redis-cloud-openapi.trimmed.json`` from the official OpenAPI description.

The tests check the simulator and the tool against the official Redis Cloud API v1
description, but the full file (600 kB, Redis Ltd.'s own text) is not ours to ship. This
keeps only what the tests read: the operations below with their request and response
bodies, and the schemas they reach (followed through ``$ref``), each reduced to structure —
types, formats, enums, bounds, required, properties, items, references, read-only marks and
examples. Descriptions, titles and everything else are stripped.

Usage::

    python tests/openapi/trim.py PATH/TO/redis-cloud-openapi.json

Source of the full file (see README.md beside this script): Redis's published description,
redis.io/docs/latest/operate/rc/api/api-reference/openapi.json, as mirrored by
joshrotenberg/redisctl ``crates/redis-cloud/tests/fixtures/cloud_openapi.json`` at
c1925cd5e475267727798697d67c35588015ca46 (sha256 78163ad0…7e8 of the full file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "redis-cloud-openapi.trimmed.json"

#: (path, method) of every operation the tests read.
OPERATIONS = [
    ("/subscriptions", "get"),
    ("/subscriptions/{subscriptionId}", "get"),
    ("/subscriptions/{subscriptionId}/databases", "get"),
    ("/subscriptions/{subscriptionId}/databases", "post"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}", "get"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}", "put"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}", "delete"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}/backup", "post"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}/import", "post"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}/upgrade", "post"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}/tags", "get"),
    ("/subscriptions/{subscriptionId}/databases/{databaseId}/tags", "put"),
    ("/subscriptions/redis-versions", "get"),
    ("/database-modules", "get"),
    ("/query-performance-factors", "get"),
    ("/data-persistence", "get"),
    ("/logs", "get"),
    ("/tasks", "get"),
    ("/tasks/{taskId}", "get"),
]

#: Schemas the tests name directly (besides those the operations reach).
SCHEMAS = [
    "Database",
    "AccountSubscriptionDatabases",
    "Subscription",
    "AccountSubscriptions",
    "TaskStateUpdate",
    "ProcessorResponse",
    "DatabaseCreateRequest",
    "DatabaseUpdateRequest",
    "DatabaseBackupRequest",
    "DatabaseImportRequest",
    "DatabaseUpgradeRedisVersionRequest",
    "DatabaseBackupConfig",
    "DatabaseThroughputSpec",
    "DatabaseAlertSpec",
    "DatabaseModuleSpec",
    "ReplicaOfSpec",
    "DatabaseSyncSourceSpec",
    "DatabaseCertificateSpec",
    "DatabaseTagsUpdateRequest",
    "CloudTags",
    "RedisVersions",
    "AccountSystemLogEntries",
]

#: Keys kept in a schema object; everything else (description, title, …) is dropped.
SCHEMA_KEYS = frozenset(
    {
        "type", "format", "enum", "required", "properties", "items", "$ref", "readOnly",
        "example", "minimum", "maximum", "minLength", "maxLength", "pattern", "nullable",
        "additionalProperties", "allOf", "oneOf", "anyOf", "default", "minItems", "maxItems",
    }
)  # fmt: skip
#: Keys whose value maps names to schemas (each is trimmed, the names kept).
SCHEMA_MAPS = frozenset({"properties"})
#: Keys whose value is one schema or a list of schemas.
SCHEMA_VALUES = frozenset({"items", "additionalProperties", "allOf", "oneOf", "anyOf"})


def trim_schema(node: Any) -> Any:
    """Return a schema reduced to :data:`SCHEMA_KEYS`, recursively."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in SCHEMA_KEYS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: trim_schema(sub) for name, sub in value.items()}
        elif key in SCHEMA_VALUES:
            out[key] = (
                [trim_schema(v) for v in value] if isinstance(value, list) else trim_schema(value)
            )
        else:
            out[key] = value
    return out


def trim_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """Keep the JSON request body and the answers' JSON bodies (schema and example)."""
    out: dict[str, Any] = {}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        out["requestBody"] = {"content": {"application/json": _media(body)}}
    responses = {}
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {})
        media = next(iter(content.values()), None)
        responses[status] = {"content": {"application/json": _media(media)}} if media else {}
    out["responses"] = responses
    return out


def _media(media: dict[str, Any]) -> dict[str, Any]:
    kept = {k: media[k] for k in ("example",) if k in media}
    if "schema" in media:
        kept["schema"] = trim_schema(media["schema"])
    return kept


def references(node: Any) -> set[str]:
    """Names of every ``#/components/schemas/NAME`` reference inside ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def trim(full: dict[str, Any]) -> dict[str, Any]:
    """Return the trimmed description of ``full``."""
    paths: dict[str, dict[str, Any]] = {}
    for path, method in OPERATIONS:
        paths.setdefault(path, {})[method] = trim_operation(full["paths"][path][method])
    everything = full["components"]["schemas"]
    todo = set(SCHEMAS) | references(paths)
    kept: dict[str, Any] = {}
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = trim_schema(everything[name])
        todo |= references(kept[name]) - set(kept)
    return {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "paths": paths,
        "components": {"schemas": dict(sorted(kept.items()))},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    full = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    OUTPUT.write_text(json.dumps(trim(full), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
