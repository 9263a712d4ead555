"""Start-up: wall time of ``reconciler --version`` and ``reconciler validate examples/``.

Each command runs as a fresh process, as a user or CI job runs it; the figure is the median
of several runs, next to ``python -c pass`` measured the same way (the interpreter's own
start-up, which no change to reconciler can remove).

    python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_ENV = {
    "SESSIONS_DB_PASSWORD": "bench-sessions-password",
    "REPORTS_DB_PASSWORD": "bench-reports-password",
}


@dataclass(frozen=True)
class Startup:
    """Median wall seconds of a command and of ``python -c pass``."""

    label: str
    seconds: float
    baseline: float

    @property
    def ratio(self) -> float:
        """The command's time over the bare interpreter's."""
        return self.seconds / self.baseline


def reconciler_command() -> list[str]:
    """Return how to run the installed ``reconciler`` script (or ``python -m reconciler``)."""
    script = Path(sys.executable).with_name("reconciler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def median_wall(command: Sequence[str], runs: int) -> float:
    """Return the median wall seconds of ``runs`` runs of ``command`` (one warm-up first).

    Raises:
        subprocess.CalledProcessError: the command failed.
    """
    env = {**os.environ, **EXAMPLE_ENV}
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        if index:  # the first run warms the disk cache and the .pyc files
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def startup_results(runs: int) -> list[Startup]:
    """Measure the bare interpreter, then both commands, in the same run."""
    baseline = median_wall([sys.executable, "-c", "pass"], runs)
    command = reconciler_command()
    results = []
    for label, args in (
        ("--version", ["--version"]),
        ("validate examples/", ["validate", "examples/"]),
    ):
        results.append(Startup(label, median_wall([*command, *args], runs), baseline))
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    for r in startup_results(args.runs):
        sys.stdout.write(
            f"reconciler {r.label}: {r.seconds * 1000:.0f} ms "
            f"(python -c pass: {r.baseline * 1000:.0f} ms, ratio {r.ratio:.1f})\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
