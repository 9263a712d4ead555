"""Every request body the tool sends validates against the official request schemas.

Bodies come from two sources, each matched to its operation in the trimmed OpenAPI
description (tests/openapi/) and validated against that operation's request schema, closed:
read-only and unlisted properties refused (``openapi_schema.request_validator``).

- Applied: the tool applies specs to the in-process simulator through a recording transport
  — the examples/ account (creates, updates, an upgrade, an import, a backup before delete),
  and a database using every field of the spec schema, created, then changed in every
  updatable field with a backup before the update and a version upgrade, then deleted after
  a backup. The tests also check that every spec field reached a body and that each of the
  five request schemas was exercised, so a field or an operation the specs stop covering
  fails here rather than going unchecked.
- Planned: hypothesis generates valid specs (a database, new or one of the example
  account's, with any mix of the values of the scenarios) and plans them against the
  simulator's account.

The one documented exception is ``autoMinorVersionUpgrade`` on create and update: the
OpenAPI document lacks it, but the Go SDK and the Terraform provider send it and the API
accepts it.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import FakeClock
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from openapi_schema import load_openapi, request_validator

from reconciler import cli
from reconciler.cli import Runtime
from reconciler.cloud import Answer, ApiClient, RequestsTransport, read_live
from reconciler.compare import CATALOGUE, CREATE_FIELDS, UPDATE_FIELDS
from reconciler.errors import SpecError
from reconciler.model import LiveState
from reconciler.planning import build_plan
from reconciler.secrets import reveal
from reconciler.simulator import RunningSimulator
from reconciler.spec import load_schema, load_spec

PROJECT = Path(__file__).resolve().parents[1]
PROD = 2001234
OWN_KEYS = {"name", "databaseId", "state", "lifecycle", "import", "tags"}
SPEC_FIELDS = set(load_schema()["$defs"]["Database"]["properties"]) - OWN_KEYS
COMPARED = {row.name for row in CATALOGUE if row.compared and row.read_back is not None}
#: Sent by the Go SDK and the Terraform provider, accepted by the API, absent from OpenAPI.
NOT_IN_OPENAPI = {"autoMinorVersionUpgrade": {"type": "boolean"}}
REQUEST_SCHEMAS = {
    "DatabaseCreateRequest",
    "DatabaseUpdateRequest",
    "DatabaseBackupRequest",
    "DatabaseImportRequest",
    "DatabaseUpgradeRedisVersionRequest",
}
ENVIRONMENT = {
    "SESSIONS_DB_PASSWORD": "sessions-Password-1",
    "REPORTS_DB_PASSWORD": "reports-Password-2",
    "EVERYTHING_PASSWORD": "everything-Password-3",
}

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
EVERYTHING: dict[str, Any] = {
    "name": "everything",
    "protocol": "redis",
    "port": 12000,
    "datasetSizeInGb": 2.5,
    "redisVersion": "7.4",
    "respVersion": "resp3",
    "supportOSSClusterApi": False,
    "useExternalEndpointForOSSClusterApi": False,
    "dataPersistence": "snapshot-every-1-hour",
    "dataEvictionPolicy": "allkeys-lfu",
    "replication": True,
    "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
    "replica": {
        "syncSources": [
            {
                "endpoint": "redis://replicator:s3cret@source.example.com:12001",
                "encryption": True,
                "serverCert": CERT,
            },
            {"endpoint": "redis://other.example.com:12002"},
        ]
    },
    # The same sources as replica (a database has one set of sources), in another order.
    "replicaOf": [
        "redis://other.example.com:12002",
        "redis://replicator:s3cret@source.example.com:12001",
    ],
    "remoteBackup": {
        "active": True,
        "interval": "every-24-hours",
        "timeUTC": "23:00",
        "storageType": "google-blob-storage",
        "storagePath": "gs://backups/everything",
    },
    "sourceIp": ["10.0.0.0/8", "192.168.1.7"],
    "clientTlsCertificates": [{"publicCertificatePEMString": CERT}],
    "enableTls": True,
    "enableDefaultUser": False,
    "password": "${EVERYTHING_PASSWORD}",
    "alerts": [
        {"name": "dataset-size", "value": 80},
        {"name": "throughput-higher-than", "value": 20000},
    ],
    "modules": [{"name": "RedisJSON"}, {"name": "RediSearch", "parameters": {}}],
    "shardingType": "custom-regex-rules",
    "regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"],
    "queryPerformanceFactor": "4x",
    "autoMinorVersionUpgrade": False,
    "import": {
        "sourceType": "redis",
        "importFromUri": ["redis://reader:pw@seed.example.com:12005"],
    },
}
#: A new value for every updatable field of EVERYTHING, an upgrade, a backup before it.
EVERYTHING_CHANGED: dict[str, Any] = {
    "datasetSizeInGb": 3,
    "redisVersion": "8.2",
    "respVersion": "resp2",
    "supportOSSClusterApi": True,
    "useExternalEndpointForOSSClusterApi": True,
    "dataPersistence": "aof-every-write",
    "dataEvictionPolicy": "volatile-ttl",
    "replication": False,
    "throughputMeasurement": {"by": "operations-per-second", "value": 30000},
    "replica": {"syncSources": [{"endpoint": "redis://third.example.com:12007"}]},
    "remoteBackup": {
        "active": True,
        "interval": "every-12-hours",
        "timeUTC": "11:00",
        "storageType": "aws-s3",
        "storagePath": "s3://backups/everything",
    },
    "sourceIp": ["172.16.0.0/12"],
    "clientTlsCertificates": [],  # the API tells only whether some are set: removing shows
    "enableTls": False,
    "enableDefaultUser": True,
    "password": "changed-Password-5",
    "alerts": [{"name": "dataset-size", "value": 90}],
    "regexRules": ["(?<tag>.*)"],
    "queryPerformanceFactor": "2x",
    "autoMinorVersionUpgrade": True,
    "lifecycle": {"backupBeforeUpdate": True},
}
#: The deprecated forms: memory limit, periodic backup path, one client certificate.
LEGACY: dict[str, Any] = {
    "name": "legacy-sized",
    "memoryLimitInGb": 1,
    "periodicBackupPath": "s3://backups/legacy",
    "clientSslCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "averageItemSizeInBytes": 1000,
}
LEGACY_CHANGED = {
    **LEGACY,
    "memoryLimitInGb": 2,
    "periodicBackupPath": "s3://backups/legacy-2",
    "clientSslCertificate": "",
}
MEMCACHED: dict[str, Any] = {
    "name": "memcache",
    "protocol": "memcached",
    "datasetSizeInGb": 1,
    "saslUsername": "mc-user",
    "saslPassword": "sasl-Password-4",
}
#: replicaOf changed on a database without ``replica`` (which supersedes it).
REPLICA_OF: dict[str, Any] = {"name": "follower", "replicaOf": ["redis://a.example.com:12009"]}
REPLICA_OF_CHANGED = {**REPLICA_OF, "replicaOf": ["redis://b.example.com:12010"]}
MEMCACHED_CHANGED = {**MEMCACHED, "saslUsername": "mc-user-2", "saslPassword": "sasl-Password-6"}
CHANGED = [LEGACY_CHANGED, MEMCACHED_CHANGED, REPLICA_OF_CHANGED]


@dataclass(frozen=True)
class Sent:
    """One request body the tool sent: method, path below the base, parsed JSON."""

    method: str
    path: str
    body: Any


class RecordingTransport:
    """The real transport, recording every body it sends."""

    def __init__(self, sent: list[Sent]) -> None:
        self.sent = sent
        self.inner = RequestsTransport(get_retries=0, backoff_factor=0.0)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        """Record ``body`` (when there is one) and send the request."""
        if body is not None:
            path = urllib.parse.urlsplit(url).path.removeprefix("/v1")
            self.sent.append(Sent(method, path, json.loads(body)))
        return self.inner.send(method, url, headers, body, timeout)

    def close(self) -> None:
        """Close the real transport."""
        self.inner.close()


def spec_file(folder: Path, name: str, databases: list[dict[str, Any]]) -> str:
    """Write a one-subscription spec (JSON is YAML) of ``databases``; return its path."""
    path = folder / f"{name}.yaml"
    document = {"version": 1, "subscriptions": [{"id": PROD, "databases": databases}]}
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def every_field_specs(folder: Path) -> list[str]:
    """Create EVERYTHING, change every updatable field, then delete it after a backup."""
    kept = {k: v for k, v in EVERYTHING.items() if k not in ("import", "replicaOf")}
    changed = {**kept, **EVERYTHING_CHANGED}
    absent = {
        "name": "everything",
        "state": "absent",
        "lifecycle": {"backupBeforeDelete": True, "backupPath": "s3://backups/adhoc"},
    }
    return [
        spec_file(folder, "create", [EVERYTHING, LEGACY, MEMCACHED, REPLICA_OF]),
        spec_file(folder, "change", [changed, *CHANGED]),
        spec_file(folder, "delete", [absent, *CHANGED]),
    ]


@pytest.fixture(scope="module")
def sent(
    make_module_simulator: Callable[..., RunningSimulator],
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Sent]:
    """Apply the examples, then the every-field specs; return every body sent."""
    clock = FakeClock()
    running = make_module_simulator(clock=clock, task_seconds=2.0, provision_seconds=3.0)
    recorded: list[Sent] = []
    runtime = Runtime(
        clock=clock,
        sleep=clock.advance,
        wall_clock=clock,
        backoff_factor=0.0,
        read_concurrency=1,
        transport=lambda: RecordingTransport(recorded),
    )
    examples = [str(PROJECT / "examples/prod"), str(PROJECT / "examples/staging.yaml")]
    runs = [examples, *([spec] for spec in every_field_specs(tmp_path_factory.mktemp("specs")))]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            **ENVIRONMENT,
            "REDIS_API_KEY": running.api_key,
            "REDIS_API_SECRET": running.api_secret,
        }.items():
            patch.setenv(name, value)
        for paths in runs:
            code = cli.main(["apply", *paths, "--yes", "--api-url", running.url], runtime)
            assert code == 0, paths
    return recorded


def operation_schema(method: str, path: str) -> str:
    """Return the name of the request schema of the operation ``method path``.

    Raises:
        AssertionError: no operation of the OpenAPI description matches, or it has no body.
    """
    for template, operations in load_openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            content = operations[method.lower()]["requestBody"]["content"]
            ref: str = content["application/json"]["schema"]["$ref"]
            return ref.rsplit("/", 1)[1]
    raise AssertionError(f"no operation {method} {path} in the OpenAPI description")


def validator(schema: str) -> jsonschema.Draft4Validator:
    """The closed validator of ``schema``, with the documented exception where it applies."""
    if schema in ("DatabaseCreateRequest", "DatabaseUpdateRequest"):
        return request_validator(schema, **NOT_IN_OPENAPI)
    return request_validator(schema)


def test_every_body_validates_against_its_request_schema(sent: list[Sent]) -> None:
    problems = [
        f"{one.method} {one.path}: {error.message} at {list(error.absolute_path)}"
        for one in sent
        for error in validator(operation_schema(one.method, one.path)).iter_errors(one.body)
    ]
    assert problems == []


def test_every_request_schema_is_exercised(sent: list[Sent]) -> None:
    assert {operation_schema(one.method, one.path) for one in sent} == REQUEST_SCHEMAS


def sent_keys(sent: list[Sent], schema: str) -> set[str]:
    """The keys of every body sent to an operation of request schema ``schema``."""
    return {
        key for one in sent if operation_schema(one.method, one.path) == schema for key in one.body
    }


def test_every_spec_field_reaches_a_create_body(sent: list[Sent]) -> None:
    assert (SPEC_FIELDS & CREATE_FIELDS) - sent_keys(sent, "DatabaseCreateRequest") == set()


def test_every_compared_spec_field_reaches_an_update_body(sent: list[Sent]) -> None:
    """Write-only fields are never compared (the API does not read them back): no update."""
    updated = sent_keys(sent, "DatabaseUpdateRequest")
    assert (SPEC_FIELDS & UPDATE_FIELDS & COMPARED) - updated == set()


def test_the_exception_is_accepted_and_is_the_only_one() -> None:
    for schema in ("DatabaseCreateRequest", "DatabaseUpdateRequest"):
        body = {"name": "db", "autoMinorVersionUpgrade": True, "notInTheSpec": 1}
        errors = [error.message for error in validator(schema).iter_errors(body)]
        assert errors == ["Additional properties are not allowed ('notInTheSpec' was unexpected)"]


# ------------------------------------------------------------------ generated specs

#: Valid values of each spec field, from the scenarios above.
POOLS: dict[str, list[Any]] = {
    name: [
        value
        for source in (EVERYTHING, EVERYTHING_CHANGED, LEGACY, LEGACY_CHANGED)
        if (value := source.get(name))
    ]
    for name in SPEC_FIELDS
}
POOLS.update(
    protocol=["redis", "memcached"],
    memoryLimitInGb=[1, 2],
    replicaOf=[EVERYTHING["replicaOf"], REPLICA_OF_CHANGED["replicaOf"]],
    saslUsername=["mc-user"],
    saslPassword=["sasl-Password-4"],
    replication=[True, False],
    supportOSSClusterApi=[True, False],
    useExternalEndpointForOSSClusterApi=[True, False],
    enableTls=[True, False],
    enableDefaultUser=[True, False],
    autoMinorVersionUpgrade=[True, False],
)
#: New, and existing databases of subscription 2001234 in the example account.
NAMES = ["generated", "sessions", "cache", "queue", "reports"]


@st.composite
def databases(draw: st.DrawFn) -> dict[str, Any]:
    """A database entry: a name and any subset of the fields, each from its pool."""
    fields = draw(st.sets(st.sampled_from(sorted(POOLS))))
    entry = {name: draw(st.sampled_from(POOLS[name])) for name in sorted(fields)}
    return {"name": draw(st.sampled_from(NAMES)), **entry}


@dataclass(frozen=True)
class Account:
    """The example account as read live, and a folder to write generated specs in."""

    live: LiveState
    folder: Path


@pytest.fixture(scope="module")
def account(
    make_module_simulator: Callable[..., RunningSimulator],
    tmp_path_factory: pytest.TempPathFactory,
) -> Account:
    """Read subscription 2001234 of the example account once."""
    running = make_module_simulator()
    folder = tmp_path_factory.mktemp("generated")
    desired = load_spec([spec_file(folder, "read", [LEGACY])], ENVIRONMENT)
    with ApiClient(running.url, running.api_key, running.api_secret) as client:
        return Account(read_live(client, desired), folder)


def planned_bodies(account: Account, database: dict[str, Any]) -> list[Sent]:
    """Plan a spec of ``database`` against the account; the bodies its actions would send.

    A mix of values the spec schema refuses is not a valid spec: hypothesis discards it.
    """
    try:
        desired = load_spec([spec_file(account.folder, "spec", [database])], ENVIRONMENT)
    except SpecError:
        reject()
    plan = build_plan(desired, account.live)
    return [
        Sent(a.request.method, a.request.path, reveal(a.request.body))
        for a in plan.actions
        if a.request.body is not None
    ]


@settings(max_examples=150, deadline=None)
@given(database=databases())
def test_generated_specs_plan_valid_bodies(account: Account, database: dict[str, Any]) -> None:
    sent = planned_bodies(account, database)
    problems = [
        f"{one.method} {one.path}: {error.message} at {list(error.absolute_path)}"
        for one in sent
        for error in validator(operation_schema(one.method, one.path)).iter_errors(one.body)
    ]
    assert problems == []
