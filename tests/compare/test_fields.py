"""Tests for reconciler.compare.fields: the field catalogue against the spec schema and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from compare_support import API_DATABASE, SUBSCRIPTION

from reconciler.compare import (
    API_DEFAULTS,
    CATALOGUE,
    CREATE_FIELDS,
    CREATE_ONLY_FIELDS,
    EXCLUDED_FIELDS,
    FIELDS,
    NEVER_RETURNED_FIELDS,
    NOT_EXPORTED_FIELDS,
    SECRET_FIELDS,
    UPDATE_FIELDS,
    Field,
    live_to_request,
)
from reconciler.compare.fields import NOT_COMPARED_FIELDS, READ_AS_IS_FIELDS
from reconciler.compare.forms import secret
from reconciler.planning.creates import FOLLOW_UP_FIELDS
from reconciler.spec import load_schema

OPENAPI = Path(__file__).resolve().parents[1] / "openapi/redis-cloud-openapi.trimmed.json"
#: Keys of a spec database entry that are the reconciler's own, not request fields.
OWN_KEYS = {"name", "state", "lifecycle", "import", "tags"}
#: Fields the Go SDK and the Terraform provider send that the OpenAPI document lacks.
NOT_IN_OPENAPI = {"autoMinorVersionUpgrade", "ramPercentage"}


def spec_database_fields() -> set[str]:
    properties: dict[str, Any] = load_schema()["$defs"]["Database"]["properties"]
    return set(properties) - OWN_KEYS


def test_every_spec_database_field_has_a_row() -> None:
    assert spec_database_fields() - set(FIELDS) == set()


def test_every_spec_default_field_has_a_row() -> None:
    properties: dict[str, Any] = load_schema()["$defs"]["Defaults"]["properties"]
    assert set(properties) - {"lifecycle", "tags"} - set(FIELDS) == set()


def test_rows_are_unique_and_named_by_their_key() -> None:
    assert len(FIELDS) == len(CATALOGUE)
    assert all(FIELDS[row.name] is row for row in CATALOGUE)


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda row: row.name)
def test_row_columns_agree(row: Field) -> None:
    if row.excluded:
        assert not row.compared and row.read_back is None
    if row.create_only:
        assert row.creatable and not row.updatable
    if row.compared and row.name != "redisVersion":
        assert row.updatable or row.create_only, "a difference must be updated or refused"
    if row.secret:
        assert row.canonical is secret
    if not row.compared:
        assert row.excluded or row.name in {"name", "databaseId"}, "identity or excluded"


def test_field_lists_derived_from_the_catalogue() -> None:
    assert {"password", "saslPassword"} == SECRET_FIELDS
    assert {"saslPassword", "averageItemSizeInBytes"} == NEVER_RETURNED_FIELDS
    assert {"clientTlsCertificates", "clientSslCertificate", "periodicBackupPath"} == (
        NOT_EXPORTED_FIELDS
    )
    assert set(EXCLUDED_FIELDS) | {"name", "databaseId"} == NOT_COMPARED_FIELDS
    assert set(EXCLUDED_FIELDS) == {
        "dryRun", "commandType", "subscriptionId", "localThroughputMeasurement"
    }  # fmt: skip
    assert {
        "protocol", "port", "modules", "shardingType", "averageItemSizeInBytes"
    } == CREATE_ONLY_FIELDS  # fmt: skip
    assert {"enableDefaultUser", "regexRules", "ramPercentage"} == FOLLOW_UP_FIELDS
    assert set(READ_AS_IS_FIELDS) == {
        "name", "protocol", "datasetSizeInGb", "memoryLimitInGb", "redisVersion", "respVersion",
        "supportOSSClusterApi", "useExternalEndpointForOSSClusterApi", "dataPersistence",
        "dataEvictionPolicy", "replication", "queryPerformanceFactor", "autoMinorVersionUpgrade",
        "ramPercentage", "databaseId",
    }  # fmt: skip


def test_api_defaults() -> None:
    assert dict(API_DEFAULTS) == {
        "protocol": "redis",
        "supportOSSClusterApi": False,
        "useExternalEndpointForOSSClusterApi": False,
        "dataPersistence": "none",
        "dataEvictionPolicy": "volatile-lru",
        "replication": True,
        "enableTls": False,
        "enableDefaultUser": True,
        "alerts": [],
        "modules": [],
        "regexRules": [],
        "shardingType": "default-regex-rules",
        "queryPerformanceFactor": "standard",
        "autoMinorVersionUpgrade": True,
    }


def test_every_field_read_from_the_api_has_a_row() -> None:
    assert set(live_to_request(API_DATABASE, SUBSCRIPTION)) - set(FIELDS) == set()


def openapi_request_fields(schema: str) -> set[str]:
    schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
    properties: dict[str, Any] = schemas[schema]["properties"]
    return {name for name, p in properties.items() if not p.get("readOnly")}


def test_creatable_fields_are_the_create_request() -> None:
    assert openapi_request_fields("DatabaseCreateRequest") == CREATE_FIELDS - NOT_IN_OPENAPI


def test_updatable_fields_are_the_update_request() -> None:
    assert openapi_request_fields("DatabaseUpdateRequest") == UPDATE_FIELDS - NOT_IN_OPENAPI


def openapi_request_properties() -> list[str]:
    schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
    names = set(schemas["DatabaseCreateRequest"]["properties"])
    return sorted(names | set(schemas["DatabaseUpdateRequest"]["properties"]))


@pytest.mark.parametrize("name", openapi_request_properties())
def test_every_official_request_property_has_a_managed_or_excluded_row(name: str) -> None:
    row = FIELDS.get(name)
    assert row is not None, f"{name}: no catalogue row"
    if row.compared:
        assert row.read_back is None or row.read_back.strip(), name
    else:
        assert row.excluded or name in {"name", "databaseId"}, f"{name}: excluded without reason"


def test_excluded_fields_are_not_in_the_spec_schema() -> None:
    assert set(EXCLUDED_FIELDS) & spec_database_fields() == set()
