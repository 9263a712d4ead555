"""Every request body the tool can send validates against the official request schemas.

The bodies come from real plans: specs covering every database field (and the examples)
are planned against the in-process simulator, and every action's body is checked against
its operation's request schema in tests/openapi/ (``DatabaseCreateRequest``,
``DatabaseUpdateRequest``, ``DatabaseBackupRequest``, ``DatabaseImportRequest``,
``DatabaseUpgradeRedisVersionRequest``), converted loosely to JSON Schema but closed: no
field the schema does not list, no read-only field. The one documented exception is
``autoMinorVersionUpgrade`` (a boolean, on create and update), which the official Go SDK and
Terraform provider send though the OpenAPI description omits it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_support import request_validator

from reconciler.cloud import ApiClient, read_live
from reconciler.plan import ActionKind, Plan
from reconciler.planning import build_plan
from reconciler.secrets import reveal
from reconciler.simulator import RunningSimulator
from reconciler.spec import load_schema, load_spec

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS.parent / "examples"
EVERY_FIELD = TESTS / "specs" / "good-every-field.yaml"
ENV = {
    "EVERYTHING_PASSWORD": "every-field-password-1",
    "SESSIONS_DB_PASSWORD": "sessions-password-000001",
    "REPORTS_DB_PASSWORD": "reports-password-0000001",
}
NOT_IN_OPENAPI = {"autoMinorVersionUpgrade": {"type": "boolean"}}
SCHEMAS = {
    ActionKind.CREATE: "DatabaseCreateRequest",
    ActionKind.UPDATE: "DatabaseUpdateRequest",
    ActionKind.BACKUP: "DatabaseBackupRequest",
    ActionKind.IMPORT: "DatabaseImportRequest",
    ActionKind.UPGRADE: "DatabaseUpgradeRedisVersionRequest",
}
EXTRA = {ActionKind.CREATE: NOT_IN_OPENAPI, ActionKind.UPDATE: NOT_IN_OPENAPI}
# The spec's own keys (not API fields) in a database entry.
OWN = {"name", "state", "lifecycle", "import"}


def every_field_onto(name: str) -> str:
    """The every-field spec, its first database renamed ``name``, nothing ignored."""
    text = EVERY_FIELD.read_text(encoding="utf-8").replace("name: everything", f"name: {name}")
    return re.sub(r"\n +ignoreChanges: .*", "", text)


MEMCACHED = """version: 1
subscriptions:
  - id: 2005678
    databases:
      - name: staging-cache
        protocol: memcached
        datasetSizeInGb: 1
        saslUsername: mc-user-2
        saslPassword: mc-password-2
        sourceIp: [10.1.0.0/16]
        alerts: [{name: throughput-higher-than, value: 5000}]
        respVersion: resp2
        replication: true
        useExternalEndpointForOSSClusterApi: true
        clientTlsCertificates:
          - publicCertificatePEMString: "-----BEGIN CERTIFICATE-----\\nMIID\\n-----END CERTIFICATE-----"
        enableTls: true
"""

# Spec files (name → text or path), each planned against a fresh example account.
SPECS: dict[str, Callable[[Path], list[Path]]] = {}


def spec(name: str) -> Callable[[Callable[[Path], list[Path]]], Callable[[Path], list[Path]]]:
    def register(make: Callable[[Path], list[Path]]) -> Callable[[Path], list[Path]]:
        SPECS[name] = make
        return make

    return register


def written(folder: Path, text: str) -> list[Path]:
    (folder / "spec.yaml").write_text(text, encoding="utf-8")
    return [folder / "spec.yaml"]


@spec("every-field-created")
def _created(folder: Path) -> list[Path]:
    return [EVERY_FIELD]


@spec("every-field-onto-sessions")
def _updated(folder: Path) -> list[Path]:
    return written(folder, every_field_onto("sessions"))


@spec("memcached-update")
def _memcached(folder: Path) -> list[Path]:
    return written(folder, MEMCACHED)


@spec("examples")
def _examples(folder: Path) -> list[Path]:
    return [EXAMPLES / "prod", EXAMPLES / "staging.yaml"]


def plan_against(simulator: RunningSimulator, paths: list[Path]) -> Plan:
    """Plan ``paths`` against the simulator's account as the CLI does."""
    desired = load_spec([str(p) for p in paths], ENV)
    with ApiClient(simulator.url, simulator.api_key, simulator.api_secret) as client:
        return build_plan(desired, read_live(client, desired))


def bodies(plan: Plan) -> Iterator[tuple[ActionKind, Any]]:
    """Yield (kind, body as sent) of every action sending a body."""
    for action in plan.actions:
        if action.kind is not ActionKind.DELETE:
            yield action.kind, reveal(action.request.body)


@pytest.fixture(scope="module")
def planned(
    make_module_simulator: Callable[..., RunningSimulator], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[tuple[ActionKind, Any]]]:
    """The bodies of each spec's plan, by spec name."""
    result = {}
    for name, make in SPECS.items():
        paths = make(tmp_path_factory.mktemp(name))
        result[name] = list(bodies(plan_against(make_module_simulator(), paths)))
    return result


def problems(kind: ActionKind, body: Any) -> list[str]:
    validator = request_validator(SCHEMAS[kind], **EXTRA.get(kind, {}))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
        for e in validator.iter_errors(body)
    ]


@pytest.mark.parametrize("name", SPECS)
def test_every_body_validates_against_its_request_schema(
    planned: dict[str, list[tuple[ActionKind, Any]]], name: str
) -> None:
    assert planned[name], "the plan sends nothing"
    for kind, body in planned[name]:
        assert problems(kind, body) == [], (kind, body)


def test_the_bodies_carry_every_database_field_of_the_spec(
    planned: dict[str, list[tuple[ActionKind, Any]]],
) -> None:
    sent = {
        field
        for plan in planned.values()
        for kind, body in plan
        if kind in (ActionKind.CREATE, ActionKind.UPDATE)
        for field in body
    }
    assert set(load_schema()["$defs"]["Database"]["properties"]) - OWN - sent == set()


def test_every_kind_of_body_is_checked(planned: dict[str, list[tuple[ActionKind, Any]]]) -> None:
    kinds = {kind for plan in planned.values() for kind, _ in plan}
    assert kinds == set(SCHEMAS)


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (ActionKind.CREATE, {"name": "a", "notInTheSpec": 1}, "'notInTheSpec' was unexpected"),
        (ActionKind.CREATE, {"name": "a", "subscriptionId": 1}, "'subscriptionId' was unexpected"),
        (ActionKind.UPDATE, {"regexRules": "x"}, "'x' is not of type 'array'"),
        (ActionKind.UPDATE, {"autoMinorVersionUpgrade": "no"}, "'no' is not of type 'boolean'"),
        (ActionKind.UPDATE, {"alerts": [{"name": "dataset-size", "x": 1}]}, "'x' was unexpected"),
        (ActionKind.IMPORT, {"sourceType": "redis"}, "'importFromUri' is a required property"),
        (ActionKind.BACKUP, {"regionName": None}, "None is not of type 'string'"),
    ],
)
def test_the_closed_schemas_refuse_what_the_api_refuses(
    kind: ActionKind, body: Any, expected: str
) -> None:
    assert [p.split(": ", 1)[1] for p in problems(kind, body)] == [expected]
    with pytest.raises(jsonschema.ValidationError):
        request_validator(SCHEMAS[kind], **EXTRA.get(kind, {})).validate(body)
