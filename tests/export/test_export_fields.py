"""Live database → spec fields (reconciler/export/fields.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from export_support import body_lines, db_entry, exported

from reconciler.export.fields import storage_type


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("s3://bucket/path", "aws-s3"),
        ("S3://bucket/path", "aws-s3"),
        ("gs://bucket/path", "google-blob-storage"),
        ("ftp://host/path", "ftp"),
        ("ftps://host/path", "ftp"),
        ("abs://container/path", "azure-blob-storage"),
        ("https://acct.blob.core.windows.net/container/path", "azure-blob-storage"),
        ("https://example.com/backups", None),
        ("/local/path", None),
        (None, None),
    ],
)
def test_storage_type_from_the_path(path: str | None, kind: str | None) -> None:
    assert storage_type(path) == kind


def test_memory_limit_is_written_only_without_a_dataset_size() -> None:
    text = exported(
        db_entry(11, "old", redisVersion="6.2", memoryLimitInGb=4.0, protocol="memcached")
    )
    assert body_lines(text) == [
        "      - name: old",
        "        databaseId: 11",
        "        protocol: memcached",
        "        memoryLimitInGb: 4",
        '        redisVersion: "6.2"',
    ]


@pytest.mark.parametrize(
    ("backup", "why", "shown"),
    [
        (
            {
                "enableRemoteBackup": True,
                "interval": "every-6-hours",
                "destination": "https://example.com/b",
            },
            "its storage type cannot be told from its path",
            "{active: true, interval: every-6-hours, storageType: '?', storagePath: 'https://example.com/b'}",
        ),
        (
            {"enableRemoteBackup": True, "destination": "s3://b/p"},
            "it has no interval",
            "{active: true, interval: null, storageType: aws-s3, storagePath: 's3://b/p'}",
        ),
        (
            {
                "enableRemoteBackup": True,
                "interval": "every-24-hours",
                "destination": "abs://:key@acct/c",
            },
            "its path carries credentials",
            "{active: true, interval: every-24-hours, storageType: azure-blob-storage, "
            "storagePath: 'abs://(sensitive)@acct/c'}",
        ),
    ],
)
def test_backup_that_cannot_be_written_is_a_comment(
    backup: dict[str, Any], why: str, shown: str
) -> None:
    text = exported(db_entry(11, "b", redisVersion="7.4", datasetSizeInGb=1, backup=backup))
    assert f"        # remoteBackup: {shown}  # not managed: {why}" in body_lines(text)
    assert "key@" not in text


def test_a_live_value_the_schema_refuses_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler.export"):
        exported(
            db_entry(11, "odd", redisVersion="7.4", datasetSizeInGb=1, dataPersistence="weekly")
        )
    [message] = caplog.messages  # the tail is the spec validator's wording
    assert message.startswith(
        "the export does not validate: (export):21:26: "
        "subscriptions[0].databases[0].dataPersistence: 'weekly' "
    )
