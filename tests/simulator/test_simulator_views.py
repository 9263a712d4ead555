"""Read-back shapes (reconciler/simulator/views.py): what reads back differently, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
STAGING = "/subscriptions/2005678"
SESSIONS = f"{PROD}/databases/51170941"
LEGACY = f"{PROD}/databases/51170942"
CACHE = f"{PROD}/databases/51170943"
QUEUE = f"{PROD}/databases/51170944"
ANALYTICS = f"{PROD}/databases/51170950"
MEMCACHED = f"{STAGING}/databases/51180002"
SCRATCH = f"{STAGING}/databases/51180009"
ALPHANUMERIC_32 = re.compile(r"^[A-Za-z0-9]{32}$")
DEFAULT_RULES = [
    {"ordinal": 1, "pattern": "(?<tag>.*)"},
    {"ordinal": 0, "pattern": ".*\\{(?<tag>.*)\\}.*"},
]


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0))


def settle(api: SimApi, clock: FakeClock, answer: Any) -> dict[str, Any]:
    """Let a write's task and provisioning finish; return the task."""
    assert answer.status_code in (200, 202), answer.text
    clock.advance(2.0)
    task: dict[str, Any] = api.get(f"/tasks/{answer.json()['taskId']}").json()
    assert task["status"] == "processing-completed", task
    return task


def test_generated_password_on_create(api: SimApi, fake_clock: FakeClock) -> None:
    task = settle(api, fake_clock, api.post(f"{PROD}/databases", {"name": "reports"}))
    body = api.get(f"{PROD}/databases/{task['response']['resourceId']}").json()
    assert ALPHANUMERIC_32.match(body["security"]["password"])


def test_seeded_passwords_are_generated_and_stable(api: SimApi) -> None:
    first = api.get(LEGACY).json()["security"]["password"]
    assert ALPHANUMERIC_32.match(first)
    assert api.session.post(api.url.removesuffix("/v1") + "/_simulator/reset").status_code == 200
    assert api.get(LEGACY).json()["security"]["password"] == first


def test_memcached_gets_sasl_credentials_and_no_password(api: SimApi) -> None:
    single = api.get(MEMCACHED).json()["security"]
    listed = api.get(f"{STAGING}/databases").json()["subscription"][0]["databases"][1]["security"]
    assert "password" not in single
    assert re.match(r"^mc-[A-Za-z0-9]{5}$", single["saslUsername"])
    assert ALPHANUMERIC_32.match(single["saslPassword"])
    assert "saslPassword" not in listed
    assert listed["saslUsername"] == single["saslUsername"]


def test_security_is_nested_with_default_source_ips(api: SimApi) -> None:
    security = api.get(CACHE).json()["security"]
    assert security == {
        "enableDefaultUser": True,
        "password": security["password"],
        "sslClientAuthentication": False,
        "tlsClientAuthentication": False,
        "enableTls": False,
        "sourceIps": ["0.0.0.0/0"],
    }


def test_cleared_source_ips_read_back_as_the_default(api: SimApi, fake_clock: FakeClock) -> None:
    settle(api, fake_clock, api.put(SESSIONS, {"sourceIp": []}))
    assert api.get(SESSIONS).json()["security"]["sourceIps"] == ["0.0.0.0/0"]


def test_private_default_source_ips_without_public_endpoint(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "account:\n  id: 7\n  subscriptions:\n"
        "    - {id: 10, name: private, provider: AWS, region: us-east-1,\n"
        "       publicEndpointAccess: false,\n"
        "       databases: [{databaseId: 5, name: db}]}\n"
    )
    api = sim_api(make_simulator(seed_path=seed))
    assert api.get("/subscriptions/10/databases/5").json()["security"]["sourceIps"] == [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]


def test_backup_reads_back_nested_without_storage_type_and_mod_12(api: SimApi) -> None:
    assert api.get(SESSIONS).json()["backup"] == {
        "enableRemoteBackup": True,
        "interval": "every-12-hours",
        "timeUTC": "02:00",
        "destination": "s3://backups/sessions",
    }
    assert "backup" not in api.get(LEGACY).json()


@pytest.mark.parametrize(
    ("interval", "sent", "read"),
    [
        ("every-12-hours", "14:00", "02:00"),
        ("every-12-hours", "12:00", "00:00"),
        ("every-24-hours", "14:00", "14:00"),
    ],
)
def test_backup_time_read_back(
    api: SimApi, fake_clock: FakeClock, interval: str, sent: str, read: str
) -> None:
    backup = {
        "active": True,
        "interval": interval,
        "timeUTC": sent,
        "storageType": "aws-s3",
        "storagePath": "s3://b/c",
    }
    settle(api, fake_clock, api.put(CACHE, {"remoteBackup": backup}))
    assert api.get(CACHE).json()["backup"]["timeUTC"] == read


def test_clustering_lists_the_default_rules_ordinal_1_first(api: SimApi) -> None:
    assert api.get(CACHE).json()["clustering"] == {
        "numberOfShards": 1,
        "regexRules": DEFAULT_RULES,
        "hashingPolicy": "standard",
    }


def test_custom_regex_rules_read_back_with_ordinals(api: SimApi, fake_clock: FakeClock) -> None:
    task = settle(
        api,
        fake_clock,
        api.post(f"{PROD}/databases", {"name": "custom", "shardingType": "custom-regex-rules"}),
    )
    path = f"{PROD}/databases/{task['response']['resourceId']}"
    settle(api, fake_clock, api.put(path, {"regexRules": ["(?<tag>a.*)", "(?<tag>b.*)"]}))
    clustering = api.get(path).json()["clustering"]
    assert clustering["hashingPolicy"] == "custom"
    assert sorted(clustering["regexRules"], key=lambda rule: rule["ordinal"]) == [
        {"ordinal": 0, "pattern": "(?<tag>a.*)"},
        {"ordinal": 1, "pattern": "(?<tag>b.*)"},
    ]


def test_alerts_carry_id_and_default_value(api: SimApi) -> None:
    assert api.get(SESSIONS).json()["alerts"] == [
        {"id": "51170941-1", "name": "dataset-size", "value": 80, "defaultValue": 80}
    ]
    assert api.get(CACHE).json()["alerts"] == []


def test_bundled_modules_listed_on_redis_8(api: SimApi) -> None:
    modules = api.get(SCRATCH).json()["modules"]
    assert [m["name"] for m in modules] == [
        "RedisJSON",
        "RediSearch",
        "RedisBloom",
        "RedisTimeSeries",
    ]
    assert all(
        sorted(m) == ["capabilityName", "description", "id", "name", "parameters", "version"]
        for m in modules
    )
    assert modules[1]["capabilityName"] == "Search and query"


def test_requested_modules_listed_before_redis_8(api: SimApi) -> None:
    assert [m["name"] for m in api.get(ANALYTICS).json()["modules"]] == ["RediSearch"]
    assert api.get(CACHE).json()["modules"] == []


def test_upgrade_to_redis_8_lists_bundled_modules(api: SimApi, fake_clock: FakeClock) -> None:
    settle(api, fake_clock, api.post(f"{QUEUE}/upgrade", {"targetRedisVersion": "8.2"}))
    body = api.get(QUEUE).json()
    assert (body["redisVersion"], len(body["modules"])) == ("8.2", 4)


@pytest.mark.parametrize(
    ("path", "dataset", "memory"), [(SESSIONS, 1.0, 2.0), (CACHE, 1.0, 1.0), (LEGACY, 0.5, 1.0)]
)
def test_memory_limit_is_twice_the_dataset_with_replication(
    api: SimApi, path: str, dataset: float, memory: float
) -> None:
    body = api.get(path).json()
    assert (body["datasetSizeInGb"], body["memoryLimitInGb"]) == (dataset, memory)
    assert isinstance(body["datasetSizeInGb"], float)


def test_server_defaults_on_create(api: SimApi, fake_clock: FakeClock) -> None:
    task = settle(api, fake_clock, api.post(f"{PROD}/databases", {"name": "reports"}))
    body = api.get(f"{PROD}/databases/{task['response']['resourceId']}").json()
    port = body["publicEndpoint"].rsplit(":", 1)[1]
    assert {
        key: body[key]
        for key in (
            "protocol",
            "redisVersion",
            "respVersion",
            "queryPerformanceFactor",
            "dataPersistence",
            "dataEvictionPolicy",
            "replication",
            "supportOSSClusterApi",
        )
    } == {
        "protocol": "redis",
        "redisVersion": "7.4",
        "respVersion": "resp3",
        "queryPerformanceFactor": "Standard",
        "dataPersistence": "none",
        "dataEvictionPolicy": "volatile-lru",
        "replication": True,
        "supportOSSClusterApi": False,
    }
    assert body["security"]["enableDefaultUser"] is True
    assert 10000 <= int(port) <= 19999
    assert body["privateEndpoint"].endswith(f":{port}")


@pytest.mark.parametrize(("path", "resp"), [(QUEUE, "resp2"), (CACHE, "resp3"), (SCRATCH, "resp3")])
def test_resp_version_default_per_redis_version(api: SimApi, path: str, resp: str) -> None:
    assert api.get(path).json()["respVersion"] == resp


def test_explicit_port_reads_back_in_endpoints(api: SimApi, fake_clock: FakeClock) -> None:
    task = settle(
        api, fake_clock, api.post(f"{PROD}/databases", {"name": "reports", "port": 12345})
    )
    body = api.get(f"{PROD}/databases/{task['response']['resourceId']}").json()
    assert body["publicEndpoint"].endswith(":12345")
    assert body["privateEndpoint"].startswith("redis-12345.internal.")


def test_volatile_fields_move_on_their_own(api: SimApi, fake_clock: FakeClock) -> None:
    before = api.get(CACHE).json()
    fake_clock.advance(7.0)
    after = api.get(CACHE).json()
    assert before["memoryUsedInMb"] != after["memoryUsedInMb"]
    assert before["lastModified"] < after["lastModified"]
    assert before["activatedOn"] == after["activatedOn"]


def test_update_reads_back(api: SimApi, fake_clock: FakeClock) -> None:
    settle(
        api,
        fake_clock,
        api.put(
            SESSIONS,
            {
                "datasetSizeInGb": 2,
                "alerts": [{"name": "throughput-higher-than", "value": 20000}],
                "password": "new-password-123",
            },
        ),
    )
    body = api.get(SESSIONS).json()
    assert body["datasetSizeInGb"] == 2.0
    assert body["memoryLimitInGb"] == 4.0
    assert body["alerts"] == [
        {
            "id": "51170941-1",
            "name": "throughput-higher-than",
            "value": 20000,
            "defaultValue": 10000,
        }
    ]
    assert body["security"]["password"] == "new-password-123"


def test_subscription_shape(api: SimApi) -> None:
    body = api.get(PROD).json()
    assert body["status"] == "active"
    assert body["deploymentType"] == "single-region"
    assert body["numberOfDatabases"] == 5
    assert body["publicEndpointAccess"] is True
    assert body["cloudDetails"][0]["totalSizeInGb"] == 2.0 + 1.0 + 1.0 + 2.0 + 6.0
