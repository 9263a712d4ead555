"""The simulator against the official OpenAPI description (tests/openapi/, trimmed copy).

- Read shapes carry every field of the spec's examples (``Database``,
  ``AccountSubscriptionDatabases``, ``Subscription``, ``AccountSubscriptions``) with the
  same JSON types.
- Task answers validate against ``TaskStateUpdate`` (OpenAPI 3.0 → JSON Schema, loosely, by
  ``openapi_schema.to_json_schema``: ``$ref`` resolved, ``nullable`` allowed, a Java
  ``Map<String, Object>`` such as ``links`` read as "any value"). One deliberate patch:
  ``ProcessorResponse.error`` is typed as a string enum in the spec, but the real API
  returns an object ``{type, status, description}`` (Go SDK task tests), so both are
  accepted.
- The spec's request examples are accepted; bodies with unknown fields or wrong types are not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from conftest import FakeClock, SimApi
from openapi_schema import load_openapi, schema_of, to_json_schema

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
QUEUE = f"{PROD}/databases/51170944"
DB_PATH = "/subscriptions/{subscriptionId}/databases/{databaseId}"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_openapi()


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0))


# ------------------------------------------------------------------------ read shapes


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def shape_problems(example: Any, actual: Any, where: str = "") -> list[str]:
    """Return where ``actual`` lacks a key of ``example`` or has another JSON type."""
    if json_kind(example) == "null":
        return []
    if json_kind(example) != json_kind(actual):
        return [f"{where or 'body'}: {json_kind(actual)} instead of {json_kind(example)}"]
    problems: list[str] = []
    if isinstance(example, dict):
        for key, value in example.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_problems(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list) and example and isinstance(example[0], dict):
        for index, item in enumerate(actual):
            problems += shape_problems(example[0], item, f"{where}[{index}]")
    return problems


def settled_database_with_replica(api: SimApi, clock: FakeClock) -> str:
    body = {
        "name": "conformance",
        "modules": [{"name": "RedisJSON"}],
        "replica": {
            "syncSources": [
                {"endpoint": "redis://10.0.0.1:6379", "encryption": True, "serverCert": "PEM"}
            ]
        },
    }
    answer = api.post(f"{PROD}/databases", body)
    clock.advance(3.0)
    task = api.get(f"/tasks/{answer.json()['taskId']}").json()
    return f"{PROD}/databases/{task['response']['resourceId']}"


def test_database_has_the_fields_of_the_example(
    spec: dict[str, Any], api: SimApi, fake_clock: FakeClock
) -> None:
    path = settled_database_with_replica(api, fake_clock)
    example = schema_of(spec, "Database")["example"]
    assert shape_problems(example, api.get(path).json()) == []
    assert shape_problems(example, api.get(SESSIONS).json()) == []


@pytest.mark.parametrize("subscription", [PROD, "/subscriptions/2005678"])
def test_database_list_has_the_fields_of_the_example(
    spec: dict[str, Any], api: SimApi, subscription: str
) -> None:
    example = schema_of(spec, "AccountSubscriptionDatabases")["example"]
    assert shape_problems(example, api.get(f"{subscription}/databases").json()) == []


def test_subscription_has_the_fields_of_the_example(spec: dict[str, Any], api: SimApi) -> None:
    assert shape_problems(schema_of(spec, "Subscription")["example"], api.get(PROD).json()) == []
    listed = api.get("/subscriptions").json()
    assert shape_problems(schema_of(spec, "AccountSubscriptions")["example"], listed) == []


# ------------------------------------------------------------------------ task schema


@pytest.fixture(scope="module")
def task_validator(spec: dict[str, Any]) -> jsonschema.Draft4Validator:
    schema = to_json_schema(schema_of(spec, "TaskStateUpdate"), spec)
    error = schema["properties"]["response"]["properties"]["error"]
    schema["properties"]["response"]["properties"]["error"] = {
        "anyOf": [
            error,
            {
                "type": "object",
                "required": ["type", "status", "description"],
                "properties": {
                    "type": {"enum": error["enum"]},
                    "status": {"type": "string"},
                    "description": {"type": "string"},
                },
            },
        ]
    }
    return jsonschema.Draft4Validator(schema)


def test_task_answers_validate(
    task_validator: jsonschema.Draft4Validator, api: SimApi, fake_clock: FakeClock
) -> None:
    answers = [
        api.put(SESSIONS, {"datasetSizeInGb": 2}).json(),
        api.post(f"{PROD}/databases/51170942/backup").json(),  # fails: no backup location
        api.post(f"{PROD}/databases", {"name": "reports"}).json(),
    ]
    seen = list(answers)
    for step in (0.2, 0.5, 1.0, 1.0, 1.0):
        fake_clock.advance(step)
        seen += [api.get(f"/tasks/{a['taskId']}").json() for a in answers]
        seen += api.get("/tasks").json()["tasks"]
    seen = [task for task in seen if "taskId" in task]
    statuses = {task["status"] for task in seen}
    assert statuses == {
        "received",
        "processing-in-progress",
        "processing-completed",
        "processing-error",
    }
    for task in seen:
        assert list(task_validator.iter_errors(task)) == [], task


# ------------------------------------------------------------------------ request bodies


def example_from_schema(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """Return a body built from the schema's property examples (read-only ones left out)."""
    if "$ref" in schema:
        return example_from_schema(schema_of(spec, schema["$ref"].rsplit("/", 1)[1]), spec)
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    if kind == "object":
        return {
            key: example_from_schema(value, spec)
            for key, value in schema.get("properties", {}).items()
            if not value.get("readOnly")
            and ("example" in value or key in schema.get("required", ()))
        }
    if kind == "array":
        return [example_from_schema(schema["items"], spec)]
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "example", "boolean": False, "integer": 1, "number": 1.0}[str(kind)]


def request_example(spec: dict[str, Any], method: str, path: str) -> Any:
    """Return the operation's request example, else one built from its schema."""
    content = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
    return copy.deepcopy(content.get("example", example_from_schema(content["schema"], spec)))


REQUESTS = [
    (
        "post",
        "/subscriptions/{subscriptionId}/databases",
        "DatabaseCreateRequest",
        f"{PROD}/databases",
        202,
    ),
    ("put", DB_PATH, "DatabaseUpdateRequest", SESSIONS, 200),
    ("post", f"{DB_PATH}/backup", "DatabaseBackupRequest", f"{SESSIONS}/backup", 200),
    ("post", f"{DB_PATH}/import", "DatabaseImportRequest", f"{SESSIONS}/import", 200),
    ("post", f"{DB_PATH}/upgrade", "DatabaseUpgradeRedisVersionRequest", f"{QUEUE}/upgrade", 200),
]


@pytest.mark.parametrize(("method", "spec_path", "schema", "path", "status"), REQUESTS)
def test_request_examples_are_accepted(
    spec: dict[str, Any],
    api: SimApi,
    method: str,
    spec_path: str,
    schema: str,
    path: str,
    status: int,
) -> None:
    body = request_example(spec, method, spec_path)
    answer = api.request(method.upper(), path, json=body)
    assert answer.status_code == status, (body, answer.text)


@pytest.mark.parametrize(("method", "spec_path", "schema", "path", "status"), REQUESTS)
def test_unknown_fields_are_rejected(
    spec: dict[str, Any],
    api: SimApi,
    method: str,
    spec_path: str,
    schema: str,
    path: str,
    status: int,
) -> None:
    body = {**request_example(spec, method, spec_path), "notInTheSpec": 1}
    answer = api.request(method.upper(), path, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["description"] == 'Unrecognized field "notInTheSpec"'


# JSON type in the spec → (a value of another type, that value's JSON type name).
WRONG_VALUES: dict[str, tuple[Any, str]] = {
    "string": (5, "integer"),
    "boolean": ("yes", "string"),
    "integer": ("1", "string"),
    "number": ("1", "string"),
    "array": ("x", "string"),
    "object": ("x", "string"),
}


def wrong_type_cases() -> list[tuple[str, str, str, str, str]]:
    spec = load_openapi()
    cases = []
    for method, spec_path, schema, path, _ in REQUESTS:
        for name, prop in schema_of(spec, schema)["properties"].items():
            if not prop.get("readOnly"):
                cases.append(
                    (method, spec_path, path, name, "object" if "$ref" in prop else prop["type"])
                )
    return cases


@pytest.mark.parametrize(("method", "spec_path", "path", "field", "kind"), wrong_type_cases())
def test_wrong_types_are_rejected(
    spec: dict[str, Any], api: SimApi, method: str, spec_path: str, path: str, field: str, kind: str
) -> None:
    wrong, got = WRONG_VALUES[kind]
    body = {**request_example(spec, method, spec_path), field: wrong}
    answer = api.request(method.upper(), path, json=body)
    assert answer.status_code == 400, (field, answer.text)
    article = "an" if kind in ("integer", "array", "object") else "a"
    assert answer.json()["error"]["description"] == f'"{field}" must be {article} {kind}, got {got}'


# ------------------------------------------------------------------------ lookups and tags


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/subscriptions/redis-versions", "RedisVersions"),
        ("/subscriptions/redis-versions?subscriptionId=2001234", "RedisVersions"),
        ("/database-modules", "ModulesData"),
        ("/query-performance-factors", "SearchScalingFactorsData"),
        ("/data-persistence", "DataPersistenceOptions"),
    ],
)
def test_lookups_validate_and_have_the_fields_of_the_example(
    spec: dict[str, Any], api: SimApi, path: str, schema: str
) -> None:
    answer = api.get(path)
    assert answer.status_code == 200
    body = answer.json()
    jsonschema.Draft4Validator(to_json_schema(schema_of(spec, schema), spec)).validate(body)
    assert shape_problems(schema_of(spec, schema).get("example"), body) == []
    listed = next(iter(body.values()))
    assert isinstance(listed, list) and listed  # never an empty lookup


def test_data_persistence_lists_the_example_options(spec: dict[str, Any], api: SimApi) -> None:
    example = schema_of(spec, "DataPersistenceOptions")["example"]["dataPersistence"]
    assert api.get("/data-persistence").json()["dataPersistence"] == example


def test_modules_list_the_example_modules(spec: dict[str, Any], api: SimApi) -> None:
    example = schema_of(spec, "ModulesData")["example"]["modules"]
    listed = {module["name"]: module for module in api.get("/database-modules").json()["modules"]}
    assert sorted(listed) == sorted(module["name"] for module in example)
    for module in example:
        assert listed[module["name"]] == module


def test_tags_validate_and_have_the_fields_of_the_example(
    spec: dict[str, Any], api: SimApi
) -> None:
    validator = jsonschema.Draft4Validator(to_json_schema(schema_of(spec, "CloudTags"), spec))
    fresh = api.get(f"{SESSIONS}/tags").json()
    validator.validate(fresh)
    request = {"tags": [{"key": "environment", "value": "production"}]}
    request_schema = to_json_schema(schema_of(spec, "DatabaseTagsUpdateRequest"), spec)
    jsonschema.Draft4Validator(request_schema).validate(request)
    replaced = api.put(f"{SESSIONS}/tags", request)
    assert replaced.status_code == 200
    for body in (replaced.json(), api.get(f"{SESSIONS}/tags").json()):
        validator.validate(body)
        assert shape_problems(schema_of(spec, "CloudTags")["example"], body) == []
