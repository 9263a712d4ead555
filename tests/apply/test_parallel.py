"""Tests for apply --parallel (reconciler.apply.parallel) on a lockstep virtual clock.

Every lane is a thread, but only one runs at a time (tests/lockstep.py), so each run is
reproducible: the same requests at the same virtual times.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from lockstep import START
from parallel_support import SUBS, LaneAccount, resize, two_each

from reconciler.apply.context import ApplyContext, RunState
from reconciler.apply.lanes import MAX_PARALLEL, run_in_threads
from reconciler.apply.others import wait_for_others
from reconciler.apply.parallel import KIND_WEIGHTS, remaining_work
from reconciler.apply.progress import NullProgress, make_progress
from reconciler.apply.recovery import UNKNOWN_OUTCOME_GRACE
from reconciler.apply.report import iso_utc
from reconciler.apply.step import ActionStep
from reconciler.cli import runtime
from reconciler.cloud.ratelimit import DEFAULT_REQUESTS_PER_MINUTE
from reconciler.errors import (
    ApplyFailedError,
    ApplyInterruptedError,
    BusyError,
    UnknownOutcomeError,
)
from reconciler.plan import ActionKind
from reconciler.simulator import RunningSimulator

TOO_SMALL = (
    "PUT /subscriptions/3002/databases/300202: HTTP 400, DATABASE_SIZE_TOO_SMALL: "
    '"datasetSizeInGb" must be at least 0.1, got -5'
)


@pytest.fixture
def lanes(
    make_simulator: Callable[..., RunningSimulator], tmp_path: Path
) -> Callable[..., LaneAccount]:
    """Return a factory of four-subscription accounts, each on its own lockstep clock."""
    count = iter(range(100))

    def start(**options: object) -> LaneAccount:
        folder = tmp_path / str(next(count))
        folder.mkdir()
        return LaneAccount(make_simulator, folder, **options)  # type: ignore[arg-type]

    return start


def test_parallel_apply_does_every_action_in_plan_order_within_each_subscription(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()
    report = account.run(*two_each(*SUBS), parallel=3)
    assert report.status == "applied"
    assert sorted(o.action.index for o in report.done) == list(range(1, 9))
    for sid in SUBS:
        assert account.writes(sid) == [
            ("PUT", f"/subscriptions/{sid}/databases/{sid * 100 + 1}"),
            ("PUT", f"/subscriptions/{sid}/databases/{sid * 100 + 2}"),
        ]


def test_lanes_overlap_so_the_run_takes_under_half_the_serial_virtual_time(
    lanes: Callable[..., LaneAccount],
) -> None:
    walls = {}  # three subscriptions on three lanes (a fourth would wait for a free lane)
    for parallel in (1, 3):
        report = lanes().run(*two_each(*SUBS[:3]), parallel=parallel)
        assert report.status == "applied" and report.finished_at is not None
        walls[parallel] = report.finished_at - report.started_at
    assert walls[3] < walls[1] / 2


def test_a_run_on_the_lockstep_clock_is_the_same_every_time(
    lanes: Callable[..., LaneAccount],
) -> None:
    first, second = lanes(), lanes()
    first.run(*two_each(*SUBS))
    second.run(*two_each(*SUBS))
    assert first.requests() == second.requests()
    assert first.watch.events == second.watch.events


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_never_more_subscriptions_under_way_than_lanes(
    lanes: Callable[..., LaneAccount], parallel: int
) -> None:
    account = lanes()
    account.run(*two_each(*SUBS), parallel=parallel)
    assert account.watch.most_busy == parallel


def test_a_free_lane_takes_the_next_action_of_the_free_subscription_with_most_work_left(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()
    account.run(*two_each(*SUBS))
    starts = [index for _, event, index in account.watch.events if event == "started"]
    # 3004 (two actions left) goes before any subscription's second action (one left)
    assert starts[:4] == [1, 3, 5, 7]


def test_lanes_start_with_the_subscriptions_with_most_work_ties_in_plan_order(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()
    actions = [resize(3001, "a", 2), resize(3002, "a", 2), *two_each(3003)]
    account.run(*actions, parallel=2)
    first = [index for at, event, index in account.watch.events if event == "started"][:2]
    assert first == [3, 1]  # 3003 has two updates left; 3001 and 3002 one each


def test_a_lane_with_no_free_subscription_ends_and_the_busy_ones_go_on_to_the_end(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()
    actions = [*two_each(3001), resize(3002, "a", 2), resize(3001, "a", 3), resize(3001, "b", 3)]
    report = account.run(*actions, parallel=3)
    assert report.status == "applied"
    assert [o.action.index for o in report.done] == [1, 2, 3, 4, 5]
    assert [p.rsplit("/", 1)[1] for _, p in account.writes(3001)] == [
        "300101",
        "300102",
        "300101",
        "300102",
    ]
    assert account.watch.most_busy == 2


def test_every_kind_of_action_has_a_weight_and_provisioning_ones_weigh_more() -> None:
    assert set(KIND_WEIGHTS) == set(ActionKind)
    actions = [resize(3001, "a", 2), replace(resize(3001, "b", 2), kind=ActionKind.BACKUP)]
    assert remaining_work(actions, [1, 2]) == 3
    assert remaining_work(actions, [2]) == 1


@pytest.mark.parametrize("parallel", [0, -1, 4])
def test_parallel_outside_one_to_three_is_refused(
    lanes: Callable[..., LaneAccount], parallel: int
) -> None:
    with pytest.raises(ValueError, match=f"parallel must be 1 to 3, not {parallel}"):
        lanes().run(resize(3001, "a", 2), parallel=parallel)


def test_a_failure_stops_every_lane_from_starting_more_and_lets_in_flight_ones_finish(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()
    actions = two_each(*SUBS)
    actions[3] = resize(3002, "b", -5)  # refused by the API: 400
    error = account.stopped(ApplyFailedError, *actions)
    report = error.report
    assert report.failed.action.index == 4
    events = [(event, index) for _, event, index in account.watch.events]
    seen = events.index(("failed", 4))
    assert [e for e in events[seen + 1 :] if e[0] == "started"] == []  # nothing started after
    started = {index for event, index in events if event == "started"}
    in_flight = started - {index for event, index in events[: seen + 1] if event != "started"}
    assert in_flight == {2, 7}  # under way in the two other lanes when the failure was seen
    assert {o.action.index for o in report.done} == started - {4} == {1, 2, 3, 5, 7}
    assert [s.index for s in report.not_started] == [6, 8]
    assert report.summary_text().splitlines()[-4:] == [
        "Subscription 3001: applied (done 2)",
        "Subscription 3002: failed (done 1, failed 1)",
        "Subscription 3003: interrupted (done 1, not started 1)",
        "Subscription 3004: interrupted (done 1, not started 1)",
    ]
    parts = report.to_dict()["subscriptions"]
    assert parts[1] == {
        "subscriptionId": 3002,
        "status": "failed",
        "done": [3],
        "failed": [4],
        "interrupted": [],
        "notStarted": [],
    }
    assert report.to_dict()["parallel"] == 3


def test_a_refusal_in_one_lane_stops_the_others_from_starting(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes()

    def another_run_writes(method: str, path: str) -> None:
        if method == "PUT" and not account.writes():  # lane 1 checked and sends its write
            other = account.other_client()
            other.write("PUT", "/subscriptions/3004/databases/300401", {"datasetSizeInGb": 9})
            account.clock.now += 0.5  # the other run's task is listed from 0.2 s on

    account.transport.on_send = another_run_writes
    error = account.stopped(ApplyFailedError, *two_each(*SUBS), wait_for_others=False)
    report = error.report
    assert [o.action.index for o in report.done] == [1]
    assert report.failed.action.index == 3
    assert report.failed.detail.startswith("subscription 3002 is busy: another run's task")
    assert [s.index for s in report.not_started] == [2, 4, 5, 6, 7, 8]
    assert account.writes() == [("PUT", "/subscriptions/3001/databases/300101")]


def test_a_stop_request_interrupts_every_lane_at_its_next_safe_point(
    lanes: Callable[..., LaneAccount],
) -> None:
    stop = {"requested": False}

    def ctrl_c(lane: int, now: float) -> None:
        stop["requested"] = stop["requested"] or now >= START + 5

    account = lanes(on_sleep=ctrl_c)
    error = account.stopped(
        ApplyInterruptedError, *two_each(*SUBS), stop_requested=lambda: stop["requested"]
    )
    report = error.report
    assert report.done == []
    assert sorted(o.action.index for o in report.interruptions) == [1, 3, 5]
    assert all(o.task_id for o in report.interruptions)
    assert [s.index for s in report.not_started] == [2, 4, 6, 7, 8]
    assert max(t for t, method, _ in account.transport.calls if method != "GET") == START
    assert "Subscription 3002: interrupted (done 0, interrupted 1, not started 1)" in (
        report.summary_text().splitlines()
    )


def test_a_keyboard_interrupt_in_one_lane_stops_the_others_and_is_raised_again(
    lanes: Callable[..., LaneAccount],
) -> None:
    def second_ctrl_c(lane: int, now: float) -> None:
        if lane == 2 and now >= START + 5:
            raise KeyboardInterrupt

    account = lanes(on_sleep=second_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        account.run(*two_each(*SUBS))
    ends = [(event, index) for _, event, index in account.watch.events if event != "started"]
    assert sorted(ends) == [("interrupted", 1), ("interrupted", 5)]
    assert account.writes() == [
        ("PUT", "/subscriptions/3001/databases/300101"),
        ("PUT", "/subscriptions/3002/databases/300201"),
        ("PUT", "/subscriptions/3003/databases/300301"),
    ]


def test_lanes_share_one_request_budget_never_passed_in_any_minute(
    lanes: Callable[..., LaneAccount],
) -> None:
    account = lanes(max_requests_per_minute=40)
    report = account.run(*two_each(*SUBS))
    assert report.status == "applied"
    times = [t for t, _, _ in account.transport.calls]
    assert len(times) > 100
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) == 40


def test_parallel_one_writes_the_serial_progress_and_summary_unchanged(
    lanes: Callable[..., LaneAccount],
) -> None:
    """The output of round 3's serial executor on this plan, checked by running both.

    Poll-status lines and elapsed times are left out: they follow the poll schedule, which
    may change; everything else is byte for byte what the serial executor wrote.
    """
    account = lanes()
    out = io.StringIO()
    actions = [*two_each(3001), resize(3002, "a", 2), resize(3002, "b", -5), resize(3003, "a", 2)]
    with pytest.raises(ApplyFailedError) as caught:
        account.run(
            *actions, parallel=1, progress=make_progress(out, tty=False, wall_clock=account.clock)
        )
    kept = [
        re.sub(r" \(\d+s\)", "", line)
        for line in out.getvalue().splitlines()
        if re.search(r": (started|sending PUT \(0s\)|done \(\d+s\)|failed \(\d+s\).*)$", line)
    ]
    assert [line.split(" ", 1)[1] for line in kept] == [
        f"apply {i}/5 update {db} (db {sid}0{n}): {text}"
        for i, sid, db, n in ((1, 3001, "a", 1), (2, 3001, "b", 2), (3, 3002, "a", 1))
        for text in ("started", "sending PUT", "done")
    ] + [
        "apply 4/5 update b (db 300202): started",
        "apply 4/5 update b (db 300202): sending PUT",
        f"apply 4/5 update b (db 300202): failed: {TOO_SMALL}",
    ]
    assert kept[0].startswith("2026-11-27T14:03:05Z apply 1/5")
    assert caught.value.report.summary_text() == (
        "Done (3): update a (db 300101), update b (db 300102), update a (db 300201)\n"
        f"Failed: update b (db 300202): {TOO_SMALL}\n"
        "Not started (1): update a (db 300301)"
    )
    assert "parallel" not in caught.value.report.to_dict()


def test_the_cli_knows_the_limits_without_importing_the_executor_or_the_client() -> None:
    assert runtime.MAX_PARALLEL == MAX_PARALLEL == 3
    assert runtime.DEFAULT_REQUESTS_PER_MINUTE == DEFAULT_REQUESTS_PER_MINUTE == 200


def test_threads_run_the_lanes_at_the_same_time() -> None:
    meet = threading.Barrier(3, timeout=10)  # only lanes running at once get past it
    passed: list[int] = []

    def lane(number: int) -> Callable[[], None]:
        def run() -> None:
            meet.wait()
            passed.append(number)

        return run

    run_in_threads([lane(1), lane(2), lane(3)])
    assert sorted(passed) == [1, 2, 3]


# ------------------------------------------------------------------ a lane's write in flight


class TaskList:
    """A client listing one unfinished task, ``lane-task``."""

    def get(self, path: str, params: object = None) -> object:
        assert path == "/tasks"
        return {"tasks": [{"taskId": "lane-task", "status": "received"}]}

    def write(self, method: str, path: str, body: object = None) -> object:
        raise AssertionError("no write here")


def first_write_check(state: RunState, sleep: Callable[[float], None]) -> bool:
    """Run the check before the first write to subscription 3002; told not to wait."""
    context = ApplyContext(
        client=TaskList(),
        timeout=600.0,
        clock=lambda: START,
        sleep=sleep,
        wall_clock=lambda: START,
        progress=NullProgress(),
        stop_requested=lambda: False,
        wait_for_others=False,
    )
    step = ActionStep(context, state, resize(3002, "a", 2), START)
    return wait_for_others(step.scope, lambda noun, text: None)


def test_an_unknown_task_while_another_lane_awaits_its_answer_is_waited_for_not_refused() -> None:
    state = RunState(sending={3001})

    def answer_comes_back(seconds: float) -> None:  # lane 3001's write returns its task
        state.known_tasks.add("lane-task")
        state.sending.discard(3001)

    assert first_write_check(state, answer_comes_back) is True
    assert 3002 in state.checked


def test_an_unknown_task_with_no_lane_sending_is_refused_at_once() -> None:
    with pytest.raises(BusyError, match="subscription 3002 is busy: another run's task lane-task"):
        first_write_check(RunState(), lambda seconds: None)


def test_a_write_marks_its_subscription_sending_until_its_task_is_known(
    lanes: Callable[..., LaneAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = lanes()
    states: list[RunState] = []
    during: list[set[int]] = []
    after: list[tuple[set[int], int]] = []
    original = ActionStep._write

    def watched(step: ActionStep) -> object:
        states.append(step.scope.state)
        answer = original(step)
        after.append((set(step.scope.state.sending), len(step.scope.state.known_tasks)))
        return answer

    def on_send(method: str, path: str) -> None:
        if method == "PUT":
            during.append(set(states[-1].sending))

    monkeypatch.setattr(ActionStep, "_write", watched)
    account.transport.on_send = on_send
    account.run(resize(3001, "a", 2), resize(3002, "a", 2), parallel=2)
    assert during == [{3001}, {3002}]
    assert after == [(set(), 1), (set(), 2)]


class LaneTasks:
    """A client listing an unfinished update task that has no resource id yet (it may be any
    lane's), and database 3002/a still 1 GB: the lost update left no trace of its own."""

    def get(self, path: str, params: object = None) -> object:
        if path == "/tasks":
            task = {"taskId": "t-1", "status": "received", "commandType": "databaseUpdateRequest"}
            return {"tasks": [{**task, "timestamp": iso_utc(START)}]}
        return {"databaseId": 300201, "name": "a", "status": "active", "datasetSizeInGb": 1}

    def write(self, method: str, path: str, body: object = None) -> object:
        raise AssertionError("never sent again")


@pytest.mark.parametrize(("sending", "taken"), [({3001}, None), (set(), "t-1")])
def test_a_lost_answer_takes_no_listed_task_while_another_lane_awaits_its_answer(
    sending: set[int], taken: str | None
) -> None:
    now = [START]
    context = ApplyContext(
        client=LaneTasks(),
        timeout=600.0,
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
        wall_clock=lambda: now[0],
        progress=NullProgress(),
        stop_requested=lambda: False,
    )
    step = ActionStep(context, RunState(sending=sending), resize(3002, "a", 2), START)
    lost = UnknownOutcomeError("PUT", "/subscriptions/3002/databases/300201")
    if taken is None:
        with pytest.raises(UnknownOutcomeError):
            step.recovery.after_lost_answer(lost, START, 1, 300201, {})
        assert now[0] >= START + UNKNOWN_OUTCOME_GRACE
    else:
        assert step.recovery.after_lost_answer(lost, START, 1, 300201, {}).task_id == taken
