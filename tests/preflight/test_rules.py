"""Tests for reconciler.preflight.rules and .offline: the cross-field rules, no network."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.compare import FIELDS
from reconciler.preflight import RULES, check_document
from reconciler.preflight.offline import Finding
from reconciler.preflight.rules import broken_rules

DB = ("subscriptions", 0, "databases", 0)


def document(database: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    sub: dict[str, Any] = {"id": 1, "databases": [{"name": "db", **database}]}
    if defaults is not None:
        sub["defaults"] = defaults
    return {"version": 1, "subscriptions": [sub]}


def messages(database: dict[str, Any], defaults: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in check_document(document(database, defaults))]


def test_every_rule_reads_catalogue_fields_and_has_a_unique_id() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.at in rule.fields
        assert set(rule.fields) <= set(FIELDS), rule.id


BROKEN = [
    (
        {"protocol": "memcached", "password": "p"},
        "password is only for redis databases; a memcached database is reached with "
        "saslUsername and saslPassword",
    ),
    (
        {"protocol": "redis", "saslUsername": "u"},
        "saslUsername is only for memcached databases (protocol: memcached), and this one is "
        "a redis database",
    ),
    (
        {"protocol": "redis", "saslPassword": "p"},
        "saslPassword is only for memcached databases (protocol: memcached), and this one is "
        "a redis database",
    ),
    (
        {"redisVersion": "7.0", "respVersion": "resp3"},
        "respVersion resp3 needs Redis 7.2 or later, and this database has Redis 7.0: use "
        "resp2 or a later redisVersion",
    ),
    (
        {"redisVersion": "7.4", "modules": [], "queryPerformanceFactor": "2x"},
        "queryPerformanceFactor 2x needs the search module on Redis 7.4: list {name: "
        "RediSearch} in modules (Redis 8 and later bundle it)",
    ),
    (
        {"shardingType": "default-regex-rules", "regexRules": []},
        "regexRules need shardingType custom-regex-rules, and this database's is "
        "default-regex-rules: set shardingType: custom-regex-rules, or remove regexRules "
        "(even [])",
    ),
    (
        {"supportOSSClusterApi": False, "useExternalEndpointForOSSClusterApi": True},
        "useExternalEndpointForOSSClusterApi: true needs supportOSSClusterApi: true",
    ),
    (
        {"protocol": "memcached", "modules": [{"name": "RedisJSON"}]},
        "a memcached database (protocol: memcached) cannot have modules: remove modules (or "
        "list none)",
    ),
    (
        {"protocol": "memcached", "supportOSSClusterApi": True},
        "a memcached database (protocol: memcached) cannot have supportOSSClusterApi: true: "
        "the OSS Cluster API is for redis databases",
    ),
    (
        {"protocol": "memcached", "enableDefaultUser": False},
        "a memcached database (protocol: memcached) cannot have enableDefaultUser: the "
        "default user is a redis one; remove enableDefaultUser",
    ),
    (
        {"remoteBackup": {"active": False}, "periodicBackupPath": ""},
        "periodicBackupPath cannot be combined with remoteBackup: keep remoteBackup "
        "(periodicBackupPath is deprecated) and remove periodicBackupPath",
    ),
    (
        {
            "replica": {"syncSources": [{"endpoint": "redis://a.example.com:1"}]},
            "replicaOf": ["redis://b.example.com:2"],
        },
        "replicaOf names other sources than replica.syncSources, and a database has one set "
        "of sources: keep replica (replicaOf is deprecated) and remove replicaOf",
    ),
    (
        {"modules": [{"name": "RedisJSON"}, {"name": "RediSearch"}, {"name": "redisjson"}]},
        "modules lists RedisJSON, redisjson more than once: list each module once",
    ),
    (
        {
            "modules": [{"name": "RediSearch"}],
            "throughputMeasurement": {"by": "number-of-shards", "value": 2},
        },
        "throughputMeasurement by number-of-shards cannot be used with the RediSearch "
        "module: use by: operations-per-second",
    ),
]


@pytest.mark.parametrize(("database", "message"), BROKEN)
def test_a_broken_rule_is_reported_at_its_field(database: dict[str, Any], message: str) -> None:
    findings = check_document(document(database))
    assert [f.message for f in findings] == [message]
    field = next(rule.at for rule in RULES if rule.id == findings[0].rule)
    assert findings[0].path == (*DB, field)


def test_every_offline_rule_has_a_broken_case() -> None:
    ids = {f.rule for database, _ in BROKEN for f in check_document(document(database))}
    assert ids == {rule.id for rule in RULES if rule.offline}


def test_modules_on_redis_8_wait_for_the_plan() -> None:
    """An existing database upgraded from Redis 7 keeps its modules list (ignored from 8 on)."""
    assert messages({"redisVersion": "8.2", "modules": [{"name": "RedisJSON"}]}) == []


@pytest.mark.parametrize(
    "database",
    [
        {"protocol": "redis", "password": "p"},
        {"protocol": "memcached", "saslUsername": "u", "saslPassword": "p"},
        {"password": "p"},  # protocol unknown without the account: plan decides
        {"saslUsername": "u"},
        {"redisVersion": "8.2", "modules": []},
        {"redisVersion": "7.4", "modules": [{"name": "RedisJSON"}]},
        {"modules": [{"name": "RedisJSON"}]},
        {"redisVersion": "7.2", "respVersion": "resp3"},
        {"redisVersion": "6.2", "respVersion": "resp2"},
        {"respVersion": "resp3"},
        {
            "redisVersion": "7.4",
            "modules": [{"name": "RediSearch"}],
            "queryPerformanceFactor": "16x",
        },
        {"redisVersion": "8.2", "modules": [], "queryPerformanceFactor": "2x"},
        {"redisVersion": "7.4", "modules": [], "queryPerformanceFactor": "Standard"},
        {"redisVersion": "7.4", "modules": [], "queryPerformanceFactor": "standard"},
        {"redisVersion": "7.4", "queryPerformanceFactor": "2x"},  # modules may be live
        {"shardingType": "custom-regex-rules", "regexRules": []},
        {"regexRules": ["(?<tag>.*)"]},  # an existing database may have custom sharding
        {"supportOSSClusterApi": True, "useExternalEndpointForOSSClusterApi": True},
        {"supportOSSClusterApi": False, "useExternalEndpointForOSSClusterApi": False},
        {"useExternalEndpointForOSSClusterApi": True},
        {"state": "absent", "protocol": "memcached", "password": "p"},
        {"protocol": "memcached", "modules": [], "supportOSSClusterApi": False},
        {"protocol": "redis", "modules": [{"name": "RedisJSON"}], "enableDefaultUser": False},
        {"modules": [{"name": "RedisJSON"}], "supportOSSClusterApi": True},  # protocol: plan
        {"remoteBackup": {"active": False}},
        {
            "replica": {
                "syncSources": [
                    {"endpoint": "redis://a.example.com:1"},
                    {"endpoint": "redis://b.example.com:2", "encryption": True},
                ]
            },
            "replicaOf": ["redis://b.example.com:2", "redis://a.example.com:1"],
        },
        {"replica": {"syncSources": []}, "replicaOf": []},
        {"periodicBackupPath": "s3://backups/db"},
        {"modules": [{"name": "RedisJSON"}, {"name": "RediSearch"}]},
        {
            "modules": [{"name": "RediSearch"}],
            "throughputMeasurement": {"by": "operations-per-second", "value": 1000},
        },
        {
            "modules": [{"name": "RedisJSON"}],
            "throughputMeasurement": {"by": "number-of-shards", "value": 2},
        },
    ],
)
def test_a_database_keeping_the_rules_has_no_finding(database: dict[str, Any]) -> None:
    assert messages(database) == []


@pytest.mark.parametrize(
    "database",
    [
        {"protocol": 3, "password": "p"},
        {"redisVersion": 8, "modules": "RedisJSON"},
        {"redisVersion": ["7"], "respVersion": "resp3"},
        {"redisVersion": "7.4", "modules": [None, "x"], "queryPerformanceFactor": 2},
        {"regexRules": "x", "shardingType": None},
        {"protocol": ["memcached"], "modules": [{"name": "RedisJSON"}]},
        {"modules": [{"name": 3}, {"name": 3}, "RedisJSON", "RedisJSON"]},
        {"modules": [{"name": "RediSearch"}], "throughputMeasurement": "by shards"},
        {"replica": {"syncSources": ["redis://a.example.com:1"]}, "replicaOf": ["x"]},
        {"replica": [], "replicaOf": "redis://a.example.com:1"},
    ],
)
def test_values_of_a_wrong_type_break_no_rule_and_raise_nothing(database: dict[str, Any]) -> None:
    assert check_document(document(database)) == []


def test_a_field_from_defaults_is_reported_in_defaults_naming_the_database() -> None:
    findings = check_document(document({"redisVersion": "6.2"}, {"respVersion": "resp3"}))
    assert findings == [
        Finding(
            "resp3-from-redis-7.2",
            ("subscriptions", 0, "defaults", "respVersion"),
            "respVersion resp3 needs Redis 7.2 or later, and this database has Redis 6.2: "
            "use resp2 or a later redisVersion (database 'db')",
        )
    ]


def test_the_database_wins_over_its_defaults() -> None:
    assert messages({"protocol": "redis"}, {"protocol": "memcached", "password": "p"}) == []
    assert messages({"respVersion": "resp2"}, {"redisVersion": "6.2", "respVersion": "resp3"}) == []


@pytest.mark.parametrize("data", [None, [], {"subscriptions": 3}, {"subscriptions": [3, {}]}])
def test_a_document_of_another_shape_has_no_finding(data: Any) -> None:
    assert check_document(data) == []


# ------------------------------------------------------------------ broken_rules at plan time


def ids(
    view: dict[str, Any], written: set[str], new: bool | None, sent: frozenset[str] | None = None
) -> list[str]:
    found = broken_rules(
        view,
        dict.fromkeys(written),
        new=new,
        sent=lambda field: sent is None or field in sent,
    )
    return [rule.id for rule in found]


def test_a_rule_needs_every_field_known_and_its_own_field_written() -> None:
    view = {"protocol": "redis", "saslUsername": "u"}
    assert ids(view, {"saslUsername"}, new=True) == ["saslUsername-needs-memcached"]
    assert ids(view, {"protocol"}, new=True) == []
    assert ids({"saslUsername": "u"}, {"saslUsername"}, new=True) == []


def test_a_when_sent_rule_is_checked_on_an_existing_database_only_when_it_is_sent() -> None:
    """The default rules an existing database reads back with are not sent: no refusal."""
    view = {"regexRules": ["(?<tag>.*)"], "shardingType": "default-regex-rules"}
    rule = ["regex-rules-need-custom-sharding"]
    assert ids(view, {"regexRules"}, new=True) == rule
    assert ids(view, {"regexRules"}, new=False, sent=frozenset({"regexRules"})) == rule
    assert ids(view, {"regexRules"}, new=False, sent=frozenset()) == []
    assert ids(view, {"regexRules", "shardingType"}, new=None) == rule


def test_a_written_only_rule_ignores_live_values() -> None:
    view = {"remoteBackup": {"active": False}, "periodicBackupPath": "s3://backups/db"}
    rule = ["one-backup-specification"]
    assert ids(view, {"periodicBackupPath"}, new=False) == []
    assert ids(view, {"periodicBackupPath"}, new=True) == []
    assert ids(view, {"periodicBackupPath", "remoteBackup"}, new=False) == rule


def test_modules_on_redis_8_are_refused_for_a_new_database_only() -> None:
    view = {"redisVersion": "8.2", "modules": [{"name": "RedisJSON"}]}
    assert ids(view, {"redisVersion", "modules"}, new=True) == ["modules-bundled-from-redis-8"]
    assert ids(view, {"redisVersion", "modules"}, new=False) == []
    assert ids(view, {"redisVersion", "modules"}, new=None) == []


def test_a_rule_for_every_database_uses_live_values_on_an_existing_one() -> None:
    view = {"redisVersion": "6.2", "respVersion": "resp3"}
    assert ids(view, {"respVersion"}, new=False) == ["resp3-from-redis-7.2"]
