"""Request validation (reconciler/simulator/validation.py, checks.py, consistency.py), over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
CREATE = f"{PROD}/databases"
SESSIONS = f"{PROD}/databases/51170941"
QUEUE = f"{PROD}/databases/51170944"
MEMCACHED = "/subscriptions/2005678/databases/51180002"
TOO_MANY = "DATABASE_SIZE_LIMIT_INVALID_TOO_MANY_MEMORY_SPECIFICATIONS"


@pytest.fixture
def api(simulator: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]) -> SimApi:
    return sim_api(simulator)


def named(**fields: Any) -> dict[str, Any]:
    return {"name": "reports", **fields}


CREATE_ERRORS = [
    ({}, "BAD_REQUEST", '"name" is required'),
    ({"name": 5}, "BAD_REQUEST", '"name" must be a string, got integer'),
    (
        {"name": "1bad"},
        "DATABASE_INVALID_NAME",
        "Database name must include only letters, digits and hyphens, start with a letter "
        "and end with a letter or digit",
    ),
    (
        {"name": "bad-"},
        "DATABASE_INVALID_NAME",
        "Database name must include only letters, digits and hyphens, start with a letter "
        "and end with a letter or digit",
    ),
    ({"name": "a" * 41}, "DATABASE_NAME_TOO_LONG", "Database name is limited to 40 characters"),
    (named(foo=1), "BAD_REQUEST", 'Unrecognized field "foo"'),
    (
        named(remoteBackup={"active": False, "bogus": 1}),
        "BAD_REQUEST",
        'Unrecognized field "remoteBackup.bogus"',
    ),
    (named(datasetSizeInGb="1"), "BAD_REQUEST", '"datasetSizeInGb" must be a number, got string'),
    (named(datasetSizeInGb=True), "BAD_REQUEST", '"datasetSizeInGb" must be a number, got boolean'),
    (
        named(datasetSizeInGb=0.05),
        "DATABASE_SIZE_TOO_SMALL",
        '"datasetSizeInGb" must be at least 0.1, got 0.05',
    ),
    (named(replication="yes"), "BAD_REQUEST", '"replication" must be a boolean, got string'),
    (
        named(protocol="http"),
        "BAD_REQUEST",
        '"protocol" must be one of redis, memcached, got "http"',
    ),
    (
        named(port=9999),
        "DATABASE_PORT_INVALID_VALUE",
        '"port" is out of range: 9999 is below 10000',
    ),
    (named(port=10000.0), "BAD_REQUEST", '"port" must be an integer, got number'),
    (
        named(datasetSizeInGb=1, memoryLimitInGb=2),
        TOO_MANY,
        "Only one of datasetSizeInGb and memoryLimitInGb may be set",
    ),
    (
        named(enableDefaultUser=False),
        "BAD_REQUEST",
        '"enableDefaultUser" cannot be set when creating a database; '
        "update the database after it is created",
    ),
    (
        named(regexRules=["(?<tag>.*)"]),
        "BAD_REQUEST",
        '"regexRules" cannot be set when creating a database; '
        "update the database after it is created",
    ),
    (
        named(redisVersion="8.0", modules=[{"name": "RedisJSON"}]),
        "DATABASE_INVALID_MODULE",
        '"modules" cannot be explicitly set for Redis version 8.0 as modules are bundled '
        "by default",
    ),
    (
        named(modules=[{"name": "RedisGraph"}]),
        "DATABASE_INVALID_MODULE",
        'Module "RedisGraph" is not available',
    ),
    (
        named(modules=[{"name": "RedisJSON"}, {"name": "RedisJSON"}]),
        "DATABASE_MODULE_MUST_BE_DEFINED_ONCE",
        '"modules" names the same module twice',
    ),
    (
        named(alerts=[{"name": "dataset-size", "value": 150}]),
        "DATABASE_INVALID_ALERT_VALUE",
        '"alerts[0].value" 150 is not valid for alert "dataset-size"',
    ),
    (
        named(alerts=[{"name": "nope", "value": 1}]),
        "DATABASE_INVALID_ALERTS",
        '"alerts[0].name" must be one of dataset-size, datasets-size, throughput-higher-than, '
        "throughput-lower-than, latency, syncsource-error, syncsource-lag, connections-limit, "
        'got "nope"',
    ),
    (
        named(sourceIp=["10.0.0.0/16", "not-an-ip"]),
        "DATABASE_INVALID_SIP",
        '"sourceIp[1]" is not a valid IP address or CIDR: "not-an-ip"',
    ),
    (
        named(throughputMeasurement={"by": "operations-per-second"}),
        "BAD_REQUEST",
        '"throughputMeasurement.value" is required',
    ),
    (
        named(redisVersion="6.2", respVersion="resp3"),
        "DATABASE_RESP_VERSION_IS_NOT_SUPPORTED",
        "respVersion resp3 is not supported by Redis version 6.2",
    ),
    (
        named(redisVersion="5.0"),
        "DATABASE_REDIS_VERSION_IS_NOT_SUPPORTED",
        'Redis version "5.0" is not supported; supported versions: 6.2, 7.2, 7.4, 8.0, 8.2',
    ),
    (
        named(remoteBackup={"active": True, "interval": "every-6-hours", "storageType": "aws-s3"}),
        "DATABASE_INVALID_BACKUP_CONFIGURATION",
        '"remoteBackup.storagePath" is required when remote backup is active',
    ),
    (
        named(
            remoteBackup={
                "active": True,
                "interval": "every-6-hours",
                "storageType": "aws-s3",
                "storagePath": "gs://x",
            }
        ),
        "DATABASE_INVALID_BACKUP_PATH",
        '"remoteBackup.storagePath" does not fit storage type aws-s3',
    ),
    (
        named(remoteBackup={"interval": "every-6-hours", "timeUTC": "02:00"}),
        "DATABASE_INVALID_BACKUP_INTERVAL_AND_TIME_UTC_MISMATCH",
        "timeUTC can be set only for every-12-hours and every-24-hours intervals",
    ),
    (
        named(remoteBackup={"interval": "every-12-hours", "timeUTC": "14:30"}),
        "DATABASE_INVALID_BACKUP_TIME_UTC",
        '"remoteBackup.timeUTC" must be a full hour "HH:00", got "14:30"',
    ),
    (
        named(remoteBackup={"interval": "every-3-hours"}),
        "DATABASE_INVALID_BACKUP_INTERVAL",
        '"remoteBackup.interval" must be one of every-24-hours, every-12-hours, every-6-hours, '
        'every-4-hours, every-2-hours, every-1-hours, got "every-3-hours"',
    ),
    (
        named(protocol="memcached", password="secret-value"),
        "DATABASE_MEMCACHED_CONTAINS_REDIS_PASSWORD",
        '"password" cannot be set for protocol "memcached"',
    ),
    (
        named(saslUsername="mc-abcde"),
        "DATABASE_CONTAIN_MEMCACHED_USERNAME",
        '"saslUsername" cannot be set for protocol "redis"',
    ),
    (named(password=" "), "DATABASE_PASSWORD_IS_BLANK", '"password" must not be blank'),
    (
        named(useExternalEndpointForOSSClusterApi=True),
        "DATABASE_EXTERNAL_ENDPOINT_WITHOUT_OSS_CLUSTER",
        "useExternalEndpointForOSSClusterApi needs supportOSSClusterApi",
    ),
    (
        named(queryPerformanceFactor="2x"),
        "DATABASE_QUERY_PERFORMANCE_FACTOR_SEARCH_IS_REQUIRED",
        "queryPerformanceFactor needs the search capability (RediSearch)",
    ),
    (
        named(queryPerformanceFactor="3x", modules=[{"name": "RediSearch"}]),
        "DATABASE_QUERY_PERFORMANCE_FACTOR_INVALID_VALUE",
        '"queryPerformanceFactor" must be "Standard" or an even factor from 2x to 16x, got "3x"',
    ),
    (["name"], "BAD_REQUEST", "The request body must be a JSON object"),
]


@pytest.mark.parametrize(("body", "error_type", "description"), CREATE_ERRORS)
def test_create_rejects(api: SimApi, body: Any, error_type: str, description: str) -> None:
    answer = api.post(CREATE, body)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {"type": error_type, "status": "400 BAD_REQUEST", "description": description}
    }


UPDATE_ERRORS = [
    (
        SESSIONS,
        {"protocol": "redis"},
        "BAD_REQUEST",
        '"protocol" cannot be changed after the database is created',
    ),
    (
        SESSIONS,
        {"port": 12000},
        "BAD_REQUEST",
        '"port" cannot be changed after the database is created',
    ),
    (
        SESSIONS,
        {"redisVersion": "8.2"},
        "BAD_REQUEST",
        '"redisVersion" cannot be changed after the database is created; use POST .../upgrade',
    ),
    (
        SESSIONS,
        {"modules": []},
        "BAD_REQUEST",
        '"modules" cannot be changed after the database is created',
    ),
    (
        SESSIONS,
        {"shardingType": "redis-oss-hashing"},
        "BAD_REQUEST",
        '"shardingType" cannot be changed after the database is created',
    ),
    (
        SESSIONS,
        {"datasetSizeInGb": 2, "memoryLimitInGb": 4},
        TOO_MANY,
        "Only one of datasetSizeInGb and memoryLimitInGb may be set",
    ),
    (
        SESSIONS,
        {"password": "new-password-1", "enableDefaultUser": False},
        "DISABLING_THE_DEFAULT_USER_AND_UPDATING_A_NEW_PASSWORD_IS_NOT_ALLOWED",
        "Disabling the default user and setting a new password in one request is not allowed",
    ),
    (
        SESSIONS,
        {"regexRules": ["(?<tag>.*)"]},
        "DATABASE_INVALID_REGEX_RULES",
        "regexRules can be set only on databases created with shardingType custom-regex-rules",
    ),
    (SESSIONS, {"alerts": "dataset-size"}, "BAD_REQUEST", '"alerts" must be an array, got string'),
    (
        SESSIONS,
        {"name": ""},
        "DATABASE_INVALID_NAME",
        "Database name must include only letters, digits and hyphens, start with a letter "
        "and end with a letter or digit",
    ),
    (
        MEMCACHED,
        {"password": "secret-value"},
        "DATABASE_MEMCACHED_CONTAINS_REDIS_PASSWORD",
        '"password" cannot be set for protocol "memcached"',
    ),
    (
        MEMCACHED,
        {"enableDefaultUser": True},
        "DATABASE_MEMCACHED_CONTAINS_REDIS_DEFAULT_USER",
        '"enableDefaultUser" cannot be set for protocol "memcached"',
    ),
    (
        SESSIONS,
        {"remoteBackup": {"storagePath": "gs://elsewhere"}},
        "DATABASE_INVALID_BACKUP_PATH",
        '"remoteBackup.storagePath" does not fit storage type aws-s3',
    ),
]


@pytest.mark.parametrize(("path", "body", "error_type", "description"), UPDATE_ERRORS)
def test_update_rejects(
    api: SimApi, path: str, body: Any, error_type: str, description: str
) -> None:
    answer = api.put(path, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": description,
    }


OTHER_ERRORS = [
    (
        f"{SESSIONS}/upgrade",
        {"targetRedisVersion": "7.2"},
        "DATABASE_UPGRADE_INVALID_REDIS_VERSION",
        "Cannot upgrade Redis version 7.4 to 7.2: the target must be newer",
    ),
    (
        f"{SESSIONS}/upgrade",
        {"targetRedisVersion": "7.4"},
        "DATABASE_UPGRADE_INVALID_REDIS_VERSION",
        "Cannot upgrade Redis version 7.4 to 7.4: the target must be newer",
    ),
    (f"{QUEUE}/upgrade", {}, "BAD_REQUEST", '"targetRedisVersion" is required'),
    (f"{QUEUE}/upgrade", None, "BAD_REQUEST", "The request body must be a JSON object"),
    (
        f"{MEMCACHED}/upgrade",
        {"targetRedisVersion": "8.2"},
        "DATABASE_UPGRADE_OF_MEMCACHED_IS_NOT_SUPPORTED",
        "Memcached databases cannot be upgraded",
    ),
    (
        f"{SESSIONS}/import",
        {"importFromUri": ["s3://b/k"]},
        "BAD_REQUEST",
        '"sourceType" is required',
    ),
    (
        f"{SESSIONS}/import",
        {"sourceType": "tape", "importFromUri": ["s3://b/k"]},
        "DATABASE_INVALID_IMPORT_SOURCE_TYPE",
        '"sourceType" must be one of http, redis, ftp, aws-s3, azure-blob-storage, '
        'google-blob-storage, got "tape"',
    ),
    (
        f"{SESSIONS}/import",
        {"sourceType": "aws-s3", "importFromUri": "s3://b/k"},
        "BAD_REQUEST",
        '"importFromUri" must be an array, got string',
    ),
    (
        f"{SESSIONS}/backup",
        {"regionName": "us-east-1"},
        "BACKUP_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION",
        "regionName is not allowed with a single-region subscription",
    ),
    (f"{SESSIONS}/backup", {"path": "s3://x"}, "BAD_REQUEST", 'Unrecognized field "path"'),
]


@pytest.mark.parametrize(("path", "body", "error_type", "description"), OTHER_ERRORS)
def test_other_writes_reject(
    api: SimApi, path: str, body: Any, error_type: str, description: str
) -> None:
    answer = api.post(path, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": description,
    }


ACCEPTED_CREATES = [
    named(),
    named(subscriptionId=2001234, commandType="databaseCreateRequest"),  # read-only: ignored
    named(replicaOf=None, alerts=None),  # null means "not sent"
    named(autoMinorVersionUpgrade=False),  # sent by the Go SDK and Terraform
    named(protocol="memcached", saslUsername="mc-abcde", saslPassword="pw-0123456789"),
    named(
        redisVersion="7.2",
        modules=[{"name": "RediSearch", "parameters": {}}],
        queryPerformanceFactor="4x",
    ),
    named(
        shardingType="custom-regex-rules",
        supportOSSClusterApi=True,
        useExternalEndpointForOSSClusterApi=True,
    ),
    named(memoryLimitInGb=2, replication=False),
    named(
        remoteBackup={
            "active": True,
            "interval": "every-12-hours",
            "timeUTC": "14:00",
            "storageType": "aws-s3",
            "storagePath": "s3://backups/reports",
        }
    ),
    named(replica={"syncSources": [{"endpoint": "redis://10.0.0.1:6379", "encryption": True}]}),
    named(
        clientTlsCertificates=[{"publicCertificatePEMString": "-----BEGIN CERTIFICATE-----"}],
        enableTls=True,
    ),
]


@pytest.mark.parametrize("body", ACCEPTED_CREATES)
def test_create_accepts(api: SimApi, body: dict[str, Any]) -> None:
    answer = api.post(CREATE, body)
    assert answer.status_code == 202, answer.text


ACCEPTED_UPDATES = [
    {"remoteBackup": {"active": False}},
    {"periodicBackupPath": ""},
    {"alerts": [], "sourceIp": []},
    {"enableDefaultUser": False},
    {"password": "another-password-2", "enableDefaultUser": True},
    {"replicaOf": []},
    {"name": "sessions"},
    {"queryPerformanceFactor": "Standard"},
]


@pytest.mark.parametrize("body", ACCEPTED_UPDATES)
def test_update_accepts(api: SimApi, body: dict[str, Any]) -> None:
    answer = api.put(SESSIONS, body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("body", [None, {}, {"adhocBackupPath": "s3://backups/adhoc"}])
def test_backup_body_is_optional(api: SimApi, body: Any) -> None:
    assert api.post(f"{SESSIONS}/backup", body).status_code == 200


@pytest.fixture
def disabled_api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    """A client of a simulator whose sessions database has its default user disabled."""
    api = sim_api(make_simulator(clock=fake_clock))
    assert api.put(SESSIONS, {"enableDefaultUser": False}).status_code == 200
    fake_clock.advance(1.0)  # the task ends and the database is active again
    assert api.get(SESSIONS).json()["security"]["enableDefaultUser"] is False
    return api


@pytest.mark.parametrize(
    ("body", "error_type", "description"),
    [
        (
            {"password": "new-password-1"},
            "NOT_ALLOWED_TO_UPDATE_A_DATABASE_PASSWORD_WHEN_DEFAULT_USER_IS_DISABLED",
            "The password cannot be changed while the default user is disabled",
        ),
        (
            {"password": "new-password-1", "enableDefaultUser": False},
            "DISABLING_THE_DEFAULT_USER_AND_UPDATING_A_NEW_PASSWORD_IS_NOT_ALLOWED",
            "Disabling the default user and setting a new password in one request is not allowed",
        ),
    ],
)
def test_password_refused_while_default_user_disabled(
    disabled_api: SimApi, body: dict[str, Any], error_type: str, description: str
) -> None:
    answer = disabled_api.put(SESSIONS, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": description,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"password": "new-password-1", "enableDefaultUser": True},
        {"enableDefaultUser": True},
        {"enableDefaultUser": False, "datasetSizeInGb": 2},
    ],
)
def test_default_user_disabled_accepts(disabled_api: SimApi, body: dict[str, Any]) -> None:
    answer = disabled_api.put(SESSIONS, body)
    assert answer.status_code == 200, answer.text
