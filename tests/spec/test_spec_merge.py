"""Tests for reconciler.spec.merge: subscriptions merged by id, defaults, secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.compare import SECRET_FIELDS
from reconciler.errors import SpecError
from reconciler.model import DatabaseSpec, DesiredState, ImportSpec, Lifecycle
from reconciler.secrets import Secret
from reconciler.spec import load_spec

SPECS = Path(__file__).resolve().parents[1] / "specs"
BEGIN, END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
HEAD = "version: 1\nsubscriptions:\n"


def load(tmp_path: Path, files: dict[str, str], env: dict[str, str] | None = None) -> DesiredState:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return load_spec([str(tmp_path / name) for name in files], env or {})


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, files)
    return [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems]


def database(state: DesiredState, name: str) -> DatabaseSpec:
    return next(d for s in state.subscriptions for d in s.databases if d.name == name)


def test_subscriptions_merge_by_id_in_first_seen_order(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        {
            "b.yaml": HEAD + "  - id: 2\n    databases: [{name: b1}]\n"
            "  - id: 1\n    databases: [{name: a1}]\n"
            "  - id: 2\n    databases: [{name: b2}]\n",
            "a.yaml": HEAD + "  - id: 1\n    databases: [{name: a2}, {name: a3}]\n  - id: 3\n",
        },
    )
    assert [(s.id, [d.name for d in s.databases]) for s in state.subscriptions] == [
        (2, ["b1", "b2"]),
        (1, ["a1", "a2", "a3"]),
        (3, []),
    ]
    assert state.files == (str(tmp_path / "b.yaml"), str(tmp_path / "a.yaml"))
    assert state.subscriptions[0].location.line == 3
    assert all(d.subscription_id == 1 for d in state.subscriptions[1].databases)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [("", "", False), ("prune: true", "", True), ("", "prune: true", True),
     ("prune: false", "prune: false", False), ("prune: true", "prune: true", True)],
)  # fmt: skip
def test_prune_may_be_written_once_or_agree(
    tmp_path: Path, first: str, second: str, expected: bool
) -> None:
    files = {
        "a.yaml": HEAD + f"  - id: 1\n    {first}\n",
        "b.yaml": HEAD + f"  - id: 1\n    {second}\n",
    }
    assert load(tmp_path, files).subscriptions[0].prune is expected


def test_conflicting_prune_names_both_places(tmp_path: Path) -> None:
    files = {
        "a.yaml": HEAD + "  - id: 1\n    prune: true\n",
        "b.yaml": HEAD + "  - id: 1\n    prune: false\n  - id: 1\n    prune: false\n",
    }
    assert problems(tmp_path, files) == [
        "b.yaml:4:12: subscriptions[0].prune: conflicting prune for subscription 1: false here, "
        "true at a.yaml:4:12",
        "b.yaml:6:12: subscriptions[1].prune: conflicting prune for subscription 1: false here, "
        "true at a.yaml:4:12",
    ]


def test_duplicate_database_names_are_per_subscription(tmp_path: Path) -> None:
    files = {
        "a.yaml": HEAD + "  - id: 1\n    databases: [{name: x}]\n"
        "  - id: 2\n    databases: [{name: x}]\n",
        "b.yaml": HEAD + "  - id: 1\n    databases:\n      - {name: x, state: absent}\n",
    }
    assert problems(tmp_path, files) == [
        "b.yaml:5:16: subscriptions[0].databases[0].name: database 'x' is defined twice: here "
        "and at a.yaml:4:24"
    ]


def test_duplicates_are_found_in_files_with_other_problems(tmp_path: Path) -> None:
    files = {
        "a.yaml": HEAD + "  - id: 1\n    databases: [{name: x, port: 1}]\n",
        "b.yaml": HEAD + "  - id: 1\n    prune: maybe\n    databases: [{name: x}, 5]\n",
    }
    assert problems(tmp_path, files) == [
        "a.yaml:4:33: subscriptions[0].databases[0].port: 1 is less than the minimum of 10000",
        "b.yaml:4:12: subscriptions[0].prune: expected true or false, got 'maybe'",
        "b.yaml:5:24: subscriptions[0].databases[0].name: database 'x' is defined twice: here "
        "and at a.yaml:4:24",
        "b.yaml:5:28: subscriptions[0].databases[1]: expected a mapping, got 5",
    ]


DEFAULTS = """\
  - id: 1
    defaults:
      dataPersistence: aof-every-1-second
      alerts: [{name: dataset-size, value: 80}]
      remoteBackup: {active: true, interval: every-12-hours, storageType: aws-s3,
                     storagePath: s3://default}
      lifecycle: {backupBeforeUpdate: true, ignoreChanges: [alerts]}
    databases:
      - name: plain
      - name: own
        datasetSizeInGb: 2
        remoteBackup: {active: false}
        dataPersistence: none
        lifecycle: {preventDestroy: true, ignoreChanges: []}
"""


def test_defaults_merge_under_each_database_field_by_field(tmp_path: Path) -> None:
    state = load(tmp_path, {"a.yaml": HEAD + DEFAULTS})
    plain, own = state.subscriptions[0].databases
    assert list(plain.fields.items()) == [
        ("dataPersistence", "aof-every-1-second"),
        ("alerts", [{"name": "dataset-size", "value": 80}]),
        (
            "remoteBackup",
            {"active": True, "interval": "every-12-hours", "storageType": "aws-s3",
             "storagePath": "s3://default"},
        ),
    ]  # fmt: skip
    # The database's own fields first, in written order, then the defaults it lacks; a
    # mapping written on the database replaces the default whole.
    assert list(own.fields.items()) == [
        ("datasetSizeInGb", 2),
        ("remoteBackup", {"active": False}),
        ("dataPersistence", "none"),
        ("alerts", [{"name": "dataset-size", "value": 80}]),
    ]


def test_lifecycle_defaults_merge_key_by_key(tmp_path: Path) -> None:
    state = load(tmp_path, {"a.yaml": HEAD + DEFAULTS})
    plain, own = state.subscriptions[0].databases
    assert plain.lifecycle == Lifecycle(backup_before_update=True, ignore_changes=("alerts",))
    assert own.lifecycle == Lifecycle(
        prevent_destroy=True, backup_before_update=True, ignore_changes=()
    )


def test_defaults_are_copied_per_database(tmp_path: Path) -> None:
    state = load(tmp_path, {"a.yaml": HEAD + DEFAULTS})
    plain, own = state.subscriptions[0].databases
    assert plain.fields["alerts"] == own.fields["alerts"]
    assert plain.fields["alerts"] is not own.fields["alerts"]
    assert plain.fields["alerts"][0] is not own.fields["alerts"][0]


def test_defaults_apply_only_beside_them(tmp_path: Path) -> None:
    files = {
        "a.yaml": HEAD + "  - id: 1\n    defaults: {replication: false}\n"
        "    databases: [{name: a}]\n",
        "b.yaml": HEAD + "  - id: 1\n    databases: [{name: b}]\n",
    }
    state = load(tmp_path, files)
    assert database(state, "a").fields == {"replication": False}
    assert database(state, "b").fields == {}


def test_size_from_defaults_cannot_be_combined(tmp_path: Path) -> None:
    text = HEAD + "  - id: 1\n    defaults: {datasetSizeInGb: 1}\n    databases:\n"
    text += "      - {name: a, memoryLimitInGb: 2}\n      - {name: b}\n"
    assert problems(tmp_path, {"a.yaml": text}) == [
        "a.yaml:6:19: subscriptions[0].databases[0].memoryLimitInGb: memoryLimitInGb cannot be "
        "combined with datasetSizeInGb set in defaults at a.yaml:4:16: keep "
        "datasetSizeInGb (memoryLimitInGb is deprecated)"
    ]


def test_fields_hold_only_request_fields(tmp_path: Path) -> None:
    text = HEAD + "  - id: 1\n    databases:\n      - name: a\n        state: absent\n"
    text += "        lifecycle: {backupPath: s3://x}\n        import: {sourceType: http, "
    text += "importFromUri: [http://x/y.rdb]}\n        port: 12000\n"
    db = load(tmp_path, {"a.yaml": text}).subscriptions[0].databases[0]
    assert db.fields == {"port": 12000}
    assert db.state == "absent"
    assert db.lifecycle == Lifecycle(backup_path="s3://x")
    assert db.import_ == ImportSpec("http", ("http://x/y.rdb",))


def test_a_database_with_only_a_name_has_the_default_lifecycle(tmp_path: Path) -> None:
    db = load(tmp_path, {"a.yaml": HEAD + "  - id: 1\n    databases: [{name: a}]\n"})
    only = db.subscriptions[0].databases[0]
    assert (only.fields, only.state, only.lifecycle, only.import_) == (
        {},
        "present",
        Lifecycle(),
        None,
    )


def test_numbers_keep_their_type(tmp_path: Path) -> None:
    text = HEAD + "  - id: 1\n    databases:\n      - {name: a, datasetSizeInGb: 2, port: 12000}\n"
    text += "      - {name: b, datasetSizeInGb: 0.5}\n      - {name: c, datasetSizeInGb: 2.0}\n"
    state = load(tmp_path, {"a.yaml": text})
    sizes = [d.fields["datasetSizeInGb"] for d in state.subscriptions[0].databases]
    assert [(v, type(v)) for v in sizes] == [(2, int), (0.5, float), (2.0, float)]


def test_every_field_file_loads_with_secrets_wrapped() -> None:
    env = {"EVERYTHING_PASSWORD": "pw-1"}
    state = load_spec([str(SPECS / "good-every-field.yaml")], env)
    everything = database(state, "everything")
    fields: dict[str, Any] = dict(everything.fields)
    assert fields.pop("password") == Secret("pw-1")
    assert fields.pop("saslPassword") == Secret("${not-a-variable}")
    replica = fields.pop("replica")
    assert replica["syncSources"][0]["endpoint"] == Secret(
        "redis://replicator:s3cret@source.example.com:12001"
    )
    assert replica["syncSources"][1] == {"endpoint": "redis://other.example.com:12002"}
    assert fields.pop("replicaOf") == [
        "redis://other.example.com:12002",
        Secret("redis://replicator:s3cret@source.example.com:12001"),
    ]
    assert fields == {
        "port": 12000,
        "datasetSizeInGb": 2.5,
        "redisVersion": "7.4",
        "respVersion": "resp3",
        "supportOSSClusterApi": True,
        "useExternalEndpointForOSSClusterApi": False,
        "dataPersistence": "snapshot-every-1-hour",
        "dataEvictionPolicy": "allkeys-lfu",
        "replication": True,
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "remoteBackup": {
            "active": True,
            "interval": "every-24-hours",
            "timeUTC": "23:00",
            "storageType": "google-blob-storage",
            "storagePath": "gs://backups/everything",
        },
        "sourceIp": ["10.0.0.0/8", "192.168.1.7"],
        "clientTlsCertificates": [{"publicCertificatePEMString": f"{BEGIN}\nMIIC\n{END}"}],
        "enableTls": True,
        "enableDefaultUser": False,
        "saslUsername": "mc-user",
        "alerts": [
            {"name": "dataset-size", "value": 80},
            {"name": "connections-limit", "value": 90},
        ],
        "modules": [{"name": "RedisJSON"}, {"name": "RediSearch", "parameters": {}}],
        "shardingType": "custom-regex-rules",
        "regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"],
        "queryPerformanceFactor": "4x",
        "autoMinorVersionUpgrade": False,
    }
    assert everything.lifecycle == Lifecycle(
        prevent_destroy=True,
        backup_before_delete=False,
        backup_before_update=True,
        backup_path="s3://backups/adhoc",
        ignore_changes=("alerts", "sourceIp"),
    )
    assert everything.import_ == ImportSpec(
        "redis",
        (Secret("redis://reader:pw@seed.example.com:12005"), "redis://seed2.example.com:12006"),
    )
    assert database(state, "legacy-sized").fields == {
        "protocol": "redis",
        "memoryLimitInGb": 1,
        "dataPersistence": "aof-every-1-second",
    }
    assert database(state, "gone").state == "absent"
    assert state.subscriptions[0].prune is True


def test_passwords_from_defaults_are_secrets(tmp_path: Path) -> None:
    text = HEAD + "  - id: 1\n    defaults: {password: '${PW}'}\n    databases: [{name: a}]\n"
    db = load(tmp_path, {"a.yaml": text}, {"PW": "shared"}).subscriptions[0].databases[0]
    assert db.fields == {"password": Secret("shared")}
    assert "shared" not in repr(db)


@pytest.mark.parametrize("field", sorted(SECRET_FIELDS))
def test_every_secret_field_of_the_catalogue_is_wrapped(tmp_path: Path, field: str) -> None:
    text = HEAD + f"  - id: 1\n    databases: [{{name: a, {field}: '${{PW}}'}}]\n"
    db = load(tmp_path, {"a.yaml": text}, {"PW": "hidden"}).subscriptions[0].databases[0]
    assert db.fields == {field: Secret("hidden")}


def test_secret_values_never_show_in_the_desired_state(tmp_path: Path) -> None:
    state = load_spec([str(SPECS / "good-every-field.yaml")], {"EVERYTHING_PASSWORD": "pw-1"})
    text = repr(state)
    for secret in ("pw-1", "s3cret", "reader:pw"):
        assert secret not in text
