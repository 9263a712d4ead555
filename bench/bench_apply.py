"""Apply overhead in virtual time: how long after the work ends does each waiter notice?

A plan of 20 actions (:func:`workload.apply_spec_text`) runs against an in-process
simulator whose tasks last 2-20 s each (seeded per action: the same in every run) and
whose databases then provision for :data:`PROVISION_SECONDS`. One
:class:`workload.VirtualClock` drives the simulator, the client and the waiter, so the
hours of waiting take a couple of real seconds and every run sees the same timeline.

Three waiters run the same plan against a fresh simulator:

* **reconciler** — :func:`reconciler.apply.executor.apply_plan`, unchanged;
* **Go SDK** — a minimal loop: send, poll the task at once and then after 1, 2, 4, 8, 16,
  30, 30 … s (retry-go, jitter left out), then the database status (gone, for a delete)
  and the subscription the same way;
* **Terraform provider** — the task through the Go SDK as above (the provider calls the
  SDK), then the database (not after a delete) and the subscription through
  ``StateChangeConf``: first check after 10 s, then every 30 s. Its waits *before* each
  write (10 s each) are left out, which flatters it.

Ratio = virtual wall time of the apply ÷ the simulator's own work: the sum over tasks of
submission → completion, plus provisioning for the kinds that provision (create, update,
upgrade, delete). Counted by the simulator, per route: *task polls* are the
``GET /tasks/{id}`` requests; *status reads* every ``GET`` of one database or of one
subscription during the apply: the polls after each task (database, subscription) and, for
reconciler only, also its checks before each write and its read-backs after, which the
reference loops do not make.

Targets (:func:`apply_rows`): wall / work at most :data:`APPLY_RATIO_TARGET`, and no more task
polls per task than the Go SDK's schedule in the same run.

    python bench/bench_apply.py             # the plan on the benchmark's durations
    python bench/bench_apply.py --seeds 14  # also 14 seeds of durations: ours vs the Go SDK
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from table import Row, ratio
from workload import APPLY_ENV, VirtualClock, apply_seed_document, apply_spec_text

from reconciler.apply.executor import apply_plan
from reconciler.cloud.client import ApiClient
from reconciler.cloud.reader import read_live
from reconciler.errors import NotFoundError
from reconciler.plan import NEW_DATABASE_ID, ActionKind, Plan
from reconciler.planning.planner import build_plan
from reconciler.simulator import RunningSimulator, SimulatorConfig, serve_in_background
from reconciler.spec import load_spec

PROVISION_SECONDS = 5.0
TASK_SECONDS_RANGE = (2.0, 20.0)
DURATION_SEED = "reconciler-bench"
PROVISIONING_KINDS = frozenset({"create", "update", "upgrade", "delete"})
TASK_ROUTE = "GET /tasks/{taskId}"
STATUS_ROUTES = (
    "GET /subscriptions/{subscriptionId}/databases/{databaseId}",
    "GET /subscriptions/{subscriptionId}",
)
APPLY_RATIO_TARGET = 1.05
GIVE_UP_AFTER = 3600.0  # virtual seconds; a waiter this slow is broken


def task_seconds(kind: str, database_id: int | None, seed: str = DURATION_SEED) -> float:
    """Return a task's length: uniform in 2-20 s, seeded by ``seed``, kind and database id."""
    rng = random.Random(f"{seed}:{kind}:{database_id}")
    return round(rng.uniform(*TASK_SECONDS_RANGE), 1)


@dataclass(frozen=True)
class ApplyResult:
    """One waiter's run of the plan."""

    waiter: str
    wall: float  # virtual seconds from the first request to the end of the apply
    work: float  # the simulator's own task + provisioning seconds
    tasks: int
    task_polls: int
    status_reads: int
    requests: int

    @property
    def ratio(self) -> float:
        """Wall time over the simulator's own work (1.0 = no waiting overhead)."""
        return self.wall / self.work

    @property
    def polls_per_task(self) -> float:
        """Mean ``GET /tasks/{id}`` requests per task."""
        return self.task_polls / self.tasks

    @property
    def status_reads_per_task(self) -> float:
        """Mean ``GET`` of a database or subscription per task."""
        return self.status_reads / self.tasks


@contextmanager
def _simulator(
    clock: VirtualClock, durations: str = DURATION_SEED
) -> Iterator[tuple[RunningSimulator, ApiClient]]:
    """Start a fresh simulator of the apply account on ``clock``; yield it and a client."""
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as folder:
        seed = Path(folder) / "seed.yaml"
        seed.write_text(json.dumps(apply_seed_document()), encoding="utf-8")  # JSON is YAML
        config = SimulatorConfig(
            port=0,
            seed_path=seed,
            clock=clock,
            provision_seconds=PROVISION_SECONDS,
            task_seconds_for=lambda kind, db_id: task_seconds(kind, db_id, durations),
        )
        with (
            serve_in_background(config) as running,
            ApiClient(
                running.url, running.api_key, running.api_secret, sleep=clock.sleep, clock=clock
            ) as client,
        ):
            yield running, client


def _plan(client: ApiClient) -> Plan:
    """Return the 20-action plan of the apply workload (read from the simulator)."""
    with tempfile.TemporaryDirectory(prefix="bench-apply-spec-") as folder:
        spec = Path(folder) / "spec.yaml"
        spec.write_text(apply_spec_text(), encoding="utf-8")
        desired = load_spec([str(spec)], APPLY_ENV)
    plan = build_plan(desired, read_live(client, desired), salt="bench")
    if plan.refusals or len(plan.actions) != 20:
        raise RuntimeError(f"apply workload planned {len(plan.actions)} actions: {plan.refusals}")
    return plan


def _work(running: RunningSimulator) -> tuple[float, int]:
    """Return the simulator's own seconds of work (tasks + provisioning) and its task count."""
    tasks = running.simulator.account.tasks
    seconds = sum(float(t["endAt"]) - float(t["submittedAt"]) for t in tasks)
    seconds += PROVISION_SECONDS * sum(1 for t in tasks if t["kind"] in PROVISIONING_KINDS)
    return seconds, len(tasks)


Waiter = Callable[[Plan, ApiClient, VirtualClock], None]


def run_waiter(name: str, waiter: Waiter, seed: str = DURATION_SEED) -> ApplyResult:
    """Plan, then apply with ``waiter`` in virtual time; return what it cost."""
    clock = VirtualClock()
    with _simulator(clock, seed) as (running, client):
        plan = _plan(client)
        before = running.stats()
        started = clock()
        waiter(plan, client, clock)
        wall = clock() - started
        after = running.stats()
        work, tasks = _work(running)

    def count(*routes: str) -> int:
        return sum(after["routes"].get(r, 0) - before["routes"].get(r, 0) for r in routes)

    return ApplyResult(
        name,
        wall,
        work,
        tasks,
        count(TASK_ROUTE),
        count(*STATUS_ROUTES),
        after["total"] - before["total"],
    )


def reconciler_waiter(plan: Plan, client: ApiClient, clock: VirtualClock) -> None:
    """Apply with the real executor."""
    apply_plan(plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock)


# ------------------------------------------------------------------------ reference waiters


def sdk_delays() -> Iterator[float]:
    """Yield the Go SDK's waits: at once, then 1 s doubling to at most 30 s."""
    yield 0.0
    delay = 1.0
    while True:
        yield delay
        delay = min(30.0, delay * 2)


def state_change_delays() -> Iterator[float]:
    """Yield Terraform StateChangeConf's waits: Delay 10 s, then PollInterval 30 s."""
    yield 10.0
    while True:
        yield 30.0


def _poll(probe: Callable[[], Any], delays: Iterator[float], clock: VirtualClock) -> Any:
    """Sleep each delay in turn and probe, until the probe returns something."""
    deadline = clock() + GIVE_UP_AFTER
    for delay in delays:
        clock.sleep(delay)
        found = probe()
        if found is not None:
            return found
        if clock() > deadline:
            break
    raise RuntimeError("reference waiter gave up")


def _task_probe(client: ApiClient, task_id: str) -> Callable[[], Mapping[str, Any] | None]:
    def probe() -> Mapping[str, Any] | None:
        try:
            task = client.get(f"/tasks/{task_id}")
        except NotFoundError:  # a new task is unknown for a moment: keep polling
            return None
        if task["status"] == "processing-completed":
            return dict(task)
        if task["status"] == "processing-error":
            raise RuntimeError(f"task {task_id} failed: {task['response']}")
        return None

    return probe


def _status_probe(client: ApiClient, path: str, *, gone: bool = False) -> Callable[[], Any]:
    def probe() -> Any:
        try:
            status = client.get(path)["status"]
        except NotFoundError:
            if gone:
                return True
            raise
        return None if gone or status != "active" else True

    return probe


def reference_waiter(
    task_delays: Callable[[], Iterator[float]],
    resource_delays: Callable[[], Iterator[float]],
    *,
    wait_gone_after_delete: bool,
) -> Waiter:
    """Return a minimal serial apply loop using the given poll schedules."""

    def waiter(plan: Plan, client: ApiClient, clock: VirtualClock) -> None:
        new_ids: dict[str, int] = {}
        for action in plan.actions:
            path, db_id = action.request.path, action.database_id
            if NEW_DATABASE_ID in path:
                db_id = new_ids[action.name]
                path = path.replace(NEW_DATABASE_ID, str(db_id))
            answer = client.write(action.request.method, path, action.request.body)
            task = _poll(_task_probe(client, answer["taskId"]), task_delays(), clock)
            if action.kind is ActionKind.CREATE:
                db_id = new_ids[action.name] = int(task["response"]["resourceId"])
            sub_path = f"/subscriptions/{action.subscription_id}"
            db_path = f"{sub_path}/databases/{db_id}"
            if action.kind is not ActionKind.DELETE:
                _poll(_status_probe(client, db_path), resource_delays(), clock)
            elif wait_gone_after_delete:
                _poll(_status_probe(client, db_path, gone=True), resource_delays(), clock)
            _poll(_status_probe(client, sub_path), resource_delays(), clock)

    return waiter


WAITERS: dict[str, Waiter] = {
    "reconciler": reconciler_waiter,
    "Go SDK": reference_waiter(sdk_delays, sdk_delays, wait_gone_after_delete=True),
    "Terraform provider": reference_waiter(
        sdk_delays, state_change_delays, wait_gone_after_delete=False
    ),
}


def apply_results() -> list[ApplyResult]:
    """Run every waiter over the same plan and timeline."""
    return [run_waiter(name, waiter) for name, waiter in WAITERS.items()]


def shown(r: ApplyResult) -> str:
    """Return one waiter's figures as a table cell."""
    return (
        f"{r.wall:.0f} s for {r.work:.0f} s of work = {r.ratio:.3f}; "
        f"{r.polls_per_task:.1f} task polls/task, {r.status_reads_per_task:.1f} status "
        f"reads/task, {r.requests} req"
    )


def apply_rows(notes: list[str]) -> list[Row]:
    """Return the Apply rows of ``bench/run.py`` (ours next to each reference); add notes."""
    ours, *references = apply_results()
    sdk = next(r for r in references if r.waiter == "Go SDK")
    fast_enough = ours.ratio <= APPLY_RATIO_TARGET
    rows = []
    for ref in references:
        target = f"wall / work <= {APPLY_RATIO_TARGET:.2f}"
        met = fast_enough
        if ref is sdk:
            target += "; task polls/task <= Go SDK's"
            met = fast_enough and ours.polls_per_task <= sdk.polls_per_task
        rows.append(
            Row(
                f"Apply 20 actions, tasks 2-20 s (virtual time), vs {ref.waiter}",
                shown(ours),
                shown(ref),
                f"wall {ratio(ours.wall, ref.wall)}, "
                f"task polls {ratio(ours.task_polls, ref.task_polls)}",
                target,
                met,
                exact=True,  # virtual time: the same figures on every machine
            )
        )
    notes += _notes(ours)
    return rows


def _notes(ours: ApplyResult) -> list[str]:
    return [
        "Apply: 9 updates, 3 upgrades, 2 x (backup + delete), a create, and a create + "
        "follow-up update + import, against an in-process simulator whose tasks last 2-20 s "
        "(seeded per kind and database, the same for every waiter) and whose databases then "
        f"provision for {PROVISION_SECONDS:g} s. One virtual clock drives the simulator, the "
        "client and the waits, so minutes of waiting take about a second. *work* = the "
        "simulator's own task time (submission to completion) + provisioning; the ratio "
        "wall / work is the waiting overhead (1.00 = none). *task polls* = GET /tasks/{id}; "
        "*status reads* = every GET of one database or subscription (reconciler's include its "
        "checks before each write and its read-backs, which the baselines skip).",
        "Apply baselines, run the same way on the same plan: *Go SDK* polls the task at once "
        "then after 1, 2, 4, 8, 16, 30, 30 ... s (retry-go; jitter left out), then the "
        "database (gone, for a delete) and the subscription the same way; *Terraform "
        "provider* waits for the task through the SDK, then the database (not after a "
        "delete) and the subscription through `StateChangeConf` (first check after 10 s, then "
        "every 30 s). Terraform's waits *before* each write (10 s each) are left out, which "
        "flatters it. reconciler paces its waits from the durations already seen in the run "
        "(`reconciler/apply/pace.py`): a task is first polled at 90 % of the shortest task "
        "seen, database waits are timed from the task's end (its timestamp) and start near "
        "the shortest provisioning seen (bisecting it when the durations agree, else at a low "
        "point, then 10 % of the time waited), and a task whose kind then provisions is "
        "polled no closer than that first database poll: "
        f"{ours.requests} requests in {ours.wall / 60:.1f} min, "
        f"{ours.requests / (ours.wall / 60):.0f} a minute on average.",
    ]


def seed_lines(seeds: int) -> list[str]:
    """Return one line per seed of task durations: ours and the Go SDK's, and the targets."""
    lines = []
    for n in range(seeds):
        seed = DURATION_SEED if n == 0 else f"s{n}"
        ours = run_waiter("reconciler", reconciler_waiter, seed)
        sdk = run_waiter("Go SDK", WAITERS["Go SDK"], seed)
        met = ours.ratio <= APPLY_RATIO_TARGET and ours.polls_per_task <= sdk.polls_per_task
        lines.append(
            f"seed {seed}: reconciler {ours.ratio:.3f}, {ours.polls_per_task:.2f} task "
            f"polls/task; Go SDK {sdk.ratio:.3f}, {sdk.polls_per_task:.2f}; "
            f"targets {'met' if met else 'MISSED'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print one line per waiter; with ``--seeds N``, one line per seed of task durations."""
    parser = argparse.ArgumentParser(description="Apply overhead and polls in virtual time.")
    parser.add_argument("--seeds", type=int, default=0, help="also run N seeds of durations")
    args = parser.parse_args(argv)
    for r in apply_results():
        sys.stdout.write(
            f"{r.waiter}: {r.wall:.0f} s virtual for {r.work:.0f} s of work "
            f"(ratio {r.ratio:.3f}), {r.tasks} tasks, {r.polls_per_task:.1f} task polls per "
            f"task, {r.status_reads_per_task:.1f} status reads per task, {r.requests} requests\n"
        )
    for line in seed_lines(args.seeds):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
