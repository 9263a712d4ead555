"""Tests for reconciler.planning.fingerprint: stable between reads, sensitive to what matters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.plan import ActionKind, ApiRequest, FieldChange, PlannedAction
from reconciler.planning.fingerprint import (
    BASIS_DIGEST_HEX,
    compute_fingerprint,
    fingerprint_basis,
    fingerprint_document,
)
from reconciler.planning.planner import build_plan
from reconciler.secrets import Secret

SID = 2001234
HERE = Location("prod.yaml", 1, 1)
SUBSCRIPTION = {"id": SID, "name": "prod", "status": "active", "deploymentType": "single-region"}


def raw_db(db_id: int, name: str, **changes: Any) -> dict[str, Any]:
    """Return a database as the API lists it (abridged)."""
    raw: dict[str, Any] = {
        "databaseId": db_id,
        "name": name,
        "protocol": "redis",
        "redisVersion": "7.4",
        "status": "active",
        "datasetSizeInGb": 1,
        "memoryUsedInMb": 4,
        "dataPersistence": "none",
        "replication": True,
        "dataEvictionPolicy": "volatile-lru",
        "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
        "lastModified": "2024-01-01T00:00:00Z",
        "publicEndpoint": f"redis-{db_id}.example.com:12000",
        "security": {"enableDefaultUser": True, "password": "live-pw", "sourceIps": ["0.0.0.0/0"]},
        "clustering": {"numberOfShards": 1, "regexRules": []},
        "alerts": [],
        "modules": [],
        "links": [],
    }
    raw.update(changes)
    return raw


def live(*dbs: dict[str, Any], status: str = "active") -> LiveState:
    """Return a live account with subscription SID holding ``dbs``."""
    databases = tuple(LiveDatabase(d["databaseId"], d["name"], d["status"], d) for d in dbs)
    return LiveState({SID: LiveSubscription(SID, "prod", status, SUBSCRIPTION, databases)})


def desired(password: str = "spec-pw", size: float = 2) -> DesiredState:
    """Return a spec managing database ``a`` (size and password) and creating ``b``."""
    specs = (
        DatabaseSpec(SID, "a", {"datasetSizeInGb": size, "password": Secret(password)}, HERE),
        DatabaseSpec(SID, "b", {"datasetSizeInGb": 1, "password": Secret("b-pw")}, HERE),
    )
    return DesiredState((SubscriptionSpec(SID, False, specs, HERE),))


BASE_LIVE = (raw_db(1, "a"), raw_db(2, "other"))


def fingerprint(state: DesiredState, account: LiveState, salt: str = "salt") -> str:
    """Return the fingerprint build_plan gives."""
    return build_plan(state, account, salt=salt).fingerprint


def test_fingerprint_shape() -> None:
    value = fingerprint(desired(), live(*BASE_LIVE))
    assert value.startswith("sha256:")
    assert len(value) == len("sha256:") + 64


def test_same_spec_and_live_give_the_same_fingerprint() -> None:
    assert fingerprint(desired(), live(*BASE_LIVE)) == fingerprint(desired(), live(*BASE_LIVE))


def test_build_plan_uses_compute_fingerprint() -> None:
    state, account = desired(), live(*BASE_LIVE)
    plan = build_plan(state, account, salt="salt")
    assert plan.fingerprint == compute_fingerprint(plan.actions, account, state, "salt")


@pytest.mark.parametrize(
    "changes",
    [
        {"memoryUsedInMb": 900},
        {"status": "active-change-pending"},
        {"lastModified": "2030-01-01T00:00:00Z"},
        {"clustering": {"numberOfShards": 3, "regexRules": []}},
        {"links": [{"rel": "self"}]},
        {"alerts": [{"id": "x-1", "name": "dataset-size", "value": 80, "defaultValue": 80}]},
        {"alerts": [{"id": "y-2", "name": "dataset-size", "value": 80, "defaultValue": 90}]},
    ],
)
def test_volatile_live_changes_keep_the_fingerprint(changes: dict[str, Any]) -> None:
    with_alert = raw_db(1, "a", alerts=[{"name": "dataset-size", "value": 80}])
    base = fingerprint(desired(), live(with_alert, raw_db(2, "other")))
    if "alerts" not in changes:
        changes = {**changes, "alerts": [{"name": "dataset-size", "value": 80}]}
    moved = fingerprint(desired(), live(raw_db(1, "a", **changes), raw_db(2, "other")))
    assert moved == base


def test_subscription_status_does_not_matter() -> None:
    assert fingerprint(desired(), live(*BASE_LIVE)) == fingerprint(
        desired(), live(*BASE_LIVE, status="pending")
    )


@pytest.mark.parametrize(
    "account",
    [
        live(raw_db(1, "a", dataEvictionPolicy="allkeys-lru"), raw_db(2, "other")),
        live(raw_db(1, "a"), raw_db(2, "other", replication=False)),
        live(
            raw_db(1, "a", security={"password": "rotated", "sourceIps": ["0.0.0.0/0"]}),
            raw_db(2, "other"),
        ),
        live(raw_db(1, "a")),
        live(*BASE_LIVE, raw_db(3, "new")),
        live(raw_db(1, "a"), raw_db(4, "other")),
    ],
    ids=[
        "managed-field",
        "unmanaged-db-field",
        "live-password",
        "db-removed",
        "db-added",
        "db-replaced",
    ],
)
def test_live_changes_change_the_fingerprint(account: LiveState) -> None:
    assert fingerprint(desired(), account) != fingerprint(desired(), live(*BASE_LIVE))


def test_changed_spec_secret_changes_the_fingerprint() -> None:
    account = live(*BASE_LIVE)
    assert fingerprint(desired("one"), account) != fingerprint(desired("two"), account)


def test_changed_spec_field_changes_the_fingerprint() -> None:
    account = live(*BASE_LIVE)
    assert fingerprint(desired(size=2), account) != fingerprint(desired(size=3), account)


def test_salt_changes_the_fingerprint() -> None:
    account = live(*BASE_LIVE)
    assert fingerprint(desired(), account, "one") != fingerprint(desired(), account, "two")


def test_document_holds_no_secret_in_clear() -> None:
    state, account = (
        desired("spec-password-123"),
        live(raw_db(1, "a", security={"password": "live-password-456"})),
    )
    plan = build_plan(state, account, salt="salt")
    text = fingerprint_document(plan.actions, account, state, "salt")
    assert "spec-password-123" not in text
    assert "live-password-456" not in text
    assert "b-pw" not in text
    assert "sha256:" in text
    json.loads(text)


def test_document_is_canonical_json() -> None:
    text = fingerprint_document((), live(*BASE_LIVE), desired(), "s")
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_actions_enter_the_fingerprint() -> None:
    account, state = live(*BASE_LIVE), desired()
    action = PlannedAction(
        ActionKind.UPDATE,
        SID,
        1,
        "a",
        (FieldChange("datasetSizeInGb", 1, 2),),
        ApiRequest("PUT", "/subscriptions/2001234/databases/1", {"datasetSizeInGb": 2}),
    )
    other = PlannedAction(
        ActionKind.UPDATE,
        SID,
        1,
        "a",
        (FieldChange("datasetSizeInGb", 1, 3),),
        ApiRequest("PUT", "/subscriptions/2001234/databases/1", {"datasetSizeInGb": 3}),
    )
    one = compute_fingerprint((action,), account, state, "s")
    assert one == compute_fingerprint([action], account, state, "s")
    assert one != compute_fingerprint((other,), account, state, "s")
    assert one != compute_fingerprint((), account, state, "s")


def test_missing_subscription_is_fingerprinted() -> None:
    state = desired()
    assert compute_fingerprint(
        (), LiveState({}, missing=(SID,)), state, "s"
    ) != compute_fingerprint((), live(*BASE_LIVE), state, "s")


def test_basis_holds_short_digests_and_no_secret() -> None:
    basis = fingerprint_basis(live(*BASE_LIVE), desired(), "salt")
    assert list(basis) == ["spec", "live", "secrets"]
    assert list(basis["spec"]) == ["prod.yaml"]
    databases = basis["live"][str(SID)]["databases"]
    assert {k: v["name"] for k, v in databases.items()} == {"1": "a", "2": "other"}
    assert "datasetSizeInGb" in databases["1"]["fields"]
    assert all(len(d) == BASIS_DIGEST_HEX for d in databases["1"]["fields"].values())
    text = json.dumps(basis)
    for secret in ("spec-pw", "b-pw", "live-pw"):
        assert secret not in text


@pytest.mark.parametrize(
    ("state", "account", "moved"),
    [
        (desired(password="rotated"), live(*BASE_LIVE), ["secrets"]),
        (
            desired(),
            live(raw_db(1, "a", security={"password": "x"}), BASE_LIVE[1]),
            ["secrets"],
        ),
        (desired(size=5), live(*BASE_LIVE), ["spec"]),
        (desired(), live(raw_db(1, "a", datasetSizeInGb=9), BASE_LIVE[1]), ["live"]),
    ],
    ids=["spec-secret", "live-secret", "spec-field", "live-field"],
)
def test_basis_tells_which_part_moved(
    state: DesiredState, account: LiveState, moved: list[str]
) -> None:
    base = fingerprint_basis(live(*BASE_LIVE), desired(), "salt")
    now = fingerprint_basis(account, state, "salt")
    assert sorted(k for k in base if base[k] != now[k]) == sorted(moved)


def test_build_plan_puts_each_live_database_in_request_form_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import reconciler.compare.live as live_module

    calls: list[int] = []
    real = live_module.live_to_request

    def counting(db: Any, subscription: Any) -> dict[str, Any]:
        calls.append(db["databaseId"])
        return real(db, subscription)

    monkeypatch.setattr(live_module, "live_to_request", counting)
    plan = build_plan(desired(), live(*BASE_LIVE), salt="salt")
    assert sorted(calls) == [1, 2]
    monkeypatch.setattr(live_module, "live_to_request", real)
    assert plan.fingerprint == fingerprint(desired(), live(*BASE_LIVE))
