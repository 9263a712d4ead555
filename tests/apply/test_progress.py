"""Tests for reconciler.apply.progress: live TTY lines and plain timestamped lines."""

from __future__ import annotations

import io

import pytest

from reconciler.apply.progress import (
    LanesLiveProgress,
    LiveProgress,
    LockedProgress,
    PlainProgress,
    format_elapsed,
    make_progress,
)
from reconciler.apply.report import ActionError, ActionOutcome, ActionSummary
from reconciler.plan import ActionKind, ApiRequest, PlannedAction
from reconciler.secrets import Secret

START = 1795788185.0  # 2026-11-27T14:03:05Z
CLEAR = "\r\x1b[K"

UPDATE = PlannedAction(
    ActionKind.UPDATE,
    2001234,
    51170941,
    "sessions",
    (),
    ApiRequest("PUT", "/subscriptions/2001234/databases/51170941", {"password": Secret("hunter2")}),
)


class WallClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def outcome(status: str = "done", elapsed: float = 12.4, **extra: object) -> ActionOutcome:
    return ActionOutcome(ActionSummary.of(2, UPDATE), status, elapsed, "t-1", **extra)  # type: ignore[arg-type]


def test_plain_lines_are_timestamped_and_written_only_on_status_changes() -> None:
    out, wall = io.StringIO(), WallClock()
    sink = make_progress(out, tty=False, wall_clock=wall)
    assert isinstance(sink, PlainProgress)
    sink.action_started(2, 7, UPDATE)
    wall.now += 1
    sink.action_status(UPDATE, "task received", 0.6)
    wall.now += 3
    sink.action_status(UPDATE, "task processing-in-progress", 4.2)
    sink.action_status(UPDATE, "task processing-in-progress", 6.0)
    sink.action_status(UPDATE, "task processing-in-progress", 9.0)
    wall.now += 8
    sink.action_finished(UPDATE, outcome())
    prefix = "apply 2/7 update sessions (db 51170941)"
    assert out.getvalue().splitlines() == [
        f"2026-11-27T14:03:05Z {prefix}: started",
        f"2026-11-27T14:03:06Z {prefix}: task received (0s)",
        f"2026-11-27T14:03:09Z {prefix}: task processing-in-progress (4s)",
        f"2026-11-27T14:03:17Z {prefix}: done (12s)",
    ]


def test_plain_failure_line_carries_the_error() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=False, wall_clock=WallClock())
    sink.action_started(2, 7, UPDATE)
    error = ActionError("task t-1 failed: 400 BAD_REQUEST DATABASE_INVALID_ALERTS: bad")
    sink.action_finished(UPDATE, outcome("failed", 3, error=error))
    assert out.getvalue().splitlines()[-1] == (
        "2026-11-27T14:03:05Z apply 2/7 update sessions (db 51170941): "
        "failed (3s): task t-1 failed: 400 BAD_REQUEST DATABASE_INVALID_ALERTS: bad"
    )


def test_live_line_is_rewritten_in_place_then_finished() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=True, width=120)
    assert isinstance(sink, LiveProgress)
    sink.action_started(2, 7, UPDATE)
    sink.action_status(UPDATE, "task received", 0.5)
    sink.action_status(UPDATE, "task received", 1.0)
    sink.action_status(UPDATE, "task processing-in-progress", 64.0)
    sink.action_finished(UPDATE, outcome(elapsed=70))
    label = "[2/7] update sessions (db 51170941)"
    assert out.getvalue() == (
        f"{CLEAR}{label}: starting"
        f"{CLEAR}{label}: task received (0s)"
        f"{CLEAR}{label}: task received (1s)"
        f"{CLEAR}{label}: task processing-in-progress (1m04s)"
        f"{CLEAR}{label}: done (1m10s)\n"
    )


def test_live_line_is_cut_to_the_terminal_width() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=True, width=30)
    sink.action_started(1, 1, UPDATE)
    assert out.getvalue() == f"{CLEAR}[1/1] update sessions (db 511…"  # 30 characters


def test_interrupted_line_names_the_task() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=True, width=300)
    sink.action_started(2, 7, UPDATE)
    sink.action_finished(UPDATE, outcome("interrupted", 5, last_state="task received"))
    assert out.getvalue().endswith(
        "[2/7] update sessions (db 51170941): interrupted (5s): stopped before it finished "
        "(task t-1, last seen: task received); re-run plan to see where it stands\n"
    )


def test_no_secret_reaches_the_stream() -> None:
    out = io.StringIO()
    for sink in (make_progress(out, tty=True, width=300), make_progress(out, tty=False)):
        sink.action_started(1, 1, UPDATE)
        sink.action_status(UPDATE, "sending PUT", 0)
        sink.action_finished(UPDATE, outcome())
    assert "hunter2" not in out.getvalue()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (4.9, "4s"), (59.99, "59s"), (60, "1m00s"), (125, "2m05s"), (3725, "1h02m")],
)
def test_elapsed_is_short(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


# ------------------------------------------------------------------ parallel runs (lanes)

OTHER = PlannedAction(
    ActionKind.UPDATE,
    2005678,
    51180001,
    "staging-sessions",
    (),
    ApiRequest("PUT", "/subscriptions/2005678/databases/51180001", {}),
)


def other_outcome(status: str = "done", elapsed: float = 3.0) -> ActionOutcome:
    return ActionOutcome(ActionSummary.of(5, OTHER), status, elapsed, "t-2")


def test_plain_lines_of_lanes_name_their_subscription_and_keep_their_own_status() -> None:
    out, wall = io.StringIO(), WallClock()
    sink = make_progress(out, tty=False, wall_clock=wall, parallel=3)
    assert isinstance(sink, PlainProgress)
    sink.action_started(2, 7, UPDATE)
    sink.action_started(5, 7, OTHER)
    sink.action_status(UPDATE, "task received", 0.5)
    sink.action_status(OTHER, "task received", 0.5)  # the same text, another lane: written
    sink.action_status(UPDATE, "task received", 1.5)
    wall.now += 3
    sink.action_finished(OTHER, other_outcome())
    sink.action_finished(UPDATE, outcome())
    prod = "2026-11-27T14:03:05Z [sub 2001234] apply 2/7 update sessions (db 51170941)"
    staging = "[sub 2005678] apply 5/7 update staging-sessions (db 51180001)"
    assert out.getvalue().splitlines() == [
        f"{prod}: started",
        f"2026-11-27T14:03:05Z {staging}: started",
        f"{prod}: task received (0s)",
        f"2026-11-27T14:03:05Z {staging}: task received (0s)",
        f"2026-11-27T14:03:08Z {staging}: done (3s)",
        "2026-11-27T14:03:08Z [sub 2001234] apply 2/7 update sessions (db 51170941): done (12s)",
    ]


def test_live_lines_of_lanes_are_one_block_redrawn_with_finished_lines_above() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=True, width=120, parallel=2)
    assert isinstance(sink, LanesLiveProgress)
    sink.action_started(2, 7, UPDATE)
    sink.action_started(5, 7, OTHER)
    sink.action_status(UPDATE, "task received", 1.0)
    sink.action_finished(OTHER, other_outcome())
    prod = "[sub 2001234] [2/7] update sessions (db 51170941)"
    staging = "[sub 2005678] [5/7] update staging-sessions (db 51180001)"
    up = "\x1b[1A"
    assert out.getvalue().split("\r") == [
        "",
        f"\x1b[J{prod}: starting",
        f"\x1b[J{prod}: starting\n{staging}: starting",
        f"{up}\x1b[J{prod}: task received (1s)\n{staging}: starting",
        f"{up}\x1b[J{staging}: done (3s)\n{prod}: task received (1s)",
    ]


def test_live_lines_of_lanes_are_each_cut_to_the_terminal_width() -> None:
    out = io.StringIO()
    sink = make_progress(out, tty=True, width=30, parallel=3)
    sink.action_started(2, 7, UPDATE)
    sink.action_started(5, 7, OTHER)
    assert out.getvalue().endswith("[sub 2001234] [2/7] update se…\n[sub 2005678] [5/7] update st…")


def test_a_locked_sink_passes_every_call_on() -> None:
    out, wall = io.StringIO(), WallClock()
    inner = make_progress(out, tty=False, wall_clock=wall)
    locked = LockedProgress(inner)
    locked.action_started(2, 7, UPDATE)
    locked.action_status(UPDATE, "task received", 0.5)
    locked.action_finished(UPDATE, outcome())
    assert [line.rsplit(": ", 1)[1] for line in out.getvalue().splitlines()] == [
        "started",
        "task received (0s)",
        "done (12s)",
    ]
