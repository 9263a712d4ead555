"""Run every benchmark of reconciler and print one table.

    python bench/run.py                  # the full run (a few minutes)
    python bench/run.py --quick          # smaller sizes, under a minute (CI smoke step)
    python bench/run.py --write-readme   # full run, then rewrite README.md's bench section

Baselines are measured in the same run, on the same simulator and client, and the table
reports ratios against them: the machine is noisy, ratios less so. The exit code is 1 when
a target that does not depend on the machine (a request count) is missed, else 0; timing
targets are reported, never enforced.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bench_apply
import bench_diff
import bench_parallel
import bench_plan
import bench_simulator
import bench_startup
import bench_validate
from table import Row, machine, markdown, ratio, readme_section, write_readme

ROOT = Path(__file__).resolve().parents[1]
PLAN_WALL_TARGET = 1.5  # seconds, 10 subscriptions x 100 databases
PLAN_TARGET_SUBSCRIPTIONS = 10
DIFF_CPU_TARGET = 2.0
STARTUP_TARGET = 0.3
VALIDATE_TARGET = 0.5
PAGE_SIZE = 100


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs."""

    plan_subscriptions: tuple[int, ...]
    databases: int
    latency_ms: float
    baseline_budget: float  # seconds a baseline may run before it is run on a subset
    growth: tuple[int, ...]
    plan_repeat: int
    diff_databases: int
    diff_repeat: int
    startup_runs: int
    simulator_gets: int
    validate_databases: int
    validate_repeat: int


FULL = Sizes((1, 10, 50), 100, 50.0, 60.0, (100, 1000, 5000), 3, 5000, 3, 7, 1000, 500, 5)
QUICK = Sizes((1, 10), 100, 50.0, 8.0, (100, 1000), 3, 5000, 1, 3, 200, 500, 1)


def _subs(count: int) -> str:
    return f"{count} sub{'s' if count != 1 else ''}"


def plan_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Rows 1: plan requests and wall time next to the naive and Terraform patterns."""
    rows = []
    pages = math.ceil(sizes.databases / PAGE_SIZE)
    results = bench_plan.plan_rows(
        sizes.plan_subscriptions,
        sizes.databases,
        sizes.latency_ms,
        repeat=sizes.plan_repeat,
        budget=sizes.baseline_budget,
    )
    for r in results:
        label = f"Plan {_subs(r.subscriptions)} x {r.databases} dbs"
        expected = r.subscriptions * (pages + 1)
        timed = r.subscriptions == PLAN_TARGET_SUBSCRIPTIONS
        for name, base in (("naive script", r.naive), ("Terraform read", r.terraform)):
            row_ratio = (
                f"req {ratio(r.ours.requests, base.requests)}, "
                f"time {ratio(r.ours.seconds, base.seconds)}"
            )
            if name == "naive script":
                target = f"= {expected} req (subs x (pages + 1))"
                met, exact = r.ours.requests == expected, True
            elif timed:
                target = f"< {PLAN_WALL_TARGET} s wall"
                met, exact = r.ours.seconds < PLAN_WALL_TARGET, False
            else:
                target, met, exact = "—", None, False
            rows.append(
                Row(
                    f"{label}, vs {name}",
                    r.ours.text(),
                    base.text(),
                    row_ratio,
                    target,
                    met,
                    exact,
                )
            )
    notes.append(
        f"Plan: {sizes.latency_ms:g} ms simulated latency on every request; the simulator runs "
        "in a child process and counts the requests (`GET /_simulator/stats`); its start-up is "
        "not timed. *reconciler* is a fresh `ApiClient` + `read_live` + `build_plan` (what "
        "`reconciler plan` does once the spec is loaded; loading is the `load_spec` row), "
        f"median of {sizes.plan_repeat} runs; 1 database in 10 drifts, so the plan has real "
        "diffs. The spec manages no password: a managed password costs one more GET per "
        "database, as list results never carry it."
    )
    notes.append(
        "Baselines (one run each, same `ApiClient`, fetch only: no diff): *naive script* lists "
        "each subscription's databases, then GETs each database, one request at a time; "
        "*Terraform read* GETs the subscription and each database (ids known from state), "
        "10 at a time (Terraform's default `-parallelism`). A baseline that would run longer "
        f"than {sizes.baseline_budget:g} s is run on the first N subscriptions and scaled "
        "linearly, marked *(scaled from N subs)*."
    )
    return rows


def growth_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Rows 3: plan cost as one subscription grows."""
    rows = []
    for databases, measured in zip(
        sizes.growth,
        bench_plan.growth_rows(sizes.growth, sizes.latency_ms, repeat=sizes.plan_repeat),
        strict=True,
    ):
        pages = math.ceil(databases / PAGE_SIZE)
        rows.append(
            Row(
                f"Growth: 1 sub x {databases:,} dbs",
                f"{measured.text()}, {pages} page{'s' if pages != 1 else ''}",
                f"{databases + 1:,} req with one GET per database (count only, not run)",
                "—",
                f"= {pages + 1} req (pages + 1)",
                measured.requests == pages + 1,
                True,
            )
        )
    notes.append(
        f"Growth: one subscription holding all the databases, {sizes.latency_ms:g} ms latency; "
        "pages of 100 (up to 8 in flight once the subscription answer gives the count: see "
        "the Plan reads row), requests = pages + 1 (the subscription), never one per "
        "database."
    )
    return rows


def diff_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Row 2: build_plan CPU on a large subscription."""
    best, plan = bench_diff.best_cpu_seconds(sizes.diff_databases, 0.10, sizes.diff_repeat)
    notes.append(
        "Diff CPU: `build_plan` (normalise + deepdiff + plan + fingerprint) over one "
        "subscription of API-shaped databases, 10 % of them drifted in several fields "
        "(`bench/bench_diff.py`); `time.process_time`, best of "
        f"{sizes.diff_repeat}."
    )
    return [
        Row(
            f"Diff: build_plan, {sizes.diff_databases:,} dbs, 10 % drifted",
            f"{best:.2f} s CPU ({len(plan.actions):,} actions)",
            target=f"< {DIFF_CPU_TARGET:g} s CPU",
            met=best < DIFF_CPU_TARGET,
        )
    ]


def apply_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Rows 4: apply overhead and polls in virtual time, next to the Go SDK's and Terraform's."""
    return bench_apply.apply_rows(notes)


def startup_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Rows 5: process start-up of two commands next to the bare interpreter."""
    rows = []
    for r in bench_startup.startup_results(sizes.startup_runs):
        rows.append(
            Row(
                f"Start-up: reconciler {r.label}",
                f"{r.seconds * 1000:.0f} ms",
                f"python -c pass: {r.baseline * 1000:.0f} ms",
                ratio(r.seconds, r.baseline),
                f"< {STARTUP_TARGET:g} s",
                r.seconds < STARTUP_TARGET,
            )
        )
    notes.append(
        f"Start-up: a fresh process per run (the installed `reconciler` script), median of "
        f"{sizes.startup_runs} after one warm-up; `validate examples/` loads and checks the "
        "example spec files."
    )
    return rows


def validate_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Row: load_spec on a generated file (the spec-loading share of a plan)."""
    first, rest = bench_validate.time_load_spec(sizes.validate_databases, sizes.validate_repeat)
    median = sorted(rest)[len(rest) // 2]
    notes.append(
        "load_spec: one generated file of 500 richly specified databases "
        f"(`bench/bench_validate.py`), median of {sizes.validate_repeat} after a first run "
        f"({first * 1000:.0f} ms) that also compiles the schema validator."
    )
    return [
        Row(
            f"Spec: load_spec, {sizes.validate_databases} dbs in one file",
            f"{median * 1000:.0f} ms",
            target=f"< {VALIDATE_TARGET:g} s",
            met=median < VALIDATE_TARGET,
        )
    ]


def simulator_section(sizes: Sizes, notes: list[str]) -> list[Row]:
    """Rows 6: simulator start-up and GET throughput."""
    figures = bench_simulator.measure(sizes.simulator_gets, bench_simulator.DEFAULT_PATH)
    per_second = sizes.simulator_gets / figures["elapsed"]
    notes.append(
        "Simulator: `serve_in_background` on the packaged example account, then GETs of one "
        "database over one keep-alive `http.client` connection, no latency "
        "(`bench/bench_simulator.py`)."
    )
    return [
        Row("Simulator: start-up", f"{figures['startup'] * 1000:.0f} ms"),
        Row(
            f"Simulator: {sizes.simulator_gets:,} GETs, one connection",
            f"{figures['elapsed']:.2f} s ({per_second:,.0f}/s)",
        ),
    ]


SECTIONS: tuple[tuple[str, Callable[[Sizes, list[str]], list[Row]]], ...] = (
    ("plan", plan_section),
    ("diff", diff_section),
    ("growth", growth_section),
    ("pages", bench_plan.pages_section),
    ("apply", apply_section),
    ("apply --parallel", bench_parallel.section),
    ("start-up", startup_section),
    ("load_spec", validate_section),
    ("simulator", simulator_section),
)


def main(argv: list[str] | None = None) -> int:
    """Run the sections, print the table and notes, optionally rewrite the README section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI smoke run)")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite README.md between the bench markers"
    )
    args = parser.parse_args(argv)
    if args.quick and args.write_readme:
        parser.error("--write-readme records a full run; drop --quick")
    sizes = QUICK if args.quick else FULL
    rows: list[Row] = []
    notes: list[str] = []
    for name, section in SECTIONS:
        sys.stderr.write(f"bench: {name} ...")
        sys.stderr.flush()
        started = time.perf_counter()
        rows += section(sizes, notes)
        sys.stderr.write(f" {time.perf_counter() - started:.1f} s\n")
    missed = [row for row in rows if row.met is False]
    notes += [f"Target missed: {row.benchmark} ({row.target})." for row in missed]
    if args.quick:
        notes.insert(0, "Quick run: smaller sizes and fewer repeats than the full run.")
    table = markdown(rows)
    sys.stdout.write(f"Machine: {machine()}\n\n{table}\n")
    sys.stdout.write("".join(f"- {note}\n" for note in notes))
    if args.write_readme:
        command = " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])])
        write_readme(ROOT / "README.md", readme_section(table, notes, command))
        sys.stderr.write("bench: README.md section rewritten\n")
    return 1 if any(row.exact for row in missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
