"""Cross-field rules of database requests (the OpenAPI ``createDatabase`` and
``updateDatabase`` operations; error types from ``ProcessorResponse.error``).

Each rule looks at ``merged`` (the database configuration the request would produce, in
request shape) and ``sent`` (the fields the request carried), so that a rule about a field
fires only when that field was actually sent. The default-user rules of an update look at
the database before the request instead (:func:`check_default_user`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.replies import bad_request

Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], None]


def _one_memory_specification(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    if "datasetSizeInGb" in sent and "memoryLimitInGb" in sent:
        raise bad_request(
            "Only one of datasetSizeInGb and memoryLimitInGb may be set",
            "DATABASE_SIZE_LIMIT_INVALID_TOO_MANY_MEMORY_SPECIFICATIONS",
        )


def _protocol_fields(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    if merged.get("protocol") == "memcached":
        forbidden = {
            "password": "DATABASE_MEMCACHED_CONTAINS_REDIS_PASSWORD",
            "enableDefaultUser": "DATABASE_MEMCACHED_CONTAINS_REDIS_DEFAULT_USER",
        }
        if sent.get("modules"):
            raise bad_request(
                "Memcached databases cannot have modules", "DATABASE_MEMCACHED_CONTAINS_MODULES"
            )
        if sent.get("supportOSSClusterApi"):
            raise bad_request(
                "Memcached databases do not support the OSS Cluster API",
                "DATABASE_MEMCACHED_NOT_SUPPORT_OSS_CLUSTER_API",
            )
    else:
        forbidden = {
            "saslUsername": "DATABASE_CONTAIN_MEMCACHED_USERNAME",
            "saslPassword": "DATABASE_CONTAIN_MEMCACHED_PASSWORD",
        }
    for field, error_type in forbidden.items():
        if field in sent:
            raise bad_request(
                f'"{field}" cannot be set for protocol "{merged.get("protocol")}"', error_type
            )


def _modules_on_bundled_versions(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    version = str(merged.get("redisVersion", catalog.DEFAULT_REDIS_VERSION))
    if sent.get("modules") and catalog.is_bundled_modules_version(version):
        # Text as the API gives it: the Terraform provider's test Redis8_ModulesBlocked
        # expects exactly this error.
        raise bad_request(
            f'"modules" cannot be explicitly set for Redis version {version} as modules are '
            "bundled by default",
            "DATABASE_INVALID_MODULE",
        )


def _resp_version(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    version = str(merged.get("redisVersion", catalog.DEFAULT_REDIS_VERSION))
    if sent.get("respVersion") == "resp3" and not catalog.supports_resp3(version):
        raise bad_request(
            f"respVersion resp3 is not supported by Redis version {version}",
            "DATABASE_RESP_VERSION_IS_NOT_SUPPORTED",
        )


def _oss_cluster(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    if merged.get("useExternalEndpointForOSSClusterApi") and not merged.get("supportOSSClusterApi"):
        raise bad_request(
            "useExternalEndpointForOSSClusterApi needs supportOSSClusterApi",
            "DATABASE_EXTERNAL_ENDPOINT_WITHOUT_OSS_CLUSTER",
        )


def _has_search(merged: Mapping[str, Any]) -> bool:
    version = str(merged.get("redisVersion", catalog.DEFAULT_REDIS_VERSION))
    names = {module.get("name") for module in merged.get("modules") or ()}
    return catalog.is_bundled_modules_version(version) or "RediSearch" in names


def _search_rules(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    factor = sent.get("queryPerformanceFactor")
    if factor is not None and factor.lower() != "standard" and not _has_search(merged):
        raise bad_request(
            "queryPerformanceFactor needs the search capability (RediSearch)",
            "DATABASE_QUERY_PERFORMANCE_FACTOR_SEARCH_IS_REQUIRED",
        )
    throughput = merged.get("throughputMeasurement") or {}
    names = {module.get("name") for module in merged.get("modules") or ()}
    if "RediSearch" in names and throughput.get("by") == "number-of-shards":
        raise bad_request(
            "RediSearch supports only operations-per-second as throughput measurement",
            "REDISEARCH_SUPPORTS_ONLY_OPERATIONS_PER_SECOND_AS_THROUGHPUT_MEASUREMENT",
        )


def _remote_backup(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    if "remoteBackup" in sent and sent.get("periodicBackupPath"):
        raise bad_request(
            "Only one of remoteBackup and periodicBackupPath may be set",
            "DATABASE_INVALID_TOO_MANY_BACKUP_SPECIFICATIONS",
        )
    if "remoteBackup" not in sent:
        return
    backup = merged.get("remoteBackup") or {}
    if backup.get("active"):
        for key in ("interval", "storageType", "storagePath"):
            if not backup.get(key):
                raise bad_request(
                    f'"remoteBackup.{key}" is required when remote backup is active',
                    "DATABASE_INVALID_BACKUP_CONFIGURATION",
                )
        if not str(backup["storagePath"]).startswith(
            catalog.BACKUP_PATH_PREFIXES[backup["storageType"]]
        ):
            raise bad_request(
                f'"remoteBackup.storagePath" does not fit storage type {backup["storageType"]}',
                "DATABASE_INVALID_BACKUP_PATH",
            )
    _backup_time(backup)


def _backup_time(backup: Mapping[str, Any]) -> None:
    time_utc = backup.get("timeUTC")
    if time_utc is None:
        return
    hour = time_utc[:2]
    if len(time_utc) != 5 or time_utc[2:] != ":00" or not hour.isdigit() or int(hour) > 23:
        raise bad_request(
            f'"remoteBackup.timeUTC" must be a full hour "HH:00", got "{time_utc}"',
            "DATABASE_INVALID_BACKUP_TIME_UTC",
        )
    if backup.get("interval") not in ("every-12-hours", "every-24-hours"):
        raise bad_request(
            "timeUTC can be set only for every-12-hours and every-24-hours intervals",
            "DATABASE_INVALID_BACKUP_INTERVAL_AND_TIME_UTC_MISMATCH",
        )


def check_default_user(current: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    """Apply the default-user rules of an update request ``sent`` to database ``current``.

    The API refuses a new password sent with ``enableDefaultUser: false``, and a new
    password while the default user is disabled unless the same request enables it (both
    error types are in the OpenAPI ``ProcessorResponse.error`` catalogue). Not a
    :data:`RULES` member: these rules are about a request changing a database, so a seed
    database may well be disabled and have a password. Called when the update is
    submitted and again when its task is processed, since an update queued before it may
    have disabled the default user in between.

    Raises:
        ApiProblem: 400 ``DISABLING_THE_DEFAULT_USER_AND_UPDATING_A_NEW_PASSWORD_IS_NOT_ALLOWED``
            or ``NOT_ALLOWED_TO_UPDATE_A_DATABASE_PASSWORD_WHEN_DEFAULT_USER_IS_DISABLED``.
    """
    if "password" not in sent:
        return
    enable = sent.get("enableDefaultUser")
    if enable is False:
        raise bad_request(
            "Disabling the default user and setting a new password in one request is not allowed",
            "DISABLING_THE_DEFAULT_USER_AND_UPDATING_A_NEW_PASSWORD_IS_NOT_ALLOWED",
        )
    if enable is None and current.get("enableDefaultUser") is False:
        raise bad_request(
            "The password cannot be changed while the default user is disabled",
            "NOT_ALLOWED_TO_UPDATE_A_DATABASE_PASSWORD_WHEN_DEFAULT_USER_IS_DISABLED",
        )


def _regex_rules(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    if "regexRules" in sent and merged.get("shardingType") != "custom-regex-rules":
        raise bad_request(
            "regexRules can be set only on databases created with shardingType custom-regex-rules",
            "DATABASE_INVALID_REGEX_RULES",
        )


RULES: tuple[Rule, ...] = (
    _one_memory_specification,
    _protocol_fields,
    _modules_on_bundled_versions,
    _resp_version,
    _oss_cluster,
    _search_rules,
    _remote_backup,
    _regex_rules,
)


def check_consistency(merged: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    """Apply every cross-field rule.

    Raises:
        ApiProblem: 400 naming the first rule broken.
    """
    for rule in RULES:
        rule(merged, sent)
