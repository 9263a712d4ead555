"""Robustness: an API answering garbage makes plan and apply fail clearly, never hang.

The scripted fake API of tests/fake_api.py serves good answers, captured from the
simulator's example account (a mutable database, a task that completes), except for the one
route a scenario breaks: truncated JSON, HTML pages (200, 500, nginx's 401), unknown
statuses, missing fields, a wrong subscription id, a redirect, a body cut short, a task that
never finishes, a database stuck in ``error``. The CLI runs in-process (``plan`` and
``apply --yes --timeout 2s`` of a spec with one update) and must end with exit 1 and the
exact error line expected, no traceback, within the timeout plus a few seconds.

urllib3 sleeps between GET retries on the real clock (1, 2, 4 s); the CLI runs with a
``Runtime`` without back-off so a 500 costs milliseconds. Every other wait is real.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_api import FakeApi, Reply, Responder, Seen, by_route

from reconciler import cli
from reconciler.cli import Runtime
from reconciler.simulator import RunningSimulator

SUB, DB, TASK = 2001234, 51170941, "7c1f3f0e-0000-4000-8000-000000000001"
SUB_PATH = f"/subscriptions/{SUB}"  # paths below the base URL (…/v1)
LIST_PATH = f"{SUB_PATH}/databases"
DB_PATH = f"{LIST_PATH}/{DB}"
TASK_PATH = f"/tasks/{TASK}"
TIMEOUT = 2.0
SLACK = 5.0  # a run may take this much longer than --timeout, never more
RUNTIME = Runtime(backoff_factor=0.0)  # real time, but no back-off between GET retries
SPEC = f"""version: 1
subscriptions:
  - id: {SUB}
    databases:
      - name: sessions
        datasetSizeInGb: 2
"""
NGINX_401 = (
    b"<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    b"<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
MAINTENANCE = (
    b"<!DOCTYPE html><html><head><title>Down for maintenance</title></head>"
    b"<body><h1>We'll be back soon</h1></body></html>"
)
ERROR_500 = b"<html><head><title>500 Internal Server Error</title></head><body>oops</body></html>"


Route = tuple[str, str]  # (METHOD, path below the base)


class Account:
    """A responder: the account's good answers, a mutable database, per-test overrides."""

    def __init__(self, captured: dict[str, Any]) -> None:
        self.subscription = json.loads(json.dumps(captured["subscription"]))
        self.page = json.loads(json.dumps(captured["page"]))
        self.database = json.loads(json.dumps(captured["database"]))
        self.overrides: dict[Route, Reply | Responder] = {}
        self.lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        """Answer from the overrides first, else as the working account."""
        with self.lock:
            return by_route(self.overrides, fallback=self.default)(seen)

    def default(self, seen: Seen) -> Reply:
        """The working account's answer (a JSON 404 naming anything else)."""
        route = (seen.method, seen.route)
        if route == ("GET", SUB_PATH):
            return Reply(body=self.subscription)
        if route == ("GET", LIST_PATH):
            if seen.query.get("offset", "0") != "0":
                return Reply(404, b"")
            return Reply(body=self.page)
        if route == ("GET", DB_PATH):
            return Reply(body=self.database)
        if route == ("PUT", DB_PATH):
            self.database.update(seen.json())
            return Reply(body=task("received"))
        if route == ("GET", TASK_PATH):
            return Reply(body=task("processing-completed", response={"resourceId": DB}))
        if route == ("GET", "/tasks"):
            return Reply(body={"tasks": []})
        description = f"no route {seen.method} {seen.route}"
        return Reply(404, {"error": {"type": "NOT_FOUND", "description": description}})


def task(status: str, **extra: Any) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    return {
        "taskId": TASK,
        "commandType": "databaseUpdateRequest",
        "status": status,
        "description": "scripted",
        "timestamp": stamp,
        **extra,
    }


@pytest.fixture(scope="module")
def captured(make_module_simulator: Callable[..., RunningSimulator]) -> dict[str, Any]:
    """Good answers for subscription 2001234 and database sessions, from the simulator."""
    sim = make_module_simulator()
    with requests.Session() as session:
        session.headers.update({"x-api-key": sim.api_key, "x-api-secret-key": sim.api_secret})

        def get(path: str) -> Any:
            answer = session.get(sim.url + path, timeout=10)
            answer.raise_for_status()
            return answer.json()

        return {
            "subscription": get(SUB_PATH),
            "page": get(f"{LIST_PATH}?offset=0&limit=100"),
            "database": get(DB_PATH),
        }


@pytest.fixture
def fake(captured: dict[str, Any]) -> Iterator[tuple[Account, FakeApi]]:
    """Serve a fresh account on the fake API; yield the account and the server."""
    account = Account(captured)
    with FakeApi(account) as server:
        yield account, server


def asked(server: FakeApi) -> list[str]:
    """``METHOD path`` of every request the server was sent, in order."""
    return [f"{seen.method} {seen.route}" for seen in server.seen]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write the spec and set credentials; return the spec's path."""
    (tmp_path / "spec.yaml").write_text(SPEC)
    for name in ("REDIS_API_URL", "REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_API_KEY", "fake-key")
    monkeypatch.setenv("REDIS_API_SECRET", "fake-secret")
    return tmp_path / "spec.yaml"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = cli.main(argv, RUNTIME)
    out, err = capsys.readouterr()
    return code, out, err, time.monotonic() - started


def commands(spec: Path, url: str) -> dict[str, list[str]]:
    return {
        "plan": ["plan", str(spec), "--api-url", url],
        "apply": ["apply", str(spec), "--yes", "--timeout", f"{TIMEOUT:g}s", "--api-url", url],
    }


def test_the_fake_api_serves_a_working_account(
    fake: tuple[Account, FakeApi], cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api, server = fake
    code, out, err, _ = run(commands(cli_env, server.url)["apply"], capsys)
    assert (code, err) == (0, ""), out
    assert "Done (1): update sessions (db 51170941)" in out
    assert api.database["datasetSizeInGb"] == 2
    code, out, err, _ = run(commands(cli_env, server.url)["plan"], capsys)
    assert (code, err) == (0, "")


def html(status: int, page: bytes) -> Reply:
    return Reply(status, page, content_type="text/html")


def page_with(**block: Any) -> Reply:
    """The list page with its one ``subscription`` block changed."""
    return Reply(body={"accountId": 1001, "subscription": [block]})


BROKEN_DB = {"databaseId": DB, "name": "sessions", "status": "error"}

# id: (broken routes, commands that meet them, exact last stderr line; {url}: the API URL)
SCENARIOS: dict[str, tuple[dict[Route, Reply], tuple[str, ...], str]] = {
    "subscription-truncated-json": (
        {("GET", SUB_PATH): Reply(body=b'{"id": 2001234, "name": "pr')},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 200: answer is not JSON (application/json, "
        "27 bytes)",
    ),
    "list-truncated-json": (
        {("GET", LIST_PATH): Reply(body=b'{"accountId": 1001, "subscription": [{"subscriptionId"')},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: answer is "
        "not JSON (application/json, 54 bytes)",
    ),
    "subscription-html-200": (
        {("GET", SUB_PATH): html(200, MAINTENANCE)},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 200: answer is not JSON (text/html, 116 bytes)",
    ),
    "subscription-html-500": (
        {("GET", SUB_PATH): html(500, ERROR_500)},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 500: 500 Internal Server Error; {url} still "
        "failing after 4 retries",
    ),
    "subscription-nginx-401": (
        {("GET", SUB_PATH): html(401, NGINX_401)},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 401: 401 Authorization Required (check "
        "REDIS_API_KEY and REDIS_API_SECRET)",
    ),
    "subscription-json-array": (
        {("GET", SUB_PATH): Reply(body=[SUB])},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 200: expected a subscription object",
    ),
    "subscription-redirect": (
        {("GET", SUB_PATH): Reply(302, headers={"Location": "https://attacker.example/v1"})},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234: HTTP 302: unexpected redirect to "
        "https://attacker.example/v1",
    ),
    "list-body-cut-short": (
        {("GET", LIST_PATH): Reply(body={"subscription": []}, cut=True)},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: request to {url} "
        "failed: answer cut short",
    ),
    "list-without-databases": (
        {("GET", LIST_PATH): page_with(subscriptionId=SUB, numberOfDatabases=5)},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: no "
        "'databases' in the page, but numberOfDatabases is 5",
    ),
    "list-wrong-subscription": (
        {("GET", LIST_PATH): page_with(subscriptionId=2005678, databases=[])},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: expected "
        "subscriptionId 2001234, got 2005678",
    ),
    "list-subscription-not-array": (
        {("GET", LIST_PATH): Reply(body={"subscription": {"subscriptionId": SUB}})},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: expected "
        "'subscription' to hold exactly one entry, got no entries",
    ),
    "list-entry-not-object": (
        {("GET", LIST_PATH): page_with(subscriptionId=SUB, databases=["sessions"])},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: database "
        "entry 0 is not an object",
    ),
    "list-entry-without-id": (
        {("GET", LIST_PATH): page_with(subscriptionId=SUB, databases=[{"name": "sessions"}])},
        ("plan", "apply"),
        "error: GET /subscriptions/2001234/databases?offset=0&limit=100: HTTP 200: database "
        "entry 0 has no databaseId",
    ),
    "subscription-unknown-status": (
        {("GET", SUB_PATH): Reply(body={"id": SUB, "name": "prod", "status": "hibernating"})},
        ("apply",),
        "error: update sessions (db 51170941): timed out after 2s waiting for subscription "
        "2001234 to be active; last state seen: hibernating",
    ),
    "database-unknown-status": (
        {("GET", DB_PATH): Reply(body={**BROKEN_DB, "status": "teleporting"})},
        ("apply",),
        "error: update sessions (db 51170941): timed out after 2s waiting for database "
        "51170941 to be active; last state seen: teleporting",
    ),
    "database-stuck-in-error": (
        {("GET", DB_PATH): Reply(body=BROKEN_DB)},
        ("apply",),
        "error: update sessions (db 51170941): database 51170941 entered status 'error'",
    ),
    "database-html-500": (
        {("GET", DB_PATH): html(500, ERROR_500)},
        ("apply",),
        "error: update sessions (db 51170941): GET /subscriptions/2001234/databases/51170941:"
        " HTTP 500: 500 Internal Server Error; {url} still failing after 4 retries",
    ),
    "write-without-task-id": (
        {("PUT", DB_PATH): Reply(body={"status": "received"})},
        ("apply",),
        "error: update sessions (db 51170941): PUT /subscriptions/2001234/databases/51170941:"
        " the answer holds no taskId",
    ),
    "write-html-200": (
        {("PUT", DB_PATH): html(200, MAINTENANCE)},
        ("apply",),
        "error: update sessions (db 51170941): PUT /subscriptions/2001234/databases/51170941:"
        " HTTP 200: answer is not JSON (text/html, 116 bytes)",
    ),
    "write-nginx-401": (
        {("PUT", DB_PATH): html(401, NGINX_401)},
        ("apply",),
        "error: update sessions (db 51170941): PUT /subscriptions/2001234/databases/51170941:"
        " HTTP 401: 401 Authorization Required",
    ),
    "task-never-finishes": (
        {("GET", TASK_PATH): Reply(body=task("processing-in-progress"))},
        ("apply",),
        "error: update sessions (db 51170941): timed out after 2s waiting for task "
        "7c1f3f0e-0000-4000-8000-000000000001 to be processing-completed; last state seen: "
        "processing-in-progress",
    ),
    "task-never-known": (
        {("GET", TASK_PATH): Reply(404, b"")},
        ("apply",),
        "error: update sessions (db 51170941): timed out after 2s waiting for task "
        "7c1f3f0e-0000-4000-8000-000000000001 to be processing-completed; last state seen: "
        "not found yet",
    ),
    "task-unknown-status": (
        {("GET", TASK_PATH): Reply(body=task("exploded"))},
        ("apply",),
        "error: update sessions (db 51170941): task 7c1f3f0e-0000-4000-8000-000000000001 "
        "failed: exploded: unexpected task status 'exploded'",
    ),
    "task-error": (
        {
            ("GET", TASK_PATH): Reply(
                body=task(
                    "processing-error",
                    response={
                        "error": {
                            "type": "DATABASE_SIZE_TOO_BIG",
                            "status": "400 BAD_REQUEST",
                            "description": "Dataset size too big",
                        }
                    },
                )
            )
        },
        ("apply",),
        "error: update sessions (db 51170941): task 7c1f3f0e-0000-4000-8000-000000000001 "
        "failed: 400 BAD_REQUEST DATABASE_SIZE_TOO_BIG: Dataset size too big",
    ),
    "task-not-object": (
        {("GET", TASK_PATH): Reply(body=["processing-completed"])},
        ("apply",),
        "error: update sessions (db 51170941): GET "
        "/tasks/7c1f3f0e-0000-4000-8000-000000000001: HTTP 200: task is not a JSON object",
    ),
    "task-truncated-json": (
        {("GET", TASK_PATH): Reply(body=b'{"taskId": "7c1f')},
        ("apply",),
        "error: update sessions (db 51170941): GET "
        "/tasks/7c1f3f0e-0000-4000-8000-000000000001: HTTP 200: answer is not JSON "
        "(application/json, 16 bytes)",
    ),
    "task-html-500": (
        {("GET", TASK_PATH): html(500, ERROR_500)},
        ("apply",),
        "error: update sessions (db 51170941): timed out after 2s waiting for task "
        "7c1f3f0e-0000-4000-8000-000000000001 to be processing-completed; last state seen: "
        "(API unreachable)",
    ),
}


#: Scenarios that may end either way, both clear: which comes first, the deadline of the
#: wait or the last of the polls the API may fail, depends on how long the client's retries
#: of each poll take on this machine.
ALSO_CLEAR = {
    "task-html-500": [
        SCENARIOS["task-html-500"][2],
        "error: update sessions (db 51170941): GET /tasks/7c1f3f0e-0000-4000-8000-000000000001: "
        "HTTP 500: 500 Internal Server Error; {url} still failing after 4 retries",
    ]
}

CASES = [
    pytest.param(scenario, command, id=f"{scenario}-{command}")
    for scenario, (_, used, _) in SCENARIOS.items()
    for command in used
    if scenario != "task-never-finishes"  # its own test below
]


@pytest.mark.parametrize(("scenario", "command"), CASES)
def test_a_bad_answer_fails_clearly_and_in_time(
    scenario: str,
    command: str,
    fake: tuple[Account, FakeApi],
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, server = fake
    url = server.url
    routes, _, expected = SCENARIOS[scenario]
    api.overrides.update(routes)
    code, out, err, elapsed = run(commands(cli_env, url)[command], capsys)
    assert code == 1, err + out
    assert "Traceback" not in out + err
    assert "internal error" not in err
    lines = err.splitlines()
    assert lines[-1] in [e.replace("{url}", url) for e in ALSO_CLEAR.get(scenario, [expected])]
    if command == "apply" and "update sessions" in expected:  # the run's report says it too
        assert lines[-2] == "Failed: " + lines[-1].removeprefix("error: ")
    assert elapsed < TIMEOUT + SLACK
    assert not any(key.startswith(("POST", "DELETE")) for key in asked(server))


@pytest.mark.parametrize(
    "scenario", [s for s, (_, used, _) in SCENARIOS.items() if "plan" not in used]
)
def test_plan_never_reads_what_only_apply_needs(
    scenario: str, fake: tuple[Account, FakeApi], cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api, server = fake
    api.overrides.update(SCENARIOS[scenario][0])
    code, _, err, _ = run(commands(cli_env, server.url)["plan"], capsys)
    assert (code, err) == (0, "")


def test_a_task_that_never_finishes_ends_at_the_timeout(
    fake: tuple[Account, FakeApi], cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api, server = fake
    routes, _, expected = SCENARIOS["task-never-finishes"]
    api.overrides.update(routes)
    code, _, err, elapsed = run(commands(cli_env, server.url)["apply"], capsys)
    assert code == 1
    assert err.splitlines()[-1] == expected
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK
    polls = asked(server).count(f"GET {TASK_PATH}")
    assert 3 <= polls <= 6  # at 0.5, 1.0, 1.5, 2.0 s: polled on a schedule, not spun on
