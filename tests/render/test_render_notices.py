"""Notices (spec fields the API did not let compare) in the text, Markdown and JSON plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from plan_factory import PROD, STAGING, act

from reconciler.plan import ActionKind, Notice, Plan, SubscriptionSummary
from reconciler.render import plan_to_dict, render_json, render_markdown, render_text

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "reconciler" / "schemas" / "plan.schema.json"
SASL = "cannot compare saslPassword: not returned by the API"
MEMORY = "cannot compare memoryLimitInGb: the API did not return it for this database"


def notice(field: str, message: str, name: str = "cache", db_id: int = 51170943) -> Notice:
    return Notice(PROD, name, db_id, field, message)


def notices_only() -> Plan:
    return Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 1, 1),),
        actions=(),
        notices=(notice("saslPassword", SASL), notice("memoryLimitInGb", MEMORY)),
    )


def with_update() -> Plan:
    update = act(
        ActionKind.UPDATE, "staging-cache", 51180002, ("saslUsername", "mc-a", "mc-b"), sub=STAGING
    )
    return Plan(
        subscriptions=(
            SubscriptionSummary(PROD, "prod", 1, 1),
            SubscriptionSummary(STAGING, "staging", 1, 1),
        ),
        actions=(update,),
        notices=(
            Notice(STAGING, "staging-cache", 51180002, "saslPassword", SASL),
            notice("saslPassword", SASL),
        ),
    )


def test_text_notices_are_lines_under_their_database() -> None:
    assert render_text(notices_only()) == (
        'Subscription 2001234 "prod" — 1 database live, 1 in spec\n'
        "\n"
        "  ! unverified cache (db 51170943): fields the plan could not compare\n"
        f"      {SASL}\n"
        f"      {MEMORY}\n"
        "\n"
        "No changes planned, but some spec fields could not be compared (see above).  "
        "Not compared: 2.\n"
    )


def test_text_notices_follow_the_actions_and_are_counted() -> None:
    text = render_text(with_update())
    assert text.splitlines()[-8:] == [
        'Subscription 2005678 "staging" — 1 database live, 1 in spec',
        "",
        "  ~ update staging-cache (db 51180002)",
        "      saslUsername          mc-a → mc-b",
        "  ! unverified staging-cache (db 51180002): fields the plan could not compare",
        f"      {SASL}",
        "",
        "Plan: 0 to create, 1 to update, 0 to delete, 0 backups.  Not compared: 2.",
    ]


def test_text_notice_names_are_escaped() -> None:
    plan = Plan((), (), notices=(notice("saslPassword", SASL, name="evil\x1b[2J"),))
    assert "  ! unverified evil\\x1b[2J (db 51170943)" in render_text(plan)


def test_markdown_lists_the_notices() -> None:
    text = render_markdown(notices_only())
    assert (
        "**Not compared** — the API did not let these spec fields be compared:\n\n"
        f"- cache (db 51170943): {SASL}\n"
        f"- cache (db 51170943): {MEMORY}\n"
    ) in text
    assert "**No changes planned**, but some spec fields could not be compared." in text
    assert "The live account matches the spec" not in text


def test_json_notices_and_schema() -> None:
    data = plan_to_dict(with_update())
    assert data["notices"] == [
        {
            "subscriptionId": STAGING,
            "databaseId": 51180002,
            "name": "staging-cache",
            "field": "saslPassword",
            "message": SASL,
        },
        {
            "subscriptionId": PROD,
            "databaseId": 51170943,
            "name": "cache",
            "field": "saslPassword",
            "message": SASL,
        },
    ]
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(json.loads(render_json(with_update())), schema)


def test_json_without_notices_has_no_notices_key() -> None:
    assert "notices" not in plan_to_dict(Plan((), ()))
