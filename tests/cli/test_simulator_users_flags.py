"""``reconciler simulator --user/--console-user/--refuse-logs`` and the ``sim:`` env vars."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import reconciler.simulator
from reconciler.cli import main
from reconciler.cli.api import open_api
from reconciler.errors import UsageError
from reconciler.simulator import SimulatorConfig, SimUser
from reconciler.simulator.config import config_from_env
from reconciler.simulator.users import parse_user, users_from_env

ROOT = Path(__file__).resolve().parents[2]
USAGE = "usage: reconciler simulator [-h]"
# A secret a command uses is masked in every later log line of the process: keep these
# distinctive, so no other test's log text contains them.
ALICE_SECRET = "alice-console-secret-5e1c"
BOB_SECRET = "bob-api-secret-9d2f"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[SimulatorConfig]:
    """Capture the config ``reconciler simulator`` would serve, instead of serving."""
    configs: list[SimulatorConfig] = []
    monkeypatch.setattr(reconciler.simulator, "serve_forever", configs.append)
    return configs


def test_users_and_console_users_reach_the_config(served: list[SimulatorConfig]) -> None:
    argv = [
        "simulator",
        "--user",
        "bob@example.com:bob-key:bob:secret",
        "--console-user",
        "alice@example.com:k2:s2",
        "--user",
        "carol:k3:s3",
        "--refuse-logs",
        "412",
    ]
    assert main(argv) == 0
    (config,) = served
    assert config.users == (
        SimUser("bob@example.com", "bob-key", "bob:secret"),
        SimUser("carol", "k3", "s3"),
        SimUser("alice@example.com", "k2", "s2", console=True),
    )
    assert config.refuse_logs == 412
    assert config.all_users()[0].name == "sim-user@example.com"


def test_defaults_add_no_users_and_serve_the_log(served: list[SimulatorConfig]) -> None:
    assert main(["simulator"]) == 0
    assert (served[0].users, served[0].refuse_logs) == ((), 0)
    assert served[0].default_user() == SimUser("sim-user@example.com", "sim-key", "sim-secret")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--user", "alice-s3cr3t"],
            "argument --user: expected NAME:KEY:SECRET (three parts separated by ':'), got 1 part",
        ),
        (
            ["--console-user", "alice:s3cr3t"],
            "argument --console-user: expected NAME:KEY:SECRET (three parts separated by ':'), "
            "got 2 parts",
        ),
        (["--user", "alice:k2:"], "argument --user: expected NAME:KEY:SECRET, got an empty SECRET"),
        (["--user", ":k2:s3cr3t"], "argument --user: expected NAME:KEY:SECRET, got an empty NAME"),
        (
            ["--console-user", "alice: k2:s3cr3t"],
            "argument --console-user: expected NAME:KEY:SECRET, got a KEY with spaces around it",
        ),
        (["--user"], "argument --user: expected one argument"),
        (
            ["--refuse-logs", "500"],
            "argument --refuse-logs: invalid choice: 500 (choose from 403, 412)",
        ),
    ],
)
def test_bad_flag_values_are_usage_errors_that_hide_the_value(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulator", *argv])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(USAGE)
    assert err.endswith(f"reconciler simulator: error: {message}\n")
    assert "s3cr3t" not in err
    assert "Traceback" not in err


def test_a_key_given_to_two_users_is_one_line_error(
    served: list[SimulatorConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulator", "--user", "a:k2:s3cr3t", "--console-user", "b:k2:other"]
    assert main(argv) == 1
    assert capsys.readouterr() == ("", "error: simulator key 'k2' is given to two users\n")
    assert served == []


def test_the_default_key_cannot_be_reused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulator", "--user", "a:sim-key:s3cr3t"]) == 1
    assert capsys.readouterr().err == "error: simulator key 'sim-key' is given to two users\n"


def test_a_user_repr_hides_the_secret() -> None:
    user = parse_user("alice@example.com:k2:s3cr3t", console=True)
    assert repr(user) == "SimUser(name='alice@example.com', key='k2', console=True)"
    assert user.author() == {"originator": "alice@example.com"}
    assert parse_user("bob:k3:s").author() == {"originator": "bob", "apiKeyName": "k3"}


# ------------------------------------------------------------------ sim: environment variables


def test_env_users_add_to_the_config() -> None:
    environ = {
        "RECONCILER_SIM_USERS": "bob:bk:bs, carol:ck:cs,",
        "RECONCILER_SIM_CONSOLE_USERS": "alice@example.com:k2:s2",
        "RECONCILER_SIM_REFUSE_LOGS": "403",
    }
    config = config_from_env(SimulatorConfig(), environ)
    assert config.users == (
        SimUser("bob", "bk", "bs"),
        SimUser("carol", "ck", "cs"),
        SimUser("alice@example.com", "k2", "s2", console=True),
    )
    assert config.refuse_logs == 403


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"RECONCILER_SIM_USERS": "bob:bk:bs,carol-s3cr3t"},
            "RECONCILER_SIM_USERS: item 2: expected NAME:KEY:SECRET (three parts separated by "
            "':'), got 1 part",
        ),
        (
            {"RECONCILER_SIM_CONSOLE_USERS": "alice:k2:"},
            "RECONCILER_SIM_CONSOLE_USERS: item 1: expected NAME:KEY:SECRET, got an empty SECRET",
        ),
        (
            {"RECONCILER_SIM_USERS": "a:k:s3cr3t", "RECONCILER_SIM_CONSOLE_USERS": "b:k:s"},
            "simulator key 'k' is given to two users",
        ),
        ({"RECONCILER_SIM_REFUSE_LOGS": "404"}, "simulator refuse_logs must be 0, 403 or 412"),
        (
            {"RECONCILER_SIM_REFUSE_LOGS": "no"},
            "RECONCILER_SIM_REFUSE_LOGS='no' is not a valid number",
        ),
    ],
)
def test_bad_env_users_are_usage_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        config_from_env(SimulatorConfig(), environ)
    assert str(caught.value) == message
    assert "s3cr3t" not in str(caught.value)


def test_users_from_env_is_empty_without_the_variables() -> None:
    assert users_from_env({}) == ()


@pytest.fixture
def sim_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding examples/, cwd there, fast sim: timings, no real credentials."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECONCILER_SIM_TASK_SECONDS", "0")
    monkeypatch.setenv("RECONCILER_SIM_PROVISION_SECONDS", "0")
    for name in ("REDIS_API_KEY", "REDIS_API_SECRET", "REDISCLOUD_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REDISCLOUD_SECRET_KEY", raising=False)
    return tmp_path


def _log_of(folder: Path) -> list[dict[str, Any]]:
    state = json.loads((folder / ".reconciler-sim.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = state["systemLog"]
    return entries


def _tag_sessions(tag: str) -> None:
    with open_api("sim:") as client:
        path = "/subscriptions/2001234/databases/51170941/tags"
        client.write("POST", path, {"key": tag, "value": "x"})


@pytest.mark.parametrize(
    ("key", "secret", "author"),
    [
        ("k2", ALICE_SECRET, {"originator": "alice@example.com"}),
        ("bk", BOB_SECRET, {"originator": "bob", "apiKeyName": "bk"}),
        (
            "real-key",
            "real-secret",
            {"originator": "sim-user@example.com", "apiKeyName": "sim-key"},
        ),
        (None, None, {"originator": "sim-user@example.com", "apiKeyName": "sim-key"}),
    ],
    ids=["console-user", "api-user", "unknown-key-ignored", "no-key"],
)
def test_sim_mode_acts_as_the_env_key_when_it_is_a_simulator_user(
    sim_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str | None,
    secret: str | None,
    author: dict[str, str],
) -> None:
    monkeypatch.setenv("RECONCILER_SIM_CONSOLE_USERS", f"alice@example.com:k2:{ALICE_SECRET}")
    monkeypatch.setenv("RECONCILER_SIM_USERS", f"bob:bk:{BOB_SECRET}")
    if key is not None and secret is not None:
        monkeypatch.setenv("REDIS_API_KEY", key)
        monkeypatch.setenv("REDIS_API_SECRET", secret)
    _tag_sessions("env")
    (entry,) = _log_of(sim_folder)
    assert {k: entry[k] for k in ("originator", "apiKeyName") if k in entry} == author
