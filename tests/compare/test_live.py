"""Tests for reconciler.compare.live: a database as GET returns it, in request form."""

from __future__ import annotations

from typing import Any

import pytest
from compare_support import API_DATABASE, PRIVATE_SUBSCRIPTION, SUBSCRIPTION, api_database

from reconciler.compare.forms import PRIVATE_SOURCE_IPS
from reconciler.compare.live import live_to_request
from reconciler.secrets import Secret

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
        "databaseId": 1,
        "clientSslCertificate": False,
        "clientTlsCertificates": False,
        "periodicBackupPath": "s3://backups/db",
        "shardingType": "default-regex-rules",
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


@pytest.mark.parametrize(
    ("policy", "sharding"),
    [
        ("standard", "default-regex-rules"),
        ("custom", "custom-regex-rules"),
        ("redis-oss-hashing", "redis-oss-hashing"),
    ],
)
def test_sharding_type_is_read_from_the_hashing_policy(policy: str, sharding: str) -> None:
    db = api_database(clustering={"numberOfShards": 1, "regexRules": [], "hashingPolicy": policy})
    assert live_to_request(db, SUBSCRIPTION)["shardingType"] == sharding


@pytest.mark.parametrize("clustering", [None, {}, {"hashingPolicy": "unheard-of"}])
def test_an_unknown_hashing_policy_leaves_sharding_type_out(clustering: Any) -> None:
    assert "shardingType" not in live_to_request(api_database(clustering=clustering), SUBSCRIPTION)


def test_certificates_and_memcached_user_are_read_from_security() -> None:
    security = {"tlsClientAuthentication": True, "sslClientAuthentication": False}
    out = live_to_request(api_database(security={**security, "saslUsername": "mc-x"}), SUBSCRIPTION)
    assert (out["clientTlsCertificates"], out["clientSslCertificate"]) == (True, False)
    assert out["saslUsername"] == "mc-x"
    bare = live_to_request(api_database(security={}), SUBSCRIPTION)
    assert {"clientTlsCertificates", "clientSslCertificate", "saslUsername"} & set(bare) == set()


@pytest.mark.parametrize(
    ("backup", "path"),
    [
        (None, ""),
        ({"enableRemoteBackup": False}, ""),
        ({"enableRemoteBackup": True, "destination": "s3://b/p"}, "s3://b/p"),
    ],
)
def test_periodic_backup_path_is_the_backup_destination(backup: Any, path: str) -> None:
    assert live_to_request(api_database(backup=backup), SUBSCRIPTION)["periodicBackupPath"] == path
