"""Benchmark: CPU seconds of build_plan over 5,000 databases (normalise + diff + plan).

Builds one live subscription of 5,000 databases shaped like the API's GET output and a
spec describing them, with a share of them (10 % by default) drifted in a managed field,
then prints the CPU time (``time.process_time``) of :func:`reconciler.planning.planner.build_plan`.

    python bench/bench_diff.py [--databases N] [--changed FRACTION] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.plan import Plan
from reconciler.planning.planner import build_plan
from reconciler.secrets import Secret

SUBSCRIPTION_ID = 2001234
DEFAULT_REGEX = [
    {"ordinal": 1, "pattern": "(?<tag>.*)"},
    {"ordinal": 0, "pattern": ".*\\{(?<tag>.*)\\}.*"},
]


def live_database(index: int) -> LiveDatabase:
    """Return database ``index`` as GET /subscriptions/{id}/databases lists it."""
    db_id = 51_000_000 + index
    raw: dict[str, Any] = {
        "databaseId": db_id,
        "name": f"db-{index:05d}",
        "protocol": "redis",
        "provider": "AWS",
        "region": "us-east-1",
        "redisVersion": "7.4",
        "redisVersionCompliance": "7.4.2",
        "respVersion": "resp3",
        "status": "active",
        "datasetSizeInGb": 1,
        "memoryUsedInMb": 4 + index % 100,
        "memoryStorage": "ram",
        "supportOSSClusterApi": False,
        "dataPersistence": "aof-every-1-second",
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "activatedOn": "2024-01-01T00:00:00Z",
        "lastModified": "2024-01-01T00:00:00Z",
        "publicEndpoint": f"redis-{db_id}.c1.example.com:{10000 + index}",
        "privateEndpoint": f"redis-{db_id}.internal.c1.example.com:{10000 + index}",
        "clustering": {
            "numberOfShards": 1,
            "regexRules": DEFAULT_REGEX,
            "hashingPolicy": "standard",
        },
        "security": {
            "enableDefaultUser": True,
            "password": f"password-{index:027d}",
            "sslClientAuthentication": False,
            "tlsClientAuthentication": False,
            "enableTls": False,
            "sourceIps": ["10.0.0.0/16", "192.168.1.0/24"],
        },
        "modules": [{"id": 1, "name": "RedisJSON", "version": "2.6.6", "parameters": []}],
        "alerts": [
            {"id": f"{db_id}-1", "name": "dataset-size", "value": 80, "defaultValue": 80},
            {"id": f"{db_id}-2", "name": "throughput-higher-than", "value": 20000},
        ],
        "backup": {
            "enableRemoteBackup": True,
            "interval": "every-12-hours",
            "timeUTC": "02:00",
            "destination": f"s3://backups/db-{index:05d}",
        },
        "links": [{"rel": "self", "type": "GET", "href": f"https://api/x/{db_id}"}],
    }
    return LiveDatabase(db_id, raw["name"], "active", raw)


def spec_database(index: int, changed: bool) -> DatabaseSpec:
    """Return the spec of database ``index``; ``changed`` drifts a few managed fields."""
    fields: dict[str, Any] = {
        "datasetSizeInGb": 2 if changed else 1.0,
        "redisVersion": "7.4",
        "respVersion": "resp3",
        "dataPersistence": "aof-every-1-second",
        "replication": True,
        "dataEvictionPolicy": "allkeys-lru" if changed else "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "password": Secret(f"password-{index:027d}"),
        "sourceIp": ["192.168.1.0/24", "10.0.0.0/16"],
        "modules": [{"name": "RedisJSON"}],
        "alerts": [
            {"name": "throughput-higher-than", "value": 20000},
            {"name": "dataset-size", "value": 90 if changed else 80},
        ],
        "regexRules": [],
        "enableDefaultUser": True,
        "enableTls": False,
        "remoteBackup": {
            "active": True,
            "interval": "every-12-hours",
            "timeUTC": "15:00" if changed else "14:00",
            "storageType": "aws-s3",
            "storagePath": f"s3://backups/db-{index:05d}",
        },
    }
    location = Location("bench.yaml", index + 1, 7)
    lifecycle = Lifecycle(backup_before_update=changed and index % 2 == 0)
    return DatabaseSpec(SUBSCRIPTION_ID, f"db-{index:05d}", fields, location, lifecycle=lifecycle)


def build_states(count: int, changed_share: float) -> tuple[DesiredState, LiveState]:
    """Return a desired/live pair of ``count`` databases, ``changed_share`` of them drifted."""
    every = max(1, round(1 / changed_share)) if changed_share > 0 else count + 1
    live_dbs = tuple(live_database(i) for i in range(count))
    raw_sub = {"id": SUBSCRIPTION_ID, "name": "bench", "deploymentType": "single-region"}
    sub = LiveSubscription(SUBSCRIPTION_ID, "bench", "active", raw_sub, live_dbs)
    specs = tuple(spec_database(i, i % every == 0) for i in range(count))
    desired = DesiredState(
        (SubscriptionSpec(SUBSCRIPTION_ID, False, specs, Location("bench.yaml")),)
    )
    return desired, LiveState({SUBSCRIPTION_ID: sub})


def best_cpu_seconds(databases: int, changed: float, repeat: int) -> tuple[float, Plan]:
    """Return the CPU seconds of the fastest of ``repeat`` build_plan runs, and its plan."""
    desired, live = build_states(databases, changed)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        plan = build_plan(desired, live, salt="bench")
        best = min(best, time.process_time() - start)
    return best, plan


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the CPU seconds of the fastest run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=5000)
    parser.add_argument("--changed", type=float, default=0.10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    best, plan = best_cpu_seconds(args.databases, args.changed, args.repeat)
    sys.stdout.write(
        f"build_plan: {args.databases} databases, {len(plan.actions)} "
        f"actions, {len(plan.refusals)} refusals: {best:.3f} s CPU (best of {args.repeat})\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
