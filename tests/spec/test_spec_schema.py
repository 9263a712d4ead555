"""Tests for reconciler.spec.schema and reconciler/schemas/reconciler.schema.json itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.compare import SECRET_FIELDS
from reconciler.spec import load_schema
from reconciler.spec.schema import StrictValidator, _inlined_schema, _validator, validate
from reconciler.spec.yamlload import read_document

SPECS = Path(__file__).resolve().parents[1] / "specs"
OPENAPI = Path(__file__).resolve().parents[1] / "openapi/redis-cloud-openapi.trimmed.json"
OWN = {"name", "databaseId", "state", "lifecycle", "import", "tags"}

# The request fields the spec manages (of Pro single-region databases); the field catalogue
# (reconciler.compare.fields) must hold a row for each (tests/compare/test_fields.py).
REQUEST_FIELDS = {
    "protocol", "port", "datasetSizeInGb", "memoryLimitInGb", "redisVersion", "respVersion",
    "supportOSSClusterApi", "useExternalEndpointForOSSClusterApi", "dataPersistence",
    "dataEvictionPolicy", "replication", "throughputMeasurement", "replica", "replicaOf",
    "remoteBackup", "sourceIp", "clientTlsCertificates", "enableTls", "enableDefaultUser",
    "password", "saslUsername", "saslPassword", "alerts", "modules", "shardingType",
    "regexRules", "queryPerformanceFactor", "autoMinorVersionUpgrade", "clientSslCertificate",
    "periodicBackupPath", "averageItemSizeInBytes",
}  # fmt: skip


def defs() -> dict[str, Any]:
    result: dict[str, Any] = load_schema()["$defs"]
    return result


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return defs()[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else node


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every mapping of the schema with a readable location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def openapi_schemas() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(OPENAPI.read_text())["components"]["schemas"]
    return result


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def object_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the schemas that define objects (not ``if``/``then`` parts, not property maps)."""
    for where, node in walk(load_schema()):
        parts = where.split("/")
        conditional = "if" in parts or "then" in parts
        if "properties" in node and parts[-1] != "properties" and not conditional:
            yield where, node


def test_every_property_has_a_description() -> None:
    missing = [
        f"{where}/{name}"
        for where, node in object_schemas()
        for name, prop in node["properties"].items()
        if not resolve(prop).get("description")
    ]
    assert missing == []


def test_every_object_refuses_unknown_fields() -> None:
    open_objects = [w for w, n in object_schemas() if n.get("additionalProperties") is not False]
    assert open_objects == []


def test_object_schemas_are_found() -> None:
    assert len(list(object_schemas())) == 13


def test_database_fields_are_exactly_the_request_fields_and_ours() -> None:
    assert set(defs()["Database"]["properties"]) == REQUEST_FIELDS | OWN


def test_defaults_accept_database_fields_except_name_state_import() -> None:
    database = defs()["Database"]["properties"]
    defaults = defs()["Defaults"]["properties"]
    own = {"name", "databaseId", "state", "import"}
    assert defaults == {k: v for k, v in database.items() if k not in own}


def test_ignore_changes_names_the_request_fields() -> None:
    items = defs()["Lifecycle"]["properties"]["ignoreChanges"]["items"]
    assert set(items["enum"]) == REQUEST_FIELDS


def test_references_are_local_and_not_recursive() -> None:
    def refs(node: Any) -> set[str]:
        return {n["$ref"].rsplit("/", 1)[1] for _, n in walk(node) if "$ref" in n}

    for name, definition in defs().items():
        seen: set[str] = set()
        todo = refs(definition)
        while todo:
            current = todo.pop()
            assert current != name, f"{name} refers to itself"
            if current not in seen:
                seen.add(current)
                todo |= refs(defs()[current])
    assert all(n["$ref"].startswith("#/$defs/") for _, n in walk(load_schema()) if "$ref" in n)


def test_validator_is_compiled_once() -> None:
    assert _validator() is _validator()


@pytest.mark.parametrize(
    "spec",
    sorted(p.name for p in SPECS.glob("*.yaml")),
)
def test_inlined_schema_judges_like_the_schema_file(spec: str) -> None:
    text = (SPECS / spec).read_bytes().decode("utf-8", "replace")
    try:
        doc = read_document(text, spec, {})
    except Exception:  # unreadable on purpose (bad-yaml-syntax, bombs …)
        return
    plain = StrictValidator(load_schema())
    inlined = StrictValidator(_inlined_schema())

    def errors(validator: Any) -> list[tuple[str, str]]:
        found = validator.iter_errors(doc.data)
        return sorted((e.json_path, e.message) for e in found)

    assert errors(plain) == errors(inlined)


@pytest.mark.parametrize(
    ("field", "openapi_path"),
    [
        ("protocol", ("DatabaseCreateRequest", "protocol")),
        ("respVersion", ("DatabaseCreateRequest", "respVersion")),
        ("dataPersistence", ("DatabaseCreateRequest", "dataPersistence")),
        ("dataEvictionPolicy", ("DatabaseCreateRequest", "dataEvictionPolicy")),
        ("shardingType", ("DatabaseCreateRequest", "shardingType")),
        ("Alert.name", ("DatabaseAlertSpec", "name")),
        ("Throughput.by", ("DatabaseThroughputSpec", "by")),
        ("Import.sourceType", ("DatabaseImportRequest", "sourceType")),
    ],
)
def test_enums_match_the_openapi_description(field: str, openapi_path: tuple[str, str]) -> None:
    schemas = openapi_schemas()
    owner, _, name = field.rpartition(".")
    ours = defs()[owner]["properties"][name] if owner else defs()[name]
    theirs = schemas[openapi_path[0]]["properties"][openapi_path[1]]
    assert ours["enum"] == theirs["enum"]


def test_remote_backup_enums_match_the_openapi_description() -> None:
    backup = openapi_schemas()["DatabaseBackupConfig"]["properties"]
    ours = defs()["RemoteBackup"]["properties"]
    intervals = [v.lower().replace("_", "-") for v in backup["backupInterval"]["enum"]]
    assert ours["interval"]["enum"] == intervals
    # Storage types accepted on input are the documented ones, a subset of the output enum.
    assert set(ours["storageType"]["enum"]) <= set(backup["backupStorageType"]["enum"])
    assert set(ours) == {k for k, v in backup.items() if not v.get("readOnly")}


def test_request_fields_exist_in_the_openapi_requests() -> None:
    schemas = openapi_schemas()
    create = set(schemas["DatabaseCreateRequest"]["properties"])
    update = set(schemas["DatabaseUpdateRequest"]["properties"])
    # autoMinorVersionUpgrade is sent by the Go SDK and Terraform, not in the OpenAPI file.
    assert REQUEST_FIELDS - (create | update) == {"autoMinorVersionUpgrade"}


@pytest.mark.parametrize(
    ("field", "openapi"),
    [
        ("Throughput", "DatabaseThroughputSpec"),
        ("Alert", "DatabaseAlertSpec"),
        ("Module", "DatabaseModuleSpec"),
        ("Replica", "ReplicaOfSpec"),
        ("SyncSource", "DatabaseSyncSourceSpec"),
        ("ClientCertificate", "DatabaseCertificateSpec"),
        ("Import", "DatabaseImportRequest"),
    ],
)
def test_nested_objects_match_the_openapi_description(field: str, openapi: str) -> None:
    theirs = openapi_schemas()[openapi]
    writable = {k for k, v in theirs["properties"].items() if not v.get("readOnly")}
    assert set(defs()[field]["properties"]) == writable
    assert set(defs()[field].get("required", [])) == set(theirs.get("required", []))


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("a", True),
        ("sessions", True),
        ("Redis-database-example", True),
        ("a1", True),
        ("a" * 40, True),
        ("a" * 41, False),
        ("1a", False),
        ("-a", False),
        ("a-", False),
        ("a_b", False),
        ("a b", False),
        ("", False),
        ("é", False),
    ],
)
def test_database_name_rule(name: str, valid: bool) -> None:
    doc = read_document(
        f"version: 1\nsubscriptions: [{{id: 1, databases: [{{name: {json.dumps(name)}}}]}}]\n",
        "f.yaml",
        {},
    )
    assert (validate(doc, "f.yaml") == []) is valid


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12000.0", "expected an integer, got 12000.0"),
        ("true", "expected an integer, got true"),
        ("'12000'", "expected an integer, got '12000'"),
    ],
)
def test_integers_must_be_written_as_integers(value: str, message: str) -> None:
    text = f"version: 1\nsubscriptions: [{{id: 1, databases: [{{name: a, port: {value}}}]}}]\n"
    doc = read_document(text, "f.yaml", {})
    assert [p.message for p in validate(doc, "f.yaml")] == [message]


@pytest.mark.parametrize("field", sorted(SECRET_FIELDS))
def test_a_secret_field_value_never_shows_in_a_message(field: str) -> None:
    database = f"{{name: a, {field}: 98765.4321}}"
    text = f"version: 1\nsubscriptions: [{{id: 1, databases: [{database}]}}]\n"
    doc = read_document(text, "f.yaml", {})
    assert [p.message for p in validate(doc, "f.yaml")] == [
        "expected a string, got a number; write it in quotes"
    ]


# ------------------------------------------------------------------ the API's bounds and values


def field_messages(database: str) -> list[str]:
    text = f"version: 1\nsubscriptions: [{{id: 1, databases: [{{name: a, {database}}}]}}]\n"
    doc = read_document(text, "f.yaml", {})
    return [p.message for p in validate(doc, "f.yaml")]


QPF_MESSAGE = 'a query performance factor is "Standard" or an even factor from "2x" to "16x"'


@pytest.mark.parametrize(
    "factor", ["Standard", "standard", "2x", "4x", "6x", "8x", "10x", "12x", "14x", "16x"]
)
def test_query_performance_factors_the_api_accepts(factor: str) -> None:
    assert field_messages(f"redisVersion: '8.2', queryPerformanceFactor: {factor}") == []


@pytest.mark.parametrize(
    ("factor", "hint"),
    [("1x", ""), ("3x", ""), ("0x", ""), ("18x", ""), ("2X", ""), ("STANDARD", ""), ("'2'", ""),
     ("Standart", " (did you mean 'Standard'?)")],
)  # fmt: skip
def test_query_performance_factors_the_api_refuses(factor: str, hint: str) -> None:
    shown = factor.strip("'")
    assert field_messages(f"redisVersion: '8.2', queryPerformanceFactor: {factor}") == [
        f"{shown!r}: {QPF_MESSAGE}{hint}"
    ]


@pytest.mark.parametrize(("version", "valid"), [
    ("'7.4'", True), ("'10.0'", True), ("'7.4.2'", False), ("'7'", False), ("'v7.4'", False),
    ("'7.4 '", False),
])  # fmt: skip
def test_redis_version_is_major_dot_minor(version: str, valid: bool) -> None:
    expected = [] if valid else [
        f"{version.strip(chr(39))!r}: a Redis version is written major.minor in quotes, e.g. "
        '"7.4" (not a patch version such as "7.4.2")'
    ]  # fmt: skip
    assert field_messages(f"redisVersion: {version}") == expected


@pytest.mark.parametrize(
    ("database", "message"),
    [
        ("datasetSizeInGb: 100000", None),
        ("datasetSizeInGb: 100000.01", "100000.01 is greater than the maximum of 100000"),
        ("memoryLimitInGb: 1" + "0" * 24, "100000000000... (25 digits) is greater than the "
         "maximum of 100000"),
        ("datasetSizeInGb: -" + "9" * 30, "-99999999999... (30 digits) is less than the "
         "minimum of 0.1"),
        ("port: 10000", None),
        ("port: 19999", None),
        ("port: 9999", "9999 is less than the minimum of 10000"),
        ("throughputMeasurement: {by: number-of-shards, value: 9223372036854775807}", None),
        ("throughputMeasurement: {by: number-of-shards, value: 9223372036854775808}",
         "9223372036854775808 is greater than the maximum of 9223372036854775807"),
        ("alerts: [{name: dataset-size, value: 100}]", None),
        ("alerts: [{name: datasets-size, value: 101}]",
         "this alert's value is a percentage: at most 100"),
        ("alerts: [{name: connections-limit, value: 101}]",
         "this alert's value is a percentage: at most 100"),
        ("alerts: [{name: latency, value: 2147483647}]", None),
        ("alerts: [{name: syncsource-lag, value: 2147483648}]",
         "2147483648 is greater than the maximum of 2147483647"),
        ("averageItemSizeInBytes: 9223372036854775807", None),
        ("averageItemSizeInBytes: 9223372036854775808",
         "9223372036854775808 is greater than the maximum of 9223372036854775807"),
        ("databaseId: 2147483647", None),
        ("databaseId: 2147483648", "2147483648 is greater than the maximum of 2147483647"),
    ],
)  # fmt: skip
def test_numbers_have_the_apis_bounds(database: str, message: str | None) -> None:
    assert field_messages(database) == ([] if message is None else [message])
