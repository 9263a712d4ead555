"""Seeded faults (reconciler/simulator/faults.py), alone and over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator
from reconciler.simulator.faults import READ_FAULTS, Fault, FaultInjector

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"


class ScriptedFaults:
    """Stands in for the injector: hands out a fixed list of faults, then none."""

    def __init__(self, *faults: Fault | None) -> None:
        self.faults = list(faults)

    def draw(self, is_write: bool) -> Fault | None:
        return self.faults.pop(0) if self.faults else None

    def reset(self) -> None:
        self.faults.clear()


def outcome(api: SimApi, method: str, path: str, body: object = None) -> int | str:
    try:
        return api.request(method, path, json=body).status_code
    except requests.ConnectionError:
        return "dropped"


def test_zero_rate_never_faults() -> None:
    injector = FaultInjector(0.0, 1)
    assert {injector.draw(is_write=True) for _ in range(200)} == {None}


def test_full_rate_always_faults_and_reads_get_read_faults_only() -> None:
    injector = FaultInjector(1.0, 3)
    drawn = {injector.draw(is_write=False) for _ in range(200)}
    assert drawn == set(READ_FAULTS)


def test_writes_can_lose_their_answer_or_fail_their_task() -> None:
    injector = FaultInjector(1.0, 3)
    assert {injector.draw(is_write=True) for _ in range(300)} == set(Fault)


def test_same_seed_same_faults_and_reset_restarts() -> None:
    first, second = FaultInjector(0.3, 42), FaultInjector(0.3, 42)
    sequence = [first.draw(is_write=True) for _ in range(100)]
    assert sequence == [second.draw(is_write=True) for _ in range(100)]
    assert sequence != [FaultInjector(0.3, 43).draw(is_write=True) for _ in range(100)]
    assert 10 < sum(fault is not None for fault in sequence) < 50
    first.reset()
    assert [first.draw(is_write=True) for _ in range(100)] == sequence


def test_seeded_faults_are_reproducible_over_http(
    make_simulator: Callable[..., RunningSimulator], sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    runs = []
    for _ in range(2):
        api = sim_api(make_simulator(fault_rate=0.4, fault_seed=8))
        runs.append([outcome(api, "GET", f"{PROD}/databases") for _ in range(30)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500, 503, "dropped"}


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0))


def use_faults(api: SimApi, *faults: Fault | None) -> None:
    api.running.gateway.faults = ScriptedFaults(*faults)  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [(Fault.ERROR_500, 500, "GENERAL_ERROR"), (Fault.ERROR_503, 503, "SERVICE_UNAVAILABLE")],
)
def test_error_answers_do_nothing(
    api: SimApi, fake_clock: FakeClock, fault: Fault, status: int, error_type: str
) -> None:
    use_faults(api, fault)
    answer = api.put(SESSIONS, {"datasetSizeInGb": 2})
    assert answer.status_code == status
    assert answer.json()["error"]["type"] == error_type
    fake_clock.advance(5)
    assert api.get("/tasks").json() == {"tasks": []}


def test_dropped_connection_does_nothing(api: SimApi, fake_clock: FakeClock) -> None:
    use_faults(api, Fault.DROP)
    assert outcome(api, "PUT", SESSIONS, {"datasetSizeInGb": 2}) == "dropped"
    fake_clock.advance(5)
    assert api.get("/tasks").json() == {"tasks": []}
    assert api.get(SESSIONS).json()["datasetSizeInGb"] == 1.0


def test_lost_answer_still_takes_effect(api: SimApi, fake_clock: FakeClock) -> None:
    use_faults(api, Fault.LOST_ANSWER)
    assert outcome(api, "PUT", SESSIONS, {"datasetSizeInGb": 2}) == "dropped"
    fake_clock.advance(5)
    assert [task["status"] for task in api.get("/tasks").json()["tasks"]] == [
        "processing-completed"
    ]
    assert api.get(SESSIONS).json()["datasetSizeInGb"] == 2.0


def test_failing_task(api: SimApi, fake_clock: FakeClock) -> None:
    use_faults(api, Fault.FAILING_TASK)
    answer = api.put(SESSIONS, {"datasetSizeInGb": 2})
    assert answer.status_code == 200
    task_id = answer.json()["taskId"]
    fake_clock.advance(1)
    task = api.get(f"/tasks/{task_id}").json()
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": "GENERAL_ERROR",
        "status": "500 INTERNAL_SERVER_ERROR",
        "description": f"An unexpected error occurred; contact support with your task ID {task_id}",
    }
    assert api.get(SESSIONS).json()["datasetSizeInGb"] == 1.0


def test_control_routes_are_never_faulted(
    make_simulator: Callable[..., RunningSimulator],
) -> None:
    running = make_simulator(fault_rate=1.0)
    with requests.Session() as session:
        base = running.url.removesuffix("/v1")
        for _ in range(20):
            assert session.get(f"{base}/_simulator/stats").status_code == 200
        assert session.post(f"{base}/_simulator/reset").status_code == 200


def control_stats(api: SimApi) -> dict[str, Any]:
    url = api.url.removesuffix("/v1") + "/_simulator/stats"
    stats: dict[str, Any] = requests.get(url, timeout=10).json()
    return stats


def test_stats_count_every_injected_fault_by_kind(
    make_simulator: Callable[..., RunningSimulator], sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    api = sim_api(make_simulator(fault_rate=1.0, fault_seed=3))
    seen = [outcome(api, "GET", f"{PROD}/databases") for _ in range(20)]
    seen += [outcome(api, "PUT", SESSIONS, {"datasetSizeInGb": 2}) for _ in range(20)]
    faults = control_stats(api)["faults"]
    assert sum(faults.values()) == 40  # rate 1: every API request met a fault
    assert faults["500"] == seen.count(500)
    assert faults["503"] == seen.count(503)
    assert faults["drop"] + faults["lost-answer"] == seen.count("dropped")
    # A failing-task fault lets the request through (answered 200, or 409 once an earlier
    # write's task is still unfinished); a task it creates ends in processing-error.
    accepted = [s for s in seen[20:] if s in (200, 409)]
    assert faults["failing-task"] == len(accepted) > 0
    assert set(faults) == {"500", "503", "drop", "lost-answer", "failing-task"}


def test_stats_show_no_faults_without_a_fault_rate(api: SimApi, fake_clock: FakeClock) -> None:
    api.get(f"{PROD}/databases")
    api.put(SESSIONS, {"datasetSizeInGb": 2})
    assert control_stats(api)["faults"] == {
        "500": 0,
        "503": 0,
        "drop": 0,
        "failing-task": 0,
        "lost-answer": 0,
    }


def test_scripted_fault_is_counted_once(api: SimApi) -> None:
    use_faults(api, Fault.LOST_ANSWER)
    assert outcome(api, "PUT", SESSIONS, {"datasetSizeInGb": 2}) == "dropped"
    stats = control_stats(api)
    assert stats["faults"]["lost-answer"] == 1
    assert stats["statuses"] == {"dropped": 1}
    api.running.reset()
    assert control_stats(api)["faults"]["lost-answer"] == 0
