"""Time-derived task phases and statuses (reconciler/simulator/timeline.py), over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import FakeClock, SimApi

from reconciler.errors import UsageError
from reconciler.simulator import RunningSimulator, SimulatorConfig
from reconciler.simulator.api import ApiRequest

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
CACHE = f"{PROD}/databases/51170943"
TASK = 10.0
PROVISION = 20.0


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=TASK, provision_seconds=PROVISION))


def task_status(api: SimApi, task_id: str) -> str | int:
    answer = api.get(f"/tasks/{task_id}")
    return answer.json()["status"] if answer.status_code == 200 else answer.status_code


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (0.0, 404),
        (0.9, 404),
        (1.0, "received"),
        (2.9, "received"),
        (3.0, "processing-in-progress"),
        (9.9, "processing-in-progress"),
        (10.0, "processing-completed"),
    ],
)
def test_task_phases(
    api: SimApi, fake_clock: FakeClock, elapsed: float, expected: str | int
) -> None:
    task_id = api.post(f"{PROD}/databases", {"name": "reports"}).json()["taskId"]
    fake_clock.advance(elapsed)
    assert task_status(api, task_id) == expected


def test_completed_create_reports_the_new_database_id(api: SimApi, fake_clock: FakeClock) -> None:
    task_id = api.post(f"{PROD}/databases", {"name": "reports"}).json()["taskId"]
    fake_clock.advance(TASK)
    task = api.get(f"/tasks/{task_id}").json()
    assert task["response"] == {"resourceId": 51180010}
    assert task["description"] == (
        "Request processing completed successfully and its resources are now being "
        "provisioned / de-provisioned."
    )


def test_create_provisions_with_the_subscription_pending(
    api: SimApi, fake_clock: FakeClock
) -> None:
    api.post(f"{PROD}/databases", {"name": "reports"})
    new_db = f"{PROD}/databases/51180010"
    fake_clock.advance(TASK - 0.1)
    assert api.get(new_db).status_code == 404  # effect only when processing completes
    assert api.get(PROD).json()["status"] == "active"
    fake_clock.advance(0.1)
    assert api.get(new_db).json()["status"] == "pending"
    assert api.get(PROD).json()["status"] == "pending"
    fake_clock.advance(PROVISION)
    assert api.get(new_db).json()["status"] == "active"
    assert api.get(PROD).json()["status"] == "active"


def test_update_takes_effect_at_completion_then_pends(api: SimApi, fake_clock: FakeClock) -> None:
    api.put(SESSIONS, {"datasetSizeInGb": 2})
    fake_clock.advance(TASK - 0.1)
    assert (api.get(SESSIONS).json()["datasetSizeInGb"], api.get(SESSIONS).json()["status"]) == (
        1.0,
        "active",
    )
    fake_clock.advance(0.1)
    body = api.get(SESSIONS).json()
    assert (body["datasetSizeInGb"], body["status"]) == (2.0, "active-change-pending")
    assert api.get(PROD).json()["status"] == "active"  # only creates make it pending
    fake_clock.advance(PROVISION)
    assert api.get(SESSIONS).json()["status"] == "active"


def test_delete_passes_through_deleting_then_404(api: SimApi, fake_clock: FakeClock) -> None:
    api.delete(CACHE)
    fake_clock.advance(TASK)
    assert api.get(CACHE).json()["status"] == "deleting"
    fake_clock.advance(PROVISION)
    assert api.get(CACHE).status_code == 404
    assert api.get(PROD).json()["numberOfDatabases"] == 4


def test_one_task_processed_at_a_time(api: SimApi, fake_clock: FakeClock) -> None:
    first = api.put(SESSIONS, {"datasetSizeInGb": 2}).json()["taskId"]
    second = api.put(CACHE, {"datasetSizeInGb": 2}).json()["taskId"]
    fake_clock.advance(5.0)
    assert (task_status(api, first), task_status(api, second)) == (
        "processing-in-progress",
        "received",
    )
    fake_clock.advance(5.0)  # first ends at 10: second starts processing then
    assert (task_status(api, first), task_status(api, second)) == (
        "processing-completed",
        "processing-in-progress",
    )
    fake_clock.advance(6.9)
    assert task_status(api, second) == "processing-in-progress"
    fake_clock.advance(0.1)  # second ends at 10 + 0.7T = 17
    assert task_status(api, second) == "processing-completed"


def test_write_to_a_pending_database_is_409(api: SimApi, fake_clock: FakeClock) -> None:
    api.put(SESSIONS, {"datasetSizeInGb": 2})
    fake_clock.advance(TASK)
    answer = api.put(SESSIONS, {"datasetSizeInGb": 3})
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "type": "DATABASE_NOT_ACTIVE",
        "status": "409 CONFLICT",
        "description": "Database 51170941 is not active (status: active-change-pending)",
    }


def test_write_while_the_subscription_is_pending_is_403(api: SimApi, fake_clock: FakeClock) -> None:
    api.post(f"{PROD}/databases", {"name": "reports"})
    fake_clock.advance(TASK)
    for answer in (
        api.post(f"{PROD}/databases", {"name": "other"}),
        api.put(CACHE, {"replication": True}),
    ):
        assert answer.status_code == 403
        assert answer.json()["error"] == {
            "type": "SUBSCRIPTION_NOT_ACTIVE",
            "status": "403 FORBIDDEN",
            "description": "Cannot perform any actions for subscription 2001234 that is not in an "
            "active state (status: pending)",
        }


def test_a_deleted_database_cannot_be_updated_by_a_queued_task(
    api: SimApi, fake_clock: FakeClock
) -> None:
    api.delete(CACHE)
    # Over HTTP the update is refused while the delete is queued (409); a task queued
    # before (e.g. in a state file) meets the processed delete and fails.
    simulator = api.running.simulator
    with simulator.lock:
        request = ApiRequest(params={"subscriptionId": 2001234})
        payload = {"changes": {"datasetSizeInGb": 2.0}, "dryRun": False}
        update = simulator.submit("update", request, 51170943, payload, fake_clock())["taskId"]
    fake_clock.advance(TASK * 2)
    task = api.get(f"/tasks/{update}").json()
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": "DATABASE_NOT_FOUND",
        "status": "404 NOT_FOUND",
        "description": "Database 51170943 not found",
    }


def test_task_seconds_for_gives_each_task_its_own_length(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> None:
    asked: list[tuple[str, int | None]] = []

    def length(kind: str, database_id: int | None) -> float:
        asked.append((kind, database_id))
        return 4.0 if kind == "update" else 30.0

    api = sim_api(make_simulator(clock=fake_clock, task_seconds=TASK, task_seconds_for=length))
    update = api.put(SESSIONS, {"datasetSizeInGb": 2}).json()["taskId"]
    delete = api.delete(CACHE).json()["taskId"]
    fake_clock.advance(3.9)
    assert (task_status(api, update), task_status(api, delete)) == (
        "processing-in-progress",
        "received",
    )
    fake_clock.advance(0.1)  # the update ends at 4; the delete waits until 0.3 * 30 = 9 …
    assert (task_status(api, update), task_status(api, delete)) == (
        "processing-completed",
        "received",
    )
    fake_clock.advance(5.0)
    assert task_status(api, delete) == "processing-in-progress"
    fake_clock.advance(20.9)  # … and ends at 30
    assert task_status(api, delete) == "processing-in-progress"
    fake_clock.advance(0.1)
    assert task_status(api, delete) == "processing-completed"
    assert asked == [("update", 51170941), ("delete", 51170943)]


def test_task_seconds_for_must_not_give_a_negative_length() -> None:
    config = SimulatorConfig(task_seconds_for=lambda kind, database_id: -1.0)
    with pytest.raises(UsageError) as caught:
        config.task_length("update", 51170941)
    assert str(caught.value) == "simulator task_seconds_for gave a negative length for update"


def test_without_task_seconds_for_every_task_takes_task_seconds() -> None:
    assert SimulatorConfig(task_seconds=7.5).task_length("create", None) == 7.5
