"""reconciler/export end to end: live databases → a spec that plans to no change.

The unit tests of each export module are in ``test_export_<module>.py``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.cloud import ApiClient, read_live
from reconciler.errors import UsageError
from reconciler.export import export_account
from reconciler.export.document import HEADER, SCHEMA_FILE, STDOUT_SCHEMA_NOTE
from reconciler.planning.planner import build_plan
from reconciler.render import render_text
from reconciler.simulator import RunningSimulator
from reconciler.spec import load_spec, packaged_schema_text

ROOT = Path(__file__).resolve().parents[2]
FTP_PASSWORD = "ftp-pass-9f3k"
REPLICA_PASSWORD = "replica-pw-7h2"
EXPLICIT_PASSWORD = "explicit-pass-123"
OPS_25K = {"by": "operations-per-second", "value": 25000}

# (seed database, fields the export should write). Every field of the create and update
# requests, set and unset, with the values that read back differently (default source IPs,
# the default regex rules pair, "Standard" query performance, bundled modules on Redis 8 …).
MATRIX: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"name": "plain", "redisVersion": "7.4", "datasetSizeInGb": 1},
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "explicit-defaults",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1.0,
            "respVersion": "resp3",
            "supportOSSClusterApi": False,
            "dataPersistence": "none",
            "dataEvictionPolicy": "volatile-lru",
            "replication": True,
            "sourceIp": ["0.0.0.0/0"],
            "enableTls": False,
            "enableDefaultUser": True,
            "alerts": [],
            "queryPerformanceFactor": "Standard",
            "autoMinorVersionUpgrade": True,
            "shardingType": "default-regex-rules",
        },
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "tuned",
            "redisVersion": "7.2",
            "datasetSizeInGb": 2.5,
            "dataPersistence": "aof-every-write",
            "dataEvictionPolicy": "allkeys-lfu",
            "replication": False,
            "throughputMeasurement": {"by": "number-of-shards", "value": 2},
        },
        {
            "datasetSizeInGb": 2.5,
            "redisVersion": "7.2",
            "dataPersistence": "aof-every-write",
            "dataEvictionPolicy": "allkeys-lfu",
            "replication": False,
            "throughputMeasurement": {"by": "number-of-shards", "value": 2},
        },
    ),
    (
        {
            "name": "resp2-on-74",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "respVersion": "resp2",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "respVersion": "resp2",
            "throughputMeasurement": OPS_25K,
        },
    ),
    (
        {
            "name": "resp3-on-72",
            "redisVersion": "7.2",
            "datasetSizeInGb": 1,
            "respVersion": "resp3",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.2",
            "respVersion": "resp3",
            "throughputMeasurement": OPS_25K,
        },
    ),
    (
        {"name": "old-62", "redisVersion": "6.2", "datasetSizeInGb": 0.1},
        {"datasetSizeInGb": 0.1, "redisVersion": "6.2", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "oss-cluster",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "supportOSSClusterApi": True,
            "useExternalEndpointForOSSClusterApi": True,
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "supportOSSClusterApi": True,
            "useExternalEndpointForOSSClusterApi": True,
            "throughputMeasurement": OPS_25K,
        },
    ),
    (
        {
            "name": "tls-no-default-user",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "enableTls": True,
            "enableDefaultUser": False,
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "enableTls": True,
            "enableDefaultUser": False,
        },
    ),
    (
        {
            "name": "search",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "modules": [{"name": "RedisJSON"}, {"name": "RediSearch"}],
            "queryPerformanceFactor": "2x",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "modules": [{"name": "RediSearch"}, {"name": "RedisJSON"}],
            "queryPerformanceFactor": "2x",
        },
    ),
    (
        {"name": "redis-8", "redisVersion": "8.2", "datasetSizeInGb": 1},
        {"datasetSizeInGb": 1, "redisVersion": "8.2", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "redis-80-resp2",
            "redisVersion": "8.0",
            "datasetSizeInGb": 1,
            "respVersion": "resp2",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "8.0",
            "respVersion": "resp2",
            "throughputMeasurement": OPS_25K,
        },
    ),
    (
        {
            "name": "alerts",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "alerts": [
                {"name": "throughput-higher-than", "value": 20000},
                {"name": "dataset-size", "value": 75},
                {"name": "latency", "value": 5},
            ],
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "alerts": [
                {"name": "dataset-size", "value": 75},
                {"name": "latency", "value": 5},
                {"name": "throughput-higher-than", "value": 20000},
            ],
        },
    ),
    (
        {
            "name": "source-ips",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "sourceIp": ["192.168.1.7", "10.1.0.0/16"],
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "sourceIp": ["10.1.0.0/16", "192.168.1.7"],
        },
    ),
    (
        {
            "name": "backup-12h",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "remoteBackup": {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "14:00",
                "storageType": "aws-s3",
                "storagePath": "s3://backups/b12",
            },
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "remoteBackup": {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "02:00",
                "storageType": "aws-s3",
                "storagePath": "s3://backups/b12",
            },
        },
    ),
    (
        {
            "name": "backup-24h-gcs",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "remoteBackup": {
                "active": True,
                "interval": "every-24-hours",
                "timeUTC": "17:00",
                "storageType": "google-blob-storage",
                "storagePath": "gs://backups/b24",
            },
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "remoteBackup": {
                "active": True,
                "interval": "every-24-hours",
                "timeUTC": "17:00",
                "storageType": "google-blob-storage",
                "storagePath": "gs://backups/b24",
            },
        },
    ),
    (
        {
            "name": "backup-6h-azure",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "remoteBackup": {
                "active": True,
                "interval": "every-6-hours",
                "storageType": "azure-blob-storage",
                "storagePath": "abs://container/b6",
            },
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "remoteBackup": {
                "active": True,
                "interval": "every-6-hours",
                "storageType": "azure-blob-storage",
                "storagePath": "abs://container/b6",
            },
        },
    ),
    (
        {
            "name": "backup-ftp-credentials",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "remoteBackup": {
                "active": True,
                "interval": "every-24-hours",
                "storageType": "ftp",
                "storagePath": f"ftp://backup:{FTP_PASSWORD}@ftp.example.com/db",
            },
        },
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "backup-off",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "remoteBackup": {"active": False},
        },
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "periodic-path",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "periodicBackupPath": "s3://legacy/p",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "remoteBackup": {
                "active": True,
                "interval": "every-24-hours",
                "storageType": "aws-s3",
                "storagePath": "s3://legacy/p",
            },
        },
    ),
    (
        {
            "name": "replica",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "replica": {"syncSources": [{"endpoint": "redis://10.0.0.5:12000"}]},
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "replica": {"syncSources": [{"endpoint": "redis://10.0.0.5:12000"}]},
        },
    ),
    (
        {
            "name": "replica-of",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "replicaOf": ["redis://10.0.0.7:12002"],
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "replica": {"syncSources": [{"endpoint": "redis://10.0.0.7:12002"}]},
        },
    ),
    (
        {
            "name": "replica-credentials",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "replica": {
                "syncSources": [{"endpoint": f"redis://user:{REPLICA_PASSWORD}@10.0.0.6:12001"}]
            },
        },
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "custom-rules",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "shardingType": "custom-regex-rules",
            "regexRules": ["(?<tag>.*):.*", "(?<tag>.*)-${"],
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "shardingType": "custom-regex-rules",
            "regexRules": ["(?<tag>.*):.*", "(?<tag>.*)-${"],
        },
    ),
    (
        {
            "name": "oss-hashing",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "shardingType": "redis-oss-hashing",
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "shardingType": "redis-oss-hashing",
        },
    ),
    (
        {
            "name": "with-password",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "password": EXPLICIT_PASSWORD,
        },
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {"name": "memcache", "protocol": "memcached", "datasetSizeInGb": 0.5, "replication": False},
        {
            "protocol": "memcached",
            "datasetSizeInGb": 0.5,
            "redisVersion": "7.4",
            "replication": False,
            "throughputMeasurement": OPS_25K,
        },
    ),
    (
        {
            "name": "no-auto-upgrade",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "autoMinorVersionUpgrade": False,
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "autoMinorVersionUpgrade": False,
        },
    ),
    (
        {"name": "memory-limit", "redisVersion": "7.4", "memoryLimitInGb": 4, "replication": True},
        {"datasetSizeInGb": 2, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
]

# Databases of a subscription whose endpoints are private: its default source IPs differ.
PRIVATE_MATRIX: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"name": "private-default", "redisVersion": "7.4", "datasetSizeInGb": 1},
        {"datasetSizeInGb": 1, "redisVersion": "7.4", "throughputMeasurement": OPS_25K},
    ),
    (
        {
            "name": "private-open",
            "redisVersion": "7.4",
            "datasetSizeInGb": 1,
            "sourceIp": ["0.0.0.0/0"],
        },
        {
            "datasetSizeInGb": 1,
            "redisVersion": "7.4",
            "throughputMeasurement": OPS_25K,
            "sourceIp": ["0.0.0.0/0"],
        },
    ),
]


def _seed(tmp_path: Path) -> Path:
    """Write a simulator seed holding the matrix (JSON is YAML) and return its path."""

    def databases(
        cases: list[tuple[dict[str, Any], dict[str, Any]]], first: int
    ) -> list[dict[str, Any]]:
        return [{"databaseId": first + i, **db} for i, (db, _) in enumerate(cases)]

    account = {
        "id": 7001,
        "subscriptions": [
            {"id": 3001, "name": "matrix", "provider": "AWS", "region": "us-east-1",
             "databases": databases(MATRIX, 61000001)},
            {"id": 3002, "name": "Team B / private", "provider": "GCP", "region": "europe-west1",
             "publicEndpointAccess": False, "databases": databases(PRIVATE_MATRIX, 62000001)},
            {"id": 3003, "name": "global", "provider": "AWS", "region": "us-east-1",
             "deploymentType": "active-active", "databases": []},
            {"id": 3004, "name": "empty", "provider": "AWS", "region": "us-east-1"},
        ],
    }  # fmt: skip
    path = tmp_path / "seed.yaml"
    path.write_text(json.dumps({"account": account}, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def matrix(make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> RunningSimulator:
    """A simulator whose account holds every database of the matrix."""
    return make_simulator(seed_path=_seed(tmp_path))


@pytest.fixture
def client_for() -> Iterator[Callable[[RunningSimulator], ApiClient]]:
    """Return a factory of API clients for running simulators (closed at teardown)."""
    clients: list[ApiClient] = []

    def factory(running: RunningSimulator) -> ApiClient:
        client = ApiClient(running.url, running.api_key, running.api_secret)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def _exported_fields(path: Path) -> dict[str, dict[str, Any]]:
    """Return ``name`` → managed fields of every database in the spec at ``path``.

    Every database is pinned by its ``databaseId`` (checked, then left out: ids vary).
    """
    desired = load_spec([str(path)], {})
    databases = [db for sub in desired.subscriptions for db in sub.databases]
    assert all(isinstance(db.fields.get("databaseId"), int) for db in databases)
    return {db.name: {k: v for k, v in db.fields.items() if k != "databaseId"} for db in databases}


def _assert_no_change(paths: list[str], client: ApiClient) -> None:
    desired = load_spec(paths, {})
    plan = build_plan(desired, read_live(client, desired))
    assert (plan.actions, plan.refusals, plan.unmanaged) == ((), (), ()), render_text(
        plan, color=False
    )


# --------------------------------------------------------------------------- round trip


def test_matrix_export_writes_only_non_default_fields(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    out = tmp_path / "account.yaml"
    assert (
        export_account(client_for(matrix), subscription_ids=None, out=str(out), split=False) is None
    )
    expected = {db["name"]: fields for db, fields in MATRIX + PRIVATE_MATRIX}
    exported = _exported_fields(out)
    assert exported["memcache"].pop("saslUsername").startswith("mc-")  # generated by the API
    assert exported == expected


def test_matrix_export_plans_to_no_change(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    client = client_for(matrix)
    out = tmp_path / "account.yaml"
    export_account(client, subscription_ids=None, out=str(out), split=False)
    _assert_no_change([str(out)], client)


def test_matrix_export_split_plans_to_no_change(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    client = client_for(matrix)
    folder = tmp_path / "specs"
    export_account(client, subscription_ids=None, out=str(folder), split=True)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "Team-B-private-3002.yaml",
        "empty-3004.yaml",
        "matrix-3001.yaml",
        "reconciler.schema.json",
    ]
    _assert_no_change([str(folder)], client)


def test_export_never_writes_a_secret(
    matrix: RunningSimulator,
    client_for: Callable[[RunningSimulator], ApiClient],
    sim_api: Callable[[RunningSimulator], Any],
    tmp_path: Path,
) -> None:
    client = client_for(matrix)
    text = export_account(client, subscription_ids=[3001, 3002], out=None, split=False)
    assert text is not None
    api = sim_api(matrix)
    generated = [
        api.get(f"/subscriptions/{sub}/databases/{first + i}").json()["security"].get("password")
        for sub, first, cases in ((3001, 61000001, MATRIX), (3002, 62000001, PRIVATE_MATRIX))
        for i in range(len(cases))
    ]
    secrets = [p for p in generated if p] + [FTP_PASSWORD, REPLICA_PASSWORD, EXPLICIT_PASSWORD]
    assert len(secrets) > len(MATRIX)
    assert [s for s in secrets if s in text] == []


def test_export_comments_out_what_it_cannot_write(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient]
) -> None:
    text = export_account(client_for(matrix), subscription_ids=[3001], out=None, split=False)
    assert text is not None
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("# ")]
    assert (
        "# remoteBackup: {active: true, interval: every-24-hours, storageType: ftp, "
        "storagePath: 'ftp://(sensitive)@ftp.example.com/db'}  "
        "# not managed: its path carries credentials"
    ) in comments
    assert (
        "# replica: {syncSources: [{endpoint: 'redis://(sensitive)@10.0.0.6:12001'}]}  "
        "# not managed: a source URI carries credentials"
    ) in comments
    assert (
        "# password: ${MATRIX_PLAIN_PASSWORD}  # uncomment to manage it (see the top)" in comments
    )
    assert not any("MATRIX_MEMCACHE_PASSWORD" in line for line in comments)


def test_uncommented_password_placeholder_manages_the_password(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    client = client_for(matrix)
    out = tmp_path / "matrix.yaml"
    export_account(client, subscription_ids=[3001], out=str(out), split=False)
    text = out.read_text(encoding="utf-8")
    line = "# password: ${MATRIX_WITH_PASSWORD_PASSWORD}"
    out.write_text(text.replace(line, line.removeprefix("# ")), encoding="utf-8")
    env = {"MATRIX_WITH_PASSWORD_PASSWORD": EXPLICIT_PASSWORD}
    desired = load_spec([str(out)], env)
    assert build_plan(desired, read_live(client, desired)).actions == ()
    desired = load_spec([str(out)], {"MATRIX_WITH_PASSWORD_PASSWORD": "another-password"})
    plan = build_plan(desired, read_live(client, desired))
    assert [(a.name, [c.path for c in a.changes]) for a in plan.actions] == [
        ("with-password", ["password"])
    ]


def test_seed_account_export_plans_to_no_change_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sim:{tmp_path / 'state.json'}"
    assert main(["export", "--api-url", url, "--out", "live/account.yaml"]) == 0
    assert main(["plan", "live", "--api-url", url, "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.endswith("No changes. The live account matches the spec.\n")


def test_export_to_stdout_starts_with_the_modeline_and_header(
    matrix: RunningSimulator,
    client_for: Callable[[RunningSimulator], ApiClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    text = export_account(client_for(matrix), subscription_ids=[3004], out=None, split=False)
    header = ["# yaml-language-server: $schema=reconciler.schema.json", "#"]
    header += [f"# {line}".rstrip() for line in HEADER.splitlines()]
    header += [f"# {STDOUT_SCHEMA_NOTE}"]
    body = [
        "version: 1",
        "subscriptions:",
        "  - id: 3004  # empty",
        "    prune: false",
        "    databases: []",
    ]
    assert text == "\n".join(header + body) + "\n"


def test_export_is_stable(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient]
) -> None:
    client = client_for(matrix)
    first = export_account(client, subscription_ids=None, out=None, split=False)
    assert export_account(client, subscription_ids=None, out=None, split=False) == first


# --------------------------------------------------------------------------- subscriptions


def test_all_subscriptions_skip_active_active_with_a_warning(
    matrix: RunningSimulator,
    client_for: Callable[[RunningSimulator], ApiClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler.export"):
        text = export_account(client_for(matrix), subscription_ids=None, out=None, split=False)
    assert text is not None
    ids = [line.split()[2] for line in text.splitlines() if line.startswith("  - id: ")]
    assert ids == ["3001", "3002", "3004"]
    assert caplog.messages == [
        'skipping subscription 3003 "global" is not a Pro single-region subscription '
        "(deploymentType 'active-active'); export handles only those"
    ]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([3003], 'subscription 3003 "global" is not a Pro single-region subscription '
                 "(deploymentType 'active-active'); export handles only those"),
        ([3001, 9999], "subscription 9999 does not exist (or this API key cannot see it)"),
    ],
)  # fmt: skip
def test_named_subscription_must_be_exportable(
    matrix: RunningSimulator,
    client_for: Callable[[RunningSimulator], ApiClient],
    ids: list[int],
    message: str,
) -> None:
    with pytest.raises(UsageError) as caught:
        export_account(client_for(matrix), subscription_ids=ids, out=None, split=False)
    assert str(caught.value) == message


def test_named_subscriptions_keep_their_order_once_each(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient]
) -> None:
    text = export_account(
        client_for(matrix), subscription_ids=[3004, 3002, 3004], out=None, split=False
    )
    assert text is not None
    ids = [line.split()[2] for line in text.splitlines() if line.startswith("  - id: ")]
    assert ids == ["3004", "3002"]


# --------------------------------------------------------------------------- writing files


def test_write_replaces_the_file_atomically_and_keeps_its_mode(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "account.yaml"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    export_account(client_for(matrix), subscription_ids=[3004], out=str(out), split=False)
    assert out.read_text(encoding="utf-8").startswith("# yaml-language-server: ")
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in out.parent.iterdir()) == ["account.yaml", SCHEMA_FILE]


def test_a_file_export_writes_the_schema_its_modeline_names(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    out = tmp_path / "specs" / "account.yaml"
    export_account(client_for(matrix), subscription_ids=[3004], out=str(out), split=False)
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert (out.parent / SCHEMA_FILE).read_text(encoding="utf-8") == packaged_schema_text()


def test_a_split_export_uses_the_schema_found_above(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    (tmp_path / SCHEMA_FILE).write_text("{}", encoding="utf-8")
    out = tmp_path / "specs" / "prod"
    export_account(client_for(matrix), subscription_ids=[3004], out=str(out), split=True)
    (written,) = out.iterdir()
    first = written.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../../{SCHEMA_FILE}"
    assert (tmp_path / SCHEMA_FILE).read_text(encoding="utf-8") == "{}"


def test_write_failure_keeps_the_old_file_and_no_temporary_file(
    matrix: RunningSimulator,
    client_for: Callable[[RunningSimulator], ApiClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out" / "a.yaml"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")

    def refuse(source: str, target: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(UsageError) as caught:
        export_account(client_for(matrix), subscription_ids=[3004], out=str(out), split=False)
    assert str(caught.value) == f"cannot write {out}: Permission denied"
    assert [p.name for p in out.parent.iterdir()] == ["a.yaml"]
    assert out.read_text(encoding="utf-8") == "old\n"


def test_out_below_a_file_is_refused(
    matrix: RunningSimulator, client_for: Callable[[RunningSimulator], ApiClient], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        export_account(
            client_for(matrix),
            subscription_ids=[3004],
            out=str(tmp_path / "file/a.yaml"),
            split=False,
        )
    assert str(caught.value) == f"cannot write {tmp_path}/file/a.yaml: File exists"


# --------------------------------------------------------------------------- through the API

SUB = "/subscriptions/2005678"  # staging, in the packaged example account
# Created with POST, then changed with PUT (None: no PUT): fields set, then set back or unset.
API_CASES: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
    (
        {
            "name": "api-full",
            "redisVersion": "7.4",
            "datasetSizeInGb": 2,
            "respVersion": "resp2",
            "dataPersistence": "snapshot-every-6-hours",
            "dataEvictionPolicy": "allkeys-random",
            "replication": False,
            "throughputMeasurement": {"by": "operations-per-second", "value": 50000},
            "password": EXPLICIT_PASSWORD,
            "sourceIp": ["10.2.0.0/16"],
            "alerts": [{"name": "dataset-size", "value": 90}],
            "modules": [{"name": "RedisTimeSeries"}],
            "remoteBackup": {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "23:00",
                "storageType": "aws-s3",
                "storagePath": "s3://b/full",
            },
        },
        {"enableDefaultUser": False, "enableTls": True, "queryPerformanceFactor": "Standard"},
    ),
    (
        {
            "name": "api-unset",
            "redisVersion": "7.2",
            "datasetSizeInGb": 1,
            "sourceIp": ["10.3.0.0/16"],
            "alerts": [{"name": "latency", "value": 3}],
            "remoteBackup": {
                "active": True,
                "interval": "every-1-hours",
                "storageType": "google-blob-storage",
                "storagePath": "gs://b/unset",
            },
        },
        {"sourceIp": [], "alerts": [], "remoteBackup": {"active": False}},
    ),
    (
        {"name": "api-rules", "redisVersion": "7.4", "shardingType": "custom-regex-rules"},
        {"regexRules": ["(?<tag>.*)@.*", ".*\\{(?<tag>.*)\\}.*"]},
    ),
    ({"name": "api-eight", "redisVersion": "8.2", "respVersion": "resp2"}, None),
    ({"name": "api-memcached", "protocol": "memcached", "memoryLimitInGb": 1}, None),
    (
        {"name": "api-replica", "replicaOf": ["redis://10.9.0.1:12000"]},
        {"replica": {"syncSources": [{"endpoint": "redis://10.9.0.2:12000"}]}},
    ),
]


def _run_tasks(api: Any, clock: Any, answers: list[Any]) -> None:
    """Let the simulator finish the submitted tasks; fail on any task error."""
    clock.advance(600.0)
    for answer in answers:
        assert answer.status_code in (200, 202), answer.text
        task = api.get(f"/tasks/{answer.json()['taskId']}").json()
        assert task["status"] == "processing-completed", task


def test_databases_created_and_changed_through_the_api_export_to_no_change(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: Any,
    sim_api: Callable[[RunningSimulator], Any],
    client_for: Callable[[RunningSimulator], ApiClient],
    tmp_path: Path,
) -> None:
    running = make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0)
    api = sim_api(running)
    _run_tasks(api, fake_clock, [api.post(f"{SUB}/databases", body) for body, _ in API_CASES])
    ids = {
        db["name"]: db["databaseId"]
        for db in api.get(f"{SUB}/databases").json()["subscription"][0]["databases"]
    }
    changes = [api.put(f"{SUB}/databases/{ids[b['name']]}", put) for b, put in API_CASES if put]
    _run_tasks(api, fake_clock, changes)
    client = client_for(running)
    out = tmp_path / "staging.yaml"
    export_account(client, subscription_ids=[2005678], out=str(out), split=False)
    _assert_no_change([str(out)], client)
    fields = _exported_fields(out)
    assert fields["api-unset"] == {
        "datasetSizeInGb": 1,
        "redisVersion": "7.2",
        "throughputMeasurement": OPS_25K,
    }
    assert fields["api-full"]["enableDefaultUser"] is False
    assert fields["api-full"]["remoteBackup"]["timeUTC"] == "11:00"
    assert fields["api-rules"]["regexRules"] == ["(?<tag>.*)@.*", ".*\\{(?<tag>.*)\\}.*"]
    assert fields["api-rules"]["shardingType"] == "custom-regex-rules"
    assert fields["api-replica"]["replica"] == {
        "syncSources": [{"endpoint": "redis://10.9.0.2:12000"}]
    }
    assert EXPLICIT_PASSWORD not in out.read_text(encoding="utf-8")
