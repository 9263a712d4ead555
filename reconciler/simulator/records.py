"""Stored database records: built from create requests, changed by update requests.

A record keeps the database's configuration in request shape (``sourceIp``,
``remoteBackup``, ``regexRules`` …) with every server default filled in at creation, plus
the simulator's bookkeeping (``status``, ``pendingStatus``/``pendingUntil`` as wall-clock
seconds, ``activatedOn``, ``lastModified``). :mod:`reconciler.simulator.views` renders the
API's read shape from it.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.simulator import catalog

Record = dict[str, Any]

PORT_RANGE = (10000, 19999)
_ALPHANUMERIC = string.ascii_letters + string.digits
# Fields a create request leaves unset that the record keeps as None/empty.
_EMPTY_FIELDS: Mapping[str, Any] = {
    "memoryLimitInGb": None,
    "replicaOf": None,
    "replica": None,
    "sourceIp": [],
    "clientSslCertificate": None,
    "clientTlsCertificates": [],
    "password": None,
    "saslUsername": None,
    "saslPassword": None,
    "alerts": [],
    "modules": [],
    "regexRules": None,
    "periodicBackupPath": None,
    "remoteBackup": None,
    "queryPerformanceFactor": None,
    "averageItemSizeInBytes": None,
    "localThroughputMeasurement": None,
}


def random_text(length: int, rng: random.Random | None = None) -> str:
    """Return ``length`` random letters and digits (from ``rng``, else a secure source)."""
    if rng is None:
        return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))
    return "".join(rng.choice(_ALPHANUMERIC) for _ in range(length))


def pick_port(db_id: int, taken: Iterable[int]) -> int:
    """Return a free port for database ``db_id`` (stable for a given id and taken set)."""
    used = set(taken)
    rng = random.Random(db_id)
    for _ in range(1000):
        port = rng.randint(*PORT_RANGE)
        if port not in used:
            return port
    return next(port for port in range(PORT_RANGE[0], PORT_RANGE[1] + 1) if port not in used)


def build_record(
    fields: Mapping[str, Any],
    *,
    db_id: int,
    subscription_id: int,
    port: int,
    now: float,
    rng: random.Random | None = None,
) -> Record:
    """Return the stored record of a new database created from request ``fields``.

    Server defaults fill what was not sent; a redis database without a password gets a
    generated 32-character one, a memcached database a ``mc-xxxxx`` SASL user and password.
    ``rng`` makes the generated secrets reproducible (seeding); None uses a secure source.
    """
    record: Record = {**catalog.CREATE_DEFAULTS, **_EMPTY_FIELDS}
    record.update({key: value for key, value in fields.items() if key != "dryRun"})
    if "memoryLimitInGb" in fields and "datasetSizeInGb" not in fields:
        record["datasetSizeInGb"] = None
    record.setdefault("respVersion", catalog.default_resp_version(record["redisVersion"]))
    record.update(databaseId=db_id, subscriptionId=subscription_id, port=port)
    if record["protocol"] == "redis":
        record["password"] = record["password"] or random_text(32, rng)
    else:
        record["saslUsername"] = record["saslUsername"] or "mc-" + random_text(5, rng)
        record["saslPassword"] = record["saslPassword"] or random_text(32, rng)
    record.setdefault("status", "active")
    record.update(
        pendingStatus=None,
        pendingUntil=None,
        activatedOn=now,
        lastModified=now,
        lastBackup=None,
        lastImport=None,
        lastUpgrade=None,
    )
    return record


def merge_update(record: Mapping[str, Any], changes: Mapping[str, Any]) -> Record:
    """Return ``record`` with the update request ``changes`` applied (partial update).

    ``remoteBackup`` merges key by key; ``periodicBackupPath: ""`` removes the path; a size
    given one way clears the other; lists replace lists.
    """
    merged: Record = dict(record)
    for key, value in changes.items():
        if key == "dryRun":
            continue
        if key == "remoteBackup":
            merged[key] = {**(record.get("remoteBackup") or {}), **value}
        elif key == "periodicBackupPath":
            merged[key] = value or None
        else:
            merged[key] = value
    if "datasetSizeInGb" in changes:
        merged["memoryLimitInGb"] = None
    elif "memoryLimitInGb" in changes:
        merged["datasetSizeInGb"] = None
    return merged


def dataset_size(record: Mapping[str, Any]) -> float:
    """Return the record's dataset size in GB (derived from memoryLimitInGb when needed)."""
    if record.get("datasetSizeInGb") is not None:
        return float(record["datasetSizeInGb"])
    memory = float(record.get("memoryLimitInGb") or 1.0)
    return memory / 2 if record.get("replication") else memory


def memory_limit(record: Mapping[str, Any]) -> float:
    """Return total memory in GB: twice the dataset with replication.

    The OpenAPI description of ``datasetSizeInGb`` says so; a database created with only
    ``memoryLimitInGb`` keeps that value.
    """
    if record.get("memoryLimitInGb") is not None:
        return float(record["memoryLimitInGb"])
    size = dataset_size(record)
    return size * 2 if record.get("replication") else size
