"""The exported spec document: modeline, placeholders (reconciler/export/document.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from export_support import db_entry, exported

from reconciler.export.document import password_variable, schema_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("subscription", "database", "variable"),
    [
        ("prod", "sessions", "PROD_SESSIONS_PASSWORD"),
        ("prod", "legacy-cache", "PROD_LEGACY_CACHE_PASSWORD"),
        ("Team B / private", "db-1", "TEAM_B_PRIVATE_DB_1_PASSWORD"),
        ("2024 eu", "x", "_2024_EU_X_PASSWORD"),
        ("---", "cache", "CACHE_PASSWORD"),
        ("prod", "9lives", "PROD_9LIVES_PASSWORD"),
    ],
)
def test_password_variable(subscription: str, database: str, variable: str) -> None:
    assert password_variable(subscription, database) == variable


def test_placeholder_names_stay_unique() -> None:
    text = exported(db_entry(11, "cache"), db_entry(12, "Cache"))
    assert "# password: ${A_B_CACHE_PASSWORD}" in text
    assert "# password: ${A_B_CACHE_11_PASSWORD}" in text


def test_a_database_in_transition_is_exported_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler.export"):
        exported({**db_entry(11, "busy", redisVersion="7.4"), "status": "active-change-pending"})
    assert caplog.messages == ["database busy (db 11) is active-change-pending; exported as read"]


def test_modeline_points_at_the_project_schema(tmp_path: Path) -> None:
    (tmp_path / "reconciler" / "schemas").mkdir(parents=True)
    (tmp_path / "reconciler" / "schemas" / "reconciler.schema.json").write_text(
        "{}", encoding="utf-8"
    )
    (tmp_path / "specs" / "prod").mkdir(parents=True)
    assert (
        schema_reference(tmp_path / "specs" / "prod")
        == "../../reconciler/schemas/reconciler.schema.json"
    )
    assert schema_reference(tmp_path) == "reconciler/schemas/reconciler.schema.json"


def test_modeline_of_an_export_inside_this_project() -> None:
    assert (
        schema_reference(ROOT / "examples" / "prod")
        == "../../reconciler/schemas/reconciler.schema.json"
    )


def test_modeline_finds_the_schema_written_beside_the_specs(tmp_path: Path) -> None:
    (tmp_path / "reconciler.schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / "specs" / "prod").mkdir(parents=True)
    assert schema_reference(tmp_path / "specs" / "prod") == "../../reconciler.schema.json"
    assert schema_reference(tmp_path) == "reconciler.schema.json"


def test_no_schema_above_is_none(tmp_path: Path) -> None:
    assert schema_reference(tmp_path) is None


def test_a_patch_version_is_exported_as_major_minor(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler.export"):
        text = exported(db_entry(11, "old", redisVersion="6.0.5", datasetSizeInGb=1))
    assert '        redisVersion: "6.0"' in text.splitlines()
    assert caplog.messages == []  # the export validates
