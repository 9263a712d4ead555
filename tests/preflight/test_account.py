"""Tests for reconciler.preflight.account: plan-time checks against a scripted account."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeApi, Reply, by_route

from reconciler.cloud import ApiClient
from reconciler.errors import SpecError
from reconciler.model import LiveDatabase, LiveState, LiveSubscription
from reconciler.preflight import check_account
from reconciler.spec import load_spec

SUB = 2001234
VERSIONS = f"/subscriptions/redis-versions?subscriptionId={SUB}"
OFFERED: dict[tuple[str, str], Reply] = {
    ("GET", VERSIONS): Reply(
        body={
            "redisVersions": [
                {"version": "7.2", "isDefault": False},
                {"version": "7.4", "isDefault": True},
                {"version": "8.2", "isPreview": True},
            ]
        }
    ),
    ("GET", "/database-modules"): Reply(
        body={"modules": [{"name": "RedisJSON"}, {"name": "RediSearch"}], "links": []}
    ),
    ("GET", "/query-performance-factors"): Reply(
        body={"queryPerformanceFactors": ["Standard", "2x", "4x"]}
    ),
    ("GET", "/data-persistence"): Reply(
        body={"dataPersistence": [{"name": "none"}, {"name": "aof-every-1-second"}]}
    ),
}
LIVE_SESSIONS = {
    "databaseId": 11,
    "name": "sessions",
    "status": "active",
    "protocol": "redis",
    "redisVersion": "6.2",
    "respVersion": "resp2",
    "dataPersistence": "aof-every-write",
    "queryPerformanceFactor": "12x",
    "modules": [{"name": "RediSearch"}, {"name": "RedisGraph"}],
}
LIVE_CACHE = {"databaseId": 12, "name": "cache", "status": "active", "protocol": "memcached"}


def live_state(*databases: Mapping[str, Any]) -> LiveState:
    dbs = tuple(LiveDatabase(d["databaseId"], d["name"], "active", d) for d in databases)
    sub = LiveSubscription(SUB, "prod", "active", {"subscriptionId": SUB}, dbs)
    return LiveState({SUB: sub})


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi(by_route(OFFERED)) as fake:
        yield fake


@pytest.fixture
def client(api: FakeApi) -> Iterator[ApiClient]:
    with ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None) as made:
        yield made


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def problems(
    client: ApiClient, databases: str, *live: Mapping[str, Any], defaults: str = ""
) -> list[str]:
    """Return the plan-time problems of a spec holding ``databases`` (YAML lines)."""
    Path("spec.yaml").write_text(
        f"version: 1\nsubscriptions:\n  - id: {SUB}\n{defaults}    databases:\n{databases}"
    )
    desired = load_spec(["spec.yaml"], {})
    try:
        check_account(client, desired, live_state(*live))
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_redis_version_the_subscription_does_not_offer_is_a_located_error(
    client: ApiClient, api: FakeApi
) -> None:
    found = problems(client, "      - name: new\n        redisVersion: '7.0'\n")
    assert found == [
        "spec.yaml:6:9: subscriptions[0].databases[0].redisVersion: '7.0' is not among "
        f"subscription {SUB}'s Redis versions: 7.2, 7.4, 8.2"
    ]
    assert api.paths() == [VERSIONS]


def test_offered_values_pass(client: ApiClient, api: FakeApi) -> None:
    databases = (
        "      - name: new\n        redisVersion: '7.4'\n        dataPersistence: none\n"
        "        modules: [{name: RediSearch}]\n        queryPerformanceFactor: 4x\n"
    )
    assert problems(client, databases) == []
    assert sorted(api.paths()) == [
        "/data-persistence",
        "/database-modules",
        "/query-performance-factors",
        VERSIONS,
    ]


def test_every_refused_value_is_reported_naming_what_is_offered(client: ApiClient) -> None:
    databases = (
        "      - name: new\n        redisVersion: '7.4'\n        dataPersistence: aof-every-write\n"
        "        modules: [{name: RediSearch}, {name: RedisGraph}, {name: RedisAI}]\n"
        "        queryPerformanceFactor: 8x\n"
    )
    assert problems(client, databases) == [
        "spec.yaml:7:9: subscriptions[0].databases[0].dataPersistence: 'aof-every-write' is not "
        "among the account's data persistence options: none, aof-every-1-second",
        "spec.yaml:8:9: subscriptions[0].databases[0].modules: module 'RedisGraph', 'RedisAI' "
        "is not among the account's modules: RedisJSON, RediSearch",
        "spec.yaml:9:9: subscriptions[0].databases[0].queryPerformanceFactor: '8x' is not "
        "among the account's query performance factors: Standard, 2x, 4x",
    ]


def test_values_equal_to_the_live_ones_are_not_checked_nor_looked_up(
    client: ApiClient, api: FakeApi
) -> None:
    databases = (
        "      - name: sessions\n        redisVersion: '6.2'\n"
        "        dataPersistence: aof-every-write\n"
        "        modules: [{name: RediSearch}, {name: RedisGraph}]\n"
        "        queryPerformanceFactor: 12x\n"
    )
    assert problems(client, databases, LIVE_SESSIONS) == []
    assert api.paths() == []


def test_standard_is_never_refused_nor_looked_up(client: ApiClient, api: FakeApi) -> None:
    databases = "      - name: new\n        queryPerformanceFactor: Standard\n"
    assert problems(client, databases) == []
    assert api.paths() == [VERSIONS]  # the default Redis version, for the rules


def test_each_lookup_is_read_once_per_run(client: ApiClient, api: FakeApi) -> None:
    databases = "".join(
        f"      - name: db{i}\n        redisVersion: '7.{i}'\n        dataPersistence: none\n"
        for i in range(4)
    )
    found = problems(client, databases)
    assert len(found) == 3  # 7.0, 7.1 and 7.3
    assert sorted(api.paths()) == ["/data-persistence", VERSIONS]


def test_a_refused_value_from_defaults_is_located_there(client: ApiClient) -> None:
    found = problems(client, "      - name: a\n", defaults="    defaults: {redisVersion: '9.9'}\n")
    assert found == [
        "spec.yaml:4:16: subscriptions[0].defaults.redisVersion: '9.9' is not among "
        f"subscription {SUB}'s Redis versions: 7.2, 7.4, 8.2 (database 'a')"
    ]


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        (Reply(403, {"error": {"type": "FORBIDDEN"}}), "HTTP 403"),
        (Reply(404), "HTTP 404"),
        (Reply(412, {"error": {"type": "FEATURE_FLAG_OFF"}}), "HTTP 412"),
        (Reply(body={"versions": ["7.0"]}), "answered an unexpected shape"),
        (Reply(body=["7.0"]), "answered an unexpected shape"),
        (Reply(body={"redisVersions": []}), "answered an unexpected shape"),
        (Reply(body={"redisVersions": [{"name": "7.0"}]}), "answered an unexpected shape"),
        (Reply(body={"redisVersions": ["7.0"]}), "answered an unexpected shape"),
    ],
)
def test_a_failed_or_strange_lookup_skips_its_check_with_a_note(
    reply: Reply, note: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        FakeApi(by_route({("GET", VERSIONS): reply})) as api,
        ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None) as client,
        caplog.at_level(logging.WARNING),
    ):
        assert problems(client, "      - name: new\n        redisVersion: '7.0'\n") == []
        assert api.paths() == [VERSIONS]
    [record] = caplog.records
    assert record.getMessage().startswith("not checking Redis versions against the account: ")
    assert note in record.getMessage()


def test_a_server_error_skips_the_check_too(caplog: pytest.LogCaptureFixture) -> None:
    with (
        FakeApi(by_route({("GET", "/data-persistence"): Reply(503)})) as api,
        ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None) as client,
    ):
        assert problems(client, "      - name: new\n        dataPersistence: none\n") == []
    assert "not checking data persistence options" in caplog.text


# ------------------------------------------------------------- the rules, with the account


@pytest.mark.parametrize(
    ("databases", "live", "expected"),
    [
        (
            "      - name: new\n        saslUsername: mc\n",
            (),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].saslUsername: saslUsername is only "
                "for memcached databases (protocol: memcached), and this one is a redis database"
            ],
        ),
        ("      - name: cache\n        saslUsername: mc\n", (LIVE_CACHE,), []),
        (
            "      - name: cache\n        password: pw\n",
            (LIVE_CACHE,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].password: password is only for "
                "redis databases; a memcached database is reached with saslUsername and "
                "saslPassword"
            ],
        ),
        (
            "      - name: sessions\n        respVersion: resp3\n",
            (LIVE_SESSIONS,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].respVersion: respVersion resp3 needs "
                "Redis 7.2 or later, and this database has Redis 6.2: use resp2 or a later "
                "redisVersion"
            ],
        ),
        (
            "      - name: sessions\n        redisVersion: '7.4'\n        respVersion: resp3\n",
            (LIVE_SESSIONS,),
            [],
        ),
        (
            "      - name: new\n        regexRules: []\n",
            (),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].regexRules: regexRules need "
                "shardingType custom-regex-rules, and this database's is default-regex-rules: set "
                "shardingType: custom-regex-rules, or remove regexRules (even [])"
            ],
        ),
        ("      - name: sessions\n        regexRules: []\n", (LIVE_SESSIONS,), []),
        (
            "      - name: new\n        useExternalEndpointForOSSClusterApi: true\n",
            (),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].useExternalEndpointForOSSClusterApi: "
                "useExternalEndpointForOSSClusterApi: true needs supportOSSClusterApi: true"
            ],
        ),
        (
            "      - name: new\n        redisVersion: '7.4'\n        queryPerformanceFactor: 2x\n",
            (),
            [
                "spec.yaml:7:9: subscriptions[0].databases[0].queryPerformanceFactor: "
                "queryPerformanceFactor 2x needs the search module on Redis 7.4: list {name: "
                "RediSearch} in modules (Redis 8 and later bundle it)"
            ],
        ),
        ("      - name: gone\n        state: absent\n", (), []),
    ],
)
def test_the_rules_use_live_values_and_api_defaults(
    client: ApiClient,
    databases: str,
    live: tuple[Mapping[str, Any], ...],
    expected: list[str],
) -> None:
    assert problems(client, databases, *live) == expected


def test_a_missing_subscription_is_left_to_the_plan(client: ApiClient, api: FakeApi) -> None:
    Path("spec.yaml").write_text(
        "version: 1\nsubscriptions:\n  - id: 7\n    databases: [{name: a, saslUsername: x}]\n"
    )
    check_account(client, load_spec(["spec.yaml"], {}), LiveState({}, missing=(7,)))
    assert api.paths() == []


def test_a_spec_file_gone_since_loading_points_at_the_database_name(client: ApiClient) -> None:
    Path("spec.yaml").write_text(
        f"version: 1\nsubscriptions:\n  - id: {SUB}\n    databases:\n"
        "      - name: new\n        saslPassword: x\n"
    )
    desired = load_spec(["spec.yaml"], {})
    Path("spec.yaml").unlink()
    with pytest.raises(SpecError) as caught:
        check_account(client, desired, live_state())
    assert [str(p) for p in caught.value.problems] == [
        "spec.yaml:5:15: saslPassword: saslPassword is only for memcached databases "
        "(protocol: memcached), and this one is a redis database"
    ]


def versions_with_default(default: str) -> Reply:
    listed = [{"version": v, "isDefault": v == default} for v in ("7.2", "7.4", "8.2")]
    return Reply(body={"redisVersions": listed})


@pytest.mark.parametrize(
    ("default", "databases", "expected"),
    [
        (
            "8.2",
            "      - name: new\n        modules: [{name: RedisJSON}]\n",
            "spec.yaml:6:9: subscriptions[0].databases[0].modules: modules cannot be listed for "
            "Redis 8.2: Redis 8 and later bundle every module; remove modules (8.2 is the "
            "subscription's default Redis version)",
        ),
        ("7.4", "      - name: new\n        modules: [{name: RedisJSON}]\n", None),
        (
            "7.4",
            "      - name: new\n        queryPerformanceFactor: 2x\n",
            "spec.yaml:6:9: subscriptions[0].databases[0].queryPerformanceFactor: "
            "queryPerformanceFactor 2x needs the search module on Redis 7.4: list {name: "
            "RediSearch} in modules (Redis 8 and later bundle it) (7.4 is the subscription's "
            "default Redis version)",
        ),
        ("8.2", "      - name: new\n        queryPerformanceFactor: 2x\n", None),
        ("7.4", "      - name: new\n        respVersion: resp3\n", None),
    ],
)
def test_a_new_database_without_a_version_gets_the_subscriptions_default(
    default: str, databases: str, expected: str | None
) -> None:
    routes = {("GET", VERSIONS): versions_with_default(default)}
    with (
        FakeApi(by_route(routes)) as api,
        ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None) as client,
    ):
        assert problems(client, databases) == ([] if expected is None else [expected])
        assert api.paths().count(VERSIONS) == 1


def test_the_default_version_is_not_looked_up_for_an_existing_database(
    client: ApiClient, api: FakeApi
) -> None:
    assert (
        problems(client, "      - name: sessions\n        respVersion: resp2\n", LIVE_SESSIONS)
        == []
    )
    assert api.paths() == []


def test_modules_on_redis_8_are_refused_for_a_new_database_only(client: ApiClient) -> None:
    databases = "      - name: {name}\n        redisVersion: '8.2'\n"
    databases += "        modules: [{{name: RedisJSON}}]\n"
    upgraded = {**LIVE_SESSIONS, "redisVersion": "7.4"}
    assert problems(client, databases.format(name="sessions"), upgraded) == []
    assert problems(client, databases.format(name="new")) == [
        "spec.yaml:7:9: subscriptions[0].databases[0].modules: modules cannot be listed for "
        "Redis 8.2: Redis 8 and later bundle every module; remove modules"
    ]


# ------------------------------------------------------------------ what the live account forbids

LIVE_PORTED = {
    "databaseId": 13,
    "name": "queue",
    "status": "active",
    "publicEndpoint": "redis-12000.example.com:12000",
    "clustering": {"hashingPolicy": "standard", "regexRules": []},
    "backup": {
        "enableRemoteBackup": True,
        "interval": "every-12-hours",
        "timeUTC": "02:00",
        "destination": "s3://backups/queue",
    },
}
LIVE_PATH_BACKUP = {
    "databaseId": 14,
    "name": "legacy",
    "status": "active",
    "backup": {
        "enableRemoteBackup": True,
        "interval": "every-24-hours",
        "destination": "s3://backups/legacy",
    },
}
LIVE_MEMCACHED = {**LIVE_CACHE, "redisVersion": "7.2"}


@pytest.mark.parametrize(
    ("databases", "live", "expected"),
    [
        (
            "      - name: new\n        port: 12000\n",
            (LIVE_PORTED,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].port: port 12000 is already used "
                f"by database 'queue' of subscription {SUB}: choose another port, or leave "
                "port out"
            ],
        ),
        ("      - name: new\n        port: 12001\n", (LIVE_PORTED,), []),
        (
            "      - name: one\n        port: 12001\n      - name: two\n        port: 12001\n",
            (),
            [
                "spec.yaml:8:9: subscriptions[0].databases[1].port: port 12001 is already used "
                f"by database 'one' of subscription {SUB}: choose another port, or leave "
                "port out"
            ],
        ),
        ("      - name: queue\n        port: 12000\n", (LIVE_PORTED,), []),
        (
            "      - name: cache\n        redisVersion: '7.4'\n",
            (LIVE_MEMCACHED,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].redisVersion: a memcached "
                "database cannot be upgraded: its Redis version stays 7.2; remove redisVersion"
            ],
        ),
        ("      - name: cache\n        redisVersion: '7.2'\n", (LIVE_MEMCACHED,), []),
        (
            "      - name: queue\n        periodicBackupPath: s3://backups/other\n",
            (LIVE_PORTED,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].periodicBackupPath: "
                "periodicBackupPath cannot change the backup of a database set with "
                "remoteBackup (it has its own schedule): write remoteBackup with its "
                "storagePath instead"
            ],
        ),
        (
            "      - name: queue\n        periodicBackupPath: s3://backups/queue\n",
            (LIVE_PORTED,),
            [],
        ),
        (
            "      - name: legacy\n        periodicBackupPath: s3://backups/other\n",
            (LIVE_PATH_BACKUP,),
            [],
        ),
        (
            "      - name: queue\n        regexRules: ['(?<tag>.*)']\n",
            (LIVE_PORTED,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].regexRules: regexRules need "
                "shardingType custom-regex-rules, and this database's is default-regex-rules: set "
                "shardingType: custom-regex-rules, or remove regexRules (even [])"
            ],
        ),
        (
            "      - name: cache\n        enableDefaultUser: true\n",
            (LIVE_MEMCACHED,),
            [
                "spec.yaml:6:9: subscriptions[0].databases[0].enableDefaultUser: a memcached "
                "database (protocol: memcached) cannot have enableDefaultUser: the default user "
                "is a redis one; remove enableDefaultUser"
            ],
        ),
    ],
)
def test_the_live_account_forbids_a_port_in_use_a_memcached_upgrade_and_a_backup_path(
    client: ApiClient,
    databases: str,
    live: tuple[Mapping[str, Any], ...],
    expected: list[str],
) -> None:
    assert problems(client, databases, *live) == expected
