"""Tests of reconciler.render.text: the text plan and the colour decision."""

from __future__ import annotations

import io
from typing import Any

import pytest
from plan_factory import CANARY, PROD, STAGING, act

from reconciler.plan import (
    ActionKind,
    Plan,
    PlannedAction,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.render import color_enabled, render_text
from reconciler.secrets import Secret


def refusals(*messages: str) -> tuple[Refusal, ...]:
    """Return refusals with these messages (renderers show a refusal as its message)."""
    return tuple(Refusal(RefusalRule.CREATE_ONLY, PROD, message) for message in messages)


def example_plan() -> Plan:
    """The example account's plan (CONTEXT.md), with an alerts change added."""
    return Plan(
        subscriptions=(
            SubscriptionSummary(PROD, "prod", 5, 4),
            SubscriptionSummary(STAGING, "staging", 3, 3),
        ),
        actions=(
            act(
                ActionKind.UPDATE,
                "sessions",
                51170941,
                ("datasetSizeInGb", 1, 2),
                (
                    "alerts",
                    [{"name": "dataset-size", "value": 80}],
                    [{"name": "dataset-size", "value": 90}],
                ),
                ("password", Secret("seed-sessions-password-0000000001"), Secret(CANARY), True),
                body={"datasetSizeInGb": 2, "password": Secret(CANARY)},
            ),
            act(
                ActionKind.UPGRADE,
                "queue",
                51170944,
                ("redisVersion", "7.2", "7.4"),
                body={"targetRedisVersion": "7.4"},
            ),
            act(
                ActionKind.CREATE,
                "reports",
                None,
                ("name", None, "reports"),
                ("datasetSizeInGb", None, 5),
                ("redisVersion", None, "7.4"),
                ("modules", None, [{"name": "RediSearch"}]),
                ("password", None, Secret(CANARY), True),
                ("sourceIp", None, ["10.0.0.0/16"]),
                ("alerts", None, [{"name": "throughput-higher-than", "value": 20000}]),
                ("dataPersistence", None, "aof-every-1-second"),
                body={"name": "reports", "datasetSizeInGb": 5, "password": Secret(CANARY)},
            ),
            act(
                ActionKind.UPDATE,
                "reports",
                None,
                ("enableDefaultUser", None, True),
                body={"enableDefaultUser": True},
                reason="fields the create call does not accept",
            ),
            act(
                ActionKind.IMPORT,
                "reports",
                None,
                body={"sourceType": "aws-s3", "importFromUri": ["s3://seed/reports.rdb"]},
            ),
            act(
                ActionKind.UPDATE,
                "staging-sessions",
                51180001,
                ("dataEvictionPolicy", "allkeys-lru", "volatile-lru"),
                sub=STAGING,
                body={"dataEvictionPolicy": "volatile-lru"},
            ),
            act(
                ActionKind.CREATE,
                "feature-flags",
                None,
                ("redisVersion", None, "8.2"),
                ("datasetSizeInGb", None, 0.5),
                ("respVersion", None, "resp3"),
                ("replication", None, False),
                sub=STAGING,
                body={"name": "feature-flags"},
            ),
            act(
                ActionKind.BACKUP,
                "legacy-cache",
                51170942,
                body={"adhocBackupPath": "s3://backups/adhoc"},
                reason="before delete",
            ),
            act(ActionKind.DELETE, "legacy-cache", 51170942),
        ),
        unmanaged=(
            UnmanagedDatabase(PROD, 51170950, "analytics"),
            UnmanagedDatabase(STAGING, 51180009, "scratch"),
        ),
        fingerprint="sha256:abc",
    )


EXAMPLE_TEXT = """\
Subscription 2001234 "prod" — 5 databases live, 4 in spec

  ~ update sessions (db 51170941)
      datasetSizeInGb       1 → 2
      alerts                {dataset-size: 80} → {dataset-size: 90}
      password              (sensitive value changed)
  ↑ upgrade queue (db 51170944)   redisVersion 7.2 → 7.4
  + create reports
      name                  reports
      datasetSizeInGb       5
      redisVersion          7.4
      modules               [{name: RediSearch}]
      password              (sensitive value)
      sourceIp              [10.0.0.0/16]
      alerts                {throughput-higher-than: 20000}
      dataPersistence       aof-every-1-second
  ~ update reports     fields the create call does not accept
      enableDefaultUser     true
  ← import reports from s3://seed/reports.rdb
  » backup legacy-cache (db 51170942) to s3://backups/adhoc     before delete
  - delete legacy-cache (db 51170942)
  ? unmanaged analytics (db 51170950): in no file; prune is off

Subscription 2005678 "staging" — 3 databases live, 3 in spec

  ~ update staging-sessions (db 51180001)
      dataEvictionPolicy    allkeys-lru → volatile-lru
  + create feature-flags
      redisVersion          8.2
      datasetSizeInGb       0.5
      respVersion           resp3
      replication           false
  ? unmanaged scratch (db 51180009): in no file; prune is off

Plan: 2 to create, 3 to update, 1 to upgrade, 1 to import, 1 to delete, 1 backup.  Unmanaged: 2.
"""


def test_example_plan_golden() -> None:
    assert render_text(example_plan()) == EXAMPLE_TEXT


def test_no_colour_codes_without_colour() -> None:
    assert "\x1b" not in render_text(example_plan(), color=False)


def test_colour_marks_kinds_and_bolds_headers() -> None:
    lines = render_text(example_plan(), color=True).splitlines()
    assert lines[0] == '\x1b[1mSubscription 2001234 "prod" — 5 databases live, 4 in spec\x1b[0m'
    assert "  \x1b[33m~ update\x1b[0m sessions (db 51170941)" in lines
    assert "  \x1b[32m+ create\x1b[0m reports" in lines
    assert "  \x1b[31m- delete\x1b[0m legacy-cache (db 51170942)" in lines
    assert (
        "  \x1b[36m» backup\x1b[0m legacy-cache (db 51170942) to s3://backups/adhoc"
        "     before delete" in lines
    )
    assert "  \x1b[35m↑ upgrade\x1b[0m queue (db 51170944)   redisVersion 7.2 → 7.4" in lines
    assert "  \x1b[34m← import\x1b[0m reports from s3://seed/reports.rdb" in lines
    assert "  \x1b[2m?\x1b[0m unmanaged scratch (db 51180009): in no file; prune is off" in lines
    assert lines[-1].startswith("\x1b[1mPlan: 2 to create") and lines[-1].endswith("\x1b[0m")


def test_colour_removed_gives_plain_text() -> None:
    import re

    coloured = render_text(example_plan(), color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == EXAMPLE_TEXT


def test_no_changes_still_lists_unmanaged() -> None:
    plan = Plan(
        subscriptions=(
            SubscriptionSummary(PROD, "prod", 2, 1),
            SubscriptionSummary(STAGING, "s", 1, 1),
        ),
        actions=(),
        unmanaged=(UnmanagedDatabase(PROD, 51170950, "analytics"),),
    )
    assert render_text(plan) == (
        'Subscription 2001234 "prod" — 2 databases live, 1 in spec\n'
        "\n"
        "  ? unmanaged analytics (db 51170950): in no file; prune is off\n"
        "\n"
        'Subscription 2005678 "s" — 1 database live, 1 in spec\n'
        "\n"
        "  (no changes)\n"
        "\n"
        "No changes. The live account matches the spec.  Unmanaged: 1.\n"
    )


def test_empty_plan() -> None:
    assert render_text(Plan((), ())) == "No changes. The live account matches the spec.\n"


def test_refusals_block_and_summary_without_optional_counts() -> None:
    plan = Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 4, 4),),
        actions=(act(ActionKind.UPDATE, "cache", 7, ("replication", False, True)),),
        refusals=refusals(
            "protocol of sessions (db 51170941) differs (redis → memcached): "
            "Redis Cloud would have to recreate the database",
            "redisVersion of queue (db 51170944) would go down (7.4 → 7.2)",
        ),
    )
    assert render_text(plan) == (
        'Subscription 2001234 "prod" — 4 databases live, 4 in spec\n'
        "\n"
        "  ~ update cache (db 7)\n"
        "      replication           false → true\n"
        "\n"
        "Refused:\n"
        "  ! protocol of sessions (db 51170941) differs (redis → memcached): "
        "Redis Cloud would have to recreate the database\n"
        "  ! redisVersion of queue (db 51170944) would go down (7.4 → 7.2)\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to delete, 0 backups.\n"
    )


def test_refusals_are_red_with_colour() -> None:
    plan = Plan((), (), refusals=refusals("no"))
    assert "\x1b[1;31mRefused:\x1b[0m\n  \x1b[1;31m!\x1b[0m no\n" in render_text(plan, color=True)


@pytest.mark.parametrize(
    ("action", "line"),
    [
        (
            act(ActionKind.BACKUP, "c", 5, reason="before delete"),
            "  » backup c (db 5) to its backup location     before delete",
        ),
        (
            act(ActionKind.UPGRADE, "q", 6, body={"targetRedisVersion": "7.4"}),
            "  ↑ upgrade q (db 6)   redisVersion → 7.4",
        ),
        (
            act(
                ActionKind.IMPORT,
                "r",
                None,
                body={"sourceType": "redis", "importFromUri": [f"redis://user:{CANARY}@h:6379"]},
            ),
            "  ← import r from redis://(sensitive)@h:6379",
        ),
        (
            act(
                ActionKind.IMPORT,
                "r",
                8,
                body={"sourceType": "redis", "importFromUri": [Secret(CANARY)]},
            ),
            "  ← import r (db 8) from (sensitive)",
        ),
        (
            act(ActionKind.DELETE, "x", 9, reason="state: absent"),
            "  - delete x (db 9)     state: absent",
        ),
    ],
)
def test_action_head_lines(action: PlannedAction, line: str) -> None:
    text = render_text(Plan((SubscriptionSummary(PROD, "prod", 1, 1),), (action,)))
    assert text.splitlines()[2] == line


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        (1, 2, "1 → 2"),
        ("", "x", '"" → x'),
        (None, [], "(unset) → []"),
        ("a", None, "a → (unset)"),
        (True, False, "true → false"),
        ([], ["10.0.0.0/16", "10.1.0.0/16"], "[] → [10.0.0.0/16, 10.1.0.0/16]"),
        (
            {"by": "operations-per-second", "value": 25000},
            {"by": "number-of-shards", "value": 2},
            "{by: operations-per-second, value: 25000} → {by: number-of-shards, value: 2}",
        ),
        (
            [{"name": "dataset-size", "value": 80}, {"name": "latency", "value": 3.5}],
            [],
            "{dataset-size: 80, latency: 3.5} → []",
        ),
        (frozenset({"b", "a"}), ("c",), "[a, b] → [c]"),
        (
            None,
            f"redis://admin:{CANARY}@10.0.0.1:6379",
            "(unset) → redis://(sensitive)@10.0.0.1:6379",
        ),
        ({"password": Secret(CANARY)}, {}, "(sensitive value changed)"),
    ],
)
def test_values_are_compact_and_masked(before: Any, after: Any, shown: str) -> None:
    action = act(ActionKind.UPDATE, "db", 1, ("field", before, after))
    text = render_text(Plan((SubscriptionSummary(PROD, "p", 1, 1),), (action,)))
    assert text.splitlines()[3] == "      field                 " + shown


def test_change_paths_align_past_the_minimum_width() -> None:
    action = act(
        ActionKind.UPDATE,
        "db",
        1,
        ("remoteBackup.storagePath.long.path", "a", "b"),
        ("x", 1, 2),
    )
    lines = render_text(Plan((), (action,))).splitlines()
    assert lines[3:5] == [
        "      remoteBackup.storagePath.long.path  a → b",
        "      x                                   1 → 2",
    ]


def test_actions_group_under_their_subscription_in_plan_order() -> None:
    plan = Plan(
        subscriptions=(
            SubscriptionSummary(PROD, "p", 2, 2),
            SubscriptionSummary(STAGING, "s", 2, 2),
        ),
        actions=(
            act(ActionKind.UPDATE, "a", 1, sub=PROD),
            act(ActionKind.UPDATE, "b", 2, sub=STAGING),
            act(ActionKind.BACKUP, "c", 3, sub=STAGING),
            act(ActionKind.DELETE, "c", 3, sub=STAGING),
            act(ActionKind.DELETE, "d", 4, sub=PROD),
            act(ActionKind.UPDATE, "e", 5, sub=999),
        ),
    )
    heads = [line for line in render_text(plan).splitlines() if line[:1] in ("S", " ")]
    assert heads == [
        'Subscription 2001234 "p" — 2 databases live, 2 in spec',
        "  ~ update a (db 1)",
        "  - delete d (db 4)",
        'Subscription 2005678 "s" — 2 databases live, 2 in spec',
        "  ~ update b (db 2)",
        "  » backup c (db 3) to its backup location",
        "  - delete c (db 3)",
        "Subscription 999",
        "  ~ update e (db 5)",
    ]


def test_control_characters_in_names_are_escaped() -> None:
    plan = Plan(
        (SubscriptionSummary(PROD, "evil\x1b[2J", 1, 1),),
        (act(ActionKind.UPDATE, "a\nPlan: 0 to create", 1, ("f", "x\ry", "\x07")),),
    )
    text = render_text(plan)
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert text.splitlines()[:4] == [
        'Subscription 2001234 "evil\\x1b[2J" — 1 database live, 1 in spec',
        "",
        "  ~ update a\\nPlan: 0 to create (db 1)",
        "      f                     x\\ry → \\x07",
    ]


def test_canary_secret_never_in_text() -> None:
    plan = example_plan()
    for color in (False, True):
        assert CANARY not in render_text(plan, color=color)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class _ClosedStream(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": "0"}, False),  # any non-empty value disables
        (True, {"NO_COLOR": ""}, True),  # empty means unset
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "true"}, True),
        (True, {"FORCE_COLOR": "0"}, False),
        (True, {"FORCE_COLOR": "false"}, False),
        (False, {"FORCE_COLOR": ""}, False),
        (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
        (True, {"TERM": "dumb"}, False),
        (False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
        (True, {"TERM": "xterm-256color"}, True),
    ],
)
def test_color_enabled(tty: bool, environ: dict[str, str], expected: bool) -> None:
    assert color_enabled(_Stream(tty), environ) is expected


def test_color_enabled_survives_a_closed_stream() -> None:
    assert color_enabled(_ClosedStream(), {}) is False


@pytest.mark.parametrize(
    ("action", "lines"),
    [
        (  # the planner's backup to the database's own location: body empty, destination change
            act(
                ActionKind.BACKUP,
                "c",
                5,
                ("destination", None, "s3://backups/c"),
                body={},
                reason="before delete",
            ),
            ["  » backup c (db 5) to s3://backups/c     before delete"],
        ),
        (
            act(
                ActionKind.BACKUP,
                "c",
                5,
                ("destination", None, Secret(f"s3://k:{CANARY}@b/c"), True),
                body={"adhocBackupPath": Secret(f"s3://k:{CANARY}@b/c")},
            ),
            ["  » backup c (db 5) to (sensitive)"],
        ),
        (  # the planner's import after a create: both body fields are changes
            act(
                ActionKind.IMPORT,
                "r",
                None,
                ("sourceType", None, "redis"),
                ("importFromUri", None, [Secret(f"redis://u:{CANARY}@h:1")], True),
                body={"sourceType": "redis", "importFromUri": [Secret(f"redis://u:{CANARY}@h:1")]},
            ),
            ["  ← import r from (sensitive)", "      sourceType            redis"],
        ),
        (  # the follow-up update of a database not created yet shows only new values
            act(
                ActionKind.UPDATE,
                "r",
                None,
                ("enableDefaultUser", None, True),
                ("password", None, Secret(CANARY), True),
                reason="fields the create call does not accept",
            ),
            [
                "  ~ update r     fields the create call does not accept",
                "      enableDefaultUser     true",
                "      password              (sensitive value)",
            ],
        ),
    ],
)
def test_planner_shaped_actions(action: PlannedAction, lines: list[str]) -> None:
    text = render_text(Plan((SubscriptionSummary(PROD, "prod", 1, 1),), (action,)))
    assert text.splitlines()[2:-2] == lines
    assert CANARY not in text


def test_refused_plan_without_actions_does_not_claim_no_changes() -> None:
    plan = Plan((), (), refusals=refusals("subscription 1 does not exist"))
    text = render_text(plan)
    assert "No changes" not in text
    assert text.rstrip().endswith("No actions: the plan is refused (see above).")
