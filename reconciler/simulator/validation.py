"""Request validation, as the real API does it (synchronous 400 with an error body).

Field sets follow the OpenAPI request schemas (``DatabaseCreateRequest``,
``DatabaseUpdateRequest``, …) plus ``autoMinorVersionUpgrade``, which the Go SDK and the
Terraform provider send. Read-only schema properties (``subscriptionId``, ``databaseId``,
``commandType``) are accepted and ignored; any other unknown field is refused. Error types
come from the API's own catalogue (the OpenAPI ``ProcessorResponse.error`` enum).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.checks import (
    Checker,
    array,
    boolean,
    check_fields,
    enum,
    integer,
    number,
    obj,
    string,
)
from reconciler.simulator.consistency import check_consistency, check_default_user
from reconciler.simulator.field_checks import (
    alerts,
    database_name,
    modules,
    query_performance_factor,
    redis_version,
    regex_rule,
    replica_of_uri,
    source_ip,
    throughput,
)
from reconciler.simulator.records import merge_update
from reconciler.simulator.replies import ApiProblem, bad_request

READ_ONLY_FIELDS = ("subscriptionId", "databaseId", "commandType")
SECRET_MAX_LENGTH = 128


_REMOTE_BACKUP = obj(
    {
        "active": boolean(),
        "interval": enum(catalog.BACKUP_INTERVALS, "DATABASE_INVALID_BACKUP_INTERVAL"),
        "timeUTC": string(),
        "storageType": enum(catalog.BACKUP_STORAGE_TYPES, "DATABASE_INVALID_BACKUP_STORAGE_TYPE"),
        "storagePath": string(),
    },
    ignored=("backupInterval", "databaseBackupTimeUTC", "backupStorageType"),
)
_REPLICA = obj(
    {
        "syncSources": array(
            obj(
                {"endpoint": replica_of_uri, "encryption": boolean(), "serverCert": string()},
                required=("endpoint",),
            )
        )
    },
    required=("syncSources",),
)
_CERTIFICATES = array(
    obj({"publicCertificatePEMString": string()}, required=("publicCertificatePEMString",))
)
_LOCALthroughput = array(
    obj(
        {
            "region": string(),
            "writeOperationsPerSecond": integer(0, catalog.MAX_OPERATIONS_PER_SECOND),
            "readOperationsPerSecond": integer(0, catalog.MAX_OPERATIONS_PER_SECOND),
        }
    )
)

_SIZE = number(0.1, catalog.MAX_DATASET_SIZE_GB, "DATABASE_SIZE_TOO_SMALL", "DATABASE_SIZE_TOO_BIG")

# Fields both requests share.
_COMMON: dict[str, Checker] = {
    "dryRun": boolean(),
    "memoryLimitInGb": _SIZE,
    "datasetSizeInGb": _SIZE,
    "respVersion": enum(catalog.RESP_VERSIONS),
    "supportOSSClusterApi": boolean(),
    "useExternalEndpointForOSSClusterApi": boolean(),
    "dataPersistence": enum(catalog.DATA_PERSISTENCE),
    "dataEvictionPolicy": enum(catalog.EVICTION_POLICIES),
    "replication": boolean(),
    "replicaOf": array(replica_of_uri),
    "replica": _REPLICA,
    "throughputMeasurement": throughput,
    "periodicBackupPath": string(),
    "remoteBackup": _REMOTE_BACKUP,
    "sourceIp": array(source_ip),
    "clientSslCertificate": string(),
    "clientTlsCertificates": _CERTIFICATES,
    "enableTls": boolean(),
    "password": string("DATABASE_PASSWORD_IS_BLANK", SECRET_MAX_LENGTH),
    "saslUsername": string("DATABASE_MEMCACHED_SASL_USERNAME_IS_BLANK", SECRET_MAX_LENGTH),
    "saslPassword": string("DATABASE_MEMCACHED_SASL_PASSWORD_IS_BLANK", SECRET_MAX_LENGTH),
    "alerts": alerts,
    "queryPerformanceFactor": query_performance_factor,
    "autoMinorVersionUpgrade": boolean(),
}
CREATE_FIELDS: dict[str, Checker] = {
    **_COMMON,
    "name": database_name,
    "protocol": enum(catalog.PROTOCOLS),
    "port": integer(10000, 19999, "DATABASE_PORT_INVALID_VALUE"),
    "redisVersion": redis_version,
    "localThroughputMeasurement": _LOCALthroughput,
    "averageItemSizeInBytes": integer(
        1, catalog.INT64_MAX, "DATABASE_AVERAGE_ITEM_SIZE_INVALID_VALUE"
    ),
    "modules": modules,
    "shardingType": enum(catalog.SHARDING_TYPES),
}
UPDATE_FIELDS: dict[str, Checker] = {
    **_COMMON,
    "name": database_name,
    "regexRules": array(regex_rule),
    "enableDefaultUser": boolean(),
}
CREATE_ONLY_FIELDS = tuple(key for key in CREATE_FIELDS if key not in UPDATE_FIELDS)
UPDATE_ONLY_FIELDS = tuple(key for key in UPDATE_FIELDS if key not in CREATE_FIELDS)


def _require_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def validate_create(body: Any) -> dict[str, Any]:
    """Check a ``DatabaseCreateRequest``; return its sent fields, checked and normalised.

    Raises:
        ApiProblem: 400 for a wrong type, an unknown or update-only field, a rule broken.
    """
    body = _require_object(body)
    for key in UPDATE_ONLY_FIELDS:
        if key in body:
            raise bad_request(
                f'"{key}" cannot be set when creating a database; update the database after '
                "it is created"
            )
    fields = check_fields("", body, CREATE_FIELDS, required=("name",), ignored=READ_ONLY_FIELDS)
    check_consistency({**catalog.CREATE_DEFAULTS, **fields}, fields)
    return fields


def validate_update(body: Any, record: Mapping[str, Any]) -> dict[str, Any]:
    """Check a ``DatabaseUpdateRequest`` against the database ``record`` it changes.

    Returns the sent fields, checked and normalised.

    Raises:
        ApiProblem: 400 for a wrong type, an unknown or create-only field, a rule broken.
    """
    body = _require_object(body)
    for key in CREATE_ONLY_FIELDS:
        if key in body:
            raise bad_request(
                f'"{key}" cannot be changed after the database is created'
                + ("; use POST .../upgrade" if key == "redisVersion" else "")
            )
    fields = check_fields("", body, UPDATE_FIELDS, ignored=READ_ONLY_FIELDS)
    check_consistency(merge_update(record, fields), fields)
    check_default_user(record, fields)
    return fields


def validate_seed_database(entry: Any) -> dict[str, Any]:
    """Check a seed-file database (a create request plus update-only fields and status).

    Raises:
        ApiProblem: the entry breaks a request rule.
    """
    entry = _require_object(entry)
    fields = check_fields(
        "",
        entry,
        {
            **CREATE_FIELDS,
            **UPDATE_FIELDS,
            "databaseId": integer(1, catalog.INT32_MAX),
            "status": string(),
        },
        required=("name", "databaseId"),
    )
    check_consistency({**catalog.CREATE_DEFAULTS, **fields}, fields)
    return fields


def validate_upgrade(body: Any, record: Mapping[str, Any]) -> str:
    """Check a ``DatabaseUpgradeRedisVersionRequest``; return the target version.

    Raises:
        ApiProblem: 400 for a bad body, an unknown version, a memcached database, or a
            target that is not newer than the current version (no downgrades).
    """
    fields = obj(
        {"targetRedisVersion": redis_version},
        required=("targetRedisVersion",),
        ignored=READ_ONLY_FIELDS,
    )("", _require_object(body))
    target: str = fields["targetRedisVersion"]
    if record["protocol"] == "memcached":
        raise bad_request(
            "Memcached databases cannot be upgraded",
            "DATABASE_UPGRADE_OF_MEMCACHED_IS_NOT_SUPPORTED",
        )
    current = str(record["redisVersion"])
    if catalog.version_key(target) <= catalog.version_key(current):
        raise bad_request(
            f"Cannot upgrade Redis version {current} to {target}: the target must be newer",
            "DATABASE_UPGRADE_INVALID_REDIS_VERSION",
        )
    return target


def validate_backup(body: Any, deployment_type: str) -> dict[str, Any]:
    """Check a ``DatabaseBackupRequest`` (the body is optional); return its fields.

    Raises:
        ApiProblem: 400 for a bad body or a ``regionName`` on a single-region subscription.
    """
    if body is None:
        return {}
    fields = check_fields(
        "",
        _require_object(body),
        {"regionName": string(), "adhocBackupPath": string()},
        ignored=READ_ONLY_FIELDS,
    )
    if "regionName" in fields and deployment_type != "active-active":
        raise bad_request(
            "regionName is not allowed with a single-region subscription",
            "BACKUP_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION",
        )
    return fields


def validate_import(body: Any) -> dict[str, Any]:
    """Check a ``DatabaseImportRequest``; return its fields (URIs are checked by the task).

    Raises:
        ApiProblem: 400 for a bad body, a missing field or an unknown ``sourceType``.
    """
    return check_fields(
        "",
        _require_object(body),
        {
            "sourceType": enum(catalog.IMPORT_SOURCE_TYPES, "DATABASE_INVALID_IMPORT_SOURCE_TYPE"),
            "importFromUri": array(string()),
        },
        required=("sourceType", "importFromUri"),
        ignored=READ_ONLY_FIELDS,
    )


def parse_paging(query: Mapping[str, str]) -> tuple[int, int]:
    """Return ``(offset, limit)`` from list query parameters (defaults 0 and 100).

    Raises:
        ApiProblem: 400 when either is not a non-negative integer or limit is 0.
    """
    values = []
    for name, default, smallest in (("offset", 0, 0), ("limit", 100, 1)):
        raw = query.get(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            raise bad_request(f'"{name}" must be an integer, got "{raw}"') from None
        if value < smallest:
            raise bad_request(f'"{name}" must be at least {smallest}, got {value}')
        values.append(value)
    return values[0], values[1]


__all__ = [
    "CREATE_FIELDS",
    "CREATE_ONLY_FIELDS",
    "UPDATE_FIELDS",
    "UPDATE_ONLY_FIELDS",
    "ApiProblem",
    "parse_paging",
    "validate_backup",
    "validate_create",
    "validate_import",
    "validate_seed_database",
    "validate_update",
    "validate_upgrade",
]
