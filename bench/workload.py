"""Generated accounts and matching specs for the benchmarks, and a virtual clock.

The plan benchmarks use an account of ``subscriptions`` x ``databases`` identical Pro
databases; the spec names every one of them with the same fields, and one in
:data:`DRIFT_EVERY` asks for a bigger dataset (an update), so the planner has real diffs to
compute. The spec manages no password: a managed password costs one extra GET per database
(list results never show it), which is a different workload.

The apply benchmark uses a small account whose spec plans exactly 20 actions of every kind.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

FIRST_SUBSCRIPTION_ID = 3_000_001
FIRST_DATABASE_ID = 60_000_000
DRIFT_EVERY = 10
ACCOUNT_ID = 1001
START_TIME = 1_800_000_000.0  # 2027-01-15: a plausible wall-clock epoch for the simulator


def subscription_id(index: int) -> int:
    """Return the id of subscription ``index`` (0-based) of a generated account."""
    return FIRST_SUBSCRIPTION_ID + index


def database_id(sub_index: int, db_index: int) -> int:
    """Return the id of database ``db_index`` of subscription ``sub_index``."""
    return FIRST_DATABASE_ID + sub_index * 10_000 + db_index


def _seed_database(sub_index: int, db_index: int) -> dict[str, Any]:
    return {
        "databaseId": database_id(sub_index, db_index),
        "name": f"db-{db_index:05d}",
        "redisVersion": "7.4",
        "datasetSizeInGb": 1,
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "dataPersistence": "aof-every-1-second",
        "sourceIp": ["10.0.0.0/16"],
        "alerts": [{"name": "dataset-size", "value": 80}],
    }


def seed_document(subscriptions: int, databases: int) -> dict[str, Any]:
    """Return a simulator seed document of ``subscriptions`` x ``databases`` databases."""
    return {
        "account": {
            "id": ACCOUNT_ID,
            "subscriptions": [
                {
                    "id": subscription_id(s),
                    "name": f"bench-{s:02d}",
                    "provider": "AWS",
                    "region": "us-east-1",
                    "databases": [_seed_database(s, d) for d in range(databases)],
                }
                for s in range(subscriptions)
            ],
        }
    }


_SPEC_DATABASE = """\
      - name: db-{index:05d}
        datasetSizeInGb: {size}
        throughputMeasurement: {{by: operations-per-second, value: 25000}}
        sourceIp: [10.0.0.0/16]
        alerts: [{{name: dataset-size, value: 80}}]
"""


def spec_text(subscriptions: int, databases: int, drift_every: int = DRIFT_EVERY) -> str:
    """Return a spec naming every database of the generated account (1 in ``drift_every``
    drifted: it asks for a bigger dataset)."""
    lines = ["version: 1", "subscriptions:"]
    for s in range(subscriptions):
        lines.append(f"  - id: {subscription_id(s)}")
        lines.append(
            "    defaults: {redisVersion: '7.4', replication: true, "
            "dataEvictionPolicy: volatile-lru, dataPersistence: aof-every-1-second}"
        )
        lines.append("    databases:")
        for d in range(databases):
            size = 2 if d % drift_every == 0 else 1
            lines.append(_SPEC_DATABASE.format(index=d, size=size).rstrip("\n"))
    return "\n".join(lines) + "\n"


def write_spec(folder: Path, subscriptions: int, databases: int) -> Path:
    """Write :func:`spec_text` to ``folder/spec.yaml`` and return its path."""
    path = folder / "spec.yaml"
    path.write_text(spec_text(subscriptions, databases), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- apply workload

APPLY_SUBSCRIPTION_ID = 4_000_001
APPLY_FIRST_DATABASE_ID = 70_000_000
APPLY_ENV = {"BENCH_DB_PASSWORD": "bench-password-0000000000000001"}

# name → seed fields beyond the shared ones
_APPLY_LIVE: dict[str, dict[str, Any]] = {
    **{f"resize-{i:02d}": {} for i in range(1, 10)},  # spec: datasetSizeInGb 2 → 9 updates
    **{f"upgrade-{i:02d}": {"redisVersion": "7.2"} for i in range(1, 4)},  # → 3 upgrades
    **{f"retire-{i:02d}": {} for i in range(1, 3)},  # state: absent → 2 backups + 2 deletes
}


def apply_seed_document() -> dict[str, Any]:
    """Return the seed of the apply benchmark: one subscription, 14 databases."""
    databases = []
    for offset, (name, extra) in enumerate(_APPLY_LIVE.items()):
        databases.append(
            {
                "databaseId": APPLY_FIRST_DATABASE_ID + offset,
                "name": name,
                "redisVersion": "7.4",
                "datasetSizeInGb": 1,
                "replication": True,
                "dataPersistence": "aof-every-1-second",
                **extra,
            }
        )
    subscription = {
        "id": APPLY_SUBSCRIPTION_ID,
        "name": "apply-bench",
        "provider": "AWS",
        "region": "us-east-1",
        "databases": databases,
    }
    return {"account": {"id": ACCOUNT_ID, "subscriptions": [subscription]}}


def apply_spec_text() -> str:
    """Return the spec that plans 20 actions against :func:`apply_seed_document`.

    9 updates, 3 upgrades, 2 x (backup + delete), a create, and a create followed by its
    follow-up update and an import.
    """
    lines = [
        "version: 1",
        "subscriptions:",
        f"  - id: {APPLY_SUBSCRIPTION_ID}",
        "    defaults: {redisVersion: '7.4', replication: true, "
        "dataPersistence: aof-every-1-second}",
        "    databases:",
    ]
    for name in _APPLY_LIVE:
        if name.startswith("resize-"):
            lines.append(f"      - {{name: {name}, datasetSizeInGb: 2}}")
        elif name.startswith("upgrade-"):
            lines.append(f"      - {{name: {name}, datasetSizeInGb: 1}}")
        else:
            lines.append(
                f"      - {{name: {name}, state: absent, "
                "lifecycle: {backupPath: 's3://backups/adhoc'}}"
            )
    lines.append("      - {name: new-01, datasetSizeInGb: 1}")
    lines.append(
        "      - {name: new-02, datasetSizeInGb: 1, password: '${BENCH_DB_PASSWORD}', "
        "enableDefaultUser: true, "
        "import: {sourceType: aws-s3, importFromUri: ['s3://seed/new-02.rdb']}}"
    )
    return "\n".join(lines) + "\n"


class VirtualClock:
    """A clock whose ``sleep`` moves time forward at once: hours of waiting in no time.

    Shared by the simulator (``SimulatorConfig(clock=...)``) and the client side (clock,
    sleep and wall clock), so both see one consistent timeline. Thread-safe.
    """

    def __init__(self, start: float = START_TIME) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps = 0

    def __call__(self) -> float:
        """Return the current virtual time (seconds)."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance the virtual time by ``seconds`` (negative values count as zero)."""
        with self._lock:
            self._now += max(0.0, seconds)
            self.sleeps += 1
