"""The example GitOps layout under examples/ loads to the desired state the docs describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import SpecError
from reconciler.model import DatabaseSpec, ImportSpec, Lifecycle
from reconciler.secrets import Secret
from reconciler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SPEC_FILES = ["prod/platform.yaml", "prod/sessions.yaml", "staging.yaml"]
ENV = {"SESSIONS_DB_PASSWORD": "sessions-pw", "REPORTS_DB_PASSWORD": "reports-pw"}
PROD_DEFAULTS = {"dataPersistence": "aof-every-1-second"}
STAGING_DEFAULTS = {"dataPersistence": "none", "replication": False}

# (subscription, prune, [(name, state, fields, lifecycle, import)]) in load order: files
# sorted (prod/platform.yaml, prod/sessions.yaml, staging.yaml), databases as written.
EXPECTED: list[tuple[int, bool, list[tuple[str, str, dict[str, Any], Lifecycle, Any]]]] = [
    (
        2001234,
        False,
        [
            (
                "cache",
                "present",
                {"redisVersion": "7.4", "datasetSizeInGb": 1, "replication": False,
                 "dataEvictionPolicy": "allkeys-lru", "sourceIp": [], **PROD_DEFAULTS},
                Lifecycle(),
                None,
            ),
            (
                "queue",
                "present",
                {"redisVersion": "7.4", "datasetSizeInGb": 1, "replication": True,
                 "dataEvictionPolicy": "noeviction", **PROD_DEFAULTS},
                Lifecycle(),
                None,
            ),
            (
                "reports",
                "present",
                {"redisVersion": "7.4", "datasetSizeInGb": 5, "modules": [{"name": "RediSearch"}],
                 "password": Secret("reports-pw"), "enableDefaultUser": True,
                 "alerts": [{"name": "throughput-higher-than", "value": 20000}], **PROD_DEFAULTS},
                Lifecycle(),
                ImportSpec("aws-s3", ("s3://seed/reports.rdb",)),
            ),
            (
                "sessions",
                "present",
                {"redisVersion": "7.4", "datasetSizeInGb": 2,
                 "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
                 "replication": True, "dataEvictionPolicy": "volatile-lru",
                 "password": Secret("sessions-pw"), "sourceIp": ["10.0.0.0/16"],
                 "alerts": [{"name": "dataset-size", "value": 80}],
                 "remoteBackup": {"active": True, "interval": "every-12-hours",
                                  "timeUTC": "14:00", "storageType": "aws-s3",
                                  "storagePath": "s3://backups/sessions"},
                 **PROD_DEFAULTS},
                Lifecycle(prevent_destroy=True, ignore_changes=("throughputMeasurement",)),
                None,
            ),
            (
                "legacy-cache",
                "absent",
                dict(PROD_DEFAULTS),
                Lifecycle(backup_before_delete=True, backup_path="s3://backups/adhoc"),
                None,
            ),
        ],
    ),
    (
        2005678,
        False,
        [
            (
                "staging-sessions",
                "present",
                {"redisVersion": "7.4", "datasetSizeInGb": 1,
                 "dataEvictionPolicy": "volatile-lru", **STAGING_DEFAULTS},
                Lifecycle(),
                None,
            ),
            (
                "staging-cache",
                "present",
                {"protocol": "memcached", "datasetSizeInGb": 0.5, **STAGING_DEFAULTS},
                Lifecycle(),
                None,
            ),
            (
                "feature-flags",
                "present",
                {"redisVersion": "8.2", "datasetSizeInGb": 0.5, "respVersion": "resp3",
                 **STAGING_DEFAULTS},
                Lifecycle(),
                None,
            ),
        ],
    ),
]  # fmt: skip


def describe(db: DatabaseSpec) -> tuple[str, str, dict[str, Any], Lifecycle, Any]:
    return (db.name, db.state, dict(db.fields), db.lifecycle, db.import_)


@pytest.fixture
def in_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)


@pytest.mark.usefixtures("in_examples")
def test_examples_load_to_the_documented_desired_state() -> None:
    state = load_spec(["."], ENV)
    assert state.files == tuple(SPEC_FILES)
    got = [(s.id, s.prune, [describe(d) for d in s.databases]) for s in state.subscriptions]
    assert got == EXPECTED


@pytest.mark.usefixtures("in_examples")
def test_secrets_in_the_examples_are_wrapped() -> None:
    state = load_spec(["."], ENV)
    secrets = {
        d.name: d.fields["password"]
        for s in state.subscriptions
        for d in s.databases
        if "password" in d.fields
    }
    assert secrets == {"reports": Secret("reports-pw"), "sessions": Secret("sessions-pw")}
    assert all(isinstance(v, Secret) for v in secrets.values())
    assert "sessions-pw" not in repr(state) and "reports-pw" not in repr(state)


@pytest.mark.usefixtures("in_examples")
def test_locations_point_at_each_database_name() -> None:
    state = load_spec(["."], ENV)
    for sub in state.subscriptions:
        for db in sub.databases:
            line = Path(db.location.file).read_text().splitlines()[db.location.line - 1]
            assert line[db.location.column - 1 :].startswith(db.name)


@pytest.mark.usefixtures("in_examples")
def test_examples_need_the_two_password_variables() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(["."], {})
    assert [(p.file, p.path, p.message) for p in caught.value.problems] == [
        (
            "prod/platform.yaml",
            "subscriptions[0].databases[2].password",
            "environment variable REPORTS_DB_PASSWORD is not set",
        ),
        (
            "prod/sessions.yaml",
            "subscriptions[0].databases[0].password",
            "environment variable SESSIONS_DB_PASSWORD is not set",
        ),
    ]


@pytest.mark.parametrize("name", SPEC_FILES)
def test_each_example_starts_with_a_working_schema_modeline(name: str) -> None:
    path = EXAMPLES / name
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first.removeprefix(prefix)).resolve()
    assert target == ROOT / "reconciler" / "schemas" / "reconciler.schema.json"


@pytest.mark.parametrize("name", SPEC_FILES)
def test_each_example_file_loads_on_its_own(name: str) -> None:
    state = load_spec([str(EXAMPLES / name)], ENV)
    assert state.subscriptions
