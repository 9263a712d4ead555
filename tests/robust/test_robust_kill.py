"""Robustness: ``apply`` killed with SIGKILL at any point, then run again, converges.

``python -m reconciler apply examples/ --yes`` runs as a subprocess against an in-test
simulator (state kept in a temporary file) and is killed without warning:

* at seeded moments 0.2-3 s after it started (anywhere: reading, sending, polling);
* right as the simulator accepts a request (the write took effect, the process never sees
  the answer): the first create, an update, the delete.

Then ``apply`` runs again as a subprocess, to completion, and:

* exits 0; the next ``plan --detailed-exitcode`` exits 0;
* every subscription holds exactly the expected databases: a create killed after sending
  is adopted by name (an update or nothing), never created twice; nothing the spec does not
  delete is gone, and the databases that were live keep their ids.

The scenarios are independent (a simulator and a folder each) and spend their time waiting
on real clocks, so they run side by side on threads; each test then checks one of them.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from robust_support import (
    ABSENT_IN_SPEC,
    EXPECTED_NAMES,
    PROD,
    PROJECT,
    STAGING,
    SteppingClock,
    copy_examples,
    stepping_runtime,
)

from reconciler import cli
from reconciler.cli import Runtime
from reconciler.simulator import RunningSimulator

KILL_SEED = 20261127
TIMED_KILLS = 4
# Kill as the simulator accepts the first request matching (method, path suffix).
ON_REQUEST = {
    "create-accepted": ("POST", "/databases"),
    "update-accepted": ("PUT", ""),
    "delete-accepted": ("DELETE", ""),
}
RUN_TIMEOUT = 60.0
WORKERS = 4


def kill_delays(seed: int, count: int, low: float = 0.2, high: float = 3.0) -> list[float]:
    """Return ``count`` seeded kill moments, one in each equal slice of ``[low, high)`` s."""
    rng = random.Random(seed)
    width = (high - low) / count
    return [round(low + (i + rng.random()) * width, 2) for i in range(count)]


SCENARIOS: dict[str, tuple[str, Any]] = {
    f"kill-{i}-of-{TIMED_KILLS}-after-{delay:.2f}s": ("after", delay)
    for i, delay in enumerate(kill_delays(KILL_SEED, TIMED_KILLS), 1)
}
SCENARIOS.update({f"kill-on-{name}": ("on", name) for name in ON_REQUEST})


@dataclass
class Outcome:
    """What one scenario saw; the tests assert on it."""

    killed_on: str = ""
    killed_code: int | None = None
    again: subprocess.CompletedProcess[str] | None = None
    plan: subprocess.CompletedProcess[str] | None = None
    before: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    after: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    crash: str = ""


class Victim:
    """The apply subprocess to kill; killed at most once."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.killed_on = ""
        self._lock = threading.Lock()

    def kill(self, why: str) -> None:
        with self._lock:
            if self.process is not None and not self.killed_on and self.process.poll() is None:
                self.killed_on = why
                os.kill(self.process.pid, signal.SIGKILL)


def kill_on_request(victim: Victim, method: str, suffix: str) -> Callable[[str], None]:
    """Return a simulator log hook killing the victim as a matching request is answered.

    The simulator logs a request before its answer goes out, so the write has taken effect
    and the process dies without seeing the answer.
    """

    def hook(line: str) -> None:
        verb, path = line.split(" ", 2)[:2]
        if verb == method and path.endswith(suffix) and "/databases" in path:
            victim.kill(line)

    return hook


def environment(running: RunningSimulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "RECONCILER"))}
    env.update(
        SESSIONS_DB_PASSWORD="kill-sessions-password-1",
        REPORTS_DB_PASSWORD="kill-reports-password-2",
        REDIS_API_KEY=running.api_key,
        REDIS_API_SECRET=running.api_secret,
        PYTHONPATH=str(PROJECT),
        NO_COLOR="1",
    )
    return env


def live_databases(running: RunningSimulator) -> dict[int, list[tuple[str, int]]]:
    """Return ``{subscription id: [(name, id), …]}`` as the API lists them."""
    headers = {"x-api-key": running.api_key, "x-api-secret-key": running.api_secret}
    found = {}
    with requests.Session() as session:
        for sid in (PROD, STAGING):
            url = f"{running.url}/subscriptions/{sid}/databases"
            answer = session.get(url, params={"limit": 100}, headers=headers, timeout=10)
            answer.raise_for_status()
            databases = answer.json()["subscription"][0]["databases"]
            found[sid] = [(db["name"], db["databaseId"]) for db in databases]
    return found


def run_scenario(
    folder: Path, how: str, when: Any, make_simulator: Callable[..., RunningSimulator]
) -> Outcome:
    """Run one scenario in ``folder``: kill an apply, apply again, plan."""
    copy_examples(folder)
    victim = Victim()
    outcome = Outcome()
    with make_simulator(
        state_path=folder / "sim-state.json",
        task_seconds=0.3,
        provision_seconds=0.05,
        log=kill_on_request(victim, *ON_REQUEST[when]) if how == "on" else None,
    ) as running:
        outcome.before = live_databases(running)
        env = environment(running)
        spec = str(folder / "examples")
        apply = [sys.executable, "-m", "reconciler", "apply", spec, "--yes"]
        apply += ["--api-url", running.url]
        started = time.monotonic()
        victim.process = subprocess.Popen(
            apply, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if how == "after":
            try:
                victim.process.wait(when)
            except subprocess.TimeoutExpired:
                victim.kill(f"after {when}s")
        outcome.killed_code = victim.process.wait(RUN_TIMEOUT)
        outcome.killed_on = (
            victim.killed_on or f"not killed: ended after {time.monotonic() - started:.1f}s"
        )

        def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                argv, cwd=folder, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
            )

        outcome.again = run(apply)
        plan = [sys.executable, "-m", "reconciler", "plan", spec, "--detailed-exitcode"]
        outcome.plan = run([*plan, "--api-url", running.url])
        outcome.after = live_databases(running)
    return outcome


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_simulator: Callable[..., RunningSimulator],
) -> Iterator[dict[str, Outcome]]:
    """Run every scenario (side by side) and return their outcomes by id."""
    base = tmp_path_factory.mktemp("kill")

    def guarded(name: str) -> Outcome:
        try:
            how, when = SCENARIOS[name]
            return run_scenario(base / name, how, when, make_module_simulator)
        except Exception as exc:  # reported by the scenario's own test
            return Outcome(crash=f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="kill") as pool:
        results = dict(zip(SCENARIOS, pool.map(guarded, SCENARIOS), strict=True))
    yield results


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_apply_killed_then_run_again_converges(name: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[name]
    assert outcome.crash == ""
    assert outcome.killed_code == -signal.SIGKILL, outcome.killed_on
    again, plan = outcome.again, outcome.plan
    assert again is not None and plan is not None
    assert again.returncode == 0, again.stderr + again.stdout
    assert "Traceback" not in again.stderr
    assert (plan.returncode, plan.stderr) == (0, ""), plan.stdout
    assert "No changes." in plan.stdout

    for sid, names in EXPECTED_NAMES.items():
        assert sorted(name for name, _ in outcome.after[sid]) == sorted(names)
    ids_after = {sid: dict(dbs) for sid, dbs in outcome.after.items()}
    for sid, dbs in outcome.before.items():
        for db_name, db_id in dbs:
            if db_name not in ABSENT_IN_SPEC:
                assert ids_after[sid].get(db_name) == db_id, f"{db_name} was deleted or replaced"


# ---------------------------------------------------------------------- the same, deterministic
#
# The kill points above depend on real timing. Here the killed run's last request is sent
# by hand, then apply runs in-process on a stepping clock shared with the simulator, so
# the write is certainly still being processed when the new run plans and applies.


@dataclass(frozen=True)
class Stepped:
    """A simulator, the example spec, and the CLI runtime on the simulator's clock."""

    running: RunningSimulator
    spec: Path
    runtime: Runtime

    def cli(self, *argv: str) -> int:
        """Run ``reconciler ARGV --api-url <simulator>`` in-process; return the exit code."""
        return cli.main([*argv, "--api-url", self.running.url], self.runtime)


@pytest.fixture
def stepped(
    make_simulator: Callable[..., RunningSimulator],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Stepped:
    """A simulator and the in-process CLI on one stepping clock; the example spec copied."""
    clock = SteppingClock()
    running = make_simulator(task_seconds=20.0, provision_seconds=10.0, clock=clock)
    for name, value in environment(running).items():
        monkeypatch.setenv(name, value)
    return Stepped(running, copy_examples(tmp_path), stepping_runtime(clock))


def test_a_create_still_in_flight_from_a_killed_run_is_adopted(
    stepped: Stepped,
    sim_api: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = stepped.running
    body = {
        "name": "reports",
        "redisVersion": "7.4",
        "datasetSizeInGb": 5,
        "modules": [{"name": "RediSearch"}],
        "password": "kill-reports-password-2",
        "alerts": [{"name": "throughput-higher-than", "value": 20000}],
        "dataPersistence": "aof-every-1-second",
    }
    assert sim_api(running).post(f"/subscriptions/{PROD}/databases", body).status_code == 202
    code = stepped.cli("apply", str(stepped.spec), "--yes")
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert "  + create reports" in out  # planned while the killed run's create was processed
    assert "create reports (db 51180010): done" in out
    assert "the name was taken by a database being created (an earlier run?); adopted" in out
    code = stepped.cli("plan", str(stepped.spec), "--detailed-exitcode")
    assert code == 0, capsys.readouterr().out
    names = [name for name, _ in live_databases(running)[PROD]]
    assert names.count("reports") == 1


def test_a_create_clashing_with_a_different_database_fails_clearly(
    stepped: Stepped,
    sim_api: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = stepped.running
    body = {"name": "reports", "datasetSizeInGb": 1, "dataPersistence": "none"}
    assert sim_api(running).post(f"/subscriptions/{PROD}/databases", body).status_code == 202
    code = stepped.cli("apply", str(stepped.spec), "--yes")
    _, err = capsys.readouterr()
    assert code == 1
    assert err.splitlines()[-1] == (
        "error: create reports (db 51180010): POST /subscriptions/2001234/databases: HTTP 409, "
        'DATABASE_NAME_EXISTS: A database named "reports" already exists; it differs from this '
        "create in: datasetSizeInGb, modules, password, alerts, dataPersistence"
    )


def test_a_delete_still_in_flight_from_a_killed_run_needs_no_backup(
    stepped: Stepped,
    sim_api: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = stepped.running
    assert sim_api(running).delete(f"/subscriptions/{PROD}/databases/51170942").status_code == 200
    code = stepped.cli("apply", str(stepped.spec), "--yes")
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert "  » backup legacy-cache (db 51170942)" in out  # planned: it was still listed
    lines = [line for line in out.splitlines() if "legacy-cache (db 51170942): done" in line]
    assert [re.sub(r"^ \(\d+s\): ", "", line.split(": done", 1)[1]) for line in lines] == [
        "the database is being deleted already (an earlier run?); nothing to back up",
        "already deleted",
    ]
