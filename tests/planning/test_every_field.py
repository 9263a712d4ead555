"""Every database property of the spec schema, when it differs from the live account, is seen.

The cases are generated from ``reconciler/schemas/reconciler.schema.json``: one per database
property. Each builds a live database and a spec value that differs from it; the plan must
hold an action, a refusal or a notice naming that field. A property added to the schema
without a case here fails (it would otherwise be able to plan "No changes" silently).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.compare import FIELDS
from reconciler.compare.comparison import ABSENT
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.plan import ActionKind, Plan
from reconciler.planning.planner import build_plan
from reconciler.secrets import Secret
from reconciler.spec import load_schema

SID = 2001234
DB_ID = 51170943
HERE = Location("prod.yaml", 3, 7)
SUBSCRIPTION: dict[str, Any] = {
    "id": SID,
    "name": "prod",
    "status": "active",
    "deploymentType": "single-region",
}
CERT = [{"publicCertificatePEMString": "-----BEGIN CERTIFICATE-----"}]


def live_raw(**changes: Any) -> dict[str, Any]:
    """Return a Redis 7.2 database as the API returns it; ``changes`` replace top-level keys."""
    raw: dict[str, Any] = {
        "databaseId": DB_ID,
        "name": "cache",
        "protocol": "redis",
        "redisVersion": "7.2",
        "respVersion": "resp3",
        "status": "active",
        "datasetSizeInGb": 1,
        "memoryLimitInGb": 2,
        "supportOSSClusterApi": False,
        "useExternalEndpointForOSSClusterApi": False,
        "dataPersistence": "none",
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "publicEndpoint": "redis-12000.c1.us-east-1-1.ec2.cloud.rlrcp.com:12000",
        "replica": {"syncSources": []},
        "clustering": {"numberOfShards": 1, "regexRules": [], "hashingPolicy": "standard"},
        "security": {
            "enableDefaultUser": True,
            "password": "live-password",
            "saslUsername": "mc-live",
            "sslClientAuthentication": False,
            "tlsClientAuthentication": False,
            "enableTls": False,
            "sourceIps": ["0.0.0.0/0"],
        },
        "modules": [],
        "alerts": [],
        "queryPerformanceFactor": "Standard",
        "autoMinorVersionUpgrade": True,
    }
    raw.update(copy.deepcopy(changes))
    return raw


#: property → (spec value, what the plan must hold: "action", "refusal" or "notice").
DIFFERING: dict[str, tuple[Any, str]] = {
    "databaseId": (99999999, "refusal"),
    "protocol": ("memcached", "refusal"),
    "port": (12001, "refusal"),
    "datasetSizeInGb": (2, "action"),
    "memoryLimitInGb": (5, "action"),
    "redisVersion": ("7.4", "action"),
    "respVersion": ("resp2", "action"),
    "supportOSSClusterApi": (True, "action"),
    "useExternalEndpointForOSSClusterApi": (True, "action"),
    "dataPersistence": ("aof-every-1-second", "action"),
    "dataEvictionPolicy": ("noeviction", "action"),
    "replication": (False, "action"),
    "throughputMeasurement": ({"by": "operations-per-second", "value": 50000}, "action"),
    "replica": ({"syncSources": [{"endpoint": "redis://10.0.0.1:12000"}]}, "action"),
    "replicaOf": (["redis://10.0.0.1:12000"], "action"),
    "remoteBackup": (
        {"active": True, "interval": "every-24-hours", "storagePath": "s3://b/p"},
        "action",
    ),
    "periodicBackupPath": ("s3://b/p", "action"),
    "sourceIp": (["10.0.0.0/8"], "action"),
    "clientTlsCertificates": (CERT, "action"),
    "clientSslCertificate": ("-----BEGIN CERTIFICATE-----", "action"),
    "enableTls": (True, "action"),
    "enableDefaultUser": (False, "action"),
    "password": (Secret("another-password"), "action"),
    "saslUsername": ("mc-spec", "action"),
    "saslPassword": (Secret("sasl-password"), "notice"),
    "alerts": ([{"name": "dataset-size", "value": 80}], "action"),
    "modules": ([{"name": "RedisJSON"}], "refusal"),
    "shardingType": ("custom-regex-rules", "refusal"),
    "regexRules": (["(?<tag>.*)@.*"], "action"),
    "queryPerformanceFactor": ("2x", "action"),
    "autoMinorVersionUpgrade": (False, "action"),
    "averageItemSizeInBytes": (5000, "notice"),
}
#: Properties of the reconciler's own, checked by their own cases or with nothing live to
#: differ from, and why.
OWN: dict[str, str] = {
    "name": "renamed by databaseId: test_a_changed_name_is_an_update_of_name",
    "state": "absent: test_state_absent_deletes",
    "lifecycle": "directives for apply, not a property of the live database",
    "import": "a one-off import right after a create; nothing live to compare",
    "tags": "kept apart from the request fields: test_differing_tags_are_named_by_the_plan",
}


def database_properties() -> list[str]:
    return list(load_schema()["$defs"]["Database"]["properties"])


def plan_for(fields: dict[str, Any], raw: dict[str, Any], **spec: Any) -> Plan:
    want = DatabaseSpec(SID, spec.pop("name", "cache"), fields, HERE, **spec)
    db = LiveDatabase(raw["databaseId"], raw["name"], "active", raw)
    live = LiveState({SID: LiveSubscription(SID, "prod", "active", SUBSCRIPTION, (db,))})
    return build_plan(DesiredState((SubscriptionSpec(SID, False, (want,), HERE),)), live)


def named_by(plan: Plan, field: str) -> dict[str, list[str]]:
    """Return what in ``plan`` names ``field``: action kinds, refusal rules, notices."""
    return {
        "action": [
            a.kind.value
            for a in plan.actions
            if any(c.path.split(".", 1)[0] == field for c in a.changes)
        ],
        "refusal": [r.rule.value for r in plan.refusals if r.field == field],
        "notice": [n.message for n in plan.notices if n.field == field],
    }


@pytest.mark.parametrize("prop", database_properties())
def test_every_differing_property_is_named_by_the_plan(prop: str) -> None:
    if prop in OWN:
        return
    assert prop in DIFFERING, f"{prop}: no differing case; a difference could plan silently"
    value, expected = DIFFERING[prop]
    plan = plan_for({prop: value}, live_raw())
    found = named_by(plan, prop)
    assert found[expected], f"{prop}: expected an {expected}, the plan holds {found}"
    assert [k for k, v in found.items() if v] == [expected]


def test_differing_tags_are_named_by_the_plan() -> None:
    want = DatabaseSpec(SID, "cache", {}, HERE, tags={"team": "payments"})
    raw = live_raw()
    db = LiveDatabase(raw["databaseId"], raw["name"], "active", raw, tags={"team": "search"})
    live = LiveState({SID: LiveSubscription(SID, "prod", "active", SUBSCRIPTION, (db,))})
    plan = build_plan(DesiredState((SubscriptionSpec(SID, False, (want,), HERE),)), live)
    assert named_by(plan, "tags") == {"action": ["tag"], "refusal": [], "notice": []}


def test_the_cases_are_the_schema() -> None:
    assert set(DIFFERING) | set(OWN) == set(database_properties())


def test_equal_values_plan_nothing() -> None:
    """The live database above, written as a spec, plans no change (the cases can fail)."""
    fields = {
        "protocol": "redis",
        "port": 12000,
        "datasetSizeInGb": 1,
        "redisVersion": "7.2",
        "supportOSSClusterApi": False,
        "useExternalEndpointForOSSClusterApi": False,
        "periodicBackupPath": "",
        "clientTlsCertificates": [],
        "clientSslCertificate": "",
        "saslUsername": "mc-live",
        "shardingType": "default-regex-rules",
        "autoMinorVersionUpgrade": True,
        "password": Secret("live-password"),
    }
    plan = plan_for(fields, live_raw())
    assert (plan.actions, plan.refusals, plan.notices) == ((), (), ())


#: Fields whose absence from an answer has a known meaning (compared against it), and why.
ABSENCE_MEANS = {
    "protocol": "a database read without a protocol is a redis database",
    "queryPerformanceFactor": "an unset factor reads back as standard (or not at all)",
}
READ_AS_IS = [
    name
    for name, row in FIELDS.items()
    if row.compared and row.read_back == name and name in DIFFERING and name not in ABSENCE_MEANS
]


@pytest.mark.parametrize("prop", READ_AS_IS)
def test_a_field_the_answer_lacks_is_a_notice(prop: str) -> None:
    raw = live_raw()
    del raw[prop]
    value, _ = DIFFERING[prop]
    plan = plan_for({prop: value}, raw)
    assert [n.message for n in plan.notices] == [
        f"cannot compare {prop}: the API did not return it for this database"
    ]
    assert plan.actions == ()


def test_a_changed_name_is_an_update_of_name() -> None:
    plan = plan_for({"databaseId": DB_ID}, live_raw(), name="cache-renamed")
    [action] = plan.actions
    assert action.kind is ActionKind.UPDATE
    assert (action.database_id, action.request.body) == (DB_ID, {"name": "cache-renamed"})
    assert [(c.path, c.before, c.after) for c in action.changes] == [
        ("name", "cache", "cache-renamed")
    ]
    assert (plan.refusals, plan.unmanaged) == ((), ())


def test_state_absent_deletes() -> None:
    plan = plan_for({"databaseId": DB_ID}, live_raw(), name="other", state="absent")
    assert [a.kind for a in plan.actions] == [ActionKind.DELETE]
    assert plan.actions[0].database_id == DB_ID


def test_ignore_changes_silences_the_notice() -> None:
    lifecycle = Lifecycle(ignore_changes=("saslPassword",))
    plan = plan_for({"saslPassword": Secret("x")}, live_raw(), lifecycle=lifecycle)
    assert plan.notices == ()


OPENAPI = Path(__file__).resolve().parents[1] / "openapi/redis-cloud-openapi.trimmed.json"


def test_fields_the_official_example_lacks_are_notices() -> None:
    """The OpenAPI ``Database`` example has no memoryLimitInGb, no autoMinorVersionUpgrade."""
    example = json.loads(OPENAPI.read_text())["components"]["schemas"]["Database"]["example"]
    assert "memoryLimitInGb" not in example and "autoMinorVersionUpgrade" not in example
    raw = {**example, "databaseId": DB_ID, "name": "cache"}
    plan = plan_for({"memoryLimitInGb": 4, "autoMinorVersionUpgrade": False}, raw)
    assert [(n.database_id, n.field, n.message) for n in plan.notices] == [
        (DB_ID, "memoryLimitInGb", f"cannot compare memoryLimitInGb: {ABSENT}"),
        (DB_ID, "autoMinorVersionUpgrade", f"cannot compare autoMinorVersionUpgrade: {ABSENT}"),
    ]
    assert (plan.actions, plan.refusals) == ((), ())


def test_the_official_example_reads_back_what_it_returns() -> None:
    example = json.loads(OPENAPI.read_text())["components"]["schemas"]["Database"]["example"]
    raw = {**example, "databaseId": DB_ID, "name": "cache"}
    same = {
        "supportOSSClusterApi": True,
        "useExternalEndpointForOSSClusterApi": True,
        "clientTlsCertificates": [],
        "clientSslCertificate": "",
        "shardingType": "default-regex-rules",
    }
    plan = plan_for(same, raw)
    assert (plan.actions, plan.refusals, plan.notices) == ((), (), ())
    flipped = plan_for({**same, "useExternalEndpointForOSSClusterApi": False}, raw)
    assert [c.path for a in flipped.actions for c in a.changes] == [
        "useExternalEndpointForOSSClusterApi"
    ]


def test_an_absent_database_whose_pinned_id_is_gone_plans_nothing() -> None:
    plan = plan_for({"databaseId": 99999999}, live_raw(), name="gone", state="absent")
    assert (plan.actions, plan.refusals, plan.notices) == ((), (), ())


def test_a_present_database_whose_pinned_id_is_gone_is_refused() -> None:
    plan = plan_for({"databaseId": 99999999}, live_raw(), name="gone")
    assert [(r.rule.value, r.field, r.database_name) for r in plan.refusals] == [
        ("unknown-database-id", "databaseId", "gone")
    ]
    assert plan.actions == ()
