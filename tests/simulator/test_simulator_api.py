"""Endpoints of the simulator (reconciler/simulator/api.py), over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
STAGING = "/subscriptions/2005678"
SESSIONS = f"{PROD}/databases/51170941"
PROD_NAMES = ["sessions", "legacy-cache", "cache", "queue", "analytics"]
TASK = 10.0
PROVISION = 20.0


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=TASK, provision_seconds=PROVISION))


def names(page: dict[str, Any]) -> list[str]:
    return [db["name"] for db in page["subscription"][0]["databases"]]


def test_list_subscriptions(api: SimApi) -> None:
    answer = api.get("/subscriptions")
    assert answer.status_code == 200
    body = answer.json()
    assert body["accountId"] == 1001
    assert [(s["id"], s["name"], s["status"]) for s in body["subscriptions"]] == [
        (2001234, "prod", "active"),
        (2005678, "staging", "active"),
    ]
    assert body["links"][0]["rel"] == "self"


def test_get_subscription(api: SimApi) -> None:
    body = api.get(STAGING).json()
    assert (body["id"], body["name"], body["numberOfDatabases"]) == (2005678, "staging", 3)
    assert body["cloudDetails"][0]["provider"] == "GCP"
    assert body["cloudDetails"][0]["regions"][0]["region"] == "europe-west1"


@pytest.mark.parametrize(
    ("path", "error_type", "description"),
    [
        ("/subscriptions/999", "SUBSCRIPTION_NOT_FOUND", "Subscription 999 not found"),
        (f"{PROD}/databases/1", "DATABASE_NOT_FOUND", "Database 1 not found"),
        ("/subscriptions/abc", "BAD_REQUEST", '"subscriptionId" must be an integer, got "abc"'),
        ("/nothing-here", "ENTITY_NOT_FOUND", "No such API path"),
    ],
)
def test_unknown_resources(api: SimApi, path: str, error_type: str, description: str) -> None:
    answer = api.get(path)
    expected_status = 400 if error_type == "BAD_REQUEST" else 404
    assert answer.status_code == expected_status
    assert answer.json() == {
        "error": {
            "type": error_type,
            "status": f"{expected_status} {HTTPStatus(expected_status).name}",
            "description": description,
        }
    }


def test_list_databases_shape(api: SimApi) -> None:
    body = api.get(f"{PROD}/databases").json()
    assert sorted(body) == ["accountId", "links", "subscription"]
    assert len(body["subscription"]) == 1
    element = body["subscription"][0]
    assert sorted(element) == ["databases", "links", "numberOfDatabases", "subscriptionId"]
    assert (element["subscriptionId"], element["numberOfDatabases"]) == (2001234, 5)
    assert names(body) == PROD_NAMES
    assert body["links"][0]["href"].endswith(f"{PROD}/databases?offset=0&limit=100")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("offset=0&limit=2", PROD_NAMES[:2]),
        ("offset=2&limit=2", PROD_NAMES[2:4]),
        ("offset=4&limit=2", PROD_NAMES[4:]),
        ("limit=3", PROD_NAMES[:3]),
        ("offset=1", PROD_NAMES[1:]),
    ],
)
def test_list_databases_pages(api: SimApi, query: str, expected: list[str]) -> None:
    answer = api.get(f"{PROD}/databases?{query}")
    assert answer.status_code == 200
    assert names(answer.json()) == expected
    assert answer.json()["subscription"][0]["numberOfDatabases"] == 5


@pytest.mark.parametrize("offset", [5, 100])
def test_list_databases_past_the_end_is_404_with_empty_body(api: SimApi, offset: int) -> None:
    answer = api.get(f"{PROD}/databases?offset={offset}&limit=100")
    assert answer.status_code == 404
    assert answer.content == b""


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("offset=-1", '"offset" must be at least 0, got -1'),
        ("limit=0", '"limit" must be at least 1, got 0'),
        ("limit=abc", '"limit" must be an integer, got "abc"'),
    ],
)
def test_list_databases_bad_paging(api: SimApi, query: str, description: str) -> None:
    answer = api.get(f"{PROD}/databases?{query}")
    assert answer.status_code == 400
    assert answer.json()["error"]["description"] == description


def test_empty_subscription_lists_no_databases(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "account:\n  id: 7\n  subscriptions:\n"
        "    - {id: 10, name: empty, provider: AWS, region: us-east-1}\n"
    )
    api = sim_api(make_simulator(seed_path=seed))
    first = api.get("/subscriptions/10/databases")
    assert first.status_code == 200
    assert first.json()["subscription"][0] == {
        "subscriptionId": 10,
        "numberOfDatabases": 0,
        "databases": [],
        "links": [],
    }
    assert api.get("/subscriptions/10/databases?offset=100").status_code == 404


def test_password_only_in_single_get(api: SimApi) -> None:
    listed = api.get(f"{PROD}/databases").json()["subscription"][0]["databases"][0]
    single = api.get(SESSIONS).json()
    assert "password" not in listed["security"]
    assert single["security"]["password"] == "seed-sessions-password-0000000001"


def test_create_answers_202_with_a_task(api: SimApi) -> None:
    answer = api.post(f"{PROD}/databases", {"name": "reports", "datasetSizeInGb": 5})
    assert answer.status_code == 202
    task = answer.json()
    assert task["commandType"] == "databaseCreateRequest"
    assert task["status"] == "received"
    assert task["links"] == [
        {"rel": "task", "type": "GET", "href": f"{api.url}/tasks/{task['taskId']}"}
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", SESSIONS, {"datasetSizeInGb": 2}),
        ("DELETE", SESSIONS, None),
        ("POST", f"{SESSIONS}/backup", {"adhocBackupPath": "s3://b/x"}),
        ("POST", f"{SESSIONS}/import", {"sourceType": "aws-s3", "importFromUri": ["s3://b/x.rdb"]}),
        ("POST", f"{PROD}/databases/51170944/upgrade", {"targetRedisVersion": "7.4"}),
    ],
)
def test_other_writes_answer_200_with_a_task(
    api: SimApi, method: str, path: str, body: Any
) -> None:
    answer = api.request(method, path, json=body)
    assert answer.status_code == 200
    assert answer.json()["status"] == "received"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", f"{PROD}/databases/1", {"datasetSizeInGb": 2}),
        ("DELETE", f"{PROD}/databases/1", None),
        ("POST", f"{PROD}/databases/1/backup", None),
        ("POST", "/subscriptions/1/databases", {"name": "x"}),
    ],
)
def test_writes_to_unknown_resources_are_404(
    api: SimApi, method: str, path: str, body: Any
) -> None:
    assert api.request(method, path, json=body).status_code == 404


def test_duplicate_name_on_create_is_409(api: SimApi) -> None:
    answer = api.post(f"{PROD}/databases", {"name": "cache"})
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "type": "DATABASE_NAME_EXISTS",
        "status": "409 CONFLICT",
        "description": 'A database named "cache" already exists',
    }


def test_name_of_a_queued_create_is_taken(api: SimApi) -> None:
    assert api.post(f"{PROD}/databases", {"name": "reports"}).status_code == 202
    assert api.post(f"{PROD}/databases", {"name": "reports"}).status_code == 409


def test_rename_to_an_existing_name_is_409(api: SimApi) -> None:
    answer = api.put(SESSIONS, {"name": "queue"})
    assert answer.status_code == 409
    assert answer.json()["error"]["type"] == "DATABASE_NAME_EXISTS"


def test_same_name_in_another_subscription_is_fine(api: SimApi) -> None:
    assert api.post(f"{STAGING}/databases", {"name": "cache"}).status_code == 202


def test_dry_run_creates_nothing(api: SimApi, fake_clock: FakeClock) -> None:
    answer = api.post(f"{PROD}/databases", {"name": "reports", "dryRun": True})
    assert answer.status_code == 202
    fake_clock.advance(TASK)
    task = api.get(f"/tasks/{answer.json()['taskId']}").json()
    assert task["status"] == "processing-completed"
    assert names(api.get(f"{PROD}/databases").json()) == PROD_NAMES


def test_dry_run_update_changes_nothing(api: SimApi, fake_clock: FakeClock) -> None:
    assert api.put(SESSIONS, {"datasetSizeInGb": 3, "dryRun": True}).status_code == 200
    fake_clock.advance(TASK + PROVISION)
    assert api.get(SESSIONS).json()["datasetSizeInGb"] == 1.0


def test_tasks_list_uses_the_spec_envelope(api: SimApi, fake_clock: FakeClock) -> None:
    first = api.put(SESSIONS, {"datasetSizeInGb": 2}).json()["taskId"]
    second = api.post(f"{PROD}/databases", {"name": "reports"}).json()["taskId"]
    assert api.get("/tasks").json() == {"tasks": []}  # not known yet
    fake_clock.advance(TASK / 2)
    listed = api.get("/tasks").json()["tasks"]
    assert [(t["taskId"], t["status"]) for t in listed] == [
        (first, "processing-in-progress"),
        (second, "received"),
    ]


def test_unknown_method_is_405(api: SimApi) -> None:
    answer = api.request("PATCH", SESSIONS, json={})
    assert answer.status_code == 405
    assert answer.json()["error"]["description"] == "Method not allowed; allowed: GET, PUT, DELETE"


def test_invalid_json_is_400(api: SimApi) -> None:
    answer = api.request(
        "PUT", SESSIONS, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["description"] == "The request body is not valid JSON"
