"""The field catalogue: everything the reconciler knows about each database request field.

One :class:`Field` row per field of the API's ``DatabaseCreateRequest`` /
``DatabaseUpdateRequest`` (plus ``autoMinorVersionUpgrade`` and ``ramPercentage``, which the
Go SDK and the Terraform provider send): managed, or excluded with the reason. A spec field
that differs from the live database is therefore always updated, upgraded, refused, or (when
the read does not return it) reported as a notice; never silently skipped. The columns:

``name``
    The request name (``sourceIp``, ``remoteBackup``, ``regexRules`` …).
``read_back``
    Where a ``GET`` of the database reports it, e.g. ``security.sourceIps`` for
    ``sourceIp``, ``backup.*`` for ``remoteBackup``, ``clustering.regexRules`` for
    ``regexRules``; equal to ``name`` when the read uses the request's name and shape (the
    value is then copied as it is). None: the API never returns it, so a spec value for it
    on an existing database cannot be compared and the plan carries a notice saying so.
``creatable``
    Accepted by the create request (``POST /subscriptions/{id}/databases``).
``updatable``
    Accepted by the update request (``PUT /subscriptions/{id}/databases/{id}``). A field
    that is updatable but not creatable is sent by a follow-up update right after a create.
``create_only``
    Only a new database can have another value: a difference on an existing database is
    refused (Redis Cloud would have to recreate it). ``redisVersion`` is neither updatable
    nor create-only: it changes through the upgrade request.
``secret``
    A password: always held as :class:`~reconciler.secrets.Secret`, never shown.
``compared``
    False for the fields never diffed: the identity (``name``, ``databaseId``: the planner
    matches databases by them and plans a rename itself) and the excluded fields.
``exported``
    False when an export must not write the live value: the read tells only whether the
    field is set (client certificates), or it is a deprecated alias of another field
    (``periodicBackupPath`` of ``remoteBackup``).
``excluded``
    Why a spec cannot hold the field (empty for the managed ones): request switches,
    values the API fills in itself, Active-Active settings.
``api_default``
    The value Redis Cloud picks when a create request leaves the field out;
    :data:`NO_DEFAULT` when it has none worth stating (sizes, versions, ports) or it
    depends on the database (the source IPs, the RESP version).
``canonical``
    The function that puts a value, desired or live, into its comparable form
    (:mod:`reconciler.compare.forms`).
``pair``
    The rule that makes the (desired, live) pair to diff, or skips the field
    (:mod:`reconciler.compare.pairs`).

Every other module that needs to know something about a field by its name asks here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler.compare.forms import (
    alert_set,
    backup_path,
    endpoint_set,
    lower_text,
    module_names,
    plain,
    presence,
    regex_patterns,
    release_version,
    remote_backup,
    secret,
    string_set,
    sync_source_set,
)
from reconciler.compare.pairs import (
    PairRule,
    missing_reads_as,
    pair_as_read,
    pair_known_only,
    pair_modules,
    pair_query_performance,
    pair_remote_backup,
    pair_source_ip,
    pair_version,
)


class _NoDefault:
    """Marker for a field without a stated API default."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Field:
    """One request field of a database; the module docstring describes each column."""

    name: str
    read_back: str | None
    creatable: bool = True
    updatable: bool = True
    create_only: bool = False
    secret: bool = False
    compared: bool = True
    exported: bool = True
    excluded: str = ""
    api_default: Any = NO_DEFAULT
    canonical: Callable[[Any], Any] = plain
    pair: PairRule = pair_as_read


def _create_only(name: str, read_back: str, **columns: Any) -> Field:
    """Return a row for a field only a create request sets."""
    return Field(name, read_back, updatable=False, create_only=True, **columns)


def _excluded(name: str, reason: str, **columns: Any) -> Field:
    """Return a row for a request field a spec cannot hold, with the reason."""
    columns = {"creatable": False, "updatable": False, **columns}
    return Field(name, None, compared=False, excluded=reason, **columns)


_ENDPOINTS = "replica.syncSources[].endpoint, replicaOf.endpoints"

CATALOGUE: tuple[Field, ...] = (
    Field("name", "name", compared=False),
    Field("databaseId", "databaseId", creatable=False, updatable=False, compared=False),
    _create_only("protocol", "protocol", api_default="redis"),
    _create_only("port", "publicEndpoint (else privateEndpoint): its port"),
    Field("datasetSizeInGb", "datasetSizeInGb"),
    Field("memoryLimitInGb", "memoryLimitInGb", pair=pair_known_only),
    Field(
        "redisVersion",
        "redisVersion",
        updatable=False,
        canonical=release_version,
        pair=pair_version,
    ),
    Field("respVersion", "respVersion"),
    Field("supportOSSClusterApi", "supportOSSClusterApi", api_default=False),
    Field(
        "useExternalEndpointForOSSClusterApi",
        "useExternalEndpointForOSSClusterApi",
        api_default=False,
    ),
    Field("dataPersistence", "dataPersistence", api_default="none"),
    Field("dataEvictionPolicy", "dataEvictionPolicy", api_default="volatile-lru"),
    Field("replication", "replication", api_default=True),
    Field("throughputMeasurement", "throughputMeasurement.{by, value}"),
    Field(
        "replica",
        _ENDPOINTS,
        canonical=sync_source_set,
        pair=missing_reads_as([]),
    ),
    Field("replicaOf", _ENDPOINTS, canonical=endpoint_set, pair=missing_reads_as([])),
    Field(
        "remoteBackup",
        "backup.{enableRemoteBackup, interval, timeUTC, destination}",
        canonical=remote_backup,
        pair=pair_remote_backup,
    ),
    Field(
        "periodicBackupPath",
        'backup.destination ("" when there is no backup)',
        canonical=backup_path,
        exported=False,
    ),
    Field("sourceIp", "security.sourceIps", canonical=string_set, pair=pair_source_ip),
    Field(
        "clientTlsCertificates",
        "security.tlsClientAuthentication: whether any certificate is set",
        canonical=presence,
        exported=False,
    ),
    Field(
        "clientSslCertificate",
        "security.sslClientAuthentication: whether a certificate is set",
        canonical=presence,
        exported=False,
    ),
    Field("enableTls", "security.enableTls", api_default=False, pair=missing_reads_as(False)),
    Field(
        "enableDefaultUser",
        "security.enableDefaultUser",
        creatable=False,
        api_default=True,
        pair=missing_reads_as(True),
    ),
    Field(
        "password",
        "security.password",
        secret=True,
        canonical=secret,
        pair=pair_known_only,
    ),
    Field("saslUsername", "security.saslUsername"),
    Field("saslPassword", None, secret=True, canonical=secret),
    Field(
        "alerts",
        "alerts[].{name, value}",
        api_default=[],
        canonical=alert_set,
        pair=missing_reads_as([]),
    ),
    _create_only(
        "modules",
        "modules[].name",
        api_default=[],
        canonical=module_names,
        pair=pair_modules,
    ),
    _create_only(
        "shardingType",
        "clustering.hashingPolicy: standard, custom or redis-oss-hashing",
        api_default="default-regex-rules",
    ),
    Field(
        "regexRules",
        "clustering.regexRules[].pattern, by ordinal",
        creatable=False,
        api_default=[],
        canonical=regex_patterns,
        pair=missing_reads_as([]),
    ),
    Field(
        "queryPerformanceFactor",
        "queryPerformanceFactor",
        api_default="standard",
        canonical=lower_text,
        pair=pair_query_performance,
    ),
    Field("autoMinorVersionUpgrade", "autoMinorVersionUpgrade", api_default=True),
    Field("ramPercentage", "ramPercentage", creatable=False),
    Field("averageItemSizeInBytes", None, updatable=False, create_only=True),
    _excluded(
        "localThroughputMeasurement",
        "Active-Active databases only; reconciler manages single-region subscriptions",
        creatable=True,
    ),
    _excluded(
        "dryRun",
        "a request switch: `reconciler plan` is the dry run",
        creatable=True,
        updatable=True,
    ),
    _excluded("commandType", "filled in by the API in its answers; not a setting"),
    _excluded("subscriptionId", "the spec's subscription entry gives it (its id)"),
)

#: The catalogue rows by request name.
FIELDS: Mapping[str, Field] = MappingProxyType({row.name: row for row in CATALOGUE})


def _names(test: Callable[[Field], bool]) -> frozenset[str]:
    return frozenset(row.name for row in CATALOGUE if test(row))


#: Fields the create request accepts.
CREATE_FIELDS = _names(lambda row: row.creatable)
#: Fields the update request accepts.
UPDATE_FIELDS = _names(lambda row: row.updatable)
#: Fields a difference on an existing database is refused for.
CREATE_ONLY_FIELDS = _names(lambda row: row.create_only)
#: Passwords: always :class:`~reconciler.secrets.Secret`, never shown.
SECRET_FIELDS = _names(lambda row: row.secret)
#: Fields a ``GET`` never returns: a spec value for them cannot be compared.
NEVER_RETURNED_FIELDS = _names(lambda row: row.compared and row.read_back is None)
#: Fields an export never writes (the read tells only whether they are set, or an alias).
NOT_EXPORTED_FIELDS = _names(lambda row: not row.exported)
#: Fields a spec cannot hold, with the reason.
EXCLUDED_FIELDS: Mapping[str, str] = MappingProxyType(
    {row.name: row.excluded for row in CATALOGUE if row.excluded}
)
#: Never diffed: the identity (name, databaseId) and the excluded fields.
NOT_COMPARED_FIELDS = _names(lambda row: not row.compared)
#: Fields a ``GET`` reports under their request name and shape, in catalogue order.
READ_AS_IS_FIELDS: tuple[str, ...] = tuple(
    row.name for row in CATALOGUE if row.read_back == row.name
)
#: The value Redis Cloud picks for each field a create request leaves out (where stated).
#: Shared values: do not mutate them.
API_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {row.name: row.api_default for row in CATALOGUE if row.api_default is not NO_DEFAULT}
)


def canonical(field_name: str, value: Any) -> Any:
    """Return the canonical form of one request-shaped field value (desired or live).

    Sets become sorted, de-duplicated lists; numbers lose a ``.0``; secrets are wrapped.
    A field the catalogue does not hold, or a value of an unexpected shape, is made
    :func:`~reconciler.compare.forms.plain`.
    """
    row = FIELDS.get(field_name)
    return row.canonical(value) if row is not None else plain(value)
