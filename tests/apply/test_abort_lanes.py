"""Tests for reconciler.cli.abort.RunTracker with lanes: a second Ctrl-C mid-parallel-run.

Each lane is a thread with an action of its own under way; the report written on the
abort names every lane's (its write in flight, or the task it followed) and counts the
rest as not started.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from parallel_support import resize

from reconciler.apply.progress import NullProgress
from reconciler.apply.report import ActionOutcome, ActionSummary
from reconciler.cli import abort
from reconciler.cli.abort import RunTracker

START = 1795788185.0
ACTIONS = [resize(sid, db, 2) for sid in (3001, 3002, 3003) for db in ("a", "b")]


class Client:
    """Answers every write with a task; ``hold`` makes one write never come back."""

    def __init__(self) -> None:
        self.hold: str | None = None

    def get(self, path: str, params: Any = None) -> Any:
        return {}

    def write(self, method: str, path: str, body: Any = None) -> Any:
        if path == self.hold:
            raise KeyboardInterrupt  # the second Ctrl-C, while this write is in flight
        return {"taskId": f"task-{path.rsplit('/', 1)[1]}"}


def in_thread(work: Callable[[], None]) -> None:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def test_an_abort_reports_every_lane_under_way() -> None:
    client = Client()
    tracker = RunTracker(client, NullProgress(), lambda: START + 5, lambda: START + 5, 3)  # type: ignore[arg-type]

    def lane_one() -> None:  # sub 3001: a done, b following its task
        tracker.action_started(1, 6, ACTIONS[0])
        tracker.write("PUT", ACTIONS[0].request.path)
        summary = ActionSummary.of(1, ACTIONS[0])
        tracker.action_finished(ACTIONS[0], ActionOutcome(summary, "done", 3.0, "task-300101"))
        tracker.action_started(2, 6, ACTIONS[1])
        tracker.write("PUT", ACTIONS[1].request.path)

    def lane_two() -> None:  # sub 3002: a's write in flight
        tracker.action_started(3, 6, ACTIONS[2])
        client.hold = ACTIONS[2].request.path
        with contextlib.suppress(KeyboardInterrupt):
            tracker.write("PUT", ACTIONS[2].request.path)

    in_thread(lane_one)
    in_thread(lane_two)
    report = tracker.aborted_report(ACTIONS)
    assert report.summary_text().splitlines() == [
        "Done (1): update a (db 300101)",
        "Interrupted: update b (db 300102): stopped before it finished (task task-300102); "
        "re-run plan to see where it stands",
        "Interrupted: update a (db 300201): request in flight "
        "(PUT /subscriptions/3002/databases/300201): sent, answer unknown; "
        "re-run plan to see where it stands",
        "Not started (3): update b (db 300202), update a (db 300301), update b (db 300302)",
        "Subscription 3001: interrupted (done 1, interrupted 1)",
        "Subscription 3002: interrupted (done 0, interrupted 1, not started 1)",
        "Subscription 3003: interrupted (done 0, not started 2)",
    ]


def test_a_thread_given_the_ident_of_an_ended_lane_does_not_take_its_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python reuses the ident of an ended thread: here every thread gets the same one."""
    same_ident = SimpleNamespace(get_ident=lambda: 1, local=threading.local, Lock=threading.Lock)
    monkeypatch.setattr(abort, "threading", same_ident)
    tracker = RunTracker(Client(), NullProgress(), lambda: START, lambda: START, 3)  # type: ignore[arg-type]
    in_thread(lambda: tracker.action_started(1, 6, ACTIONS[0]))
    in_thread(lambda: tracker.action_started(3, 6, ACTIONS[2]))
    report = tracker.aborted_report(ACTIONS)
    assert [o.action.index for o in report.interruptions] == [1, 3]


def test_an_abort_keeps_a_lane_that_had_failed_already() -> None:
    tracker = RunTracker(Client(), NullProgress(), lambda: START, lambda: START, 2)  # type: ignore[arg-type]
    summary = ActionSummary.of(1, ACTIONS[0])
    tracker.action_started(1, 6, ACTIONS[0])
    tracker.action_finished(ACTIONS[0], ActionOutcome(summary, "failed", 1.0))
    report = tracker.aborted_report(ACTIONS)
    assert report.failed is not None and report.failed.action.index == 1
    assert [s.index for s in report.not_started] == [2, 3, 4, 5, 6]
