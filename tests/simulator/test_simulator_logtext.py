"""Descriptions of system log entries (reconciler/simulator/logtext.py): no secrets, old → new."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.simulator.logtext import accepted_text, change_phrases, ended_text, tags_set_text

RECORD: dict[str, Any] = {
    "name": "sessions",
    "databaseId": 12,
    "redisVersion": "7.2",
    "datasetSizeInGb": 1.5,
    "memoryLimitInGb": None,
    "replication": True,
    "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
    "dataEvictionPolicy": "volatile-lru",
    "password": "old-s3cret",
    "sourceIp": ["10.0.0.0/16"],
    "remoteBackup": {"active": True, "storagePath": "s3://key:s3cret@b/x"},
    "periodicBackupPath": "s3://b/p",
    "respVersion": "resp3",
}


@pytest.mark.parametrize(
    ("changes", "phrases"),
    [
        ({"datasetSizeInGb": 2}, ["dataset size changed from 1.5GB to 2GB"]),
        ({"memoryLimitInGb": 4}, ["memory limit changed from 3GB to 4GB"]),
        ({"replication": False}, ["replication changed from true to false"]),
        (
            {"throughputMeasurement": {"by": "operations-per-second", "value": 50000}},
            ["throughput changed from 25000 operations-per-second to 50000 operations-per-second"],
        ),
        ({"password": "new-s3cret"}, ["password changed"]),
        ({"sourceIp": ["10.1.0.0/16"]}, ["source IPs changed"]),
        ({"remoteBackup": {"storagePath": "s3://k:s3cret@b/y"}}, ["remote backup changed"]),
        ({"periodicBackupPath": "s3://b/q"}, ["periodicBackupPath changed"]),
        ({"replicaOf": ["redis://:s3cret@host:6379"]}, ["replicaOf changed"]),
        ({"respVersion": "resp2"}, ["RESP version changed from resp3 to resp2"]),
        ({"dataEvictionPolicy": "x" * 65}, ["eviction policy changed"]),
        ({"name": "sessions-2"}, ["renamed to 'sessions-2'"]),
        ({"datasetSizeInGb": 1.5, "replication": True, "dryRun": False}, []),
    ],
    ids=[
        "size",
        "memory-from-dataset-and-replication",
        "bool",
        "throughput",
        "password",
        "list",
        "nested",
        "path",
        "uri-list",
        "short-string",
        "long-string",
        "rename",
        "unchanged",
    ],
)
def test_change_phrases(changes: dict[str, Any], phrases: list[str]) -> None:
    assert change_phrases(RECORD, changes) == phrases
    assert not any("s3cret" in phrase for phrase in phrases)


def test_an_update_without_real_changes_is_a_request() -> None:
    text = accepted_text("update", RECORD, {"changes": {"replication": True}})
    assert text == "Database 'sessions' (id 12) update requested"


def test_failed_task_without_an_error_object_has_no_type() -> None:
    assert (
        ended_text("delete", "sessions", 12, {}, {"error": "GENERAL_ERROR"})
        == "Database 'sessions' (id 12) deletion failed"
    )


def test_tags_set_lists_ten_then_counts() -> None:
    tags = [{"key": f"k{i}", "value": "v"} for i in range(12)]
    assert tags_set_text("sessions", 12, tags) == (
        "Tags of database 'sessions' (id 12) set to "
        + ", ".join(f"k{i}=v" for i in range(10))
        + " and 2 more"
    )
