"""The many-subscription apply over several seeds of durations: is the pacing robust?

Runs ``bench_parallel``'s workload (5 subscriptions x 4 updates, tasks 1-5 s, provisioning
10-60 s) serially and with ``--parallel 3`` once per seed of durations (the first seed is
the benchmark's own), and prints each run's wall (virtual seconds), task polls per task and
peak requests a minute, then the totals. Virtual time: the same figures on every machine.

    python bench/bench_pace_seeds.py            # 8 seeds
    python bench/bench_pace_seeds.py --seeds 3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import bench_parallel


@contextmanager
def seeded(seed: str) -> Iterator[None]:
    """Run ``bench_parallel`` with durations drawn from ``seed``; restore its own after."""
    own = bench_parallel.DURATION_SEED
    bench_parallel.DURATION_SEED = seed
    try:
        yield
    finally:
        bench_parallel.DURATION_SEED = own


def seed_lines(seeds: int) -> list[str]:
    """Return one line per seed (serial and --parallel 3), then one line of totals."""
    lines, totals = [], {1: 0.0, 3: 0.0}
    for n in range(seeds):
        seed = bench_parallel.DURATION_SEED if n == 0 else f"s{n}"
        cells = [f"seed {seed}:"]
        with seeded(seed):
            for parallel in totals:
                run = bench_parallel.reconciler_run(parallel)
                r = bench_parallel._measure(f"parallel {parallel}", run)
                totals[parallel] += r.wall
                cells.append(
                    f"--parallel {parallel} {r.wall:.0f} s, {r.polls_per_task:.2f} task "
                    f"polls/task, peak {r.peak_per_minute} req/min;"
                )
        lines.append(" ".join(cells))
    lines.append(f"total: serial {totals[1]:.0f} s, --parallel 3 {totals[3]:.0f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print one line per seed of durations and the totals."""
    parser = argparse.ArgumentParser(description="bench_parallel over seeds of durations.")
    parser.add_argument("--seeds", type=int, default=8, help="seeds of durations to run")
    args = parser.parse_args(argv)
    for line in seed_lines(args.seeds):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
