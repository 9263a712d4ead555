"""Tests for reconciler.compare.pairs and .comparison: pair rules, compared fields, requests."""

from __future__ import annotations

from typing import Any

import pytest
from compare_support import PRIVATE_SUBSCRIPTION, SUBSCRIPTION, api_database

from reconciler.compare.comparison import (
    comparable,
    comparable_fields,
    compare_database,
    request_value,
)
from reconciler.compare.forms import PRIVATE_SOURCE_IPS
from reconciler.compare.live import live_to_request
from reconciler.compare.pairs import MISSING, CompareContext
from reconciler.plan import FieldChange
from reconciler.secrets import Secret

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
        ("useExternalEndpointForOSSClusterApi", MISSING),
        ("name", "live-name"),
        ("databaseId", 1),
        ("dryRun", False),
    ],
)
def test_unknown_or_identity_fields_are_not_compared(field: str, live: Any) -> None:
    assert comparable(field, "anything", live, context=PUBLIC) is None


@pytest.mark.parametrize(
    ("field", "live"),
    [
        ("useExternalEndpointForOSSClusterApi", False),
        ("clientTlsCertificates", False),
        ("clientSslCertificate", False),
        ("saslUsername", "mc-abcde"),
        ("periodicBackupPath", ""),
        ("shardingType", "default-regex-rules"),
    ],
)
def test_fields_the_api_returns_are_compared(field: str, live: Any) -> None:
    assert comparable(field, "anything", live, context=PUBLIC) == ("anything", live)


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


# --------------------------------------------------------------------------- compare_database


def test_compare_database_returns_the_live_form_the_pairs_and_the_changes() -> None:
    db = api_database(datasetSizeInGb=1, security={"sourceIps": ["0.0.0.0/0"]})
    fields = {"datasetSizeInGb": 2.0, "sourceIp": [], "saslUsername": "u"}
    result = compare_database(fields, db, SUBSCRIPTION)
    assert result.live == live_to_request(db, SUBSCRIPTION)
    assert (result.desired, result.have) == (
        {"datasetSizeInGb": 2, "sourceIp": []},
        {"datasetSizeInGb": 1, "sourceIp": []},
    )
    assert result.changes == (FieldChange("datasetSizeInGb", 1, 2),)


def test_compare_database_leaves_out_ignored_paths() -> None:
    db = api_database(datasetSizeInGb=1)
    result = compare_database({"datasetSizeInGb": 2}, db, SUBSCRIPTION, ignore=("datasetSizeInGb",))
    assert result.changes == ()
    assert result.desired == {"datasetSizeInGb": 2}


def test_compare_database_reads_the_subscription_context() -> None:
    db = api_database(security={})
    result = compare_database({"sourceIp": PRIVATE_SOURCE_IPS}, db, PRIVATE_SUBSCRIPTION)
    assert result.changes == ()
