"""Tests for reconciler.planning.planner: actions, order, refusals, every perpetual-diff trap."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    ImportSpec,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.plan import (
    NEW_DATABASE_ID,
    ActionKind,
    ApiRequest,
    FieldChange,
    Plan,
    PlannedAction,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.planning.planner import build_plan, merge_subscriptions
from reconciler.secrets import Secret

SID = 2001234
HERE = Location("prod.yaml", 3, 7)
SUBSCRIPTION: dict[str, Any] = {
    "id": SID,
    "name": "prod",
    "status": "active",
    "deploymentType": "single-region",
}
DEFAULT_REGEX = [
    {"ordinal": 1, "pattern": "(?<tag>.*)"},
    {"ordinal": 0, "pattern": ".*\\{(?<tag>.*)\\}.*"},
]


def api_db(db_id: int, name: str, **changes: Any) -> dict[str, Any]:
    """Return a database as the API lists it, top-level keys replaced (None drops)."""
    raw: dict[str, Any] = {
        "databaseId": db_id,
        "name": name,
        "protocol": "redis",
        "provider": "AWS",
        "region": "us-east-1",
        "redisVersion": "7.4",
        "redisVersionCompliance": "7.4.2",
        "respVersion": "resp3",
        "status": "active",
        "datasetSizeInGb": 1,
        "memoryUsedInMb": 4,
        "memoryStorage": "ram",
        "supportOSSClusterApi": False,
        "useExternalEndpointForOSSClusterApi": False,
        "dataPersistence": "aof-every-1-second",
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "activatedOn": "2024-01-01T00:00:00Z",
        "lastModified": "2024-01-01T00:00:00Z",
        "publicEndpoint": f"redis-{db_id}.c1.us-east-1-1.ec2.cloud.rlrcp.com:12000",
        "privateEndpoint": f"redis-{db_id}.internal.c1.us-east-1-1.ec2.cloud.rlrcp.com:12000",
        "replicaOf": None,
        "clustering": {
            "numberOfShards": 1,
            "regexRules": DEFAULT_REGEX,
            "hashingPolicy": "standard",
        },
        "security": {
            "enableDefaultUser": True,
            "password": f"live-password-of-{name}",
            "sslClientAuthentication": False,
            "tlsClientAuthentication": False,
            "enableTls": False,
            "sourceIps": ["0.0.0.0/0"],
        },
        "modules": [],
        "alerts": [],
        "queryPerformanceFactor": "Standard",
        "links": [],
    }
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def live_db(db_id: int, name: str, **changes: Any) -> LiveDatabase:
    """Return a LiveDatabase built from :func:`api_db`."""
    return LiveDatabase(db_id, name, "active", api_db(db_id, name, **changes))


def live_state(
    *dbs: LiveDatabase, subscription: dict[str, Any] | None = None, sid: int = SID
) -> LiveState:
    """Return a live account with one subscription holding ``dbs``."""
    raw = {**SUBSCRIPTION, "id": sid, **(subscription or {})}
    return LiveState({sid: LiveSubscription(sid, raw["name"], "active", raw, tuple(dbs))})


def db_spec(name: str, fields: dict[str, Any] | None = None, **kw: Any) -> DatabaseSpec:
    """Return a DatabaseSpec in subscription SID."""
    return DatabaseSpec(SID, name, fields or {}, HERE, **kw)


def desired(*specs: DatabaseSpec, prune: bool = False, sid: int = SID) -> DesiredState:
    """Return a desired state with one subscription holding ``specs``."""
    return DesiredState((SubscriptionSpec(sid, prune, specs, HERE),))


def exact_fields(name: str = "cache") -> dict[str, Any]:
    """Return spec fields describing exactly what :func:`api_db` returns."""
    return {
        "protocol": "redis",
        "port": 12000,
        "datasetSizeInGb": 1,
        "redisVersion": "7.4",
        "respVersion": "resp3",
        "supportOSSClusterApi": False,
        "dataPersistence": "aof-every-1-second",
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "password": Secret(f"live-password-of-{name}"),
        "sourceIp": ["0.0.0.0/0"],
        "enableDefaultUser": True,
        "enableTls": False,
        "alerts": [],
        "modules": [],
        "regexRules": [],
        "replicaOf": [],
        "remoteBackup": {"active": False},
        "queryPerformanceFactor": "Standard",
    }


def plan_of(
    specs: list[DatabaseSpec] | DatabaseSpec,
    dbs: list[LiveDatabase] | LiveDatabase,
    *,
    subscription: dict[str, Any] | None = None,
    prune: bool = False,
    force: bool = False,
) -> Plan:
    """Return the plan for one subscription."""
    specs = [specs] if isinstance(specs, DatabaseSpec) else specs
    dbs = [dbs] if isinstance(dbs, LiveDatabase) else dbs
    return build_plan(
        desired(*specs, prune=prune), live_state(*dbs, subscription=subscription), force=force
    )


def kinds(plan: Plan) -> list[tuple[str, str]]:
    """Return (kind, name) of every action, in order."""
    return [(a.kind.value, a.name) for a in plan.actions]


# --------------------------------------------------------------------------- no-change cases

BACKUP_12H = {
    "enableRemoteBackup": True,
    "interval": "every-12-hours",
    "timeUTC": "02:00",
    "destination": "s3://backups/cache",
}

# (case id, spec fields merged over exact_fields(), live overrides, subscription overrides)
NO_CHANGE_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("exact", {}, {}, {}),
    # §6.1 password: unknown live (list result) → no diff; generated password, spec silent
    ("1-password-missing-live", {}, {"security": {"sourceIps": ["0.0.0.0/0"]}}, {}),
    ("1-password-not-in-spec", {"password": None}, {}, {}),
    (
        "1-memcached-no-password",
        {"protocol": "memcached", "password": None},
        {"protocol": "memcached", "security": {"sourceIps": ["0.0.0.0/0"]}},
        {},
    ),
    # §6.2 sourceIp defaults, order
    ("2-empty-means-public-default", {"sourceIp": []}, {}, {}),
    (
        "2-empty-means-private-default",
        {"sourceIp": []},
        {
            "security": {
                "sourceIps": ["192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"]
            }
        },
        {"publicEndpointAccess": False},
    ),
    ("2-live-empty-is-default", {"sourceIp": []}, {"security": {"sourceIps": []}}, {}),
    (
        "2-order-insignificant",
        {"sourceIp": ["10.0.0.0/16", "192.168.1.0/24"]},
        {"security": {"sourceIps": ["192.168.1.0/24", "10.0.0.0/16"]}},
        {},
    ),
    # §6.3 sizes
    ("3-dataset-float", {"datasetSizeInGb": 2}, {"datasetSizeInGb": 2.0}, {}),
    ("3-dataset-int-vs-float", {"datasetSizeInGb": 0.5}, {"datasetSizeInGb": 0.5}, {}),
    (
        "3-memory-limit-not-managed",
        {"datasetSizeInGb": 3},
        {"datasetSizeInGb": 3.0, "memoryLimitInGb": 6.0},
        {},
    ),
    (
        "3-memory-limit-managed",
        {"datasetSizeInGb": None, "memoryLimitInGb": 7},
        {"memoryLimitInGb": 7.0},
        {},
    ),
    ("3-memory-limit-not-returned", {"datasetSizeInGb": None, "memoryLimitInGb": 7}, {}, {}),
    # §6.4 alerts
    (
        "4-alerts-order-and-extras",
        {"alerts": [{"name": "latency", "value": 5}, {"name": "dataset-size", "value": 80}]},
        {
            "alerts": [
                {"id": "1-2", "name": "dataset-size", "value": 80, "defaultValue": 80},
                {"id": "1-3", "name": "latency", "value": 5.0},
            ]
        },
        {},
    ),
    ("4-alerts-none", {"alerts": []}, {"alerts": None}, {}),
    # §6.5 regex rules
    ("5-default-pair-is-unset", {"regexRules": []}, {}, {}),
    (
        "5-live-empty-rules",
        {"regexRules": []},
        {"clustering": {"numberOfShards": 1, "regexRules": []}},
        {},
    ),
    (
        "5-default-pair-written",
        {"regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"]},
        {"clustering": {"regexRules": []}},
        {},
    ),
    (
        "5-custom-by-ordinal",
        {"regexRules": ["a-(?<tag>.*)", "(?<tag>.*)"]},
        {
            "clustering": {
                "regexRules": [
                    {"ordinal": 1, "pattern": "(?<tag>.*)"},
                    {"ordinal": 0, "pattern": "a-(?<tag>.*)"},
                ]
            }
        },
        {},
    ),
    # §6.6 remote backup
    (
        "6-12h-afternoon-reads-as-morning",
        {
            "remoteBackup": {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "14:00",
                "storageType": "aws-s3",
                "storagePath": "s3://backups/cache",
            }
        },
        {"backup": BACKUP_12H},
        {},
    ),
    (
        "6-inactive-ignores-leftovers",
        {"remoteBackup": {"active": False, "interval": "every-24-hours"}},
        {
            "backup": {
                "enableRemoteBackup": False,
                "interval": "every-12-hours",
                "destination": "s3://old",
            }
        },
        {},
    ),
    ("6-no-backup-object", {"remoteBackup": {"active": False}}, {"backup": None}, {}),
    # §6.7 modules
    (
        "7-redis8-bundled",
        {"redisVersion": "8.2", "modules": []},
        {
            "redisVersion": "8.2",
            "modules": [{"id": 1, "name": "RediSearch"}, {"id": 2, "name": "RedisJSON"}],
        },
        {},
    ),
    (
        "7-redis8-live-only",
        {"modules": [{"name": "RedisJSON"}], "redisVersion": None},
        {"redisVersion": "8.0", "modules": [{"id": 1, "name": "RediSearch"}]},
        {},
    ),
    (
        "7-names-only",
        {"modules": [{"name": "RedisJSON", "parameters": {}}, {"name": "RediSearch"}]},
        {
            "modules": [
                {"id": 2, "name": "RediSearch", "version": "2.8", "capabilityName": "Search"},
                {"id": 1, "name": "RedisJSON", "version": "2.6", "parameters": []},
            ]
        },
        {},
    ),
    # §6.8 server-filled defaults
    ("8-version-as-number", {"redisVersion": 7.4}, {}, {}),
    ("8-version-patch-live", {"redisVersion": "6.0"}, {"redisVersion": "6.0.5"}, {}),
    (
        "8-versions-not-in-spec",
        {"redisVersion": None, "respVersion": None, "queryPerformanceFactor": None},
        {"redisVersion": "7.2", "respVersion": "resp2", "queryPerformanceFactor": "2x"},
        {},
    ),
    (
        "8-qpf-lower-case",
        {"queryPerformanceFactor": "standard"},
        {"queryPerformanceFactor": "Standard"},
        {},
    ),
    (
        "8-qpf-not-returned",
        {"queryPerformanceFactor": "Standard"},
        {"queryPerformanceFactor": None},
        {},
    ),
    # §6.9 enableDefaultUser default
    (
        "9-default-user-default",
        {"enableDefaultUser": True},
        {"security": {"sourceIps": ["0.0.0.0/0"]}},
        {},
    ),
    # §6.10 TLS certificates are write-only
    (
        "10-certs-write-only",
        {
            "enableTls": True,
            "clientTlsCertificates": [{"publicCertificatePEMString": "PEM"}],
            "clientSslCertificate": "PEM",
        },
        {
            "security": {
                "enableTls": True,
                "tlsClientAuthentication": True,
                "sourceIps": ["0.0.0.0/0"],
            }
        },
        {},
    ),
    # §6.11 replica shapes
    (
        "11-replicaof-vs-replica",
        {"replicaOf": ["redis://b:2", "redis://a:1"]},
        {
            "replica": {
                "syncSources": [
                    {"endpoint": "redis://a:1", "encryption": True},
                    {"endpoint": "redis://b:2"},
                ]
            }
        },
        {},
    ),
    (
        "11-replica-vs-replicaof",
        {"replicaOf": None, "replica": {"syncSources": [{"endpoint": "redis://a:1"}]}},
        {"replicaOf": {"endpoints": ["redis://a:1"]}},
        {},
    ),
    ("11-not-a-replica", {"replicaOf": []}, {"replicaOf": None, "replica": None}, {}),
    (
        "11-credentials",
        {"replicaOf": [Secret("redis://u:pw@a:1")]},
        {"replica": {"syncSources": [{"endpoint": "redis://u:pw@a:1"}]}},
        {},
    ),
    # §6.12 volatile fields
    (
        "12-volatile",
        {},
        {
            "memoryUsedInMb": 999,
            "status": "active-change-pending",
            "lastModified": "2030-01-01T00:00:00Z",
            "clustering": {"numberOfShards": 8, "regexRules": DEFAULT_REGEX},
            "provider": "GCP",
            "dynamicEndpoints": {"public": "x:1"},
            "links": [{"rel": "self"}],
        },
        {},
    ),
    # §6.13 throughput compared numerically
    (
        "13-throughput-float",
        {},
        {"throughputMeasurement": {"by": "operations-per-second", "value": 25000.0}},
        {},
    ),
    # §6.14 tags are not managed; their absence or presence never diffs
    ("14-tags", {}, {"tags": [{"key": "team", "value": "a"}]}, {}),
    # §6.16 fields read back elsewhere: the OSS cluster endpoint switch, the memcached user,
    # the deprecated backup path (backup.destination)
    (
        "16-read-back-elsewhere",
        {
            "remoteBackup": None,
            "password": None,
            "useExternalEndpointForOSSClusterApi": True,
            "saslUsername": "mc-abcde",
            "periodicBackupPath": "s3://p",
        },
        {
            "useExternalEndpointForOSSClusterApi": True,
            "backup": {
                "enableRemoteBackup": True,
                "interval": "every-24-hours",
                "destination": "s3://p",
            },
            "security": {"saslUsername": "mc-abcde", "sourceIps": ["0.0.0.0/0"]},
        },
        {},
    ),
    (
        "16-storage-type",
        {
            "remoteBackup": {
                "active": True,
                "interval": "every-12-hours",
                "timeUTC": "02:00",
                "storageType": "google-blob-storage",
                "storagePath": "s3://backups/cache",
            }
        },
        {"backup": BACKUP_12H},
        {},
    ),
]


@pytest.mark.parametrize(
    ("fields", "live_changes", "subscription"),
    [pytest.param(f, lc, s, id=case) for case, f, lc, s in NO_CHANGE_CASES],
)
def test_spec_describing_live_plans_no_change(
    fields: dict[str, Any], live_changes: dict[str, Any], subscription: dict[str, Any]
) -> None:
    spec_fields = {k: v for k, v in {**exact_fields(), **fields}.items() if v is not None}
    plan = plan_of(
        db_spec("cache", spec_fields),
        live_db(51170943, "cache", **live_changes),
        subscription=subscription,
    )
    assert plan.actions == ()
    assert plan.refusals == ()
    assert not plan.has_changes


# --------------------------------------------------------------------------- the example account

SESSIONS_BACKUP = {
    "enableRemoteBackup": True,
    "interval": "every-12-hours",
    "timeUTC": "02:00",
    "destination": "s3://backups/sessions",
}


def example_live() -> LiveState:
    """Return subscription 2001234 of the shared example account (CONTEXT.md)."""
    sessions = live_db(
        51170941,
        "sessions",
        security={
            "enableDefaultUser": True,
            "password": "seed-sessions-password-0000000001",
            "sourceIps": ["10.0.0.0/16"],
        },
        alerts=[{"id": "51170941-1", "name": "dataset-size", "value": 80, "defaultValue": 80}],
        backup=SESSIONS_BACKUP,
    )
    return live_state(
        sessions,
        live_db(51170942, "legacy-cache", redisVersion="7.2", datasetSizeInGb=0.5),
        live_db(51170943, "cache", replication=False, dataEvictionPolicy="allkeys-lru"),
        live_db(51170944, "queue", redisVersion="7.2", dataEvictionPolicy="noeviction"),
        live_db(51170950, "analytics"),
    )


def example_desired(sessions_password: str = "new-sessions-password") -> DesiredState:
    """Return the prod spec of the shared example account."""
    persistence = {"dataPersistence": "aof-every-1-second"}
    return desired(
        db_spec(
            "sessions",
            {
                **persistence,
                "datasetSizeInGb": 2,
                "replication": True,
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
                "dataEvictionPolicy": "volatile-lru",
                "password": Secret(sessions_password),
                "sourceIp": ["10.0.0.0/16"],
                "alerts": [{"name": "dataset-size", "value": 80}],
                "remoteBackup": {
                    "active": True,
                    "interval": "every-12-hours",
                    "timeUTC": "14:00",
                    "storageType": "aws-s3",
                    "storagePath": "s3://backups/sessions",
                },
            },
            lifecycle=Lifecycle(prevent_destroy=True),
        ),
        db_spec(
            "legacy-cache", state="absent", lifecycle=Lifecycle(backup_path="s3://backups/adhoc")
        ),
        db_spec(
            "cache",
            {
                **persistence,
                "redisVersion": "7.4",
                "datasetSizeInGb": 1,
                "replication": False,
                "dataEvictionPolicy": "allkeys-lru",
                "sourceIp": [],
            },
        ),
        db_spec(
            "queue",
            {
                **persistence,
                "redisVersion": "7.4",
                "datasetSizeInGb": 1,
                "replication": True,
                "dataEvictionPolicy": "noeviction",
            },
        ),
        db_spec(
            "reports",
            {
                **persistence,
                "datasetSizeInGb": 5,
                "redisVersion": "7.4",
                "modules": [{"name": "RediSearch"}],
                "password": Secret("reports-password"),
                "enableDefaultUser": True,
                "alerts": [{"name": "throughput-higher-than", "value": 20000}],
            },
            import_=ImportSpec("aws-s3", ("s3://seed/reports.rdb",)),
        ),
    )


def test_example_account_plan() -> None:
    plan = build_plan(example_desired(), example_live(), salt="s")
    assert kinds(plan) == [
        ("update", "sessions"),
        ("upgrade", "queue"),
        ("create", "reports"),
        ("update", "reports"),
        ("import", "reports"),
        ("backup", "legacy-cache"),
        ("delete", "legacy-cache"),
    ]
    assert plan.refusals == ()
    assert plan.unmanaged == (UnmanagedDatabase(SID, 51170950, "analytics"),)
    assert plan.subscriptions == (SubscriptionSummary(SID, "prod", 5, 5),)
    assert plan.fingerprint.startswith("sha256:")


def test_example_sessions_update() -> None:
    update = build_plan(example_desired(), example_live()).actions[0]
    assert update.database_id == 51170941
    assert update.changes == (
        FieldChange("datasetSizeInGb", 1, 2),
        FieldChange(
            "password",
            Secret("seed-sessions-password-0000000001"),
            Secret("new-sessions-password"),
            True,
        ),
    )
    assert isinstance(update.changes[1].before, Secret)
    assert update.request == ApiRequest(
        "PUT",
        "/subscriptions/2001234/databases/51170941",
        {"datasetSizeInGb": 2, "password": Secret("new-sessions-password")},
    )
    assert isinstance(update.request.body["password"], Secret)


def test_example_unchanged_password_is_not_updated() -> None:
    plan = build_plan(example_desired("seed-sessions-password-0000000001"), example_live())
    (update,) = [a for a in plan.actions if a.name == "sessions"]
    assert update.request.body == {"datasetSizeInGb": 2}


def test_example_queue_upgrade() -> None:
    upgrade = build_plan(example_desired(), example_live()).actions[1]
    assert upgrade == PlannedAction(
        ActionKind.UPGRADE,
        SID,
        51170944,
        "queue",
        (FieldChange("redisVersion", "7.2", "7.4"),),
        ApiRequest(
            "POST",
            "/subscriptions/2001234/databases/51170944/upgrade",
            {"targetRedisVersion": "7.4"},
        ),
    )


def test_example_reports_create_follow_up_and_import() -> None:
    create, follow_up, import_ = build_plan(example_desired(), example_live()).actions[2:5]
    assert create.request == ApiRequest(
        "POST",
        "/subscriptions/2001234/databases",
        {
            "name": "reports",
            "dataPersistence": "aof-every-1-second",
            "datasetSizeInGb": 5,
            "redisVersion": "7.4",
            "modules": [{"name": "RediSearch"}],
            "password": Secret("reports-password"),
            "alerts": [{"name": "throughput-higher-than", "value": 20000}],
        },
    )
    assert create.database_id is None
    assert create.changes[0] == FieldChange("dataPersistence", None, "aof-every-1-second")
    assert FieldChange("password", None, Secret("reports-password"), True) in create.changes
    assert [c.path for c in create.changes] == [k for k in create.request.body if k != "name"]
    assert follow_up == PlannedAction(
        ActionKind.UPDATE,
        SID,
        None,
        "reports",
        (FieldChange("enableDefaultUser", None, True),),
        ApiRequest(
            "PUT",
            f"/subscriptions/2001234/databases/{NEW_DATABASE_ID}",
            {"enableDefaultUser": True},
        ),
        "fields the create call does not accept",
    )
    assert import_.kind is ActionKind.IMPORT
    assert import_.request == ApiRequest(
        "POST",
        f"/subscriptions/2001234/databases/{NEW_DATABASE_ID}/import",
        {"sourceType": "aws-s3", "importFromUri": ["s3://seed/reports.rdb"]},
    )


def test_example_legacy_cache_backup_then_delete() -> None:
    backup, delete = build_plan(example_desired(), example_live()).actions[5:]
    assert backup == PlannedAction(
        ActionKind.BACKUP,
        SID,
        51170942,
        "legacy-cache",
        (FieldChange("destination", None, "s3://backups/adhoc"),),
        ApiRequest(
            "POST",
            "/subscriptions/2001234/databases/51170942/backup",
            {"adhocBackupPath": "s3://backups/adhoc"},
        ),
        "before delete",
    )
    assert delete == PlannedAction(
        ActionKind.DELETE,
        SID,
        51170942,
        "legacy-cache",
        (),
        ApiRequest("DELETE", "/subscriptions/2001234/databases/51170942"),
        "state: absent",
    )


def test_no_secret_in_clear_anywhere_in_the_plan() -> None:
    plan = build_plan(example_desired(), example_live(), salt="s")
    text = repr(plan)
    for secret in (
        "seed-sessions-password-0000000001",
        "new-sessions-password",
        "reports-password",
    ):
        assert secret not in text


# --------------------------------------------------------------------------- updates


def test_update_sends_only_changed_fields_in_request_form() -> None:
    fields = {
        **exact_fields(),
        "alerts": [{"name": "dataset-size", "value": 90}, {"name": "latency", "value": 5}],
        "sourceIp": [],
        "remoteBackup": {
            "active": True,
            "interval": "every-6-hours",
            "storageType": "aws-s3",
            "storagePath": "s3://b",
        },
        "datasetSizeInGb": 1.0,
    }
    live = live_db(
        1,
        "cache",
        alerts=[{"name": "dataset-size", "value": 80}],
        security={"sourceIps": ["10.0.0.0/16"], "password": "live-password-of-cache"},
    )
    (update,) = plan_of(db_spec("cache", fields), live).actions
    assert update.request.body == {
        "sourceIp": [],
        "alerts": [{"name": "dataset-size", "value": 90}, {"name": "latency", "value": 5}],
        "remoteBackup": {
            "active": True,
            "interval": "every-6-hours",
            "storageType": "aws-s3",
            "storagePath": "s3://b",
        },
    }
    assert update.changes == (
        FieldChange("sourceIp", ["10.0.0.0/16"], []),
        FieldChange(
            "alerts",
            [{"name": "dataset-size", "value": 80}],
            [{"name": "dataset-size", "value": 90}, {"name": "latency", "value": 5}],
        ),
        FieldChange("remoteBackup.active", False, True),
        FieldChange("remoteBackup.interval", None, "every-6-hours"),
        FieldChange("remoteBackup.storagePath", None, "s3://b"),
    )


def test_disabling_remote_backup() -> None:
    fields = {"remoteBackup": {"active": False}}
    (update,) = plan_of(db_spec("cache", fields), live_db(1, "cache", backup=BACKUP_12H)).actions
    assert update.request.body == {"remoteBackup": {"active": False}}
    assert update.changes == (FieldChange("remoteBackup.active", True, False),)


def test_regex_rules_change_sends_the_pattern_list() -> None:
    fields = {"regexRules": ["user-(?<tag>.*)", "(?<tag>.*)"]}
    (update,) = plan_of(db_spec("cache", fields), live_db(1, "cache")).actions
    assert update.request.body == fields
    assert update.changes == (FieldChange("regexRules", [], ["user-(?<tag>.*)", "(?<tag>.*)"]),)


def test_enabling_tls_and_default_user_changes() -> None:
    fields = {"enableTls": True, "enableDefaultUser": False}
    (update,) = plan_of(db_spec("cache", fields), live_db(1, "cache")).actions
    assert update.request.body == {"enableTls": True, "enableDefaultUser": False}


DB1 = "/subscriptions/2001234/databases/1"
OLD_PW = Secret("live-password-of-cache")
NEW_PW = Secret("new-password-of-cache")
PASSWORD_CHANGE = FieldChange("password", OLD_PW, NEW_PW, True)
ENABLED_USER = api_db(1, "cache")["security"]
DISABLED_USER = {**ENABLED_USER, "enableDefaultUser": False}
PASSWORD_REFUSAL = Refusal(
    RefusalRule.PASSWORD_WHILE_DEFAULT_USER_DISABLED,
    SID,
    "subscription 2001234 database 'cache' (db 1): the password cannot change while the "
    "default user is disabled (the API refuses it); set enableDefaultUser: true, or keep the "
    "live password (leave password out of the spec or list it in lifecycle.ignoreChanges)",
    "cache",
    1,
    "password",
)


def test_disabling_default_user_goes_after_the_new_password() -> None:
    fields = {"datasetSizeInGb": 2, "password": NEW_PW, "enableDefaultUser": False}
    plan = plan_of(db_spec("cache", fields), live_db(1, "cache"))
    assert plan.refusals == ()
    assert plan.actions == (
        PlannedAction(
            ActionKind.UPDATE,
            SID,
            1,
            "cache",
            (FieldChange("datasetSizeInGb", 1, 2), PASSWORD_CHANGE),
            ApiRequest("PUT", DB1, {"datasetSizeInGb": 2, "password": NEW_PW}),
        ),
        PlannedAction(
            ActionKind.UPDATE,
            SID,
            1,
            "cache",
            (FieldChange("enableDefaultUser", True, False),),
            ApiRequest("PUT", DB1, {"enableDefaultUser": False}),
            "after the password: the API refuses both in one request",
        ),
    )
    assert isinstance(plan.actions[0].request.body["password"], Secret)


def test_enabling_default_user_goes_before_the_new_password() -> None:
    fields = {"datasetSizeInGb": 2, "password": NEW_PW, "enableDefaultUser": True}
    plan = plan_of(db_spec("cache", fields), live_db(1, "cache", security=DISABLED_USER))
    assert plan.refusals == ()
    assert plan.actions == (
        PlannedAction(
            ActionKind.UPDATE,
            SID,
            1,
            "cache",
            (FieldChange("enableDefaultUser", False, True),),
            ApiRequest("PUT", DB1, {"enableDefaultUser": True}),
            "before the password: the API refuses a new password while the default user is "
            "disabled",
        ),
        PlannedAction(
            ActionKind.UPDATE,
            SID,
            1,
            "cache",
            (FieldChange("datasetSizeInGb", 1, 2), PASSWORD_CHANGE),
            ApiRequest("PUT", DB1, {"datasetSizeInGb": 2, "password": NEW_PW}),
        ),
    )


@pytest.mark.parametrize(
    ("fields", "bodies"),
    [
        ({"password": NEW_PW}, []),
        ({"password": NEW_PW, "enableDefaultUser": False}, []),
        ({"password": NEW_PW, "datasetSizeInGb": 2}, [{"datasetSizeInGb": 2}]),
    ],
)
def test_new_password_for_a_disabled_default_user_refuses(
    fields: dict[str, Any], bodies: list[dict[str, Any]]
) -> None:
    plan = plan_of(db_spec("cache", fields), live_db(1, "cache", security=DISABLED_USER))
    assert plan.refusals == (PASSWORD_REFUSAL,)
    assert [a.request.body for a in plan.actions] == bodies


def test_ignored_default_user_switch_still_refuses_the_password() -> None:
    fields = {"password": NEW_PW, "enableDefaultUser": True}
    spec = db_spec("cache", fields, lifecycle=Lifecycle(ignore_changes=("enableDefaultUser",)))
    plan = plan_of(spec, live_db(1, "cache", security=DISABLED_USER))
    assert (plan.actions, plan.refusals) == ((), (PASSWORD_REFUSAL,))


@pytest.mark.parametrize(
    ("fields", "security", "bodies"),
    [
        ({"enableDefaultUser": False}, ENABLED_USER, [{"enableDefaultUser": False}]),
        ({"password": NEW_PW}, ENABLED_USER, [{"password": NEW_PW}]),
        ({"password": NEW_PW, "enableDefaultUser": True}, ENABLED_USER, [{"password": NEW_PW}]),
        ({"password": OLD_PW, "enableDefaultUser": False}, DISABLED_USER, []),
        ({"password": OLD_PW}, DISABLED_USER, []),
        ({"enableDefaultUser": True}, DISABLED_USER, [{"enableDefaultUser": True}]),
    ],
)
def test_default_user_and_password_in_one_update_when_allowed(
    fields: dict[str, Any], security: dict[str, Any], bodies: list[dict[str, Any]]
) -> None:
    plan = plan_of(db_spec("cache", fields), live_db(1, "cache", security=security))
    assert plan.refusals == ()
    assert [a.request.body for a in plan.actions] == bodies
    assert all(a.reason == "" for a in plan.actions)


def test_backup_before_update_comes_before_both_updates() -> None:
    fields = {"password": NEW_PW, "enableDefaultUser": False}
    spec = db_spec("cache", fields, lifecycle=Lifecycle(backup_before_update=True))
    plan = plan_of(spec, live_db(1, "cache", backup=BACKUP_12H))
    assert kinds(plan) == [("backup", "cache"), ("update", "cache"), ("update", "cache")]
    assert [a.request.body for a in plan.actions] == [
        {},
        {"password": NEW_PW},
        {"enableDefaultUser": False},
    ]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"queryPerformanceFactor": "2x"}, "queryPerformanceFactor"),
        ({"respVersion": "resp2"}, "respVersion"),
        ({"replicaOf": ["redis://a:1"]}, "replicaOf"),
        (
            {"throughputMeasurement": {"by": "operations-per-second", "value": 50000}},
            "throughputMeasurement.value",
        ),
        ({"memoryLimitInGb": 4}, "memoryLimitInGb"),
    ],
)
def test_managed_field_drift_is_an_update(fields: dict[str, Any], path: str) -> None:
    live = live_db(1, "cache", memoryLimitInGb=2)
    (update,) = plan_of(db_spec("cache", fields), live).actions
    assert [c.path for c in update.changes] == [path]
    assert update.request.body == fields


def test_replica_credentials_are_sensitive() -> None:
    fields = {"replicaOf": [Secret("redis://u:new@a:1")]}
    live = live_db(1, "cache", replicaOf={"endpoints": ["redis://u:old@a:1"]})
    (update,) = plan_of(db_spec("cache", fields), live).actions
    (change,) = update.changes
    assert change.sensitive
    assert "old" not in repr(change)
    assert "new" not in repr(update)


def test_ignore_changes_removes_fields() -> None:
    fields = {
        "datasetSizeInGb": 2,
        "throughputMeasurement": {"by": "operations-per-second", "value": 1},
    }
    spec = db_spec("cache", fields, lifecycle=Lifecycle(ignore_changes=("throughputMeasurement",)))
    (update,) = plan_of(spec, live_db(1, "cache")).actions
    assert update.request.body == {"datasetSizeInGb": 2}


def test_ignore_changes_can_silence_everything() -> None:
    spec = db_spec(
        "cache",
        {"protocol": "memcached", "redisVersion": "7.2"},
        lifecycle=Lifecycle(ignore_changes=("protocol", "redisVersion")),
    )
    plan = plan_of(spec, live_db(1, "cache"))
    assert plan.actions == ()
    assert plan.refusals == ()


def test_upgrade_comes_before_update() -> None:
    plan = plan_of(db_spec("q", {"redisVersion": "8.2", "datasetSizeInGb": 3}), live_db(7, "q"))
    assert kinds(plan) == [("upgrade", "q"), ("update", "q")]
    assert plan.actions[0].request.body == {"targetRedisVersion": "8.2"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"datasetSizeInGb": 3}, [("backup", "q"), ("update", "q")]),
        ({"redisVersion": "8.2"}, [("backup", "q"), ("upgrade", "q")]),
        ({"datasetSizeInGb": 1}, []),
    ],
)
def test_backup_before_update(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    spec = db_spec("q", fields, lifecycle=Lifecycle(backup_before_update=True))
    plan = plan_of(spec, live_db(7, "q", backup=BACKUP_12H))
    assert kinds(plan) == expected
    if expected:
        backup = plan.actions[0]
        assert backup.reason == "before update"
        assert backup.request == ApiRequest("POST", "/subscriptions/2001234/databases/7/backup", {})
        assert backup.changes == (FieldChange("destination", None, "s3://backups/cache"),)


# --------------------------------------------------------------------------- creates


def test_create_sends_every_create_field_and_follows_up_with_the_rest() -> None:
    fields = {
        "protocol": "redis",
        "port": 12001,
        "datasetSizeInGb": 0.5,
        "sourceIp": [],
        "enableDefaultUser": False,
        "regexRules": ["a-(?<tag>.*)", "(?<tag>.*)"],
        "shardingType": "custom-regex-rules",
        "averageItemSizeInBytes": 2000,
        "clientTlsCertificates": [{"publicCertificatePEMString": "PEM"}],
    }
    create, follow_up = plan_of(db_spec("new", fields), []).actions
    assert create.request.body == {
        "name": "new",
        "protocol": "redis",
        "port": 12001,
        "datasetSizeInGb": 0.5,
        "sourceIp": [],
        "shardingType": "custom-regex-rules",
        "averageItemSizeInBytes": 2000,
        "clientTlsCertificates": [{"publicCertificatePEMString": "PEM"}],
    }
    assert follow_up.request == ApiRequest(
        "PUT",
        "/subscriptions/2001234/databases/{databaseId}",
        {"enableDefaultUser": False, "regexRules": ["a-(?<tag>.*)", "(?<tag>.*)"]},
    )
    assert follow_up.reason == "fields the create call does not accept"


def test_create_sets_the_password_and_disables_the_default_user_after() -> None:
    fields = {"password": NEW_PW, "enableDefaultUser": False}
    create, follow_up = plan_of(db_spec("new", fields), []).actions
    assert create.request.body == {"name": "new", "password": NEW_PW}
    assert follow_up.request.body == {"enableDefaultUser": False}
    assert follow_up.reason == "fields the create call does not accept"


def test_create_without_follow_up_fields_is_one_action() -> None:
    (create,) = plan_of(db_spec("new", {"datasetSizeInGb": 1}), []).actions
    assert create.kind is ActionKind.CREATE
    assert create.changes == (FieldChange("datasetSizeInGb", None, 1),)


def test_import_with_credentials_keeps_them_secret() -> None:
    uri = Secret("ftp://user:pw@host/dump.rdb")
    spec = db_spec("new", {}, import_=ImportSpec("ftp", (uri,)))
    _, import_ = plan_of(spec, []).actions
    assert import_.request.body == {"sourceType": "ftp", "importFromUri": [uri]}
    assert FieldChange("importFromUri", None, [uri], True) in import_.changes
    assert "pw" not in repr(import_)


def test_import_of_an_existing_database_is_not_planned() -> None:
    spec = db_spec("cache", {}, import_=ImportSpec("aws-s3", ("s3://x",)))
    assert plan_of(spec, live_db(1, "cache")).actions == ()


def test_clear_password_in_spec_is_wrapped() -> None:
    (create,) = plan_of(db_spec("new", {"password": "clear"}), []).actions
    assert isinstance(create.request.body["password"], Secret)
    assert create.changes[0].sensitive


def test_identity_is_the_name() -> None:
    plan = plan_of(db_spec("renamed", {}), live_db(1, "original"))
    assert kinds(plan) == [("create", "renamed")]
    assert plan.unmanaged == (UnmanagedDatabase(SID, 1, "original"),)


# --------------------------------------------------------------------------- deletes


def test_absent_database_that_does_not_exist_is_no_action() -> None:
    plan = plan_of(db_spec("gone", state="absent"), live_db(1, "other"))
    assert plan.actions == ()
    assert plan.refusals == ()


def test_deletes_come_last_each_after_its_backup() -> None:
    specs = [
        db_spec("a", state="absent", lifecycle=Lifecycle(backup_before_delete=False)),
        db_spec("b", {"datasetSizeInGb": 3}),
        db_spec("c", state="absent"),
        db_spec("d", {"datasetSizeInGb": 3}),
    ]
    dbs = [live_db(1, "a"), live_db(2, "b"), live_db(3, "c", backup=BACKUP_12H), live_db(4, "d")]
    plan = plan_of(specs, dbs + [live_db(i, f"x{i}") for i in range(10, 20)])
    assert kinds(plan) == [
        ("update", "b"),
        ("update", "d"),
        ("delete", "a"),
        ("backup", "c"),
        ("delete", "c"),
    ]
    assert plan.actions[3].request.body == {}


def test_configured_backup_location_is_preferred_to_backup_path() -> None:
    spec = db_spec("c", state="absent", lifecycle=Lifecycle(backup_path="s3://adhoc"))
    backup, _ = plan_of(spec, [live_db(3, "c", backup=BACKUP_12H), *others(4)]).actions
    assert backup.request.body == {}


def others(count: int) -> list[LiveDatabase]:
    """Return ``count`` unrelated live databases (to stay under the delete threshold)."""
    return [live_db(100 + i, f"other-{i}") for i in range(count)]


def test_backup_paths_with_credentials_stay_secret() -> None:
    adhoc = db_spec("c", state="absent", lifecycle=Lifecycle(backup_path="ftp://u:pw@h/adhoc"))
    backup, _ = plan_of(adhoc, [live_db(3, "c"), *others(4)]).actions
    assert backup.request.body == {"adhocBackupPath": Secret("ftp://u:pw@h/adhoc")}
    assert backup.changes == (FieldChange("destination", None, Secret("ftp://u:pw@h/adhoc"), True),)
    configured = {**BACKUP_12H, "destination": "ftp://u:pw@h/db"}
    backup, _ = plan_of(
        db_spec("c", state="absent"), [live_db(3, "c", backup=configured), *others(4)]
    ).actions
    assert backup.request.body == {}
    assert backup.changes[0].sensitive
    assert "pw" not in repr(backup)


def test_backup_needed_without_location_refuses() -> None:
    plan = plan_of(db_spec("c", state="absent"), [live_db(3, "c"), *others(4)])
    assert kinds(plan) == [("delete", "c")]
    assert plan.refusals == (
        Refusal(
            RefusalRule.NO_BACKUP_LOCATION,
            SID,
            "subscription 2001234 database 'c' (db 3): a backup is required before delete but "
            "the database has no backup location and no lifecycle.backupPath",
            "c",
            3,
        ),
    )


def test_backup_before_update_without_location_refuses() -> None:
    spec = db_spec("c", {"datasetSizeInGb": 2}, lifecycle=Lifecycle(backup_before_update=True))
    plan = plan_of(spec, live_db(3, "c"))
    assert kinds(plan) == [("update", "c")]
    assert plan.refusals == (
        Refusal(
            RefusalRule.NO_BACKUP_LOCATION,
            SID,
            "subscription 2001234 database 'c' (db 3): a backup is required before update but "
            "the database has no backup location and no lifecycle.backupPath",
            "c",
            3,
        ),
    )


def test_prevent_destroy_refuses() -> None:
    spec = db_spec(
        "c", state="absent", lifecycle=Lifecycle(prevent_destroy=True, backup_before_delete=False)
    )
    plan = plan_of(spec, [live_db(3, "c"), *others(4)])
    assert kinds(plan) == [("delete", "c")]
    assert plan.refusals == (
        Refusal(
            RefusalRule.PREVENT_DESTROY,
            SID,
            "subscription 2001234 database 'c' (db 3): lifecycle.preventDestroy is set but the "
            "plan would delete it",
            "c",
            3,
        ),
    )


def test_prune_deletes_unnamed_databases_after_a_backup() -> None:
    dbs = [live_db(1, "kept"), live_db(2, "stray", backup=BACKUP_12H), *others(3)]
    plan = plan_of([db_spec("kept"), *[db_spec(f"other-{i}") for i in range(3)]], dbs, prune=True)
    assert kinds(plan) == [("backup", "stray"), ("delete", "stray")]
    assert plan.actions[1].reason == "named in no file; prune is on"
    assert plan.unmanaged == ()


def test_pruned_database_without_location_refuses_with_a_hint() -> None:
    plan = plan_of(
        [db_spec(f"other-{i}") for i in range(4)], [live_db(2, "stray"), *others(4)], prune=True
    )
    assert plan.refusals == (
        Refusal(
            RefusalRule.NO_BACKUP_LOCATION,
            SID,
            "subscription 2001234 database 'stray' (db 2): a backup is required before delete "
            "but the database has no backup location and no lifecycle.backupPath; name it in a "
            "file with state: absent and a lifecycle.backupPath (or backupBeforeDelete: false)",
            "stray",
            2,
        ),
    )


def test_unmanaged_when_prune_is_off() -> None:
    plan = plan_of([], [live_db(2, "stray"), live_db(3, "other")])
    assert plan.actions == ()
    assert plan.unmanaged == (
        UnmanagedDatabase(SID, 2, "stray"),
        UnmanagedDatabase(SID, 3, "other"),
    )


@pytest.mark.parametrize(
    ("live_count", "deleted", "refused"),
    [(3, 3, False), (4, 1, False), (4, 2, True), (10, 3, False), (10, 4, True), (5, 2, True)],
)
def test_delete_threshold(live_count: int, deleted: int, refused: bool) -> None:
    dbs = [live_db(i, f"db-{i}", backup=BACKUP_12H) for i in range(live_count)]
    specs = [db_spec(f"db-{i}", state="absent") for i in range(deleted)]
    plan = plan_of(specs, dbs)
    assert plan.count(ActionKind.DELETE) == deleted
    expected = (
        f'subscription 2001234 "prod": the plan deletes {deleted} of its {live_count} live '
        "databases, more than 30 %; use --force to allow it"
    )
    refusal = Refusal(RefusalRule.DELETE_THRESHOLD, SID, expected)
    assert plan.refusals == ((refusal,) if refused else ())
    assert plan_of(specs, dbs, force=True).refusals == ()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("fields", "live_changes", "message"),
    [
        ({"protocol": "memcached"}, {}, "protocol cannot change from 'redis' to 'memcached'"),
        ({"port": 13000}, {}, "port cannot change from 12000 to 13000"),
        (
            {"modules": [{"name": "RediSearch"}]},
            {"modules": [{"id": 1, "name": "RedisJSON"}]},
            "modules cannot change from ['RedisJSON'] to ['RediSearch']",
        ),
        (
            {"shardingType": "redis-oss-hashing"},
            {"shardingType": "default-regex-rules"},
            "shardingType cannot change from 'default-regex-rules' to 'redis-oss-hashing'",
        ),
    ],
)
def test_create_only_field_change_refuses(
    fields: dict[str, Any], live_changes: dict[str, Any], message: str
) -> None:
    plan = plan_of(
        db_spec("cache", {**fields, "datasetSizeInGb": 2}),
        live_db(51170943, "cache", **live_changes),
    )
    assert plan.refusals == (
        Refusal(
            RefusalRule.CREATE_ONLY,
            SID,
            f"subscription 2001234 database 'cache' (db 51170943): {message} on an existing "
            "database; Redis Cloud would have to recreate it (delete it and create it again)",
            "cache",
            51170943,
            next(iter(fields)),
        ),
    )
    (update,) = plan.actions
    assert update.request.body == {"datasetSizeInGb": 2}


def test_redis_version_down_refuses() -> None:
    plan = plan_of(db_spec("q", {"redisVersion": "7.2"}), live_db(7, "q"))
    assert plan.actions == ()
    assert plan.refusals == (
        Refusal(
            RefusalRule.DOWNGRADE,
            SID,
            "subscription 2001234 database 'q' (db 7): redisVersion cannot go down from '7.4' to "
            "'7.2'; Redis Cloud only upgrades",
            "q",
            7,
            "redisVersion",
        ),
    )


def test_incomparable_redis_versions_refuse() -> None:
    plan = plan_of(db_spec("q", {"redisVersion": "latest"}), live_db(7, "q"))
    assert plan.refusals == (
        Refusal(
            RefusalRule.VERSION_NOT_COMPARABLE,
            SID,
            "subscription 2001234 database 'q' (db 7): redisVersion cannot change from '7.4' to "
            "'latest': they are not comparable versions",
            "q",
            7,
            "redisVersion",
        ),
    )


def test_missing_subscription_refuses() -> None:
    plan = build_plan(desired(db_spec("a"), sid=2009999), LiveState({}, missing=(2009999,)))
    assert plan.actions == ()
    assert plan.subscriptions == (SubscriptionSummary(2009999, "", 0, 1),)
    assert plan.refusals == (
        Refusal(
            RefusalRule.MISSING_SUBSCRIPTION,
            2009999,
            "subscription 2009999 does not exist (or this API key cannot see it)",
        ),
    )


def test_active_active_subscription_refuses() -> None:
    plan = plan_of(
        db_spec("a", {"datasetSizeInGb": 9}),
        live_db(1, "a"),
        subscription={"deploymentType": "active-active"},
    )
    assert plan.actions == ()
    assert plan.refusals == (
        Refusal(
            RefusalRule.NOT_SINGLE_REGION,
            SID,
            'subscription 2001234 "prod" is not a Pro single-region subscription '
            "(deploymentType 'active-active'); reconciler manages only those",
        ),
    )


# --------------------------------------------------------------------------- subscriptions


def test_subscriptions_named_twice_are_merged() -> None:
    first = SubscriptionSpec(SID, False, (db_spec("a"),), HERE)
    second = SubscriptionSpec(SID, True, (db_spec("b"),), HERE)
    (merged,) = merge_subscriptions(DesiredState((first, second)))
    assert merged.prune is True
    assert [d.name for d in merged.databases] == ["a", "b"]


def test_two_subscriptions_keep_deletes_last() -> None:
    live = LiveState(
        {
            1: LiveSubscription(
                1,
                "one",
                "active",
                {**SUBSCRIPTION, "id": 1},
                (live_db(10, "x", backup=BACKUP_12H), *others(4)),
            ),
            2: LiveSubscription(2, "two", "active", {**SUBSCRIPTION, "id": 2}, ()),
        }
    )
    state = DesiredState(
        (
            SubscriptionSpec(1, False, (DatabaseSpec(1, "x", {}, HERE, state="absent"),), HERE),
            SubscriptionSpec(2, False, (DatabaseSpec(2, "y", {"datasetSizeInGb": 1}, HERE),), HERE),
        )
    )
    plan = build_plan(state, live)
    assert kinds(plan) == [("create", "y"), ("backup", "x"), ("delete", "x")]
    assert plan.subscriptions == (
        SubscriptionSummary(1, "one", 5, 1),
        SubscriptionSummary(2, "two", 0, 1),
    )


def test_same_input_same_plan() -> None:
    assert build_plan(example_desired(), example_live(), salt="x") == build_plan(
        example_desired(), example_live(), salt="x"
    )


def test_live_state_is_not_modified() -> None:
    live = example_live()
    before = copy.deepcopy([dict(db.raw) for db in live.subscriptions[SID].databases])
    build_plan(example_desired(), live)
    assert [dict(db.raw) for db in live.subscriptions[SID].databases] == before


def test_refusals_keep_subscription_order_and_print_as_their_message() -> None:
    first = SubscriptionSpec(
        SID,
        False,
        (db_spec("cache", {"port": 13000}), db_spec("c", state="absent")),
        HERE,
    )
    missing = SubscriptionSpec(2009999, False, (db_spec("a"),), HERE)
    live = live_state(live_db(1, "cache"), live_db(3, "c"))
    plan = build_plan(DesiredState((first, missing)), live)
    assert [(r.rule, r.subscription_id, r.database_id, r.field) for r in plan.refusals] == [
        (RefusalRule.CREATE_ONLY, SID, 1, "port"),
        (RefusalRule.NO_BACKUP_LOCATION, SID, 3, None),
        (RefusalRule.MISSING_SUBSCRIPTION, 2009999, None, None),
    ]
    assert [str(r) for r in plan.refusals] == [r.message for r in plan.refusals]
    assert str(plan.refusals[2]) == (
        "subscription 2009999 does not exist (or this API key cannot see it)"
    )
