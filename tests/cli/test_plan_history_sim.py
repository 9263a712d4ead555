"""End to end against the simulator: someone changes a database by hand, ``plan`` says who.

The account is the example one, on a test clock (2027-01-15 08:00 UTC at the start); the
spec is what ``export`` writes for the staging subscription, so the plan starts in sync.
Alice is a console user (her changes carry no API key name); ``ci`` an API user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeClock, SimApi

from reconciler.cli import Runtime, main
from reconciler.simulator import RunningSimulator
from reconciler.simulator.users import SimUser

STAGING_SESSIONS = "/subscriptions/2005678/databases/51180001"
ALICE = SimUser("alice@example.com", "alice-key", "alice-secret", console=True)
CI = SimUser("ci@example.com", "ci-key", "ci-secret")
LOGS = "GET /logs"
ALICE_LINE = (
    "      changed 2027-01-15 08:00 UTC by alice@example.com (console): "
    "\"Database 'staging-sessions' (id 51180001) dataset size changed from 1GB to 2GB\"\n"
)


def as_user(running: RunningSimulator, user: SimUser) -> SimApi:
    api = SimApi(running)
    api.session.headers.update({"x-api-key": user.key, "x-api-secret-key": user.secret})
    return api


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def account(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> RunningSimulator:
    """The example account with Alice and ci, and ``staging.yaml`` exported from it (cwd)."""
    running = make_simulator(clock=fake_clock, users=(ALICE, CI))
    monkeypatch.chdir(tmp_path)
    for name in ("REDIS_API_KEY_NAME", "REDIS_API_URL", "REDISCLOUD_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    monkeypatch.setenv("NO_COLOR", "1")
    code, _, err = run(
        capsys, "export", "--subscription", "2005678", "--out", "staging.yaml",
        "--api-url", running.url,
    )  # fmt: skip
    assert code == 0, err
    return running


def change_by_hand(running: RunningSimulator, clock: FakeClock, user: SimUser, body: dict) -> None:
    """``user`` changes staging-sessions; the clock then moves past the task's end."""
    api = as_user(running, user)
    try:
        assert api.put(STAGING_SESSIONS, body).status_code in (200, 202)
    finally:
        api.close()
    clock.advance(30)


def plan(capsys: pytest.CaptureFixture[str], running: RunningSimulator, *argv: str) -> str:
    code, out, err = run(capsys, "plan", "staging.yaml", "--api-url", running.url, *argv)
    assert code in (0, 2), err
    return out


def test_a_plan_without_drift_sends_no_log_request(
    account: RunningSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    out = plan(capsys, account, "--detailed-exitcode")
    assert "No changes. The live account matches the spec." in out
    assert LOGS not in account.stats()["routes"]


def test_a_console_change_shows_its_user_and_time_in_text(
    account: RunningSimulator, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    change_by_hand(account, fake_clock, ALICE, {"datasetSizeInGb": 2})
    code, out, err = run(
        capsys, "plan", "staging.yaml", "--api-url", account.url, "--detailed-exitcode"
    )
    assert code == 2, err
    assert out == (
        'Subscription 2005678 "staging" — 3 databases live, 3 in spec\n'
        "\n"
        "  ~ update staging-sessions (db 51180001)\n"
        "      datasetSizeInGb       2 → 1\n"
        "      changed 2027-01-15 08:00 UTC by alice@example.com (console): "
        "\"Database 'staging-sessions' (id 51180001) was updated\"\n" + ALICE_LINE + "\n"
        "Plan: 0 to create, 1 to update, 0 to delete, 0 backups.\n"
    )
    assert account.stats()["routes"][LOGS] == 1


def test_a_console_change_shows_in_markdown_and_json(
    account: RunningSimulator, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    change_by_hand(account, fake_clock, ALICE, {"datasetSizeInGb": 2})
    markdown = plan(capsys, account, "--format", "markdown")
    assert (
        "**History** — who changed these databases, from the account's system log:\n\n"
        "- staging-sessions (db 51180001)\n"
        "  - changed 2027-01-15 08:00 UTC by alice@example.com (console): "
        "\"Database 'staging-sessions' (id 51180001) was updated\"\n"
        "  - changed 2027-01-15 08:00 UTC by alice@example.com (console): "
        "\"Database 'staging-sessions' (id 51180001) dataset size changed from 1GB to 2GB\"\n"
    ) in markdown
    (action,) = json.loads(plan(capsys, account, "--format", "json"))["actions"]
    assert action["history"][-1] == {
        "id": 1,
        "time": "2027-01-15T08:00:00Z",
        "originator": "alice@example.com",
        "apiKeyName": None,
        "resource": "staging-sessions",
        "type": "Database",
        "description": "Database 'staging-sessions' (id 51180001) dataset size changed "
        "from 1GB to 2GB",
    }


def test_a_change_through_another_api_key_names_the_key(
    account: RunningSimulator, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    change_by_hand(account, fake_clock, CI, {"dataEvictionPolicy": "volatile-lru"})
    out = plan(capsys, account)
    assert (
        '      changed 2027-01-15 08:00 UTC by ci@example.com (API key ci-key): "Database '
        "'staging-sessions' (id 51180001) eviction policy changed from allkeys-lru to "
        'volatile-lru"\n'
    ) in out


def test_history_starts_after_the_tools_own_last_change(
    account: RunningSimulator,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    change_by_hand(account, fake_clock, CI, {"dataEvictionPolicy": "volatile-lru"})
    on_clock = Runtime(
        clock=fake_clock, sleep=fake_clock.advance, wall_clock=fake_clock, backoff_factor=0.0
    )
    code = main(["apply", "staging.yaml", "--api-url", account.url, "--yes"], on_clock)
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    fake_clock.advance(60)
    change_by_hand(account, fake_clock, ALICE, {"datasetSizeInGb": 2})
    monkeypatch.setenv("REDIS_API_KEY_NAME", account.api_key)  # the simulator's key names
    out = plan(capsys, account)
    assert "by alice@example.com (console)" in out
    assert "ci@example.com" not in out and "sim-user@example.com" not in out


@pytest.mark.parametrize(
    ("status", "note"),
    [
        (403, "history unavailable: the API key may not read the system log (HTTP 403)"),
        (412, "history unavailable: the system log is not enabled for this account (HTTP 412)"),
    ],
)
def test_a_refused_log_yields_the_plan_with_one_note_and_the_usual_exit_code(
    account: RunningSimulator,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    status: int,
    note: str,
) -> None:
    change_by_hand(account, fake_clock, ALICE, {"datasetSizeInGb": 2})
    account.config.refuse_logs = status
    code, out, err = run(
        capsys, "plan", "staging.yaml", "--api-url", account.url, "--detailed-exitcode"
    )
    assert code == 2, err
    assert out.endswith(
        f"\nNote: {note}\nPlan: 0 to create, 1 to update, 0 to delete, 0 backups.\n"
    )
    assert "      datasetSizeInGb       2 → 1\n" in out
    assert "Traceback" not in err
    code, _, err = run(capsys, "plan", "staging.yaml", "--api-url", account.url)
    assert code == 0, err
