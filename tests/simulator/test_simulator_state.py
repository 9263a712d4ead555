"""Account persistence (reconciler/simulator/state.py): atomic saves, restarts."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeClock, SimApi

from reconciler.errors import UsageError
from reconciler.simulator import RunningSimulator
from reconciler.simulator.state import MAX_TASKS, Account, load_account, save_account

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    account = Account.empty(5)
    path = tmp_path / "state.json"
    save_account(account, path)
    assert load_account(path).data == account.data
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    save_account(Account.empty(5), path)
    before = path.read_text()

    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_account(Account.empty(6), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "cannot read simulator state {path}: Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1)",
        ),
        ('{"formatVersion": 99}', "{path} is not a simulator state file (format 1)"),
        ("[]", "{path} is not a simulator state file (format 1)"),
    ],
)
def test_unusable_state_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        load_account(path)
    assert str(caught.value) == message.format(path=path)


def test_state_survives_a_restart(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    fake_clock: FakeClock,
    tmp_path: Path,
) -> None:
    state = tmp_path / "sim.json"
    first = make_simulator(
        state_path=state, clock=fake_clock, task_seconds=10, provision_seconds=10
    )
    api = sim_api(first)
    task_id = api.post(f"{PROD}/databases", {"name": "reports"}).json()["taskId"]
    assert json.loads(state.read_text())["tasks"][0]["taskId"] == task_id  # saved after the write
    first.stop()

    fake_clock.advance(10)  # the task finished while nothing was running
    second = make_simulator(
        state_path=state, clock=fake_clock, task_seconds=10, provision_seconds=10
    )
    api = sim_api(second)
    task = api.get(f"/tasks/{task_id}").json()
    assert task["status"] == "processing-completed"
    new_db = f"{PROD}/databases/{task['response']['resourceId']}"
    assert api.get(new_db).json()["status"] == "pending"
    fake_clock.advance(10)
    assert api.get(new_db).json()["status"] == "active"


def test_state_file_is_created_from_the_seed(
    make_simulator: Callable[..., RunningSimulator], tmp_path: Path
) -> None:
    state = tmp_path / "sim.json"
    make_simulator(state_path=state)
    data = json.loads(state.read_text())
    assert data["accountId"] == 1001
    assert len(data["databases"]) == 8


def test_reset_rewrites_the_state_file(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    state = tmp_path / "sim.json"
    running = make_simulator(state_path=state)
    sim_api(running).delete(SESSIONS)
    assert json.loads(state.read_text())["tasks"]
    running.reset()
    assert json.loads(state.read_text())["tasks"] == []


def test_old_finished_tasks_are_forgotten() -> None:
    account = Account.empty(5)
    account.add_task({"taskId": "running", "outcome": None})
    for index in range(MAX_TASKS + 5):
        account.add_task({"taskId": f"t{index}", "outcome": {}})
    kept = [task["taskId"] for task in account.tasks]
    assert len(kept) == MAX_TASKS
    assert kept[:2] == ["running", "t6"]
