"""Robustness: ``apply`` of the example spec converges through seeded API faults.

For every seed the example account is applied against a simulator that fails some of its
requests (500/503 answers, dropped connections, writes whose answer is lost after they took
effect, failing tasks) and, for some seeds, rate-limits to a few requests a minute (429s).
``apply`` is re-run until it succeeds (at most :data:`MAX_RUNS` runs); then, with faults off:

* ``plan --detailed-exitcode`` exits 0 (nothing left to do);
* every subscription holds exactly the expected databases: no duplicate created by a
  re-sent create, nothing deleted that the spec does not delete (same ids as before);
* every run that gave up exited 1 and said exactly why: a ``Failed: <action>: <reason>``
  line and the matching ``error:`` line (or, when it failed before any action started, one
  ``error:`` line), never a traceback.

The CLI runs in-process. Time is a shared stepping clock: the simulator's clock, the
executor's clock, sleep and wall clock, and the client's rate-limit sleep all use it, so a
wait of minutes costs nothing; the live state is read one subscription at a time, so the
faults meet the requests in the same order on every run of a seed. ``ROBUST_SEEDS`` sets
the number of seeds (default 20).

Every seed must show that its faults fired (the simulator's ``/_simulator/stats``): a seed
meeting no fault would prove nothing.

A last test pins a sequence seeds 14 and 18 found: a re-run whose write is dropped must
not take the failed task of the previous run for its own (and fail again on it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from robust_support import (
    ABSENT_IN_SPEC,
    EXPECTED_NAMES,
    PROD,
    STAGING,
    SteppingClock,
    copy_examples,
    run_cli,
    stepping_runtime,
)

from reconciler.cli import Runtime
from reconciler.simulator import RunningSimulator
from reconciler.simulator.faults import Fault

SEEDS = int(os.environ.get("ROBUST_SEEDS", "20"))
MAX_RUNS = 5
FAULT_RATES = (0.05, 0.1, 0.15, 0.2)
RATE_LIMITS = (0, 25, 60)  # requests a minute; 0 = off
TASK_ID = re.compile(r"\btask ([0-9a-f-]{36})\b")
ACTION_LINE = re.compile(r"^Failed: (create|update|upgrade|backup|import|delete) \S+.*: \S.*$")


def scenario(seed: int) -> tuple[float, int]:
    """Return the fault rate and rate limit of ``seed``."""
    return FAULT_RATES[seed % len(FAULT_RATES)], RATE_LIMITS[seed % len(RATE_LIMITS)]


def seed_id(seed: int) -> str:
    rate, limit = scenario(seed)
    return f"seed-{seed:02d}-of-{SEEDS}-faults-{rate:.2f}-limit-{limit or 'off'}"


@pytest.fixture
def clock() -> SteppingClock:
    """Return the stepping clock the simulator and the in-process CLI share."""
    return SteppingClock()


@pytest.fixture
def runtime(clock: SteppingClock) -> Runtime:
    """Run the in-process CLI on ``clock`` (and read serially, for determinism)."""
    return stepping_runtime(clock, serial_reads=True)


@pytest.fixture
def spec_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a copy of examples/ and set the environment the examples need."""
    target = copy_examples(tmp_path, ignore=("ci", "__pycache__"))
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", "robust-sessions-password-1")
    monkeypatch.setenv("REPORTS_DB_PASSWORD", "robust-reports-password-2")
    monkeypatch.delenv("REDIS_API_URL", raising=False)
    return target


@contextmanager
def faults_off(running: RunningSimulator) -> Iterator[None]:
    """Switch faults and the rate limit off for a moment (the fault sequence is kept)."""
    gateway = running.gateway
    rate, limit = gateway.faults.rate, gateway.limiter.limit
    gateway.faults.rate, gateway.limiter.limit = 0.0, 0
    try:
        yield
    finally:
        gateway.faults.rate, gateway.limiter.limit = rate, limit


def live_databases(running: RunningSimulator, sim_api: Callable[..., Any]) -> dict[int, list[Any]]:
    """Return ``{subscription id: [(name, id), …]}`` as the API lists them (faults off)."""
    api = sim_api(running)
    found: dict[int, list[Any]] = {}
    with faults_off(running):
        for sid in (PROD, STAGING):
            answer = api.get(f"/subscriptions/{sid}/databases", params={"limit": 100})
            assert answer.status_code == 200
            block = answer.json()["subscription"][0]
            assert block["numberOfDatabases"] < 100
            found[sid] = [(db["name"], db["databaseId"]) for db in block["databases"]]
    return found


def check_gave_up_clearly(code: int, out: str, err: str, blamed: set[str]) -> None:
    """A run that did not finish exits 1 and says which action failed and why.

    ``blamed`` holds the tasks named by earlier failures: a run must never blame a task an
    earlier run already reported (a stale task adopted for a write whose answer was lost).
    """
    assert code == 1, err
    assert "Traceback" not in err + out
    assert "internal error" not in err
    lines = err.splitlines()
    assert lines and lines[-1].startswith("error: ")
    failed = [line for line in lines if line.startswith("Failed: ")]
    if "Done (" in err:  # the executor started: the report names the failed action
        assert len(failed) == 1 and ACTION_LINE.match(failed[0]), err
        assert lines[-1] == "error: " + failed[0].removeprefix("Failed: ")
        tasks = set(TASK_ID.findall(failed[0]))
        assert not tasks & blamed, f"blames a task of an earlier run: {failed[0]}"
        blamed |= tasks
    else:  # it failed while reading the account, before any action
        assert failed == [] and len(lines) == 1, err
        assert re.match(r"^error: GET /\S+: ", lines[0]), err


@pytest.mark.parametrize("seed", range(1, SEEDS + 1), ids=seed_id)
def test_apply_converges_through_faults(
    seed: int,
    clock: SteppingClock,
    runtime: Runtime,
    spec_dir: Path,
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rate, limit = scenario(seed)
    running = make_simulator(
        task_seconds=2.0,
        provision_seconds=3.0,
        fault_rate=rate,
        fault_seed=seed,
        rate_limit=limit,
        clock=clock,
    )
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    before = live_databases(running, sim_api)
    apply = ("apply", str(spec_dir), "--yes", "--timeout", "30m", "--api-url", running.url)

    outcomes, blamed = [], set[str]()
    for _ in range(MAX_RUNS):
        code, out, err = run_cli(capsys, *apply, runtime=runtime)
        outcomes.append(code)
        if code == 0:
            assert "Traceback" not in out + err
            break
        check_gave_up_clearly(code, out, err, blamed)
    assert outcomes[-1] == 0, f"no success in {MAX_RUNS} runs: {outcomes}"

    with faults_off(running):
        code, out, err = run_cli(
            capsys,
            "plan",
            str(spec_dir),
            "--detailed-exitcode",
            "--api-url",
            running.url,
            runtime=runtime,
        )
    assert (code, err) == (0, ""), out
    assert "No changes." in out

    after = live_databases(running, sim_api)
    for sid, names in EXPECTED_NAMES.items():
        listed = [name for name, _ in after[sid]]
        assert sorted(listed) == sorted(names)  # no duplicate, nothing missing
    ids_after = {sid: dict(dbs) for sid, dbs in after.items()}
    for sid, dbs in before.items():
        for name, db_id in dbs:
            if name not in ABSENT_IN_SPEC:
                assert ids_after[sid].get(name) == db_id, f"{name} was deleted or replaced"
    # nothing but the injected faults went wrong (no 400: nothing malformed was ever sent)
    stats = running.stats()
    expected = {"200", "202", "404", "409", "429", "500", "503", "dropped"}
    assert set(stats["statuses"]) <= expected
    # and the faults did fire: a seed that met none would prove nothing
    assert faults_fired(stats) > 0, stats


def faults_fired(stats: dict[str, Any]) -> int:
    """Return how many injected faults the simulator's statistics show.

    The simulator's own fault counters when it keeps them (``faults``), else the answers
    only a fault gives: 500, 503 and dropped connections (lost answers are dropped too).
    """
    counters = stats.get("faults")
    if isinstance(counters, dict):
        return sum(int(n) for n in counters.values())
    statuses = stats["statuses"]
    return sum(int(statuses.get(status, 0)) for status in ("500", "503", "dropped"))


class WriteFaults:
    """Stands in for the fault injector: the n-th write (counted over all runs) meets a fault."""

    def __init__(self, script: dict[int, Fault]) -> None:
        self.script = script
        self.writes = 0

    def draw(self, is_write: bool) -> Fault | None:
        if not is_write:
            return None
        self.writes += 1
        return self.script.get(self.writes)

    def reset(self) -> None:
        self.writes = 0


def test_a_failed_task_of_an_earlier_run_is_not_taken_for_a_lost_answer(
    clock: SteppingClock,
    runtime: Runtime,
    spec_dir: Path,
    make_simulator: Callable[..., RunningSimulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Writes in plan order: upgrade queue, create reports, update reports, import reports,
    # update sessions (5th: its task fails). The re-run starts with update sessions (6th:
    # dropped unprocessed), whose lost answer must not be pinned on the failed task.
    running = make_simulator(task_seconds=2.0, provision_seconds=3.0, clock=clock)
    running.gateway.faults = WriteFaults({5: Fault.FAILING_TASK, 6: Fault.DROP})  # type: ignore[assignment]
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    apply = ("apply", str(spec_dir), "--yes", "--api-url", running.url)

    code, out, err = run_cli(capsys, *apply, runtime=runtime)
    check_gave_up_clearly(code, out, err, set())
    failed = next(line for line in err.splitlines() if line.startswith("Failed: "))
    assert failed.startswith("Failed: update sessions (db 51170941): task ")
    old_task = TASK_ID.findall(failed)[0]

    code, out, err = run_cli(capsys, *apply, runtime=runtime)
    assert (code, err) == (0, ""), err
    assert old_task not in out
    done = [line for line in out.splitlines() if "update sessions (db 51170941): done" in line]
    assert done[0].endswith(": answer lost, no trace found; sent again"), done
    puts = running.stats()["routes"]["PUT /subscriptions/{subscriptionId}/databases/{databaseId}"]
    assert puts == 2 + 3  # run 1: reports, sessions; run 2: sessions twice, staging-sessions
