"""The simulator's system log (reconciler/simulator/systemlog.py, logtext.py) and ``GET /logs``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from conftest import FakeClock, SimApi
from openapi_schema import load_openapi, schema_of, to_json_schema

from reconciler.errors import UsageError
from reconciler.simulator import RunningSimulator, SimulatorConfig, SimUser, serve_forever
from reconciler.simulator import server as server_module
from reconciler.simulator import state as state_module
from reconciler.simulator.seed import seed_account
from reconciler.simulator.state import Account

PROD = "/subscriptions/2001234"
SESSIONS_ID = 51170941
SESSIONS = f"{PROD}/databases/{SESSIONS_ID}"
QUEUE = f"{PROD}/databases/51170944"
ALICE = SimUser("alice@example.com", "k2", "s2", console=True)
BOB = SimUser("bob@example.com", "bob-key", "bob-secret")
START = "2027-01-15T08:00:00Z"  # the fake clock's start, 1_800_000_000
SIM_AUTHOR = {"originator": "sim-user@example.com", "apiKeyName": "sim-key"}


@pytest.fixture
def running(
    make_simulator: Callable[..., RunningSimulator], fake_clock: FakeClock
) -> RunningSimulator:
    return make_simulator(
        clock=fake_clock, task_seconds=1.0, provision_seconds=1.0, users=(ALICE, BOB)
    )


@pytest.fixture
def api(running: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]) -> SimApi:
    return sim_api(running)


def as_user(api: SimApi, user: SimUser) -> SimApi:
    """Switch ``api``'s session to ``user``'s key pair."""
    api.session.headers.update({"x-api-key": user.key, "x-api-secret-key": user.secret})
    return api


def logs(api: SimApi, query: str = "") -> list[dict[str, Any]]:
    answer = api.get(f"/logs{query}")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def descriptions(api: SimApi) -> list[str]:
    return [entry["description"] for entry in logs(api)]


# ---------------------------------------------------------------- what each write records

WRITES = [
    pytest.param(
        "PUT",
        SESSIONS,
        {"datasetSizeInGb": 2, "replication": False},
        [
            "Database 'sessions' (id 51170941) was updated",
            "Database 'sessions' (id 51170941) dataset size changed from 1GB to 2GB; "
            "replication changed from true to false",
        ],
        id="update",
    ),
    pytest.param(
        "PUT",
        SESSIONS,
        {"name": "sessions-2"},
        [
            "Database 'sessions-2' (id 51170941) was updated",
            "Database 'sessions' (id 51170941) renamed to 'sessions-2'",
        ],
        id="rename",
    ),
    pytest.param(
        "PUT",
        SESSIONS,
        {"password": "n3w-s3cret-passw0rd", "dataEvictionPolicy": "allkeys-lru"},
        [
            "Database 'sessions' (id 51170941) was updated",
            "Database 'sessions' (id 51170941) password changed; "
            "eviction policy changed from volatile-lru to allkeys-lru",
        ],
        id="update-secret",
    ),
    pytest.param(
        "DELETE",
        SESSIONS,
        None,
        [
            "Database 'sessions' (id 51170941) was deleted",
            "Database 'sessions' (id 51170941) deletion requested",
        ],
        id="delete",
    ),
    pytest.param(
        "POST",
        f"{SESSIONS}/backup",
        None,
        [
            "Database 'sessions' (id 51170941) was backed up",
            "Database 'sessions' (id 51170941) backup requested",
        ],
        id="backup",
    ),
    pytest.param(
        "POST",
        f"{SESSIONS}/import",
        {"sourceType": "aws-s3", "importFromUri": ["s3://key:secret@bucket/x.rdb"]},
        [
            "Database 'sessions' (id 51170941) received its data import",
            "Database 'sessions' (id 51170941) data import requested",
        ],
        id="import",
    ),
    pytest.param(
        "POST",
        f"{QUEUE}/upgrade",
        {"targetRedisVersion": "7.4"},
        [
            "Database 'queue' (id 51170944) was upgraded to Redis 7.4",
            "Database 'queue' (id 51170944) upgrade from Redis 7.2 to 7.4 requested",
        ],
        id="upgrade",
    ),
    pytest.param(
        "POST",
        f"{SESSIONS}/tags",
        {"key": "env", "value": "prod"},
        ["Tag 'env' added to database 'sessions' (id 51170941): 'prod'"],
        id="tag-add",
    ),
    pytest.param(
        "PUT",
        f"{SESSIONS}/tags",
        {"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "core"}]},
        ["Tags of database 'sessions' (id 51170941) set to env=prod, team=core"],
        id="tags-replace",
    ),
    pytest.param(
        "PUT",
        f"{SESSIONS}/tags",
        {"tags": []},
        ["Tags of database 'sessions' (id 51170941) set to none"],
        id="tags-clear",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), WRITES)
def test_each_write_records_entries(
    api: SimApi, fake_clock: FakeClock, method: str, path: str, body: Any, expected: list[str]
) -> None:
    assert api.request(method, path, json=body).status_code in (200, 202)
    fake_clock.advance(5)
    assert descriptions(api) == expected


def test_create_records_its_request_and_its_end(api: SimApi, fake_clock: FakeClock) -> None:
    assert api.post(f"{PROD}/databases", {"name": "reports"}).status_code == 202
    fake_clock.advance(5)
    entries = logs(api)
    assert [entry["description"] for entry in entries] == [
        "Database 'reports' (id 51180010) was created",
        "Database 'reports' (id 51180010) creation requested",
    ]
    assert {entry["resource"] for entry in entries} == {"reports"}


def test_entries_have_the_api_shape_and_the_clock_times(api: SimApi, fake_clock: FakeClock) -> None:
    api.put(SESSIONS, {"datasetSizeInGb": 2})
    fake_clock.advance(5)
    assert logs(api) == [
        {
            "id": 2,
            "time": "2027-01-15T08:00:01Z",
            **SIM_AUTHOR,
            "resource": "sessions",
            "type": "Database",
            "description": "Database 'sessions' (id 51170941) was updated",
        },
        {
            "id": 1,
            "time": START,
            **SIM_AUTHOR,
            "resource": "sessions",
            "type": "Database",
            "description": "Database 'sessions' (id 51170941) dataset size changed from 1GB to 2GB",
        },
    ]


def test_tag_change_and_removal(api: SimApi) -> None:
    api.post(f"{SESSIONS}/tags", {"key": "env", "value": "dev"})
    api.put(f"{SESSIONS}/tags/env", {"value": "prod"})
    api.delete(f"{SESSIONS}/tags/env")
    assert descriptions(api) == [
        "Tag 'env' removed from database 'sessions' (id 51170941)",
        "Tag 'env' of database 'sessions' (id 51170941) changed from 'dev' to 'prod'",
        "Tag 'env' added to database 'sessions' (id 51170941): 'dev'",
    ]


def test_a_failed_task_records_its_error_type(api: SimApi, fake_clock: FakeClock) -> None:
    api.post(f"{PROD}/databases/51170942/backup")  # legacy-cache has no backup location
    fake_clock.advance(5)
    assert descriptions(api)[0] == (
        "Database 'legacy-cache' (id 51170942) backup failed (DATABASE_BACKUP_NOT_CONFIGURED)"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", SESSIONS, {"datasetSizeInGb": 2, "dryRun": True}),
        ("POST", f"{PROD}/databases", {"name": "reports", "dryRun": True}),
        ("GET", f"{SESSIONS}/backup", None),
        ("GET", f"{SESSIONS}/import", None),
        ("PUT", SESSIONS, {"datasetSizeInGb": "big"}),
    ],
    ids=["dry-run-update", "dry-run-create", "backup-status", "import-status", "refused"],
)
def test_reads_dry_runs_and_refused_writes_record_nothing(
    api: SimApi, fake_clock: FakeClock, method: str, path: str, body: Any
) -> None:
    api.request(method, path, json=body)
    fake_clock.advance(5)
    assert logs(api) == []


def test_descriptions_never_hold_secrets(api: SimApi, fake_clock: FakeClock) -> None:
    api.put(SESSIONS, {"password": "n3w-s3cret-passw0rd"})
    fake_clock.advance(5)
    api.post(
        f"{SESSIONS}/import",
        {"sourceType": "redis", "importFromUri": ["redis://:hunter2@10.0.0.1:6379"]},
    )
    fake_clock.advance(5)
    text = api.get("/logs").text
    assert "n3w-s3cret" not in text
    assert "hunter2" not in text


# ---------------------------------------------------------------------------------- users


def test_console_user_entries_lack_api_key_name(api: SimApi, fake_clock: FakeClock) -> None:
    as_user(api, ALICE).put(SESSIONS, {"datasetSizeInGb": 2})
    fake_clock.advance(5)
    entries = logs(api)
    assert [(e["originator"], "apiKeyName" in e) for e in entries] == [
        ("alice@example.com", False),
        ("alice@example.com", False),
    ]


def test_api_users_are_named_with_their_key(api: SimApi) -> None:
    as_user(api, BOB).post(f"{SESSIONS}/tags", {"key": "env", "value": "prod"})
    as_user(api, ALICE).post(f"{SESSIONS}/tags", {"key": "team", "value": "core"})
    as_user(api, SimUser("", "sim-key", "sim-secret")).delete(f"{SESSIONS}/tags/env")
    authors = [
        {key: entry[key] for key in ("originator", "apiKeyName") if key in entry}
        for entry in logs(api)
    ]
    assert authors == [
        SIM_AUTHOR,
        {"originator": "alice@example.com"},
        {"originator": "bob@example.com", "apiKeyName": "bob-key"},
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": "k2", "x-api-secret-key": "s3"},
        {"x-api-key": "k3", "x-api-secret-key": "s2"},
        {"x-api-key": "k2", "x-api-secret-key": "sim-secret"},
        {"x-api-key": "k2"},
    ],
    ids=["wrong-secret", "unknown-key", "another-users-secret", "no-secret"],
)
def test_unknown_key_pairs_are_refused(running: RunningSimulator, headers: dict[str, str]) -> None:
    answer = requests.get(running.url + "/logs", headers=headers, timeout=10)
    assert answer.status_code == 401


def test_rate_limit_counts_each_key_apart(
    make_simulator: Callable[..., RunningSimulator], sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    api = sim_api(make_simulator(rate_limit=2, users=(ALICE,)))
    statuses = [api.get("/logs").status_code for _ in range(3)]
    as_user(api, ALICE)
    statuses += [api.get("/logs").status_code for _ in range(3)]
    assert statuses == [200, 200, 429, 200, 200, 429]


def test_serve_forever_lists_the_users_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "wait_until_interrupted", _interrupted)
    lines: list[str] = []
    serve_forever(SimulatorConfig(port=0, users=(ALICE, BOB), log=lines.append))
    assert lines[1] == (
        "users: sim-user@example.com (key sim-key), alice@example.com (key k2, console), "
        "bob@example.com (key bob-key)"
    )
    assert len(lines) == 2


def _interrupted() -> None:
    raise KeyboardInterrupt


# ------------------------------------------------------------------------ paging and bounds


def test_paging_newest_first(api: SimApi) -> None:
    for value in ("a", "b", "c", "d", "e"):
        api.put(f"{SESSIONS}/tags", {"tags": [{"key": "v", "value": value}]})
    assert [e["id"] for e in logs(api)] == [5, 4, 3, 2, 1]
    assert [e["id"] for e in logs(api, "?limit=2")] == [5, 4]
    assert [e["id"] for e in logs(api, "?offset=2&limit=2")] == [3, 2]
    assert [e["id"] for e in logs(api, "?offset=4&limit=1000")] == [1]
    assert logs(api, "?offset=5") == []
    assert logs(api, "?offset=500") == []


def test_default_limit_is_100(api: SimApi) -> None:
    for index in range(101):
        api.put(f"{SESSIONS}/tags", {"tags": [{"key": "v", "value": str(index)}]})
    entries = logs(api)
    assert (len(entries), entries[0]["id"], entries[-1]["id"]) == (100, 101, 2)


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("?limit=0", '"limit" must be at least 1, got 0'),
        ("?limit=1001", '"limit" must be at most 1000, got 1001'),
        ("?offset=-1", '"offset" must be at least 0, got -1'),
        ("?limit=ten", '"limit" must be an integer, got "ten"'),
    ],
)
def test_bad_paging_is_a_400(api: SimApi, query: str, description: str) -> None:
    answer = api.get(f"/logs{query}")
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": {"type": "BAD_REQUEST", "status": "400 BAD_REQUEST", "description": description}},
    )


@pytest.mark.parametrize(
    ("status", "error_type", "description"),
    [
        (403, "FORBIDDEN", "Not allowed to access requested resource"),
        (412, "PRECONDITION_FAILED", "Feature flag for this flow is off"),
    ],
)
def test_refuse_logs_knob(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    status: int,
    error_type: str,
    description: str,
) -> None:
    running = make_simulator(refuse_logs=status)
    api = sim_api(running)
    answer = api.get("/logs")
    assert (answer.status_code, answer.json()["error"]) == (
        status,
        {
            "type": error_type,
            "status": answer.json()["error"]["status"],
            "description": description,
        },
    )
    assert answer.json()["error"]["status"].startswith(f"{status} ")
    running.config.refuse_logs = 0  # read on every request
    assert api.get("/logs").status_code == 200
    assert running.stats()["routes"] == {"GET /logs": 2}


def test_the_log_is_saved_and_reset_empties_it(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    first = make_simulator(state_path=state)
    sim_api(first).post(f"{SESSIONS}/tags", {"key": "env", "value": "prod"})
    first.stop()
    second = make_simulator(state_path=state)
    api = sim_api(second)
    assert [list(entry) for entry in logs(api)] == [
        ["id", "time", "originator", "apiKeyName", "resource", "type", "description"]
    ]
    api.post(f"{SESSIONS}/tags", {"key": "team", "value": "core"})
    assert [e["id"] for e in logs(api)] == [2, 1]
    second.reset()
    assert logs(api) == []


# ------------------------------------------------------------------------------- conformance


def test_logs_answer_validates_against_the_openapi_schema(
    api: SimApi, fake_clock: FakeClock
) -> None:
    as_user(api, ALICE).put(SESSIONS, {"datasetSizeInGb": 2})
    as_user(api, BOB).post(f"{QUEUE}/tags", {"key": "env", "value": "prod"})
    fake_clock.advance(5)
    spec = load_openapi()
    body = api.get("/logs").json()
    assert len(body["entries"]) == 3
    jsonschema.validate(body, to_json_schema(schema_of(spec, "AccountSystemLogEntries"), spec))
    properties = spec["components"]["schemas"]["AccountSystemLogEntry"]["properties"]
    for entry in body["entries"]:
        assert set(entry) <= set(properties)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["time"])


# --------------------------------------------------------------------- seeds and old state

SEED_HEAD = "account:\n  id: 7\n  subscriptions: []\n"


def test_seeded_entries_come_first_and_new_ones_follow(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        SEED_HEAD + "  log:\n"
        "    - {time: '2026-11-20T14:02:11Z', originator: alice@example.com, resource: prod,\n"
        "       type: Subscription, description: Subscription 'prod' (id 2001234) was updated}\n"
        "    - {time: '2026-11-21T09:00:00Z', originator: ci@example.com, apiKeyName: ci-key,\n"
        "       resource: sessions, type: Database,\n"
        "       description: Database 'sessions' was updated}\n",
        encoding="utf-8",
    )
    api = sim_api(make_simulator(seed_path=seed))
    assert logs(api) == [
        {
            "id": 2,
            "time": "2026-11-21T09:00:00Z",
            "originator": "ci@example.com",
            "apiKeyName": "ci-key",
            "resource": "sessions",
            "type": "Database",
            "description": "Database 'sessions' was updated",
        },
        {
            "id": 1,
            "time": "2026-11-20T14:02:11Z",
            "originator": "alice@example.com",
            "resource": "prod",
            "type": "Subscription",
            "description": "Subscription 'prod' (id 2001234) was updated",
        },
    ]


@pytest.mark.parametrize(
    ("log", "message"),
    [
        ("  log: {}\n", "account.log: must be a list of entries"),
        ("  log: [x]\n", "account.log[0]: must be a mapping"),
        (
            "  log: [{time: '2026-11-20T14:02:11Z', originator: a, type: T}]\n",
            "account.log[0]: 'description' is required",
        ),
        (
            "  log: [{time: '2026-11-20T14:02:11Z', originator: a, type: T, description: d,"
            " who: b}]\n",
            "account.log[0]: unknown key 'who'",
        ),
        (
            "  log: [{time: '2026-11-20 14:02', originator: a, type: T, description: d}]\n",
            "account.log[0].time: must be ISO-8601 UTC like 2026-11-20T14:02:11Z",
        ),
        (
            "  log: [{time: '2026-13-20T14:02:11Z', originator: a, type: T, description: d}]\n",
            "account.log[0].time: must be ISO-8601 UTC like 2026-11-20T14:02:11Z",
        ),
        (
            "  log: [{time: '2026-11-20T14:02:11Z', originator: 5, type: T, description: d}]\n",
            "account.log[0].originator: must be a non-empty string",
        ),
        (
            "  log:\n"
            "    - {time: '2026-11-20T14:02:11Z', originator: a, type: T, description: d}\n"
            "    - {time: '2026-11-19T14:02:11Z', originator: a, type: T, description: d}\n",
            "account.log[1].time: is earlier than the entry before it",
        ),
        ("  logs: []\n", "account: unknown key 'logs'"),
    ],
    ids=[
        "not-a-list",
        "not-a-mapping",
        "missing-key",
        "unknown-key",
        "time-format",
        "no-such-month",
        "not-a-string",
        "time-goes-back",
        "unknown-account-key",
    ],
)
def test_bad_seeded_entries_are_located_errors(tmp_path: Path, log: str, message: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED_HEAD + log, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        seed_account(seed, 0.0)
    assert str(caught.value) == f"{seed}: {message}"


def test_a_state_file_from_before_the_log_loads_with_an_empty_log(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    make_simulator(state_path=state).stop()
    data = json.loads(state.read_text(encoding="utf-8"))
    del data["systemLog"], data["nextLogId"]
    state.write_text(json.dumps(data), encoding="utf-8")
    api = sim_api(make_simulator(state_path=state))
    assert logs(api) == []
    api.post(f"{SESSIONS}/tags", {"key": "env", "value": "prod"})
    assert [entry["id"] for entry in logs(api)] == [1]


def test_the_log_keeps_its_newest_entries_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_module, "MAX_LOG_ENTRIES", 3)
    account = Account.empty(1)
    for index in range(5):
        account.add_log_entry({"description": str(index)})
    assert [(e["id"], e["description"]) for e in account.system_log] == [
        (3, "2"),
        (4, "3"),
        (5, "4"),
    ]


@pytest.mark.parametrize("user", [BOB, SimUser("sim-user@example.com", "sim-key", "sim-secret")])
def test_current_account_names_the_key_the_log_records(api: SimApi, user: SimUser) -> None:
    as_user(api, user).post(f"{SESSIONS}/tags", {"key": "env", "value": "prod"})
    answer = api.get("/")
    assert answer.status_code == 200, answer.text
    key = answer.json()["account"]["key"]
    assert (key["name"], key["owner"]) == (user.key, {"name": user.name})
    assert logs(api)[0]["apiKeyName"] == key["name"]
