"""Tests for reconciler.compare.normalise: live → request shape, canonical forms, pairwise rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.compare.normalise import (
    MISSING,
    PRIVATE_SOURCE_IPS,
    CompareContext,
    canonical,
    comparable,
    comparable_fields,
    live_to_request,
    normalise_desired,
    request_value,
    same_version,
    version_tuple,
)
from reconciler.secrets import Secret

SUBSCRIPTION: dict[str, Any] = {"id": 120416, "name": "prod", "deploymentType": "single-region"}
PRIVATE_SUBSCRIPTION: dict[str, Any] = {**SUBSCRIPTION, "publicEndpointAccess": False}

# The SPEC ``Database`` example (facts §3.1), with alert and backup details from RS-SAMPLE.
API_DATABASE: dict[str, Any] = {
    "databaseId": 1,
    "name": "DB-RCP-2-81-7",
    "protocol": "redis",
    "provider": "AWS",
    "region": "us-east-1",
    "redisVersion": "7.4",
    "redisVersionCompliance": "7.4.2",
    "respVersion": "resp3",
    "status": "active",
    "datasetSizeInGb": 2,
    "memoryUsedInMb": 4,
    "memoryStorage": "ram",
    "supportOSSClusterApi": True,
    "useExternalEndpointForOSSClusterApi": True,
    "dataPersistence": "snapshot-every-1-hour",
    "replication": False,
    "dataEvictionPolicy": "noeviction",
    "throughputMeasurement": {"by": "operations-per-second", "value": 2500},
    "activatedOn": "2021-08-29T13:03:08Z",
    "lastModified": "2021-08-29T13:03:08Z",
    "publicEndpoint": "redis-17571.c235866.us-east-1-1.ec2.qa-cloud.rlrcp.com:17571",
    "privateEndpoint": "redis-17571.internal.c235866.us-east-1-1.ec2.qa-cloud.rlrcp.com:17571",
    "dynamicEndpoints": {"public": "pot-27804.db.redis.io:17571", "private": "x:17571"},
    "replica": {
        "syncSources": [
            {"endpoint": "redis://localhost:6379", "encryption": True, "clientCert": "-----BEGIN"}
        ]
    },
    "clustering": {
        "numberOfShards": 1,
        "regexRules": [
            {"ordinal": 1, "pattern": "(?<tag>.*)"},
            {"ordinal": 0, "pattern": ".*\\{(?<tag>.*)\\}.*"},
        ],
        "hashingPolicy": "standard",
    },
    "security": {
        "enableDefaultUser": True,
        "password": "redis123456redis",
        "sslClientAuthentication": False,
        "tlsClientAuthentication": False,
        "enableTls": False,
        "sourceIps": ["0.0.0.0/0"],
    },
    "modules": [
        {
            "id": 18536,
            "name": "RedisJSON",
            "capabilityName": "JSON",
            "version": "2.0.6",
            "description": "Native JSON",
            "parameters": [],
        }
    ],
    "alerts": [{"id": "222333-1", "name": "dataset-size", "value": 80, "defaultValue": 80}],
    "backup": {
        "enableRemoteBackup": True,
        "interval": "every-12-hours",
        "timeUTC": "02:00",
        "destination": "s3://backups/db",
    },
    "queryPerformanceFactor": "Standard",
    "autoMinorVersionUpgrade": True,
    "links": [{"rel": "self", "href": "https://api/v1/subscriptions/1/databases/1", "type": "GET"}],
}


def api_database(**changes: Any) -> dict[str, Any]:
    """Return a deep copy of the example database with top-level keys replaced (None drops)."""
    db = copy.deepcopy(API_DATABASE)
    for key, value in changes.items():
        if value is None:
            db.pop(key, None)
        else:
            db[key] = value
    return db


# --------------------------------------------------------------------------- live_to_request


def test_live_to_request_maps_the_read_shape_to_request_names() -> None:
    out = live_to_request(api_database(), SUBSCRIPTION)
    password = out.pop("password")
    assert isinstance(password, Secret)
    assert password.reveal() == "redis123456redis"
    assert out == {
        "name": "DB-RCP-2-81-7",
        "protocol": "redis",
        "port": 17571,
        "datasetSizeInGb": 2,
        "redisVersion": "7.4",
        "respVersion": "resp3",
        "supportOSSClusterApi": True,
        "useExternalEndpointForOSSClusterApi": True,
        "dataPersistence": "snapshot-every-1-hour",
        "dataEvictionPolicy": "noeviction",
        "replication": False,
        "queryPerformanceFactor": "Standard",
        "autoMinorVersionUpgrade": True,
        "throughputMeasurement": {"by": "operations-per-second", "value": 2500},
        "sourceIp": ["0.0.0.0/0"],
        "enableDefaultUser": True,
        "enableTls": False,
        "remoteBackup": {
            "active": True,
            "interval": "every-12-hours",
            "timeUTC": "02:00",
            "storagePath": "s3://backups/db",
        },
        "regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"],
        "modules": [{"name": "RedisJSON"}],
        "alerts": [{"name": "dataset-size", "value": 80}],
        "replicaOf": ["redis://localhost:6379"],
        "replica": {"syncSources": [{"endpoint": "redis://localhost:6379"}]},
    }


@pytest.mark.parametrize(
    "volatile",
    [
        "memoryUsedInMb",
        "status",
        "activatedOn",
        "lastModified",
        "publicEndpoint",
        "privateEndpoint",
        "dynamicEndpoints",
        "links",
        "provider",
        "region",
        "memoryStorage",
        "redisVersionCompliance",
        "databaseId",
        "clustering",
        "security",
        "backup",
    ],
)
def test_live_to_request_drops_volatile_and_read_only_keys(volatile: str) -> None:
    assert volatile not in live_to_request(api_database(), SUBSCRIPTION)


def test_live_to_request_ignores_volatile_changes() -> None:
    before = live_to_request(api_database(), SUBSCRIPTION)
    after = live_to_request(
        api_database(
            memoryUsedInMb=999,
            status="active-change-pending",
            lastModified="2030-01-01T00:00:00Z",
            clustering={**API_DATABASE["clustering"], "numberOfShards": 4},
            alerts=[{"id": "9-9", "name": "dataset-size", "value": 80, "defaultValue": 75}],
        ),
        SUBSCRIPTION,
    )
    assert after == before


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [(SUBSCRIPTION, ["0.0.0.0/0"]), (PRIVATE_SUBSCRIPTION, PRIVATE_SOURCE_IPS)],
)
def test_missing_source_ips_read_as_the_subscription_default(
    subscription: dict[str, Any], expected: list[str]
) -> None:
    db = api_database(security={"enableDefaultUser": True})
    assert live_to_request(db, subscription)["sourceIp"] == expected


def test_live_list_result_without_password_has_no_password() -> None:
    db = api_database(security={"sourceIps": ["0.0.0.0/0"]})
    out = live_to_request(db, SUBSCRIPTION)
    assert "password" not in out
    assert out["enableDefaultUser"] is True
    assert out["enableTls"] is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"replica": None, "replicaOf": None}, []),
        (
            {"replica": None, "replicaOf": {"endpoints": ["redis://a:1", "redis://b:2"]}},
            ["redis://a:1", "redis://b:2"],
        ),
        ({"replica": None, "replicaOf": ["redis://a:1"]}, ["redis://a:1"]),
        ({"replica": {"syncSources": []}}, []),
    ],
)
def test_live_replica_shapes_read_as_endpoint_lists(
    raw: dict[str, Any], expected: list[str]
) -> None:
    out = live_to_request(api_database(**raw), SUBSCRIPTION)
    assert out["replicaOf"] == expected
    assert out["replica"] == {"syncSources": [{"endpoint": e} for e in expected]}


def test_live_endpoints_with_credentials_are_wrapped() -> None:
    db = api_database(replica={"syncSources": [{"endpoint": "redis://user:pw@host:1"}]})
    (endpoint,) = live_to_request(db, SUBSCRIPTION)["replicaOf"]
    assert isinstance(endpoint, Secret)
    assert endpoint.reveal() == "redis://user:pw@host:1"


def test_live_without_backup_reads_as_inactive() -> None:
    out = live_to_request(api_database(backup=None), SUBSCRIPTION)
    assert out["remoteBackup"] == {"active": False}


@pytest.mark.parametrize(
    "weird",
    [
        {"security": "x", "alerts": "x", "modules": 5, "backup": [], "clustering": None},
        {"replica": "x", "replicaOf": 7, "throughputMeasurement": "fast", "publicEndpoint": 3},
        {"clustering": {"regexRules": "all"}, "alerts": [1, 2], "modules": ["RedisJSON"]},
    ],
)
def test_live_to_request_survives_unexpected_shapes(weird: dict[str, Any]) -> None:
    out = live_to_request(api_database(**weird), SUBSCRIPTION)
    assert out["name"] == "DB-RCP-2-81-7"


# --------------------------------------------------------------------------- canonical forms


def test_normalise_desired_puts_fields_in_canonical_form() -> None:
    fields = {
        "name": "cache",
        "datasetSizeInGb": 2.0,
        "sourceIp": ["10.0.0.0/16", "10.0.0.0/8", "10.0.0.0/16"],
        "alerts": [{"name": "latency", "value": 5.0}, {"name": "dataset-size", "value": 80}],
        "regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"],
        "modules": [{"name": "RediSearch", "parameters": {}}, {"name": "RedisJSON"}],
        "remoteBackup": {"active": True, "timeUTC": "2:00", "storageType": "aws-s3"},
        "queryPerformanceFactor": "Standard",
        "redisVersion": 7.4,
        "password": "clear",
        "averageItemSizeInBytes": 1000,
        "clientTlsCertificates": [{"publicCertificatePEMString": "x"}],
    }
    out = normalise_desired(fields)
    assert out == {
        "datasetSizeInGb": 2,
        "sourceIp": ["10.0.0.0/16", "10.0.0.0/8"],
        "alerts": [{"name": "dataset-size", "value": 80}, {"name": "latency", "value": 5}],
        "regexRules": [],
        "modules": ["RediSearch", "RedisJSON"],
        "remoteBackup": {"active": True, "timeUTC": "02:00"},
        "queryPerformanceFactor": "standard",
        "redisVersion": "7.4",
        "password": Secret("clear"),
    }
    assert isinstance(out["datasetSizeInGb"], int)


def test_inactive_backup_keeps_only_active() -> None:
    value = {"active": False, "interval": "every-24-hours", "storagePath": "s3://x"}
    assert canonical("remoteBackup", value) == {"active": False}


def test_custom_regex_rules_keep_their_order() -> None:
    assert canonical("regexRules", ["b", "a"]) == ["b", "a"]


def test_regex_rules_given_with_ordinals_sort_by_ordinal() -> None:
    rules = [{"ordinal": 1, "pattern": "b"}, {"ordinal": 0, "pattern": "a"}]
    assert canonical("regexRules", rules) == ["a", "b"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sourceIp", "10.0.0.0/8"),
        ("alerts", {"name": "x"}),
        ("modules", "RedisJSON"),
        ("remoteBackup", True),
    ],
)
def test_canonical_passes_unexpected_shapes_through(field: str, value: Any) -> None:
    assert canonical(field, value) == value


# --------------------------------------------------------------------------- pairwise rules

PUBLIC = CompareContext()


@pytest.mark.parametrize(
    ("desired", "live", "context"),
    [
        ([], ["0.0.0.0/0"], PUBLIC),
        ([], PRIVATE_SOURCE_IPS, CompareContext(public_endpoint_access=False)),
        ([], PRIVATE_SOURCE_IPS, PUBLIC),
        ([], [], PUBLIC),
        (["0.0.0.0/0"], [], PUBLIC),
        (["10.0.0.0/16"], ["10.0.0.0/16"], PUBLIC),
    ],
)
def test_source_ip_defaults_are_equal(
    desired: list[str], live: list[str], context: CompareContext
) -> None:
    pair = comparable("sourceIp", desired, live, context=context)
    assert pair is not None
    assert pair[0] == pair[1]


def test_source_ip_difference_is_kept() -> None:
    assert comparable("sourceIp", [], ["10.0.0.0/16"], context=PUBLIC) == ([], ["10.0.0.0/16"])


@pytest.mark.parametrize("major", [8, 9])
def test_modules_are_not_compared_from_redis_8(major: int) -> None:
    context = CompareContext(redis_major=major)
    assert comparable("modules", [], ["RediSearch", "RedisJSON"], context=context) is None


def test_modules_are_compared_below_redis_8() -> None:
    context = CompareContext(redis_major=7)
    assert comparable("modules", ["RediSearch"], ["RedisJSON"], context=context) == (
        ["RediSearch"],
        ["RedisJSON"],
    )


@pytest.mark.parametrize(
    ("desired_version", "live_version", "major"),
    [("8.2", "7.4", 8), (None, "8.2", 8), ("7.4", None, 7), (None, None, None)],
)
def test_context_takes_the_highest_major_version(
    desired_version: str | None, live_version: str | None, major: int | None
) -> None:
    desired = {"redisVersion": desired_version} if desired_version else {}
    live = {"redisVersion": live_version} if live_version else {}
    assert CompareContext.for_database(desired, live, SUBSCRIPTION).redis_major == major


def test_context_reads_public_endpoint_access() -> None:
    assert CompareContext.for_database({}, {}, PRIVATE_SUBSCRIPTION).public_endpoint_access is False
    assert CompareContext.for_database({}, {}, SUBSCRIPTION).public_endpoint_access is True


@pytest.mark.parametrize(
    ("desired", "live"),
    [
        (
            {"active": True, "interval": "every-12-hours", "timeUTC": "14:00"},
            {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "02:00",
                "storagePath": "s3://x",
            },
        ),
        (
            {"active": True, "timeUTC": "02:00"},
            {"active": True, "interval": "every-12-hours", "timeUTC": "14:00"},
        ),
        ({"active": False}, {"active": False}),
    ],
)
def test_remote_backup_equivalents(desired: dict[str, Any], live: dict[str, Any]) -> None:
    pair = comparable("remoteBackup", desired, live, context=PUBLIC)
    assert pair == (desired, desired)


def test_remote_backup_24_hour_times_are_not_folded() -> None:
    desired = {"active": True, "interval": "every-24-hours", "timeUTC": "14:00"}
    live = {"active": True, "interval": "every-24-hours", "timeUTC": "02:00"}
    assert comparable("remoteBackup", desired, live, context=PUBLIC) == (desired, live)


@pytest.mark.parametrize(
    ("field", "live"),
    [
        ("password", MISSING),
        ("memoryLimitInGb", MISSING),
        ("redisVersion", MISSING),
        ("respVersion", MISSING),
        ("averageItemSizeInBytes", 1000),
        ("saslPassword", Secret("x")),
        ("useExternalEndpointForOSSClusterApi", False),
        ("clientTlsCertificates", []),
    ],
)
def test_unknown_or_write_only_fields_are_not_compared(field: str, live: Any) -> None:
    assert comparable(field, "anything", live, context=PUBLIC) is None


@pytest.mark.parametrize(
    ("field", "desired", "expected_live"),
    [
        ("enableDefaultUser", True, True),
        ("enableTls", False, False),
        ("alerts", [], []),
        ("regexRules", [], []),
        ("replicaOf", [], []),
        ("queryPerformanceFactor", "standard", "standard"),
    ],
)
def test_fields_missing_live_compare_against_the_server_default(
    field: str, desired: Any, expected_live: Any
) -> None:
    assert comparable(field, desired, MISSING, context=PUBLIC) == (desired, expected_live)


@pytest.mark.parametrize(
    ("desired", "live", "same"),
    [
        ("7.4", "7.4", True),
        (7.4, "7.4", True),
        ("7.4", "7.4.2", True),
        ("7", "7.4", True),
        ("7.4", "7.2", False),
        ("8.2", "7.4", False),
        ("7.4.3", "7.4", False),
        ("latest", "latest", True),
        ("latest", "7.4", False),
    ],
)
def test_same_version(desired: Any, live: Any, same: bool) -> None:
    assert same_version(desired, live) is same


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7.4", (7, 4)), (7.4, (7, 4)), ("6.0.5", (6, 0, 5)), ("x", None), (None, None)],
)
def test_version_tuple(text: Any, expected: tuple[int, ...] | None) -> None:
    assert version_tuple(text) == expected


def test_comparable_fields_keeps_only_compared_fields() -> None:
    live = live_to_request(api_database(security={"sourceIps": ["0.0.0.0/0"]}), SUBSCRIPTION)
    desired = {
        "name": "DB-RCP-2-81-7",
        "password": Secret("p"),
        "sourceIp": [],
        "datasetSizeInGb": 2.0,
        "averageItemSizeInBytes": 2000,
        "unknownFutureField": 1,
    }
    context = CompareContext.for_database(desired, live, SUBSCRIPTION)
    assert comparable_fields(desired, live, context) == (
        {"sourceIp": [], "datasetSizeInGb": 2},
        {"sourceIp": [], "datasetSizeInGb": 2},
    )


# --------------------------------------------------------------------------- request values


def test_request_value_wraps_secrets() -> None:
    assert request_value("password", "pw") == Secret("pw")
    body = request_value("replicaOf", ["redis://u:p@h:1", "redis://h:2"])
    assert body == [Secret("redis://u:p@h:1"), "redis://h:2"]
    nested = request_value("replica", {"syncSources": [{"endpoint": "redis://u:p@h:1"}]})
    assert nested == {"syncSources": [{"endpoint": Secret("redis://u:p@h:1")}]}
    assert request_value("sourceIp", []) == []
