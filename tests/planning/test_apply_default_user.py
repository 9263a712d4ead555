"""End to end against the simulator: a new password and a default-user switch.

The API refuses a new password in the request that disables the default user, and a new
password while the default user is disabled; the planner splits or refuses such changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SimApi

from reconciler.cli import main
from reconciler.simulator import RunningSimulator

SESSIONS = "/subscriptions/2001234/databases/51170941"
SEED_PASSWORD = "seed-sessions-password-0000000001"
REFUSAL = (
    "subscription 2001234 database 'sessions' (db 51170941): the password cannot change while "
    "the default user is disabled (the API refuses it); set enableDefaultUser: true, or keep "
    "the live password (leave password out of the spec or list it in lifecycle.ignoreChanges)"
)
SPEC = """\
version: 1
subscriptions:
  - id: 2001234
    databases:
      - name: {name}
        password: ${{SESSIONS_DB_PASSWORD}}
        enableDefaultUser: {enabled}
"""


@pytest.fixture
def sim(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[[RunningSimulator], SimApi],
    monkeypatch: pytest.MonkeyPatch,
) -> SimApi:
    """A client of a fast simulator of the example account; the CLI's credentials point at it."""
    running = make_simulator(task_seconds=0.05, provision_seconds=0.05)
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    monkeypatch.setenv("NO_COLOR", "1")
    return sim_api(running)


def reconcile(
    sim: SimApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    *,
    password: str,
    enabled: bool,
    name: str = "sessions",
) -> tuple[int, str, str]:
    """Write the spec, run ``command`` on it in-process; return (exit code, stdout, stderr)."""
    spec = tmp_path / "sessions.yaml"
    spec.write_text(SPEC.format(name=name, enabled=str(enabled).lower()))
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", password)
    extra = ["--yes"] if command == "apply" else ["--detailed-exitcode"]
    code = main([command, str(spec), "--api-url", sim.url, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def security(sim: SimApi, path: str = SESSIONS) -> tuple[bool, str]:
    """Return (enableDefaultUser, password) of the database at ``path`` (sessions)."""
    answer = sim.get(path).json()["security"]
    return answer["enableDefaultUser"], answer["password"]


def test_new_password_then_disable_then_enable_with_another(
    sim: SimApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = (sim, tmp_path, capsys, monkeypatch)
    code, out, err = reconcile(*args, "apply", password="first-new-password-1", enabled=False)
    assert code == 0, out + err
    assert "after the password: the API refuses both in one request" in out
    assert "Done (2): update sessions (db 51170941), update sessions (db 51170941)" in out + err
    assert "first-new-password-1" not in out + err
    assert security(sim) == (False, "first-new-password-1")
    code, out, err = reconcile(*args, "plan", password="first-new-password-1", enabled=False)
    assert code == 0, out + err

    code, out, err = reconcile(*args, "apply", password="second-password-2", enabled=True)
    assert code == 0, out + err
    assert "before the password: the API refuses a new password while the default" in out
    assert security(sim) == (True, "second-password-2")
    code, out, err = reconcile(*args, "plan", password="second-password-2", enabled=True)
    assert code == 0, out + err


def test_new_password_for_a_disabled_default_user_is_refused(
    sim: SimApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = (sim, tmp_path, capsys, monkeypatch)
    assert reconcile(*args, "apply", password=SEED_PASSWORD, enabled=False)[0] == 0
    code, out, err = reconcile(*args, "apply", password="refused-password-3", enabled=False)
    assert code == 1
    assert f"  ! {REFUSAL}\n" in out
    assert err == "error: plan refused; nothing was applied (see 'Refused' above)\n"
    assert "refused-password-3" not in out + err
    assert security(sim) == (False, SEED_PASSWORD)


def test_create_sets_the_password_then_disables_the_default_user(
    sim: SimApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = (sim, tmp_path, capsys, monkeypatch)
    code, out, err = reconcile(
        *args, "apply", password="vault-password-4", enabled=False, name="vault"
    )
    assert code == 0, out + err
    listed = sim.get("/subscriptions/2001234/databases").json()["subscription"][0]["databases"]
    (db_id,) = [db["databaseId"] for db in listed if db["name"] == "vault"]
    assert security(sim, f"/subscriptions/2001234/databases/{db_id}") == (
        False,
        "vault-password-4",
    )
    code, out, err = reconcile(
        *args, "plan", password="vault-password-4", enabled=False, name="vault"
    )
    assert code == 0, out + err
