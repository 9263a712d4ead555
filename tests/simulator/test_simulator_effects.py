"""What tasks do when processed (reconciler/simulator/effects.py), over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator
from reconciler.simulator.api import ApiRequest

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
LEGACY = f"{PROD}/databases/51170942"
QUEUE = f"{PROD}/databases/51170944"
TASK = 1.0
PROVISION = 4.0


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=TASK, provision_seconds=PROVISION))


def finished(api: SimApi, clock: FakeClock, answer: Any) -> dict[str, Any]:
    """Let the write's task finish processing; return the task."""
    assert answer.status_code in (200, 202), answer.text
    clock.advance(TASK)
    task: dict[str, Any] = api.get(f"/tasks/{answer.json()['taskId']}").json()
    return task


def test_backup_without_location_fails_the_task(api: SimApi, fake_clock: FakeClock) -> None:
    task = finished(api, fake_clock, api.post(f"{LEGACY}/backup"))
    assert task["status"] == "processing-error"
    assert task["description"] == (
        "Task request failed during processing. See error information for failure details."
    )
    assert task["response"] == {
        "error": {
            "type": "DATABASE_BACKUP_NOT_CONFIGURED",
            "status": "400 BAD_REQUEST",
            "description": "The database has no backup location: configure remoteBackup "
            "or give adhocBackupPath",
        }
    }


@pytest.mark.parametrize(
    ("path", "body"), [(LEGACY, {"adhocBackupPath": "s3://backups/adhoc"}), (SESSIONS, None)]
)
def test_backup_with_a_location_completes(
    api: SimApi, fake_clock: FakeClock, path: str, body: Any
) -> None:
    task = finished(api, fake_clock, api.post(f"{path}/backup", body))
    assert task["status"] == "processing-completed"
    assert task["commandType"] == "databaseBackupRequest"
    assert api.get(path).json()["status"] == "active"  # a backup does not make it pending


def test_backup_with_remote_backup_switched_off_fails(api: SimApi, fake_clock: FakeClock) -> None:
    finished(api, fake_clock, api.put(SESSIONS, {"remoteBackup": {"active": False}}))
    fake_clock.advance(PROVISION)
    task = finished(api, fake_clock, api.post(f"{SESSIONS}/backup"))
    assert task["response"]["error"] == {
        "type": "DATABASE_BACKUP_DISABLED",
        "status": "400 BAD_REQUEST",
        "description": "Database backup is disabled",
    }


def test_backup_status_is_a_task(api: SimApi, fake_clock: FakeClock) -> None:
    finished(api, fake_clock, api.post(f"{SESSIONS}/backup"))
    task = finished(api, fake_clock, api.get(f"{SESSIONS}/backup"))
    assert task["commandType"] == "databaseBackupStatusRequest"
    resource = task["response"]["resource"]
    assert (resource["status"], resource["failureReason"]) == ("success", None)
    assert resource["lastBackupTime"].endswith("Z")


@pytest.mark.parametrize(
    ("source_type", "uris", "error_type", "description"),
    [
        (
            "aws-s3",
            ["https://bucket/key.rdb"],
            "DATABASE_IMPORT_S3_BAD_URI",
            "importFromUri[0] is not a valid aws-s3 URI",
        ),
        (
            "aws-s3",
            ["s3://bucket-only"],
            "DATABASE_IMPORT_S3_BAD_URI",
            "importFromUri[0] is not a valid aws-s3 URI",
        ),
        (
            "http",
            ["s3://b/k", "ftp://h/k"],
            "DATABASE_IMPORT_HTTP_BAD_URI",
            "importFromUri[0] is not a valid http URI",
        ),
        (
            "ftp",
            ["http://h/k"],
            "DATABASE_IMPORT_FTP_BAD_URI",
            "importFromUri[0] is not a valid ftp URI",
        ),
        (
            "google-blob-storage",
            ["gs://"],
            "DATABASE_IMPORT_GCS_BAD_URI",
            "importFromUri[0] is not a valid google-blob-storage URI",
        ),
        (
            "azure-blob-storage",
            ["s3://b/k"],
            "DATABASE_IMPORT_AZURE_BAD_URI",
            "importFromUri[0] is not a valid azure-blob-storage URI",
        ),
        (
            "redis",
            ["http://h:6379"],
            "DATABASE_IMPORT_REDIS_BAD_URI",
            "importFromUri[0] is not a valid redis URI",
        ),
        (
            "redis",
            ["redis://a:1", "redis://b:2"],
            "DATABASE_IMPORT_MULTIPLE_REDIS_SOURCES",
            "Only one Redis source is allowed",
        ),
        ("aws-s3", [], "DATABASE_IMPORT_URI_NOT_PROVIDED", "importFromUri is empty"),
    ],
)
def test_import_with_a_malformed_uri_fails_the_task(
    api: SimApi,
    fake_clock: FakeClock,
    source_type: str,
    uris: list[str],
    error_type: str,
    description: str,
) -> None:
    task = finished(
        api,
        fake_clock,
        api.post(f"{SESSIONS}/import", {"sourceType": source_type, "importFromUri": uris}),
    )
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": description,
    }


def test_import_error_never_echoes_the_uri(api: SimApi, fake_clock: FakeClock) -> None:
    body = {"sourceType": "redis", "importFromUri": ["redis://user:hunter2@"]}
    task = finished(api, fake_clock, api.post(f"{SESSIONS}/import", body))
    assert "hunter2" not in str(task)


@pytest.mark.parametrize(
    ("source_type", "uri"),
    [
        ("aws-s3", "s3://seed/reports.rdb"),
        ("http", "https://example.com/dump.rdb"),
        ("redis", "redis://user:pass@10.0.0.1:6379"),
        ("google-blob-storage", "gs://bucket/dump.rdb"),
        ("azure-blob-storage", "abs://:key@account/container/dump.rdb"),
        ("ftp", "ftp://user:pass@host/dump.rdb"),
    ],
)
def test_import_completes(api: SimApi, fake_clock: FakeClock, source_type: str, uri: str) -> None:
    task = finished(
        api,
        fake_clock,
        api.post(f"{SESSIONS}/import", {"sourceType": source_type, "importFromUri": [uri]}),
    )
    assert task["status"] == "processing-completed"
    assert task["response"] == {"resourceId": 51170941}


def test_import_status_moves_from_importing_to_completed(
    api: SimApi, fake_clock: FakeClock
) -> None:
    finished(
        api,
        fake_clock,
        api.post(f"{SESSIONS}/import", {"sourceType": "aws-s3", "importFromUri": ["s3://a/b"]}),
    )
    early = finished(api, fake_clock, api.get(f"{SESSIONS}/import"))
    fake_clock.advance(PROVISION)
    late = finished(api, fake_clock, api.get(f"{SESSIONS}/import"))
    assert early["commandType"] == "databaseImportStatusRequest"
    assert (early["response"]["resource"]["status"], late["response"]["resource"]["status"]) == (
        "importing",
        "completed",
    )


def test_upgrade_changes_the_version_and_reports_progress(
    api: SimApi, fake_clock: FakeClock
) -> None:
    assert api.get(f"{QUEUE}/upgrade").json() == {
        "databaseId": 51170944,
        "targetRedisVersion": "7.2",
        "progress": 100.0,
        "upgradeStatus": "done",
    }
    answer = api.post(f"{QUEUE}/upgrade", {"targetRedisVersion": "7.4"})
    assert answer.json()["commandType"] == "databaseUpgradeRequest"
    assert api.get(f"{QUEUE}/upgrade").json()["upgradeStatus"] == "in-progress"
    assert api.post(f"{QUEUE}/upgrade", {"targetRedisVersion": "8.2"}).json()["error"]["type"] == (
        "DATABASE_UPGRADE_IS_ALREADY_RUNNING"
    )
    finished(api, fake_clock, answer)
    body = api.get(QUEUE).json()
    assert (body["redisVersion"], body["status"]) == ("7.4", "active-change-pending")
    fake_clock.advance(PROVISION / 2)
    assert api.get(f"{QUEUE}/upgrade").json()["progress"] == 50.0
    fake_clock.advance(PROVISION / 2)
    assert api.get(f"{QUEUE}/upgrade").json() == {
        "databaseId": 51170944,
        "targetRedisVersion": "7.4",
        "progress": 100.0,
        "upgradeStatus": "done",
    }
    assert api.get(QUEUE).json()["status"] == "active"


def test_delete_then_create_with_the_same_name(api: SimApi, fake_clock: FakeClock) -> None:
    finished(api, fake_clock, api.delete(LEGACY))
    assert (
        api.post(f"{PROD}/databases", {"name": "legacy-cache"}).status_code == 409
    )  # still deleting
    fake_clock.advance(PROVISION)
    assert api.get(LEGACY).status_code == 404
    assert api.post(f"{PROD}/databases", {"name": "legacy-cache"}).status_code == 202


def queue_update(api: SimApi, clock: FakeClock, database_id: int, changes: Any) -> str:
    """Queue an update task directly, as one queued before (e.g. in a state file) would be.

    Over HTTP a second write is refused with 409 while the first one's task is unfinished.
    """
    simulator = api.running.simulator
    with simulator.lock:
        request = ApiRequest(params={"subscriptionId": 2001234})
        payload = {"changes": changes, "dryRun": False}
        task: str = simulator.submit("update", request, database_id, payload, clock())["taskId"]
        return task


def test_password_after_a_queued_disable_fails_the_task(api: SimApi, fake_clock: FakeClock) -> None:
    disable = api.put(SESSIONS, {"enableDefaultUser": False})
    assert disable.status_code == 200
    password = queue_update(api, fake_clock, 51170941, {"password": "new-password-1"})
    fake_clock.advance(TASK * 2)  # the account processes one task at a time
    task = api.get(f"/tasks/{password}").json()
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": "NOT_ALLOWED_TO_UPDATE_A_DATABASE_PASSWORD_WHEN_DEFAULT_USER_IS_DISABLED",
        "status": "400 BAD_REQUEST",
        "description": "The password cannot be changed while the default user is disabled",
    }
    fake_clock.advance(PROVISION)
    security = api.get(SESSIONS).json()["security"]
    assert (security["enableDefaultUser"], security["password"]) == (
        False,
        "seed-sessions-password-0000000001",
    )


def test_password_with_enable_after_a_queued_disable_completes(
    api: SimApi, fake_clock: FakeClock
) -> None:
    api.put(SESSIONS, {"enableDefaultUser": False})
    changes = {"password": "new-password-1", "enableDefaultUser": True}
    both = queue_update(api, fake_clock, 51170941, changes)
    fake_clock.advance(TASK * 2)
    assert api.get(f"/tasks/{both}").json()["status"] == "processing-completed"
    fake_clock.advance(PROVISION)
    security = api.get(SESSIONS).json()["security"]
    assert (security["enableDefaultUser"], security["password"]) == (True, "new-password-1")
