"""Time ``load_spec`` on a generated spec of 500 databases (the budget is 0.5 s wall).

Run: ``python bench/bench_validate.py [--databases N] [--repeat R]``. Prints the first run
apart (as in a real CLI run, it also reads the schema and compiles the validator), then the
best and median wall time of R further runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reconciler.spec import load_spec

_DATABASE = """\
      - name: db-{i:04d}
        redisVersion: "7.4"
        datasetSizeInGb: {size}
        throughputMeasurement: {{by: operations-per-second, value: 25000}}
        replication: true
        dataEvictionPolicy: volatile-lru
        password: ${{DB_PASSWORD}}
        sourceIp: [10.0.0.0/16, 10.1.0.0/16]
        alerts:
          - {{name: dataset-size, value: 80}}
          - name: throughput-higher-than
            value: 20000
        remoteBackup: {{active: true, interval: every-12-hours, timeUTC: "02:00",
                       storageType: aws-s3, storagePath: s3://backups/db-{i:04d}}}
        lifecycle:
          preventDestroy: true
          ignoreChanges: [throughputMeasurement]
"""


def generate(databases: int) -> str:
    """Return a one-file spec with ``databases`` databases in 5 subscriptions."""
    per_subscription = max(1, databases // 5)
    lines = ["version: 1", "subscriptions:"]
    for index in range(databases):
        if index % per_subscription == 0:
            lines.append(f"  - id: {2000000 + index // per_subscription}")
            lines.append("    defaults: {dataPersistence: aof-every-1-second}")
            lines.append("    databases:")
        lines.append(_DATABASE.format(i=index, size=1 + index % 4 * 0.5).rstrip("\n"))
    return "\n".join(lines) + "\n"


def time_load_spec(databases: int, repeat: int) -> tuple[float, list[float]]:
    """Return the wall seconds of the first load_spec run and of ``repeat`` further runs."""
    environ = {"DB_PASSWORD": "bench-password"}
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.yaml"
        spec.write_text(generate(databases), encoding="utf-8")
        times = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            state = load_spec([str(spec)], environ)
            times.append(time.perf_counter() - start)
    loaded = sum(len(s.databases) for s in state.subscriptions)
    if loaded != databases:
        raise RuntimeError(f"loaded {loaded} databases, generated {databases}")
    return times[0], times[1:]


def main(argv: list[str] | None = None) -> int:
    """Generate the spec, time load_spec, print the figures; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--databases", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    first, rest = time_load_spec(args.databases, args.repeat)
    print(f"load_spec: {args.databases} databases, {args.repeat} runs")
    print(f"  first run (compiles the schema validator): {first * 1000:.0f} ms")
    print(f"  best {min(rest) * 1000:.0f} ms, median {statistics.median(rest) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
