"""Tests for reconciler.apply.report: the run report's JSON form and its summary lines."""

from __future__ import annotations

import json

import pytest

from reconciler.apply.report import ActionError, ActionOutcome, ActionSummary, ApplyReport, iso_utc
from reconciler.plan import ActionKind, ApiRequest, PlannedAction

START = 1795788185.0  # 2026-11-27T14:03:05Z


def summary(index: int, kind: str, name: str, db: int | None) -> ActionSummary:
    return ActionSummary(index, kind, 2001234, db, name)


def done(index: int, kind: str, name: str, db: int | None, task: str) -> ActionOutcome:
    return ActionOutcome(summary(index, kind, name, db), "done", 2.5, task)


FAILED = ActionOutcome(
    summary(4, "update", "sessions", 1),
    "failed",
    3.25,
    "t-4",
    last_state="task processing-error",
    error=ActionError(
        "task t-4 failed: 400 BAD_REQUEST DATABASE_INVALID_ALERTS: Invalid alerts",
        "DATABASE_INVALID_ALERTS",
        "400 BAD_REQUEST",
        "Invalid alerts",
    ),
)


def failed_report() -> ApplyReport:
    return ApplyReport(
        started_at=START,
        finished_at=START + 30.5,
        done=[
            done(1, "backup", "legacy-cache", 51170942, "t-1"),
            done(2, "upgrade", "queue", 51170944, "t-2"),
            done(3, "create", "reports", 51170960, "t-3"),
        ],
        failed=FAILED,
        not_started=[
            summary(5, "import", "reports", 51170960),
            summary(6, "delete", "legacy-cache", 51170942),
        ],
    )


def test_summary_text_lists_done_failed_and_not_started() -> None:
    assert failed_report().summary_text() == "\n".join(
        [
            "Done (3): backup legacy-cache (db 51170942), upgrade queue (db 51170944), "
            "create reports (db 51170960)",
            "Failed: update sessions (db 1): task t-4 failed: 400 BAD_REQUEST "
            "DATABASE_INVALID_ALERTS: Invalid alerts",
            "Not started (2): import reports (db 51170960), delete legacy-cache (db 51170942)",
        ]
    )


def test_summary_of_a_complete_run_is_one_line() -> None:
    report = ApplyReport(
        started_at=START, finished_at=START + 1, done=[done(1, "create", "x", None, "t")]
    )
    assert report.summary_text() == "Done (1): create x"
    assert report.status == "applied"


def test_a_failure_without_the_task_id_in_its_message_names_the_task() -> None:
    outcome = ActionOutcome(
        summary(1, "update", "s", 1), "failed", 1, "t-9", error=ActionError("silent no-op: x")
    )
    assert outcome.detail == "silent no-op: x (task t-9)"


def test_to_dict_is_the_documented_json() -> None:
    document = failed_report().to_dict()
    assert json.loads(json.dumps(document)) == document
    assert document["formatVersion"] == 1
    assert document["status"] == "failed"
    assert (document["startedAt"], document["finishedAt"]) == (
        "2026-11-27T14:03:05Z",
        "2026-11-27T14:03:35Z",
    )
    assert document["durationSeconds"] == 30.5
    assert document["failed"] == {
        "index": 4,
        "action": "update",
        "subscriptionId": 2001234,
        "databaseId": 1,
        "name": "sessions",
        "status": "failed",
        "elapsedSeconds": 3.25,
        "taskId": "t-4",
        "lastState": "task processing-error",
        "note": "",
        "error": {
            "message": "task t-4 failed: 400 BAD_REQUEST DATABASE_INVALID_ALERTS: Invalid alerts",
            "type": "DATABASE_INVALID_ALERTS",
            "status": "400 BAD_REQUEST",
            "description": "Invalid alerts",
        },
    }
    assert [d["taskId"] for d in document["done"]] == ["t-1", "t-2", "t-3"]
    assert document["notStarted"][0] == {
        "index": 5,
        "action": "import",
        "subscriptionId": 2001234,
        "databaseId": 51170960,
        "name": "reports",
    }
    assert document["interrupted"] is None


def test_an_unfinished_report_has_no_end_time() -> None:
    document = ApplyReport(started_at=START).to_dict()
    assert (document["finishedAt"], document["durationSeconds"]) == (None, None)


def test_interrupted_status() -> None:
    report = ApplyReport(started_at=START, not_started=[summary(1, "delete", "x", 3)])
    assert report.status == "interrupted"


@pytest.mark.parametrize(
    ("db", "label"), [(51170941, "update sessions (db 51170941)"), (None, "update sessions")]
)
def test_summary_of_a_planned_action(db: int | None, label: str) -> None:
    action = PlannedAction(ActionKind.UPDATE, 2001234, db, "sessions", (), ApiRequest("PUT", "/x"))
    assert ActionSummary.of(3, action).label == label
    assert ActionSummary.of(3, action).index == 3


def test_iso_utc() -> None:
    assert iso_utc(START + 0.9) == "2026-11-27T14:03:05Z"


# ------------------------------------------------------------------ parallel runs


def in_sub(sid: int, outcome: ActionOutcome) -> ActionOutcome:
    action = outcome.action
    moved = ActionSummary(action.index, action.kind, sid, action.database_id, action.name)
    return ActionOutcome(
        moved, outcome.status, outcome.elapsed, outcome.task_id, error=outcome.error
    )


def parallel_report() -> ApplyReport:
    """Three lanes: 2001234 failed at 4; 3001 interrupted at 7; 3002 failed at 9."""
    report = ApplyReport(started_at=START, finished_at=START + 30.5, parallel=3)
    report.done += [
        done(1, "update", "a", 11, "t-1"),
        in_sub(3001, done(6, "update", "c", 31, "t-6")),
    ]
    report.add_stopped(FAILED)
    report.add_stopped(
        ActionOutcome(ActionSummary(7, "update", 3001, 32, "d"), "interrupted", 1.0, "t-7")
    )
    report.add_stopped(
        ActionOutcome(
            ActionSummary(9, "update", 3002, 41, "e"),
            "failed",
            2.0,
            "t-9",
            error=ActionError("boom"),
        )
    )
    report.not_started = [summary(5, "update", "b", 12), ActionSummary(8, "update", 3001, 33, "f")]
    return report


def test_a_parallel_report_keeps_the_first_failure_and_lists_the_others() -> None:
    report = parallel_report()
    assert report.failed is FAILED
    assert [o.action.index for o in report.failures] == [4, 9]
    assert [o.action.index for o in report.interruptions] == [7]
    assert report.status == "failed"


def test_a_parallel_summary_adds_a_line_per_subscription() -> None:
    assert parallel_report().summary_text().splitlines() == [
        "Done (2): update a (db 11), update c (db 31)",
        "Failed: update sessions (db 1): task t-4 failed: 400 BAD_REQUEST "
        "DATABASE_INVALID_ALERTS: Invalid alerts",
        "Failed: update e (db 41): boom (task t-9)",
        "Interrupted: update d (db 32): stopped before it finished (task t-7); "
        "re-run plan to see where it stands",
        "Not started (2): update b (db 12), update f (db 33)",
        "Subscription 2001234: failed (done 1, failed 1, not started 1)",
        "Subscription 3001: interrupted (done 1, interrupted 1, not started 1)",
        "Subscription 3002: failed (done 0, failed 1)",
    ]


def test_a_parallel_report_json_adds_the_lanes_the_other_stops_and_each_subscription() -> None:
    document = parallel_report().to_dict()
    assert document["parallel"] == 3
    assert [o["index"] for o in document["moreFailed"]] == [9]
    assert document["moreInterrupted"] == []
    assert document["subscriptions"] == [
        {
            "subscriptionId": 2001234,
            "status": "failed",
            "done": [1],
            "failed": [4],
            "interrupted": [],
            "notStarted": [5],
        },
        {
            "subscriptionId": 3001,
            "status": "interrupted",
            "done": [6],
            "failed": [],
            "interrupted": [7],
            "notStarted": [8],
        },
        {
            "subscriptionId": 3002,
            "status": "failed",
            "done": [],
            "failed": [9],
            "interrupted": [],
            "notStarted": [],
        },
    ]
    json.dumps(document)


def test_a_serial_report_has_no_parallel_keys() -> None:
    assert set(failed_report().to_dict()) == {
        "formatVersion",
        "status",
        "startedAt",
        "finishedAt",
        "durationSeconds",
        "done",
        "failed",
        "interrupted",
        "notStarted",
    }
