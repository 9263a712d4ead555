"""Apply across many subscriptions: serial, ``--parallel 3``, Terraform, and the physical limit.

The workload: 5 subscriptions x 4 databases, each database resized (20 updates, 4 per
subscription: a policy rolled out to every team). Each update's task lasts 1-5 s and its
provisioning 10-60 s, seeded per database (the same in every run and for every waiter).
The in-process simulator enforces the API's account-wide limits: one task processed at a
time, at most three subscriptions changing at once (a write beyond that is refused with
429), 400 requests a minute. One lockstep virtual clock (``bench/lockstep.py``) drives the
simulator, the client and every lane, so a run is the same every time and its minutes of
waiting take a few real seconds.

Rows:

* **reconciler serial** — ``apply_plan(..., parallel=1)``;
* **reconciler --parallel 3** — ``apply_plan(..., parallel=3)``, its lanes on the lockstep;
* **Terraform -parallelism=10** — :mod:`terraform_schedule` (per-subscription lock,
  ``StateChangeConf`` waits, the Go SDK's task polls and 429 retries); the better of two
  slot orders (plan order, round-robin over subscriptions), which flatters it;
* **physical limit** — :mod:`parallel_limit`: the best schedule an oracle that knows every
  duration and polls nothing achieves under the same two API limits, with the lower bound
  no schedule can beat (a measured run below that bound stops the benchmark: the oracle's
  model would not be the simulator's). For scale it also gives ``--parallel 3``'s own
  scheduling with no polling delay: what is left between it and the measured run is the
  time lanes take to notice that an action is done.

Columns: wall (virtual seconds), ratio to the limit, ``GET /tasks/{id}`` polls per task,
the peak number of requests in any sliding 60 virtual seconds (from the simulator's request
log), and the 429s (refused writes: too many subscriptions changing; refused reads: rate).

    python bench/bench_parallel.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import terraform_schedule
from lockstep import Lockstep
from parallel_limit import Chains, Limit, Work, physical_limit
from table import Row, ratio
from workload import seed_document, spec_text

from reconciler.apply.executor import apply_plan
from reconciler.cloud.client import ApiClient
from reconciler.cloud.reader import read_live
from reconciler.plan import Plan
from reconciler.planning.planner import build_plan
from reconciler.simulator import RunningSimulator, SimulatorConfig, serve_in_background
from reconciler.spec import load_spec

SUBSCRIPTIONS = 5
ACTIONS_PER_SUBSCRIPTION = 4
TASK_SECONDS_RANGE = (1.0, 5.0)
PROVISION_SECONDS_RANGE = (10.0, 60.0)
DURATION_SEED = "reconciler-bench-parallel"
ACCOUNT_RATE_LIMIT = 400  # requests a minute, as the API allows
BUDGET_PER_MINUTE = 200  # reconciler's default share (--max-requests-per-minute)
WINDOW = 60.0


def task_seconds(kind: str, database_id: int | None) -> float:
    """Return a task's length: uniform in 1-5 s, seeded by kind and database id."""
    rng = random.Random(f"{DURATION_SEED}:task:{kind}:{database_id}")
    return round(rng.uniform(*TASK_SECONDS_RANGE), 1)


def provision_seconds(kind: str, database_id: int | None) -> float:
    """Return a provisioning length: uniform in 10-60 s, seeded by kind and database id."""
    rng = random.Random(f"{DURATION_SEED}:provision:{kind}:{database_id}")
    return round(rng.uniform(*PROVISION_SECONDS_RANGE), 1)


@dataclass(frozen=True)
class ParallelResult:
    """One schedule's run of the 20 updates."""

    name: str
    wall: float  # virtual seconds
    tasks: int
    task_polls: int
    requests: int
    peak_per_minute: int
    write_429: int  # refused: too many subscriptions changing
    read_429: int  # refused: request rate
    failed: int = 0  # operations that gave up (Terraform: 10 x 429)

    @property
    def polls_per_task(self) -> float:
        """Mean ``GET /tasks/{id}`` requests per task (0 without tasks)."""
        return self.task_polls / self.tasks if self.tasks else 0.0


@dataclass(frozen=True)
class Request:
    """One request in the simulator's log."""

    at: float  # virtual time
    method: str
    path: str
    status: str

    @property
    def refused(self) -> bool:
        """Was it answered 429?"""
        return self.status == "429"


@dataclass
class _Session:
    """A fresh simulator of the workload, a client, the plan, and the request log."""

    clock: Lockstep
    client: ApiClient
    plan: Plan
    log: list[Request]
    running: RunningSimulator


@contextmanager
def _session(terraform: bool = False) -> Iterator[_Session]:
    """Start the workload's simulator on a lockstep clock; yield it with the plan.

    ``terraform``: the client gives up at the first 429 (the Go SDK's retries are
    modelled by :func:`terraform_schedule.sdk_call`), and its request budget is the SDK's
    400 a minute instead of reconciler's default share.
    """
    clock = Lockstep()
    log: list[Request] = []

    def record(line: str) -> None:
        method, path, status, *_ = line.split()
        log.append(Request(clock(), method, path, status))

    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as folder:
        seed = Path(folder) / "seed.yaml"
        document = seed_document(SUBSCRIPTIONS, ACTIONS_PER_SUBSCRIPTION)
        seed.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
        spec = Path(folder) / "spec.yaml"
        spec.write_text(spec_text(SUBSCRIPTIONS, ACTIONS_PER_SUBSCRIPTION, 1), encoding="utf-8")
        config = SimulatorConfig(
            port=0,
            seed_path=seed,
            clock=clock,
            rate_limit=ACCOUNT_RATE_LIMIT,
            task_seconds_for=task_seconds,
            provision_seconds_for=provision_seconds,
            log=record,
        )
        with (
            serve_in_background(config) as running,
            ApiClient(
                running.url,
                running.api_key,
                running.api_secret,
                sleep=clock.sleep,
                clock=clock,
                rate_limit_wait_max=0.0 if terraform else 120.0,
                max_requests_per_minute=ACCOUNT_RATE_LIMIT if terraform else BUDGET_PER_MINUTE,
            ) as client,
        ):
            desired = load_spec([str(spec)], {})
            plan = build_plan(desired, read_live(client, desired), salt="bench")
            expected = SUBSCRIPTIONS * ACTIONS_PER_SUBSCRIPTION
            if plan.refusals or len(plan.actions) != expected:
                raise RuntimeError(f"parallel workload planned {len(plan.actions)} actions")
            log.clear()
            yield _Session(clock, client, plan, log, running)


def peak_per_minute(times: Sequence[float]) -> int:
    """Return the most requests in any window of :data:`WINDOW` seconds."""
    ordered = sorted(times)
    peak, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - WINDOW:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def _measure(name: str, run: Callable[[_Session], int], terraform: bool = False) -> ParallelResult:
    """Run ``run`` on a fresh session; return its figures (``run`` returns failures)."""
    with _session(terraform) as s:
        started = s.clock()
        failed = run(s)
        wall = s.clock() - started
        log, tasks = list(s.log), len(s.running.simulator.account.tasks)
    return ParallelResult(
        name=name,
        wall=wall,
        tasks=tasks,
        task_polls=sum(1 for r in log if r.method == "GET" and "/tasks/" in r.path),
        requests=len(log),
        peak_per_minute=peak_per_minute([r.at for r in log]),
        write_429=sum(1 for r in log if r.method != "GET" and r.refused),
        read_429=sum(1 for r in log if r.method == "GET" and r.refused),
        failed=failed,
    )


def reconciler_run(parallel: int) -> Callable[[_Session], int]:
    """Return a run applying the plan with ``apply_plan(..., parallel=parallel)``."""

    def run(s: _Session) -> int:
        apply_plan(
            s.plan,
            s.client,
            clock=s.clock,
            sleep=s.clock.sleep,
            wall_clock=s.clock,
            parallel=parallel,
            run_lanes=s.clock.run_lanes,
        )
        return 0

    return run


def terraform_run(round_robin: bool) -> Callable[[_Session], int]:
    """Return a run applying the plan as Terraform -parallelism=10 would."""

    def run(s: _Session) -> int:
        actions = list(s.plan.actions)
        if round_robin:
            actions = terraform_schedule.round_robin(actions)
        return terraform_schedule.run_terraform(s.client, s.clock, actions).failed

    return run


def chains(plan: Plan) -> Chains:
    """Return each subscription's actions' durations, in plan order."""
    groups: dict[int, list[Work]] = {}
    for action in plan.actions:
        work = Work(
            task_seconds("update", action.database_id),
            provision_seconds("update", action.database_id),
        )
        groups.setdefault(action.subscription_id, []).append(work)
    return tuple(tuple(group) for group in groups.values())


def limit() -> Limit:
    """Return the physical limit of the workload."""
    with _session() as s:
        return physical_limit(chains(s.plan))


@dataclass(frozen=True)
class Results:
    """Every row of the benchmark."""

    serial: ParallelResult
    parallel: ParallelResult
    terraform: ParallelResult  # the better of terraform_runs
    terraform_runs: tuple[ParallelResult, ...]
    limit: Limit


def results() -> Results:
    """Run every schedule over the same workload and timeline."""
    terraform_runs = (
        _measure("Terraform -parallelism=10 (plan order)", terraform_run(False), terraform=True),
        _measure("Terraform -parallelism=10 (round-robin)", terraform_run(True), terraform=True),
    )
    found = Results(
        serial=_measure("reconciler serial", reconciler_run(1)),
        parallel=_measure("reconciler --parallel 3", reconciler_run(3)),
        terraform=min(terraform_runs, key=lambda r: (r.failed, r.wall)),
        terraform_runs=terraform_runs,
        limit=limit(),
    )
    # A run beating the proven bound would mean the oracle's model is not the simulator's.
    runs = (found.serial, found.parallel, *terraform_runs)
    beaten = [r.name for r in runs if r.wall < found.limit.lower_bound]
    if beaten:
        raise RuntimeError(f"{', '.join(beaten)} beat the physical limit's lower bound")
    return found


def describe(r: ParallelResult, limit_wall: float) -> str:
    """Return one schedule's figures as a line of text."""
    failed = f", {r.failed} failed" if r.failed else ""
    return (
        f"{r.wall:.0f} s = {r.wall / limit_wall:.2f} x limit; {r.polls_per_task:.1f} polls/task, "
        f"peak {r.peak_per_minute} req/min, 429s: {r.write_429} writes + {r.read_429} reads"
        f"{failed}"
    )


PARALLEL_LIMIT_TARGET = 1.10
SERIAL_SHARE_TARGET = 0.5
LABEL = "Apply 5 subs x 4 updates (virtual time), --parallel 3"


def section(sizes: object, notes: list[str]) -> list[Row]:
    """Rows for ``bench/run.py``: --parallel 3 against the limit, Terraform, serial, budget.

    The workload is the same in the quick and the full run (``sizes`` is not used).
    """
    found = results()
    ours, limit_wall = found.parallel, found.limit.wall
    shown, wall = describe(ours, limit_wall), f"{ours.wall:.0f} s"
    rows = [
        Row(
            f"{LABEL} vs physical limit",
            shown,
            f"{limit_wall:.0f} s (no schedule beats {found.limit.lower_bound:.0f} s)",
            ratio(ours.wall, limit_wall),
            f"<= {PARALLEL_LIMIT_TARGET:.2f} x limit",
            ours.wall <= PARALLEL_LIMIT_TARGET * limit_wall,
        ),
        Row(
            f"{LABEL} vs Terraform -parallelism=10",
            wall,
            describe(found.terraform, limit_wall),
            ratio(ours.wall, found.terraform.wall),
            "wall < Terraform's",
            ours.wall < found.terraform.wall and not found.terraform.failed,
        ),
        Row(
            f"{LABEL} vs reconciler serial",
            wall,
            describe(found.serial, limit_wall),
            ratio(ours.wall, found.serial.wall),
            f"<= {SERIAL_SHARE_TARGET:g} x serial",
            ours.wall <= SERIAL_SHARE_TARGET * found.serial.wall,
        ),
        Row(
            f"{LABEL}, peak requests a minute",
            f"{ours.peak_per_minute} req in 60 s",
            f"Terraform {found.terraform.peak_per_minute}, serial {found.serial.peak_per_minute}",
            ratio(ours.peak_per_minute, BUDGET_PER_MINUTE),
            f"<= {BUDGET_PER_MINUTE} (the default budget)",
            ours.peak_per_minute <= BUDGET_PER_MINUTE,
            True,
        ),
    ]
    notes.append(
        "Apply across subscriptions (`bench/bench_parallel.py`): 5 subscriptions x 4 database "
        "resizes, tasks 1-5 s and provisioning 10-60 s (seeded per database), against the "
        "simulator's account-wide limits: one task processed at a time, at most three "
        "subscriptions changing (a fourth is refused with 429), 400 requests a minute. One "
        "lockstep virtual clock drives the simulator and every lane. *physical limit*: the best "
        "schedule found for an oracle that knows every duration and polls nothing, under the "
        "same limits (`bench/parallel_limit.py`), with the bound no schedule can beat. "
        "*Terraform*: -parallelism=10, the provider's per-subscription lock, StateChangeConf "
        "waits (10 s, then every 30 s), the SDK's task polls and 429 retries (1 s doubling, "
        "10 tries); tags PUT and final read left out; the better of two slot orders. Peak = "
        "most requests in any 60 virtual seconds; 429s counted by the simulator. For "
        f"scale: --parallel 3's scheduling with no polling delay at all needs "
        f"{found.limit.lanes:.0f} s ({found.limit.lanes / limit_wall:.2f} x limit); the rest "
        "of its gap is the time its lanes take to notice an action is done."
    )
    return rows


def main() -> int:
    """Print one line per schedule."""
    found = results()
    wall = found.limit.wall
    for r in (found.serial, found.parallel, *found.terraform_runs):
        sys.stdout.write(f"{r.name}: {describe(r, wall)}\n")
    sys.stdout.write(
        f"physical limit: {wall:.1f} s (best oracle schedule found; greedy "
        f"{found.limit.greedy:.1f} s; no schedule beats {found.limit.lower_bound:.1f} s)\n"
        f"--parallel 3 scheduling, no polling delay: {found.limit.lanes:.1f} s "
        f"= {found.limit.lanes / wall:.2f} x limit\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
