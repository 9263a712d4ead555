"""Tests of reconciler.render.planfile: the saved plan file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from plan_factory import CANARY, PROD, act

from reconciler import __version__
from reconciler.errors import UsageError
from reconciler.plan import (
    ActionKind,
    Plan,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.render import (
    SavedPlan,
    plan_file_document,
    plan_to_dict,
    read_plan_file,
    render_json,
    write_plan_file,
)
from reconciler.render.planfile import MAX_PLAN_FILE_BYTES, seal
from reconciler.secrets import Secret

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "reconciler" / "schemas" / "plan.schema.json"
HINT = "write one with: reconciler plan --out FILE"


def canary_plan() -> Plan:
    """A plan whose changes, request bodies and texts all carry the canary secret."""
    replica = f"redis://default:{CANARY}@10.0.0.5:6379"
    return Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 2, 2),),
        actions=(
            act(
                ActionKind.CREATE,
                "reports",
                None,
                ("password", None, Secret(CANARY), True),
                ("replicaOf", None, [replica]),
                body={"name": "reports", "password": Secret(CANARY), "replicaOf": [replica]},
            ),
            act(
                ActionKind.UPDATE,
                "sessions",
                51170941,
                ("password", Secret("x"), Secret(CANARY), True),
                body={"password": Secret(CANARY)},
                reason=f"sync from {replica}",
            ),
        ),
        unmanaged=(UnmanagedDatabase(PROD, 9, "analytics"),),
        fingerprint="sha256:5e1f",
    )


BASIS = {"spec": {"a.yaml": "0123456789abcdef"}, "live": {}, "secrets": "fedcba9876543210"}


def document(plan: Plan, salt: str = "s", spec_paths: Any = (".",)) -> dict[str, Any]:
    """The plan file document of ``plan`` with a fixed basis and no --force."""
    return plan_file_document(
        plan, salt=salt, spec_paths=spec_paths, filters={"force": False}, basis=BASIS
    )


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan = canary_plan()
    write_plan_file(path, document(plan, "s4lt", ["examples/prod", "examples/staging.yaml"]))
    saved = read_plan_file(path)
    expected = plan_to_dict(plan)
    expected.update(
        salt="s4lt",
        specPaths=["examples/prod", "examples/staging.yaml"],
        filters={"force": False},
        basis=BASIS,
    )
    expected["fingerprint"] = seal(expected)
    assert saved == SavedPlan(
        fingerprint=expected["fingerprint"],
        salt="s4lt",
        spec_paths=("examples/prod", "examples/staging.yaml"),
        data=expected,
    )
    assert list(saved.data)[:5] == [
        "formatVersion",
        "reconcilerVersion",
        "fingerprint",
        "salt",
        "specPaths",
    ]


def test_file_is_the_json_form_plus_what_apply_checks(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan = canary_plan()
    write_plan_file(str(path), document(plan, "s", ("a.yaml",)))
    data = json.loads(path.read_text(encoding="utf-8"))
    fingerprint = data.pop("fingerprint")
    assert fingerprint == seal(data)
    assert data.pop("salt") == "s"
    assert data.pop("specPaths") == ["a.yaml"]
    assert data.pop("filters") == {"force": False}
    assert data.pop("basis") == BASIS
    expected = json.loads(render_json(plan))
    del expected["fingerprint"]
    assert data == expected
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_plan_file_never_holds_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan_file(path, document(canary_plan()))
    raw = path.read_bytes()
    assert CANARY.encode() not in raw
    data = json.loads(raw)
    bodies = [a["request"]["body"] for a in data["actions"]]
    assert bodies == [
        {
            "name": "reports",
            "password": "(sensitive)",
            "replicaOf": ["redis://(sensitive)@10.0.0.5:6379"],
        },
        {"password": "(sensitive)"},
    ]
    assert data["actions"][1]["reason"] == "sync from redis://(sensitive)@10.0.0.5:6379"


def test_plan_file_validates_against_schema(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan_file(path, document(canary_plan()))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(path.read_text(encoding="utf-8")))


def test_overwrites_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old", encoding="utf-8")
    write_plan_file(path, document(Plan((), ()), spec_paths=[]))
    assert read_plan_file(path).spec_paths == ()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_write_into_missing_folder_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "plan.json"
    with pytest.raises(UsageError) as info:
        write_plan_file(path, document(Plan((), ()), spec_paths=[]))
    assert str(info.value) == f"cannot write plan file {path}: No such file or directory"


def test_write_over_a_folder_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(UsageError) as info:
        write_plan_file(tmp_path / "dir", document(Plan((), ())))
    assert str(info.value) == f"cannot write plan file {tmp_path / 'dir'}: Is a directory"
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]


def test_read_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == f"plan file not found: {path}"


def test_read_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        read_plan_file(tmp_path)
    assert str(info.value) == f"cannot read plan file {tmp_path}: Is a directory"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "plan file {path} is not JSON: Expecting value at line 1, column 1"),
        (
            b"subscriptions:\n  - id: 1\n",
            "plan file {path} is not JSON: Expecting value at line 1, column 1",
        ),
        (
            b'{"formatVersion": 1,\n  "x": }',
            "plan file {path} is not JSON: Expecting value at line 2, column 8",
        ),
        (b"\xff\xfe{}", "plan file {path} is not JSON: it is not UTF-8 text"),
    ],
)
def test_read_not_json(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == message.format(path=path)


def _valid(**changes: Any) -> dict[str, Any]:
    """A sealed plan file document with ``changes`` made after sealing (None deletes)."""
    data = document(Plan((), (), fingerprint="sha256:1"), spec_paths=["a"])
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            [1, 2],
            "{path} is not a reconciler plan file (the top level is not a JSON object); " + HINT,
        ),
        (
            {"version": 1, "subscriptions": []},
            "{path} is not a reconciler plan file (no formatVersion); " + HINT,
        ),
        (
            {**_valid(), "formatVersion": 2},
            "plan file {path} has formatVersion 2; reconciler "
            + __version__
            + " reads formatVersion 1 only; run plan --out again",
        ),
        (
            {**_valid(), "formatVersion": "1"},
            'plan file {path} has formatVersion "1"; reconciler '
            + __version__
            + " reads formatVersion 1 only; run plan --out again",
        ),
        (
            {**_valid(), "formatVersion": True},
            "plan file {path} has formatVersion true; reconciler "
            + __version__
            + " reads formatVersion 1 only; run plan --out again",
        ),
        (
            {k: v for k, v in _valid().items() if k not in ("salt", "specPaths")},
            "{path} is not a reconciler plan file (no salt); " + HINT,
        ),
        (
            {**_valid(), "fingerprint": 5},
            "{path} is not a reconciler plan file (fingerprint is not a string); " + HINT,
        ),
        (
            {k: v for k, v in _valid().items() if k != "fingerprint"},
            "{path} is not a reconciler plan file (no fingerprint); " + HINT,
        ),
        (
            {k: v for k, v in _valid().items() if k != "specPaths"},
            "{path} is not a reconciler plan file (no specPaths); " + HINT,
        ),
        (
            {**_valid(), "specPaths": "examples"},
            "{path} is not a reconciler plan file (specPaths is not a list of strings); " + HINT,
        ),
        (
            {**_valid(), "specPaths": ["a", 1]},
            "{path} is not a reconciler plan file (specPaths is not a list of strings); " + HINT,
        ),
        (_valid(filters=None), "{path} is not a reconciler plan file (no filters); " + HINT),
        (
            _valid(basis=[]),
            "{path} is not a reconciler plan file (basis is not an object); " + HINT,
        ),
    ],
    ids=[
        "list",
        "spec-file",
        "version-2",
        "version-string",
        "version-bool",
        "json-output",
        "fingerprint-type",
        "no-fingerprint",
        "no-spec-paths",
        "spec-paths-string",
        "spec-paths-items",
        "no-filters",
        "basis-type",
    ],
)
def test_read_not_a_plan_file(tmp_path: Path, data: Any, message: str) -> None:
    path = write(tmp_path / "plan.json", data)
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == message.format(path=path)


def test_read_the_output_of_format_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(render_json(canary_plan()), encoding="utf-8")
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == f"{path} is not a reconciler plan file (no salt); {HINT}"


MODIFIED = (
    "plan file {path} was modified after it was written: its content does not match its "
    "fingerprint; run plan --out again and review it"
)


def _without_deletes(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "actions": [a for a in data["actions"] if a["action"] != "delete"]}


@pytest.mark.parametrize(
    "edit",
    [
        _without_deletes,
        lambda d: {**d, "specPaths": ["elsewhere/"]},
        lambda d: {**d, "filters": {"force": True}},
        lambda d: {**d, "basis": {**d["basis"], "secrets": "0" * 16}},
        lambda d: {**d, "salt": "other"},
        lambda d: {**d, "summary": {**d["summary"], "delete": 0}},
    ],
    ids=["deletes-removed", "spec-paths", "filters", "basis", "salt", "summary"],
)
def test_a_modified_file_is_refused(tmp_path: Path, edit: Any) -> None:
    plan = Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 2, 1),),
        actions=(
            act(ActionKind.UPDATE, "sessions", 5, ("datasetSizeInGb", 1, 2)),
            act(ActionKind.DELETE, "legacy", 6),
        ),
    )
    data = document(plan)
    assert read_plan_file(write(tmp_path / "plan.json", data)).data == data
    path = write(tmp_path / "plan.json", edit(data))
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == MODIFIED.format(path=path)


def test_reindenting_the_file_keeps_it_valid(tmp_path: Path) -> None:
    data = document(canary_plan())
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    assert read_plan_file(path).data == data


def test_read_a_fifo_does_not_wait(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    os.mkfifo(path)
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == f"plan file {path} is not a regular file"


def test_read_an_oversized_file_stops_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_PLAN_FILE_BYTES + 1)
    with pytest.raises(UsageError) as info:
        read_plan_file(path)
    assert str(info.value) == f"plan file {path} is larger than 64 MiB"
