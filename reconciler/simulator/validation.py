"""Request validation, as the real API does it (synchronous 400 with an error body).

Field sets follow the OpenAPI request schemas (``DatabaseCreateRequest``,
``DatabaseUpdateRequest``, …) plus ``autoMinorVersionUpgrade``, which the Go SDK and the
Terraform provider send. Read-only schema properties (``subscriptionId``, ``databaseId``,
``commandType``) are accepted and ignored; any other unknown field is refused. Error types
come from the API's own catalogue (the OpenAPI ``ProcessorResponse.error`` enum).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.checks import (
    Checker,
    array,
    boolean,
    check_fields,
    enum,
    free_object,
    integer,
    number,
    obj,
    string,
)
from reconciler.simulator.consistency import check_consistency, check_default_user
from reconciler.simulator.records import merge_update
from reconciler.simulator.replies import ApiProblem, bad_request

READ_ONLY_FIELDS = ("subscriptionId", "databaseId", "commandType")
_NAME_RULE = re.compile(r"^[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?$")
_QPF_RULE = re.compile(r"^(\d+)x$")
NAME_MAX_LENGTH = 40
SECRET_MAX_LENGTH = 128


def _database_name(path: str, value: Any) -> Any:
    value = string()(path, value)
    if len(value) > NAME_MAX_LENGTH:
        raise bad_request(
            f"Database name is limited to {NAME_MAX_LENGTH} characters", "DATABASE_NAME_TOO_LONG"
        )
    if not _NAME_RULE.match(value):
        raise bad_request(
            "Database name must include only letters, digits and hyphens, start with a letter "
            "and end with a letter or digit",
            "DATABASE_INVALID_NAME",
        )
    return value


def _redis_version(path: str, value: Any) -> Any:
    value = string()(path, value)
    if value not in catalog.SUPPORTED_REDIS_VERSIONS:
        raise bad_request(
            f'Redis version "{value}" is not supported; supported versions: '
            + ", ".join(catalog.SUPPORTED_REDIS_VERSIONS),
            "DATABASE_REDIS_VERSION_IS_NOT_SUPPORTED",
        )
    return value


def _source_ip(path: str, value: Any) -> Any:
    value = string()(path, value)
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise bad_request(
            f'"{path}" is not a valid IP address or CIDR: "{value}"', "DATABASE_INVALID_SIP"
        ) from None
    return value


def _alert(path: str, value: Any) -> Any:
    alert = obj(
        {"name": enum(tuple(catalog.ALERTS), "DATABASE_INVALID_ALERTS"), "value": integer()},
        required=("name", "value"),
    )(path, value)
    highest = catalog.ALERTS[alert["name"]][1]
    if alert["value"] < 0 or (highest is not None and alert["value"] > highest):
        raise bad_request(
            f'"{path}.value" {alert["value"]} is not valid for alert "{alert["name"]}"',
            "DATABASE_INVALID_ALERT_VALUE",
        )
    return alert


def _alerts(path: str, value: Any) -> Any:
    alerts = array(_alert)(path, value)
    names = [alert["name"] for alert in alerts]
    if len(names) != len(set(names)):
        raise bad_request(f'"{path}" names the same alert twice', "DATABASE_INVALID_ALERTS")
    return alerts


def _module(path: str, value: Any) -> Any:
    module = obj({"name": string(), "parameters": free_object()}, required=("name",))(path, value)
    if module["name"] not in catalog.MODULES:
        raise bad_request(f'Module "{module["name"]}" is not available', "DATABASE_INVALID_MODULE")
    return module


def _modules(path: str, value: Any) -> Any:
    modules = array(_module)(path, value)
    names = [module["name"] for module in modules]
    if len(names) != len(set(names)):
        raise bad_request(
            f'"{path}" names the same module twice', "DATABASE_MODULE_MUST_BE_DEFINED_ONCE"
        )
    return modules


def _replica_of_uri(path: str, value: Any) -> Any:
    value = string()(path, value)
    if not value.startswith(("redis://", "rediss://")):
        raise bad_request(f'"{path}" must be a redis:// URI', "DATABASE_REPLICA_OF_BAD_URI")
    return value


def _regex_rule(path: str, value: Any) -> Any:
    value = string()(path, value)
    if "(?<tag>" not in value:
        raise bad_request(
            f'"{path}" must capture a hash tag with a "(?<tag>...)" group',
            "DATABASE_INVALID_REGEX_RULES",
        )
    return value


def _query_performance_factor(path: str, value: Any) -> Any:
    value = string()(path, value)
    match = _QPF_RULE.match(value)
    factor = int(match.group(1)) if match else 0
    if value.lower() != "standard" and not (2 <= factor <= 16 and factor % 2 == 0):
        raise bad_request(
            f'"{path}" must be "Standard" or an even factor from 2x to 16x, got "{value}"',
            "DATABASE_QUERY_PERFORMANCE_FACTOR_INVALID_VALUE",
        )
    return value


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
_THROUGHPUT = obj(
    {
        "by": enum(catalog.THROUGHPUT_BY),
        "value": integer(minimum=1, error_type="PLANNER_INVALID_THROUGHPUT"),
    },
    required=("by", "value"),
)
_REPLICA = obj(
    {
        "syncSources": array(
            obj(
                {"endpoint": _replica_of_uri, "encryption": boolean(), "serverCert": string()},
                required=("endpoint",),
            )
        )
    },
    required=("syncSources",),
)
_CERTIFICATES = array(
    obj({"publicCertificatePEMString": string()}, required=("publicCertificatePEMString",))
)
_LOCAL_THROUGHPUT = array(
    obj(
        {
            "region": string(),
            "writeOperationsPerSecond": integer(minimum=0),
            "readOperationsPerSecond": integer(minimum=0),
        }
    )
)

# Fields both requests share.
_COMMON: dict[str, Checker] = {
    "dryRun": boolean(),
    "memoryLimitInGb": number(0.1, "DATABASE_SIZE_TOO_SMALL"),
    "datasetSizeInGb": number(0.1, "DATABASE_SIZE_TOO_SMALL"),
    "respVersion": enum(catalog.RESP_VERSIONS),
    "supportOSSClusterApi": boolean(),
    "useExternalEndpointForOSSClusterApi": boolean(),
    "dataPersistence": enum(catalog.DATA_PERSISTENCE),
    "dataEvictionPolicy": enum(catalog.EVICTION_POLICIES),
    "replication": boolean(),
    "replicaOf": array(_replica_of_uri),
    "replica": _REPLICA,
    "throughputMeasurement": _THROUGHPUT,
    "periodicBackupPath": string(),
    "remoteBackup": _REMOTE_BACKUP,
    "sourceIp": array(_source_ip),
    "clientSslCertificate": string(),
    "clientTlsCertificates": _CERTIFICATES,
    "enableTls": boolean(),
    "password": string("DATABASE_PASSWORD_IS_BLANK", SECRET_MAX_LENGTH),
    "saslUsername": string("DATABASE_MEMCACHED_SASL_USERNAME_IS_BLANK", SECRET_MAX_LENGTH),
    "saslPassword": string("DATABASE_MEMCACHED_SASL_PASSWORD_IS_BLANK", SECRET_MAX_LENGTH),
    "alerts": _alerts,
    "queryPerformanceFactor": _query_performance_factor,
    "autoMinorVersionUpgrade": boolean(),
}
CREATE_FIELDS: dict[str, Checker] = {
    **_COMMON,
    "name": _database_name,
    "protocol": enum(catalog.PROTOCOLS),
    "port": integer(10000, 19999, "DATABASE_PORT_INVALID_VALUE"),
    "redisVersion": _redis_version,
    "localThroughputMeasurement": _LOCAL_THROUGHPUT,
    "averageItemSizeInBytes": integer(minimum=1),
    "modules": _modules,
    "shardingType": enum(catalog.SHARDING_TYPES),
}
UPDATE_FIELDS: dict[str, Checker] = {
    **_COMMON,
    "name": _database_name,
    "regexRules": array(_regex_rule),
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
        {**CREATE_FIELDS, **UPDATE_FIELDS, "databaseId": integer(1), "status": string()},
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
        {"targetRedisVersion": _redis_version},
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
