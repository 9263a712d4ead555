"""Account-wide limits: one task processed at a time, at most three subscriptions changing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeClock, SimApi
from lockstep import Lockstep

from reconciler.apply.executor import apply_plan
from reconciler.cloud import ApiClient
from reconciler.errors import UsageError
from reconciler.plan import ActionKind, Plan, PlannedAction
from reconciler.plan import ApiRequest as PlanRequest
from reconciler.simulator import RunningSimulator, SimulatorConfig

TASK = 10.0
PROVISION = 100.0
FIRST_SUBSCRIPTION = 5_000_001
FIRST_DATABASE = 80_000_000
TOO_MANY = {
    "error": {
        "type": "TOO_MANY_PENDING_SUBSCRIPTIONS",
        "status": "429 TOO_MANY_REQUESTS",
        "description": "Too many resources are concurrently created / updated / deleted in "
        "the account. Please re-submit API requests after resource changes are completed",
    }
}


def sub_path(index: int) -> str:
    return f"/subscriptions/{FIRST_SUBSCRIPTION + index}"


def db_path(index: int, db: int = 0) -> str:
    return f"{sub_path(index)}/databases/{FIRST_DATABASE + index * 10 + db}"


def seed(folder: Path, subscriptions: int = 5, databases: int = 2) -> Path:
    """Write a seed of ``subscriptions`` x ``databases`` databases; return its path."""
    document = {
        "account": {
            "id": 1001,
            "subscriptions": [
                {
                    "id": FIRST_SUBSCRIPTION + s,
                    "name": f"team-{s}",
                    "provider": "AWS",
                    "region": "us-east-1",
                    "databases": [
                        {"databaseId": FIRST_DATABASE + s * 10 + d, "name": f"db-{d}"}
                        for d in range(databases)
                    ],
                }
                for s in range(subscriptions)
            ],
        }
    }
    path = folder / "seed.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> SimApi:
    running = make_simulator(
        clock=fake_clock,
        task_seconds=TASK,
        provision_seconds=PROVISION,
        seed_path=seed(tmp_path),
    )
    return sim_api(running)


def resize(api: SimApi, index: int, db: int = 0, size: float = 2) -> int:
    """PUT a new dataset size on database ``db`` of subscription ``index``; return the status."""
    return api.put(db_path(index, db), {"datasetSizeInGb": size}).status_code


def test_a_fourth_changing_subscription_is_refused_with_429(api: SimApi) -> None:
    assert [resize(api, index) for index in range(3)] == [200, 200, 200]
    refused = api.put(db_path(3), {"datasetSizeInGb": 2})
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert "x-rate-limit-retry-after-seconds" not in refused.headers


def test_a_refused_write_queues_no_task(api: SimApi, fake_clock: FakeClock) -> None:
    for index in range(3):
        resize(api, index)
    assert resize(api, 3) == 429
    fake_clock.advance(TASK / 10)  # a task is listed a moment after submission
    assert len(api.get("/tasks").json()["tasks"]) == 3
    assert api.get(db_path(3)).json()["datasetSizeInGb"] == 1


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (lambda api: api.post(f"{sub_path(3)}/databases", {"name": "new"}), 429),
        (lambda api: api.delete(db_path(3)), 429),
        (lambda api: api.post(f"{db_path(3)}/upgrade", {"targetRedisVersion": "8.0"}), 429),
        (lambda api: api.put(db_path(3), {"datasetSizeInGb": 2, "dryRun": True}), 200),
        (lambda api: api.post(f"{sub_path(3)}/databases", {"name": "n", "dryRun": True}), 202),
        (lambda api: api.post(f"{db_path(3)}/backup", {"adhocBackupPath": "s3://b/x"}), 200),
        (lambda api: api.put(f"{db_path(3)}/tags", {"tags": [{"key": "a", "value": "b"}]}), 200),
    ],
)
def test_which_writes_count_against_the_limit(
    api: SimApi, write: Callable[[SimApi], object], expected: int
) -> None:
    for index in range(3):
        resize(api, index)
    assert write(api).status_code == expected  # type: ignore[attr-defined]


def test_a_changing_subscription_takes_more_changes(api: SimApi) -> None:
    for index in range(3):
        resize(api, index)
    assert resize(api, 0, db=1) == 200


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        # Tasks end at 10, 17, 24 (one processed at a time); provisioning lasts 100 s more.
        (0.0, 429),  # all three queued: they hold their places from submission
        (50.0, 429),  # all three provisioning at once
        (109.9, 429),
        (110.0, 200),  # the first subscription's database is active again
    ],
)
def test_the_fourth_subscription_goes_once_one_change_completes(
    api: SimApi, fake_clock: FakeClock, elapsed: float, expected: int
) -> None:
    for index in range(3):
        resize(api, index)
    fake_clock.advance(elapsed)
    assert resize(api, 3) == expected


def test_provisioning_of_different_subscriptions_overlaps(
    api: SimApi, fake_clock: FakeClock
) -> None:
    for index in range(3):
        resize(api, index)
    fake_clock.advance(3 * TASK)  # every task processed, one after the other
    statuses = [api.get(db_path(index)).json()["status"] for index in range(3)]
    assert statuses == ["active-change-pending"] * 3


def test_a_subscription_pending_during_a_create_counts(api: SimApi, fake_clock: FakeClock) -> None:
    api.post(f"{sub_path(0)}/databases", {"name": "new"})
    resize(api, 1)
    resize(api, 2)
    fake_clock.advance(3 * TASK)
    assert api.get(sub_path(0)).json()["status"] == "pending"
    assert resize(api, 3) == 429


def test_provision_seconds_for_gives_each_task_its_own_provisioning(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    lengths = {FIRST_DATABASE: 5.0, FIRST_DATABASE + 10: 50.0}
    running = make_simulator(
        clock=fake_clock,
        task_seconds=TASK,
        seed_path=seed(tmp_path),
        provision_seconds_for=lambda kind, db_id: lengths[db_id],
    )
    api = sim_api(running)
    resize(api, 0)
    resize(api, 1)
    fake_clock.advance(2 * TASK + 5.0)  # tasks end at 10 and 17
    statuses = [api.get(db_path(index)).json()["status"] for index in range(2)]
    assert statuses == ["active", "active-change-pending"]
    fake_clock.advance(42.0)
    assert api.get(db_path(1)).json()["status"] == "active"


def test_a_negative_provisioning_length_is_refused() -> None:
    config = SimulatorConfig(provision_seconds_for=lambda kind, db_id: -1.0)
    with pytest.raises(UsageError) as raised:
        config.provision_length("update", 1)
    assert str(raised.value) == "simulator provision_seconds_for gave a negative length for update"


def test_the_executor_resends_a_write_refused_for_too_many_changes(
    make_simulator: Callable[..., RunningSimulator],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler")
    clock = Lockstep()
    lines: list[str] = []
    running = make_simulator(
        clock=clock,
        task_seconds=2.0,
        provision_seconds=20.0,
        seed_path=seed(tmp_path),
        log=lines.append,
    )
    with ApiClient(running.url, running.api_key, running.api_secret, clock=clock) as other:
        for index in range(3):  # another run changes three subscriptions
            other.write("PUT", db_path(index), {"datasetSizeInGb": 3})
    path = db_path(3)
    action = PlannedAction(
        ActionKind.UPDATE,
        FIRST_SUBSCRIPTION + 3,
        FIRST_DATABASE + 30,
        "db-0",
        (),
        PlanRequest("PUT", path, {"datasetSizeInGb": 2}),
    )
    with ApiClient(
        running.url, running.api_key, running.api_secret, sleep=clock.sleep, clock=clock
    ) as client:
        report = apply_plan(
            Plan(subscriptions=(), actions=(action,)),
            client,
            clock=clock,
            sleep=clock.sleep,
            wall_clock=clock,
            wait_for_others=False,
        )
    assert [outcome.status for outcome in report.done] == ["done"]
    puts = [line.split()[2] for line in lines if line.startswith(f"PUT /v1{path} ")]
    assert puts[0] == "429"
    assert puts[-1] == "200"
    # The executor waited for the account; the client did not take it for the request rate.
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if "rate limited (429)" in m]
    assert f"PUT {path} refused (the account has three subscriptions changing" in "\n".join(
        messages
    )
