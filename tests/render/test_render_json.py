"""Tests of reconciler.render.json_format and reconciler/schemas/plan.schema.json."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from plan_factory import CANARY, PROD, act

from reconciler import __version__
from reconciler.plan import (
    ActionKind,
    Plan,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.render import plan_to_dict, render_json
from reconciler.render.json_format import json_value
from reconciler.secrets import Secret

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "reconciler" / "schemas" / "plan.schema.json"


def refusals(*messages: str) -> tuple[Refusal, ...]:
    """Return refusals with these messages (renderers show a refusal as its message)."""
    return tuple(Refusal(RefusalRule.CREATE_ONLY, PROD, message) for message in messages)


def secret_plan() -> Plan:
    """A plan with secrets everywhere a planner could put one."""
    replica = f"redis://default:{CANARY}@10.0.0.5:6379"
    return Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 3, 3),),
        actions=(
            act(
                ActionKind.CREATE,
                "reports",
                None,
                ("datasetSizeInGb", None, 5),
                ("password", None, Secret(CANARY), True),
                ("replicaOf", None, [Secret(replica)]),
                body={
                    "name": "reports",
                    "password": Secret(CANARY),
                    "replicaOf": [Secret(replica)],
                    "sourceUri": replica,
                    "alerts": ({"name": "dataset-size", "value": 80},),
                },
            ),
            act(
                ActionKind.UPDATE,
                "sessions",
                51170941,
                ("datasetSizeInGb", 1, 2),
                ("password", Secret("old-password"), Secret(CANARY), True),
                body={"datasetSizeInGb": 2, "password": Secret(CANARY)},
            ),
            act(
                ActionKind.IMPORT,
                "reports",
                None,
                body={"sourceType": "redis", "importFromUri": [replica]},
                reason=f"seed from {replica}",
            ),
            act(
                ActionKind.BACKUP,
                "old",
                7,
                body={"adhocBackupPath": "s3://b/adhoc"},
                reason="before delete",
            ),
            act(ActionKind.DELETE, "old", 7),
        ),
        unmanaged=(UnmanagedDatabase(PROD, 9, "analytics"),),
        refusals=refusals(f"replicaOf {replica} is not reachable"),
        fingerprint="sha256:0123",
    )


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def test_plan_to_dict_exact() -> None:
    plan = Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 2, 2),),
        actions=(
            act(
                ActionKind.UPGRADE,
                "queue",
                51170944,
                ("redisVersion", "7.2", "7.4"),
                body={"targetRedisVersion": "7.4"},
            ),
            act(ActionKind.DELETE, "x", 5, reason="state: absent"),
        ),
        unmanaged=(UnmanagedDatabase(PROD, 9, "analytics"),),
        fingerprint="sha256:ff",
    )
    assert plan_to_dict(plan) == {
        "formatVersion": 1,
        "reconcilerVersion": __version__,
        "fingerprint": "sha256:ff",
        "summary": {
            "create": 0,
            "update": 0,
            "tag": 0,
            "upgrade": 1,
            "backup": 0,
            "import": 0,
            "delete": 1,
            "unmanaged": 1,
        },
        "subscriptions": [{"id": PROD, "name": "prod", "liveDatabases": 2, "specDatabases": 2}],
        "actions": [
            {
                "action": "upgrade",
                "subscriptionId": PROD,
                "databaseId": 51170944,
                "name": "queue",
                "reason": "",
                "changes": [
                    {"path": "redisVersion", "before": "7.2", "after": "7.4", "sensitive": False}
                ],
                "request": {
                    "method": "POST",
                    "path": f"/subscriptions/{PROD}/databases/51170944/upgrade",
                    "body": {"targetRedisVersion": "7.4"},
                },
            },
            {
                "action": "delete",
                "subscriptionId": PROD,
                "databaseId": 5,
                "name": "x",
                "reason": "state: absent",
                "changes": [],
                "request": {
                    "method": "DELETE",
                    "path": f"/subscriptions/{PROD}/databases/5",
                    "body": None,
                },
            },
        ],
        "unmanaged": [{"subscriptionId": PROD, "databaseId": 9, "name": "analytics"}],
        "refusals": [],
    }


def test_render_json_is_indented_plan_to_dict() -> None:
    plan = secret_plan()
    text = render_json(plan)
    assert text == json.dumps(plan_to_dict(plan), indent=2) + "\n"
    assert json.loads(text) == plan_to_dict(plan)


def test_top_level_key_order_is_stable() -> None:
    assert list(plan_to_dict(Plan((), ()))) == [
        "formatVersion",
        "reconcilerVersion",
        "fingerprint",
        "summary",
        "subscriptions",
        "actions",
        "unmanaged",
        "refusals",
    ]


def test_secrets_masked_everywhere() -> None:
    text = render_json(secret_plan())
    assert CANARY not in text
    data = json.loads(text)
    create, update, imp = data["actions"][:3]
    assert create["changes"][1] == {
        "path": "password",
        "before": None,
        "after": "(sensitive)",
        "sensitive": True,
    }
    # a change holding a Secret is sensitive even when the planner forgot the flag
    assert create["changes"][2] == {
        "path": "replicaOf",
        "before": None,
        "after": "(sensitive)",
        "sensitive": True,
    }
    assert create["request"]["body"] == {
        "name": "reports",
        "password": "(sensitive)",
        "replicaOf": ["(sensitive)"],
        "sourceUri": "redis://(sensitive)@10.0.0.5:6379",
        "alerts": [{"name": "dataset-size", "value": 80}],
    }
    assert update["changes"][1] == {
        "path": "password",
        "before": "(sensitive)",
        "after": "(sensitive)",
        "sensitive": True,
    }
    assert update["request"]["body"] == {"datasetSizeInGb": 2, "password": "(sensitive)"}
    assert imp["request"]["body"]["importFromUri"] == ["redis://(sensitive)@10.0.0.5:6379"]
    assert imp["reason"] == "seed from redis://(sensitive)@10.0.0.5:6379"
    assert data["refusals"] == ["replicaOf redis://(sensitive)@10.0.0.5:6379 is not reachable"]


class _Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((1, "a"), [1, "a"]),
        (frozenset({"b", "a"}), ["a", "b"]),
        (_Colour.RED, "red"),
        ({1: True}, {"1": True}),
        (Path("x/y"), "x/y"),
        ({"nested": [Secret(CANARY)]}, {"nested": ["(sensitive)"]}),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_json_value_converts_and_masks(value: Any, expected: Any) -> None:
    assert json_value(value) == expected


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _properties(node: Any) -> list[tuple[str, Any]]:
    """Return every (name, subschema) under a "properties" keyword, anywhere in the schema."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((name, sub))
        for value in node.values():
            found.extend(_properties(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_properties(value))
    return found


def test_schema_describes_every_property() -> None:
    missing = [name for name, sub in _properties(schema()) if "description" not in sub]
    assert missing == []


@pytest.mark.parametrize(
    "plan",
    [secret_plan(), Plan((), ()), Plan((), (), refusals=refusals("no"), fingerprint="")],
    ids=["full", "empty", "refused"],
)
def test_render_json_validates_against_schema(plan: Plan) -> None:
    jsonschema.Draft202012Validator(schema()).validate(json.loads(render_json(plan)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(formatVersion=2), "1 was expected"),
        (lambda d: d["actions"][0].update(action="recreate"), "'recreate' is not one of"),
        (
            lambda d: d["actions"][0]["changes"][1].update(after="hunter2"),
            "'hunter2' is not one of",
        ),
        (lambda d: d["summary"].pop("import"), "'import' is a required property"),
        (lambda d: d.update(extra=1), "Additional properties are not allowed"),
    ],
)
def test_schema_rejects_wrong_documents(mutate: Any, message: str) -> None:
    data = plan_to_dict(secret_plan())
    mutate(data)
    with pytest.raises(jsonschema.ValidationError) as info:
        jsonschema.Draft202012Validator(schema()).validate(data)
    assert message in info.value.message
