"""Plan: API requests and wall time of reading + planning, next to two baselines.

Every figure comes from one simulator running in a child process (see :mod:`simproc`)
with the same latency, and every client is a :class:`reconciler.cloud.client.ApiClient`, so only
the request pattern differs:

* **reconciler** — :func:`reconciler.cloud.reader.read_live` +
  :func:`reconciler.planning.planner.build_plan`
  (what ``reconciler plan`` runs after loading the spec): per subscription one GET of the
  subscription and the database list page by page, four subscriptions at a time.
* **naive script** — for each subscription, list the databases, then GET each database,
  one request after the other.
* **Terraform read pattern** — one GET per database resource plus one for the
  subscription, ten at a time (Terraform's default ``-parallelism=10``).

:func:`pages_section` measures the reads of one big subscription (``read_live`` alone, the
headline; the plan's wall time beside it) with its pages requested at once (the subscription
answer says how many databases it holds) against the same reader paging one by one
(``concurrency=1``), in the same run.

Requests are counted by the simulator (``GET /_simulator/stats``). Simulator startup is
not timed. A baseline whose estimate exceeds the budget runs on the first few
subscriptions only and is scaled linearly; the result says so.

    python bench/bench_plan.py [--subscriptions 1,10,50] [--databases 100] [--latency-ms 50]
    python bench/bench_plan.py --pages 5000     # only the pages-at-once row, 1 x 5,000
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from simproc import SimulatorProcess, simulator_process
from table import Row, ratio
from workload import database_id, subscription_id, write_spec

from reconciler.cloud.client import ApiClient
from reconciler.cloud.reader import PAGE_CONCURRENCY, read_live
from reconciler.model import DesiredState
from reconciler.planning.planner import build_plan
from reconciler.spec import load_spec

TERRAFORM_PARALLELISM = 10
PAGE_SIZE = 100
PAGES_READ_TARGET = 1.0  # seconds of read_live, 1 subscription x 5,000 databases at 50 ms


@dataclass(frozen=True)
class Measured:
    """Requests sent and wall seconds of one measured pattern (scaled when ``scaled_from``)."""

    requests: int
    seconds: float
    scaled_from: int | None = None  # number of subscriptions actually run
    actions: int | None = None
    read_seconds: float | None = None  # of ``seconds``, spent in read_live (ours only)

    def text(self) -> str:
        """Return e.g. ``20 req, 0.41 s`` (with the scaling note when scaled)."""
        shown = f"{self.requests:,} req, {_seconds(self.seconds)}"
        if self.scaled_from is not None:
            subs = "sub" if self.scaled_from == 1 else "subs"
            shown += f" (scaled from {self.scaled_from} {subs})"
        return shown


@dataclass(frozen=True)
class PlanRow:
    """One plan size: ours and both baselines."""

    subscriptions: int
    databases: int
    ours: Measured
    naive: Measured
    terraform: Measured


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


#: The baselines are not paced by reconciler's request budget (200 a minute by default):
#: a naive script has none, and the Go SDK's own limiter (400 a minute) is left out, which
#: flatters Terraform. reconciler's own runs keep the default budget.
UNPACED = 1_000_000


def _client(sim: SimulatorProcess, max_requests_per_minute: int | None = None) -> ApiClient:
    if max_requests_per_minute is None:
        return ApiClient(sim.url, sim.api_key, sim.api_secret)
    return ApiClient(
        sim.url, sim.api_key, sim.api_secret, max_requests_per_minute=max_requests_per_minute
    )


def _counted(sim: SimulatorProcess, run: Callable[[], Any]) -> tuple[int, float, Any]:
    """Run ``run`` and return (requests served meanwhile, wall seconds, its result)."""
    before = sim.requests_total()
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    return sim.requests_total() - before, elapsed, result


def measure_ours(
    sim: SimulatorProcess, desired: DesiredState, repeat: int, concurrency: int = 4
) -> Measured:
    """Return the median of ``repeat`` runs of read_live + build_plan with a fresh client."""

    def run() -> tuple[int, float]:
        with _client(sim) as client:
            started = time.perf_counter()
            live = read_live(client, desired, concurrency=concurrency)
            read = time.perf_counter() - started
            return len(build_plan(desired, live, salt="bench").actions), read

    runs = [_counted(sim, run) for _ in range(repeat)]
    requests, _, (actions, _) = runs[0]
    return Measured(
        requests,
        statistics.median(r[1] for r in runs),
        actions=actions,
        read_seconds=statistics.median(r[2][1] for r in runs),
    )


def naive_read(client: ApiClient, subscription_ids: Sequence[int]) -> int:
    """List each subscription's databases, then GET each one, sequentially; return the count."""
    count = 0
    for sid in subscription_ids:
        ids: list[int] = []
        offset = 0
        while True:
            page = client.get(f"/subscriptions/{sid}/databases", {"offset": offset, "limit": 100})
            block = page["subscription"][0]
            ids += [db["databaseId"] for db in block["databases"]]
            if len(ids) >= block["numberOfDatabases"] or len(block["databases"]) < PAGE_SIZE:
                break
            offset += PAGE_SIZE
        for db_id in ids:
            client.get(f"/subscriptions/{sid}/databases/{db_id}")
        count += len(ids)
    return count


def terraform_read(client: ApiClient, subscription_ids: Sequence[int], databases: int) -> int:
    """GET every subscription and every database (ids from "state"), 10 at a time."""
    paths = []
    for sid in subscription_ids:
        index = sid - subscription_id(0)
        paths.append(f"/subscriptions/{sid}")
        paths += [
            f"/subscriptions/{sid}/databases/{database_id(index, d)}" for d in range(databases)
        ]
    with ThreadPoolExecutor(max_workers=TERRAFORM_PARALLELISM) as pool:
        return len(list(pool.map(client.get, paths)))


def measure_baseline(
    sim: SimulatorProcess,
    read: Callable[[ApiClient, Sequence[int]], int],
    subscriptions: int,
    per_subscription: float | None,
    budget: float,
) -> Measured:
    """Run a baseline once; on a subset of subscriptions (scaled) when over ``budget`` s.

    ``per_subscription`` is the seconds one subscription took (None: not known yet).
    """
    count = subscriptions
    if per_subscription is not None and per_subscription * subscriptions > budget:
        count = max(1, min(subscriptions, math.floor(budget / 2 / per_subscription)))
    ids = [subscription_id(s) for s in range(count)]
    with _client(sim, UNPACED) as client:
        requests, seconds, _ = _counted(sim, lambda: read(client, ids))
    if count == subscriptions:
        return Measured(requests, seconds)
    factor = subscriptions / count
    return Measured(round(requests * factor), seconds * factor, scaled_from=count)


def load_desired(subscriptions: int, databases: int) -> DesiredState:
    """Return the loaded spec matching the generated account."""
    with tempfile.TemporaryDirectory(prefix="bench-spec-") as folder:
        path = write_spec(Path(folder), subscriptions, databases)
        return load_spec([str(path)], {})


def plan_rows(
    sizes: Sequence[int],
    databases: int,
    latency_ms: float,
    *,
    repeat: int = 3,
    budget: float = 60.0,
) -> list[PlanRow]:
    """Measure ours and both baselines for each number of subscriptions in ``sizes``."""
    rows: list[PlanRow] = []
    per_sub: dict[str, float] = {}
    with simulator_process(max(sizes), databases, latency_ms) as sim:
        for subs in sorted(sizes):
            ours = measure_ours(sim, load_desired(subs, databases), repeat)
            baselines: dict[str, Measured] = {}
            for name, read in (("naive", naive_read), ("terraform", _terraform(databases))):
                measured = measure_baseline(sim, read, subs, per_sub.get(name), budget)
                baselines[name] = measured
                per_sub.setdefault(name, measured.seconds / subs)
            rows.append(PlanRow(subs, databases, ours, baselines["naive"], baselines["terraform"]))
    return rows


def _terraform(databases: int) -> Callable[[ApiClient, Sequence[int]], int]:
    return lambda client, ids: terraform_read(client, ids, databases)


def growth_rows(sizes: Sequence[int], latency_ms: float, *, repeat: int = 3) -> list[Measured]:
    """Measure ours on one subscription holding each number of databases in ``sizes``."""
    results = []
    for databases in sizes:
        with simulator_process(1, databases, latency_ms) as sim:
            results.append(measure_ours(sim, load_desired(1, databases), repeat))
    return results


class Sizes(Protocol):
    """What :func:`pages_section` takes from ``run.py``'s sizes."""

    @property
    def growth(self) -> tuple[int, ...]: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def plan_repeat(self) -> int: ...


def pages_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Row: reading one subscription of the largest growth size (``read_live``), its pages
    requested at once, against the same reader paging one by one (``concurrency=1``) in the
    same run. The headline is the read wall time; the plan's (reads + ``build_plan``) is shown
    beside it.
    """
    databases = max(sizes.growth)
    with simulator_process(1, databases, sizes.latency_ms) as sim:
        desired = load_desired(1, databases)
        ours = measure_ours(sim, desired, sizes.plan_repeat)
        one_by_one = measure_ours(sim, desired, sizes.plan_repeat, concurrency=1)
    expected = math.ceil(databases / PAGE_SIZE) + 1
    counted = ours.requests == expected
    notes.append(
        f"Plan reads: `read_live` of one subscription of {databases:,} databases at "
        f"{sizes.latency_ms:g} ms latency, the wall time of the reads alone (the target). The "
        "subscription answer's `numberOfDatabases` tells how many pages exist, so they are "
        f"requested at once, {PAGE_CONCURRENCY} in flight (`read_live`'s bound on page "
        "requests), and taken in offset order. Baseline: the same `read_live` with "
        f"`concurrency=1` (page after page). Median of {sizes.plan_repeat} runs each. *plan* "
        "is the wall time of reads + `build_plan`; the difference is `build_plan` (see the "
        "Diff CPU row), which concurrency does not change."
    )
    reads, baseline_reads = ours.read_seconds or 0.0, one_by_one.read_seconds or 0.0
    return [
        Row(
            f"Plan reads 1 sub x {databases:,} dbs, pages at once vs one by one",
            _reads_first(ours),
            _reads_first(one_by_one),
            f"reads {ratio(reads, baseline_reads)}, plan {ratio(ours.seconds, one_by_one.seconds)}",
            f"reads < {PAGES_READ_TARGET:g} s, = {expected} req (pages + 1)",
            counted and reads < PAGES_READ_TARGET,
            not counted,  # a wrong request count fails the run; a slow machine does not
        )
    ]


@dataclass(frozen=True)
class _PagesSizes:
    growth: tuple[int, ...]
    latency_ms: float
    plan_repeat: int


def _reads_first(measured: Measured) -> str:
    """Return e.g. ``51 req, reads 0.90 s (plan 3.10 s)``."""
    reads = _seconds(measured.read_seconds or 0.0)
    return f"{measured.requests:,} req, reads {reads} (plan {_seconds(measured.seconds)})"


def main(argv: list[str] | None = None) -> int:
    """Print the plan rows for the sizes asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", default="1,10,50")
    parser.add_argument("--databases", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per baseline")
    parser.add_argument("--pages", type=int, help="only the pages-at-once row, this many dbs")
    args = parser.parse_args(argv)
    if args.pages:
        row = pages_section(_PagesSizes((args.pages,), args.latency_ms, 3), [])[0]
        sys.stdout.write(" | ".join(row.cells()) + "\n")
        return 0
    sizes = [int(x) for x in args.subscriptions.split(",")]
    for row in plan_rows(sizes, args.databases, args.latency_ms, budget=args.budget):
        sys.stdout.write(
            f"{row.subscriptions} x {row.databases}: ours {row.ours.text()}; "
            f"naive {row.naive.text()}; terraform {row.terraform.text()}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
