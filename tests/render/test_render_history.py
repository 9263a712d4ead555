"""The history of a plan (who changed its databases) in text, Markdown, JSON and plan files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from plan_factory import PROD, act

from reconciler.cli.show import PLAN_SCHEMA, plan_from_dict
from reconciler.plan import ActionKind, History, HistoryEntry, Plan, SubscriptionSummary
from reconciler.render import (
    plan_file_document,
    plan_to_dict,
    read_plan_file,
    render_markdown,
    render_text,
    stale_reasons,
    write_plan_file,
)
from reconciler.spec import packaged_schema_text

SESSIONS = 51170941


def entry(entry_id: int, who: str, key: str | None, text: str) -> HistoryEntry:
    time = f"2026-11-20T14:{entry_id:02d}:00Z"
    return HistoryEntry(entry_id, time, who, key, "sessions", "Database", text)


CONSOLE = entry(2, "alice@example.com", None, "Database 'sessions' memory limit changed to 2GB")
VIA_KEY = entry(1, "bob@example.com", "ci-key", "Database 'sessions' eviction policy changed")


def plan_with(*history: History, notes: tuple[str, ...] = ()) -> Plan:
    return Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 2, 2),),
        actions=(
            act(ActionKind.UPDATE, "sessions", SESSIONS, ("datasetSizeInGb", 2, 1)),
            act(ActionKind.UPGRADE, "sessions", SESSIONS, ("redisVersion", "7.2", "7.4")),
            act(ActionKind.CREATE, "fresh", None, ("datasetSizeInGb", None, 1)),
        ),
        history=history,
        history_notes=notes,
    )


SESSIONS_HISTORY = History(PROD, SESSIONS, "sessions", (CONSOLE, VIA_KEY))


def test_text_shows_history_under_the_database_once_after_its_last_action() -> None:
    assert render_text(plan_with(SESSIONS_HISTORY)) == (
        'Subscription 2001234 "prod" — 2 databases live, 2 in spec\n'
        "\n"
        "  ~ update sessions (db 51170941)\n"
        "      datasetSizeInGb       2 → 1\n"
        "  ↑ upgrade sessions (db 51170941)   redisVersion 7.2 → 7.4\n"
        "      changed 2026-11-20 14:02 UTC by alice@example.com (console): "
        "\"Database 'sessions' memory limit changed to 2GB\"\n"
        "      changed 2026-11-20 14:01 UTC by bob@example.com (API key ci-key): "
        "\"Database 'sessions' eviction policy changed\"\n"
        "  + create fresh\n"
        "      datasetSizeInGb       1\n"
        "\n"
        "Plan: 1 to create, 1 to update, 1 to upgrade, 0 to delete, 0 backups.\n"
    )


def test_text_shows_three_entries_then_counts_the_older_ones() -> None:
    entries = tuple(entry(i, "alice@example.com", None, f"change {i}") for i in range(9, 4, -1))
    text = render_text(plan_with(History(PROD, SESSIONS, "sessions", entries, older=2)))
    assert [line.strip()[:32] for line in text.splitlines() if "changed 2026" in line] == [
        "changed 2026-11-20 14:09 UTC by ",
        "changed 2026-11-20 14:08 UTC by ",
        "changed 2026-11-20 14:07 UTC by ",
    ]
    assert "      … 4 older changes in the system log (--format json lists more)\n" in text


def test_text_shows_the_subscriptions_own_history_under_its_header() -> None:
    own = entry(3, "carol@example.com", None, "Subscription 'prod' payment method changed")
    text = render_text(plan_with(History(PROD, None, "prod", (own,))))
    assert text.splitlines()[:2] == [
        'Subscription 2001234 "prod" — 2 databases live, 2 in spec',
        "  subscription changed 2026-11-20 14:03 UTC by carol@example.com (console): "
        "\"Subscription 'prod' payment method changed\"",
    ]


def test_text_shows_the_unavailable_note_before_the_summary() -> None:
    note = "history unavailable: the API key may not read the system log (HTTP 403)"
    lines = render_text(plan_with(notes=(note,))).splitlines()
    assert lines[-2:] == [
        f"Note: {note}",
        "Plan: 1 to create, 1 to update, 1 to upgrade, 0 to delete, 0 backups.",
    ]


def test_text_escapes_control_characters_and_masks_credentials() -> None:
    hostile = entry(4, "eve\x1b[2J", "k\nkey", "import from s3://AKIA:hunter2@b/x\x1b[31m")
    text = render_text(plan_with(History(PROD, SESSIONS, "sessions", (hostile,))))
    assert (
        'changed 2026-11-20 14:04 UTC by eve\\x1b[2J (API key k\\nkey): "import from '
        's3://(sensitive)@b/x\\x1b[31m"' in text
    )
    assert "hunter2" not in text and "\x1b" not in text


def test_markdown_has_a_history_section() -> None:
    markdown = render_markdown(plan_with(SESSIONS_HISTORY))
    assert (
        "**History** — who changed these databases, from the account's system log:\n\n"
        "- sessions (db 51170941)\n"
        "  - changed 2026-11-20 14:02 UTC by alice@example.com (console): "
        "\"Database 'sessions' memory limit changed to 2GB\"\n"
        "  - changed 2026-11-20 14:01 UTC by bob@example.com (API key ci-key): "
        "\"Database 'sessions' eviction policy changed\"\n\n<details>"
    ) in markdown


def test_markdown_says_when_history_is_unavailable() -> None:
    note = "history unavailable: the system log is not enabled for this account (HTTP 412)"
    markdown = render_markdown(plan_with(notes=(note,)))
    assert f"**History**: _{note}_\n\n<details>" in markdown


def test_markdown_bounds_the_history_section() -> None:
    many = tuple(
        History(PROD, db, f"db{db}", tuple(entry(i, "a", None, "x" * 500) for i in range(10)))
        for db in range(1, 200)
    )
    markdown = render_markdown(Plan(subscriptions=(), actions=(), history=many))
    assert "- … and 179 more; run `reconciler plan` for all of it" in markdown
    assert len(markdown) < 20 * 4 * 250 + 2000


def test_markdown_without_history_has_no_history_section() -> None:
    assert "History" not in render_markdown(plan_with())


def test_json_puts_history_on_each_action_of_the_database_and_validates() -> None:
    own = entry(3, "carol@example.com", None, "Subscription changed")
    data = plan_to_dict(
        plan_with(SESSIONS_HISTORY, History(PROD, None, "prod", (own,)), notes=("a note",))
    )
    expected = [
        {
            "id": 2,
            "time": "2026-11-20T14:02:00Z",
            "originator": "alice@example.com",
            "apiKeyName": None,
            "resource": "sessions",
            "type": "Database",
            "description": "Database 'sessions' memory limit changed to 2GB",
        },
        {
            "id": 1,
            "time": "2026-11-20T14:01:00Z",
            "originator": "bob@example.com",
            "apiKeyName": "ci-key",
            "resource": "sessions",
            "type": "Database",
            "description": "Database 'sessions' eviction policy changed",
        },
    ]
    assert [a.get("history") for a in data["actions"]] == [expected, expected, None]
    assert data["subscriptions"][0]["history"][0]["originator"] == "carol@example.com"
    assert data["historyNotes"] == ["a note"]
    assert data["formatVersion"] == 1
    jsonschema.Draft202012Validator(json.loads(packaged_schema_text(PLAN_SCHEMA))).validate(data)


def test_json_without_history_reads_as_before() -> None:
    data = plan_to_dict(plan_with())
    assert "historyNotes" not in data
    assert all("history" not in a for a in data["actions"])
    assert all("history" not in s for s in data["subscriptions"])


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "1"},
        {"apiKeyName": 3},
        {"extra": True},
    ],
)
def test_the_schema_refuses_a_malformed_history_entry(bad: dict[str, object]) -> None:
    data = plan_to_dict(plan_with(SESSIONS_HISTORY))
    data["actions"][0]["history"][0].update(bad)
    errors = list(
        jsonschema.Draft202012Validator(json.loads(packaged_schema_text(PLAN_SCHEMA))).iter_errors(
            data
        )
    )
    assert errors


def test_a_plan_file_keeps_history_and_show_renders_it(tmp_path: Path) -> None:
    plan = plan_with(SESSIONS_HISTORY, notes=("history incomplete: x",))
    document = plan_file_document(plan, salt="s", spec_paths=["a.yaml"], filters={}, basis={})
    write_plan_file(tmp_path / "plan.json", document)
    shown = plan_from_dict(read_plan_file(tmp_path / "plan.json").data)
    assert shown.history == (SESSIONS_HISTORY,)
    assert shown.history_notes == ("history incomplete: x",)
    assert render_text(shown) == render_text(plan)


def test_history_does_not_make_a_saved_plan_stale() -> None:
    def document(plan: Plan) -> dict[str, object]:
        return plan_file_document(plan, salt="s", spec_paths=["a.yaml"], filters={}, basis={})

    saved = document(plan_with(SESSIONS_HISTORY, notes=("history incomplete: x",)))
    assert stale_reasons(saved, document(plan_with())) == []
    assert stale_reasons(document(plan_with()), saved) == []


def test_markdown_escapes_history_text() -> None:
    hostile = entry(5, "<b>eve</b>", "a|b", "line one\n# heading | <script>x</script> `code`")
    markdown = render_markdown(plan_with(History(PROD, SESSIONS, "sessions", (hostile,))))
    assert (
        "  - changed 2026-11-20 14:05 UTC by &lt;b&gt;eve&lt;/b&gt; (API key a\\|b): "
        '"line one<br>\\# heading \\| &lt;script&gt;x&lt;/script&gt; &#96;code&#96;"\n'
    ) in markdown
    assert "<script>" not in markdown
