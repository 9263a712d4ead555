"""Absurd request bodies, writes racing unfinished tasks, and renames, over loopback HTTP.

Every numeric request field is sent huge, negative, non-finite and very long values: the
answer is always a 400 with a short JSON error body, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
QUEUE = f"{PROD}/databases/51170944"
CREATE = f"{PROD}/databases"
TASK = 1.0
PROVISION = 2.0
MARK = "__NUMBER__"


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=TASK, provision_seconds=PROVISION))


# Every numeric field of the create and update requests, as a body with MARK in its place.
NUMERIC_FIELDS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", CREATE, {"datasetSizeInGb": MARK}),
    ("POST", CREATE, {"memoryLimitInGb": MARK}),
    ("POST", CREATE, {"port": MARK}),
    ("POST", CREATE, {"throughputMeasurement": {"by": "operations-per-second", "value": MARK}}),
    ("POST", CREATE, {"throughputMeasurement": {"by": "number-of-shards", "value": MARK}}),
    ("POST", CREATE, {"averageItemSizeInBytes": MARK}),
    (
        "POST",
        CREATE,
        {"localThroughputMeasurement": [{"region": "us-east-1", "writeOperationsPerSecond": MARK}]},
    ),
    (
        "POST",
        CREATE,
        {"localThroughputMeasurement": [{"region": "us-east-1", "readOperationsPerSecond": MARK}]},
    ),
    ("POST", CREATE, {"alerts": [{"name": "latency", "value": MARK}]}),
    (
        "POST",
        CREATE,
        {"modules": [{"name": "RediSearch", "parameters": {"number-of-documents": MARK}}]},
    ),
    ("PUT", SESSIONS, {"datasetSizeInGb": MARK}),
    ("PUT", SESSIONS, {"memoryLimitInGb": MARK}),
    ("PUT", SESSIONS, {"throughputMeasurement": {"by": "operations-per-second", "value": MARK}}),
    ("PUT", SESSIONS, {"throughputMeasurement": {"by": "number-of-shards", "value": MARK}}),
    ("PUT", SESSIONS, {"alerts": [{"name": "throughput-higher-than", "value": MARK}]}),
]
ABSURD_NUMBERS = [
    "9" * 400,  # the 400-digit size that used to overflow a float
    "-" + "9" * 400,
    "9" * 5000,  # beyond Python's integer parsing limit
    "1e400",
    "-1e400",
    "1.7976931348623157e308",
    "-1.7976931348623157e308",
    "NaN",
    "Infinity",
    "-Infinity",
    str(2**63),
    str(-(2**63) - 1),
    "-1",
    "0." + "0" * 400 + "1",
    "1" + "0" * 300 + ".5",
]


def raw_body(method: str, template: dict[str, Any], number: str) -> str:
    body = template if method == "PUT" else {"name": "fuzz", **template}
    return json.dumps(body).replace(json.dumps(MARK), number)


@pytest.mark.parametrize("number", ABSURD_NUMBERS, ids=lambda n: n[:12])
@pytest.mark.parametrize(
    ("method", "path", "template"), NUMERIC_FIELDS, ids=lambda x: json.dumps(x)[:60]
)
def test_absurd_numbers_are_400(
    api: SimApi, method: str, path: str, template: dict[str, Any], number: str
) -> None:
    answer = api.request(
        method,
        path,
        data=raw_body(method, template, number),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == "400 BAD_REQUEST"
    assert len(error["description"]) < 200  # no 400-digit number echoed back


def test_absurd_numbers_never_reach_the_account(api: SimApi) -> None:
    for method, path, template in NUMERIC_FIELDS:
        for number in ABSURD_NUMBERS:
            body = raw_body(method, template, number)
            api.request(method, path, data=body, headers={"Content-Type": "application/json"})
    stats = api.running.stats()
    assert set(stats["statuses"]) == {"400"}
    assert api.get("/tasks").json() == {"tasks": []}


@pytest.mark.parametrize(
    ("body", "error_type", "description"),
    [
        (
            '{"name": "x", "datasetSizeInGb": ' + "9" * 400 + "}",
            "DATABASE_SIZE_TOO_BIG",
            '"datasetSizeInGb" must be at most 100000, got 9999999999…(400 characters)',
        ),
        (
            '{"name": "x", "datasetSizeInGb": NaN}',
            "BAD_REQUEST",
            "The request body holds NaN, which is not a JSON number",
        ),
        (
            '{"name": "x", "datasetSizeInGb": 1e400}',
            "BAD_REQUEST",
            "The request body holds a number too large for a double: 1e400…",
        ),
        (
            '{"name": "x", "datasetSizeInGb": -1}',
            "DATABASE_SIZE_TOO_SMALL",
            '"datasetSizeInGb" must be at least 0.1, got -1',
        ),
        (
            '{"name": "x", "throughputMeasurement": {"by": "operations-per-second", '
            '"value": 100000001}}',
            "DATABASE_THROUGHPUT_TOO_BIG",
            '"throughputMeasurement.value" is out of range: 100000001 is above 100000000',
        ),
        (
            '{"name": "x", "throughputMeasurement": {"by": "number-of-shards", "value": 10001}}',
            "DATABASE_THROUGHPUT_TOO_BIG",
            '"throughputMeasurement.value" must be at most 10000 for number-of-shards, got 10001',
        ),
        (
            '{"name": "x", "averageItemSizeInBytes": 0}',
            "DATABASE_AVERAGE_ITEM_SIZE_INVALID_VALUE",
            '"averageItemSizeInBytes" is out of range: 0 is below 1',
        ),
        (
            '{"name": "x", "alerts": [{"name": "latency", "value": 2147483648}]}',
            "DATABASE_INVALID_ALERT_VALUE",
            '"alerts[0].value" is out of range: 2147483648 is above 2147483647',
        ),
        ("[" * 100_000, "BAD_REQUEST", "The request body is not valid JSON"),
        (
            '{"name": "x", "port": ' + "9" * 5000 + "}",
            "BAD_REQUEST",
            "The request body is not valid JSON",
        ),
    ],
    ids=lambda x: str(x)[:40],
)
def test_absurd_bodies_get_exact_errors(
    api: SimApi, body: str, error_type: str, description: str
) -> None:
    answer = api.request("POST", CREATE, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": description,
    }


@pytest.mark.parametrize(
    "path",
    [
        f"{PROD}/databases?offset={'9' * 400}",
        f"{PROD}/databases?limit={'9' * 400}",
        f"/subscriptions/{'9' * 400}",
        f"{PROD}/databases/{'9' * 400}",
        f"/subscriptions/redis-versions?subscriptionId={'9' * 400}",
    ],
    ids=["offset", "limit", "subscription", "database", "versions"],
)
def test_absurd_numbers_in_paths_and_queries_are_not_500(api: SimApi, path: str) -> None:
    assert api.get(path).status_code in (200, 400, 404)


# ------------------------------------------------------------- writes racing a task

FIRST_WRITES = [
    ("PUT", SESSIONS, {"datasetSizeInGb": 2}, "databaseUpdateRequest"),
    ("POST", f"{SESSIONS}/backup", None, "databaseBackupRequest"),
    (
        "POST",
        f"{SESSIONS}/import",
        {"sourceType": "http", "importFromUri": ["http://h/f.rdb"]},
        "databaseImportRequest",
    ),
    ("POST", f"{SESSIONS}/upgrade", {"targetRedisVersion": "8.0"}, "databaseUpgradeRequest"),
    ("DELETE", SESSIONS, None, "databaseDeleteRequest"),
]
SECOND_WRITES = [
    ("PUT", SESSIONS, {"replication": False}),
    ("DELETE", SESSIONS, None),
    ("POST", f"{SESSIONS}/backup", None),
    ("POST", f"{SESSIONS}/import", {"sourceType": "http", "importFromUri": ["http://h/f.rdb"]}),
]


@pytest.mark.parametrize("second", SECOND_WRITES, ids=lambda w: f"{w[0]} {w[1][-8:]}")
@pytest.mark.parametrize("first", FIRST_WRITES, ids=lambda w: w[3])
def test_a_write_while_a_task_on_the_database_is_unfinished_is_409(
    api: SimApi, fake_clock: FakeClock, first: tuple[Any, ...], second: tuple[Any, ...]
) -> None:
    accepted = api.request(first[0], first[1], json=first[2])
    assert accepted.status_code == 200, accepted.text
    task_id = accepted.json()["taskId"]
    for moment in (0.0, 0.5 * TASK):  # queued, then processing
        fake_clock.advance(moment)
        answer = api.request(second[0], second[1], json=second[2])
        assert answer.status_code == 409
        assert answer.json()["error"] == {
            "type": "DATABASE_NOT_ACTIVE",
            "status": "409 CONFLICT",
            "description": f"Database 51170941 has a task in progress ({first[3]} {task_id}); "
            "retry when it has finished",
        }


def test_other_databases_are_not_blocked(api: SimApi) -> None:
    assert api.put(SESSIONS, {"datasetSizeInGb": 2}).status_code == 200
    assert api.put(QUEUE, {"datasetSizeInGb": 2}).status_code == 200


def test_writes_are_accepted_again_once_the_task_and_provisioning_end(
    api: SimApi, fake_clock: FakeClock
) -> None:
    assert api.put(SESSIONS, {"datasetSizeInGb": 2}).status_code == 200
    fake_clock.advance(TASK)  # processed; now provisioning
    assert api.put(SESSIONS, {"datasetSizeInGb": 3}).json()["error"]["description"] == (
        "Database 51170941 is not active (status: active-change-pending)"
    )
    fake_clock.advance(PROVISION)
    assert api.put(SESSIONS, {"datasetSizeInGb": 3}).status_code == 200


def test_a_dry_run_does_not_block(api: SimApi) -> None:
    assert api.put(SESSIONS, {"datasetSizeInGb": 2, "dryRun": True}).status_code == 200
    assert api.put(SESSIONS, {"datasetSizeInGb": 2}).status_code == 200


def test_status_requests_do_not_block(api: SimApi) -> None:
    assert api.get(f"{SESSIONS}/backup").status_code == 200
    assert api.put(SESSIONS, {"datasetSizeInGb": 2}).status_code == 200


def test_a_second_upgrade_keeps_its_own_error(api: SimApi) -> None:
    api.post(f"{SESSIONS}/upgrade", {"targetRedisVersion": "8.0"})
    again = api.post(f"{SESSIONS}/upgrade", {"targetRedisVersion": "8.2"})
    assert (again.status_code, again.json()["error"]["type"]) == (
        409,
        "DATABASE_UPGRADE_IS_ALREADY_RUNNING",
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", SESSIONS, {"replication": False}),
        ("DELETE", SESSIONS, None),
        ("POST", f"{SESSIONS}/backup", None),
        ("POST", f"{SESSIONS}/upgrade", {"targetRedisVersion": "8.0"}),
        ("POST", CREATE, {"name": "other"}),
    ],
)
def test_writes_to_a_pending_subscription_are_403(
    api: SimApi, fake_clock: FakeClock, method: str, path: str, body: Any
) -> None:
    api.post(CREATE, {"name": "reports"})
    fake_clock.advance(TASK)  # the create provisions: the subscription is pending
    answer = api.request(method, path, json=body)
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "type": "SUBSCRIPTION_NOT_ACTIVE",
        "status": "403 FORBIDDEN",
        "description": "Cannot perform any actions for subscription 2001234 that is not in an "
        "active state (status: pending)",
    }


# ------------------------------------------------------------------------- renames


def test_put_with_a_new_name_renames(api: SimApi, fake_clock: FakeClock) -> None:
    answer = api.put(SESSIONS, {"name": "sessions-v2"})
    assert answer.status_code == 200
    fake_clock.advance(TASK)
    task = api.get(f"/tasks/{answer.json()['taskId']}").json()
    assert task["status"] == "processing-completed"
    fake_clock.advance(PROVISION)
    assert api.get(SESSIONS).json()["name"] == "sessions-v2"
    listed = api.get(f"{PROD}/databases").json()["subscription"][0]["databases"]
    assert [db["name"] for db in listed if db["databaseId"] == 51170941] == ["sessions-v2"]
    # The old name is free again.
    assert api.post(CREATE, {"name": "sessions", "dryRun": True}).status_code == 202


@pytest.mark.parametrize("taken", ["queue", "reports"])
def test_rename_onto_a_taken_name_is_409(api: SimApi, taken: str) -> None:
    assert api.post(CREATE, {"name": "reports"}).status_code == 202  # queued create
    answer = api.put(SESSIONS, {"name": taken})
    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "type": "DATABASE_NAME_EXISTS",
        "status": "409 CONFLICT",
        "description": f'A database named "{taken}" already exists',
    }


def test_rename_to_its_own_name_is_accepted(api: SimApi) -> None:
    assert api.put(SESSIONS, {"name": "sessions"}).status_code == 200
