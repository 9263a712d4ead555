"""Tests for reconciler.planning.tags and the tag actions of a whole plan."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    ImportSpec,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, FieldChange, PlannedAction
from reconciler.planning import build_plan
from reconciler.planning.tags import AFTER_CREATE_REASON, tag_changes, tag_steps

SID = 2001234
HERE = Location("prod.yaml", 3, 7)
TAGS_PATH = f"/subscriptions/{SID}/databases/7/tags"
SUBSCRIPTION = {"id": SID, "name": "prod", "status": "active", "deploymentType": "single-region"}


def want(tags: dict[str, str] | None, **kw: Any) -> DatabaseSpec:
    return DatabaseSpec(SID, "sessions", kw.pop("fields", {}), HERE, tags=tags, **kw)


def have(tags: dict[str, str] | None) -> LiveDatabase:
    raw = {"databaseId": 7, "name": "sessions", "status": "active", "datasetSizeInGb": 1}
    return LiveDatabase(7, "sessions", "active", raw, tags)


def put(tags: list[tuple[str, str]], path: str = TAGS_PATH) -> ApiRequest:
    return ApiRequest("PUT", path, {"tags": [{"key": k, "value": v} for k, v in tags]})


@pytest.mark.parametrize(
    ("spec", "live"),
    [
        (want(None), have({"env": "prod"})),  # tags not managed
        (want({"env": "prod"}, state="absent"), have({})),  # to be deleted
        (want({"env": "prod", "team": "a"}), have({"team": "a", "env": "prod"})),  # same set
        (want({}), have({})),
        (want({}), None),  # a new database without tags
        (want(None), None),
    ],
)
def test_no_tag_action(spec: DatabaseSpec, live: LiveDatabase | None) -> None:
    steps = tag_steps(SID, spec, live)
    assert (steps.actions, steps.refusals) == ((), ())


def test_changed_added_and_removed_keys_in_one_overwrite() -> None:
    spec = want({"team": "payments", "env": "staging"})
    (action,) = tag_steps(SID, spec, have({"env": "prod", "old": "yes"})).actions
    assert action == PlannedAction(
        ActionKind.TAG,
        SID,
        7,
        "sessions",
        (
            FieldChange("tags.env", "prod", "staging"),
            FieldChange("tags.old", "yes", None),
            FieldChange("tags.team", None, "payments"),
        ),
        put([("team", "payments"), ("env", "staging")]),  # the spec's order
    )


def test_empty_tags_clear_every_tag() -> None:
    (action,) = tag_steps(SID, want({}), have({"env": "prod"})).actions
    assert action.changes == (FieldChange("tags.env", "prod", None),)
    assert action.request == put([])


def test_keys_and_values_compare_exactly() -> None:
    changes = tag_changes({"env": "prod"}, {"Env": "prod", "team": "Payments"})
    assert changes == (
        FieldChange("tags.Env", "prod", None),
        FieldChange("tags.env", None, "prod"),
        FieldChange("tags.team", "Payments", None),
    )


def test_unread_live_tags_count_as_none() -> None:
    (action,) = tag_steps(SID, want({"env": "prod"}), have(None)).actions
    assert action.changes == (FieldChange("tags.env", None, "prod"),)


def test_a_new_database_gets_its_tags_after_the_create() -> None:
    (action,) = tag_steps(SID, want({"env": "prod", "team": "a"}), None).actions
    path = f"/subscriptions/{SID}/databases/{NEW_DATABASE_ID}/tags"
    assert action == PlannedAction(
        ActionKind.TAG,
        SID,
        None,
        "sessions",
        (FieldChange("tags.env", None, "prod"), FieldChange("tags.team", None, "a")),
        put([("env", "prod"), ("team", "a")], path),
        AFTER_CREATE_REASON,
    )


# --- whole plans ---------------------------------------------------------------------------


def plan_for(spec: DatabaseSpec, *live: LiveDatabase) -> list[tuple[ActionKind, str]]:
    desired = DesiredState((SubscriptionSpec(SID, False, (spec,), HERE),))
    sub = LiveSubscription(SID, "prod", "active", SUBSCRIPTION, live)
    plan = build_plan(desired, LiveState({SID: sub}))
    return [(a.kind, a.request.path) for a in plan.actions]


def test_create_then_follow_up_then_import_then_tags() -> None:
    spec = want(
        {"env": "prod"},
        fields={"datasetSizeInGb": 1, "enableDefaultUser": False},
        import_=ImportSpec("aws-s3", ("s3://b/dump.rdb",)),
    )
    new = f"/subscriptions/{SID}/databases/{NEW_DATABASE_ID}"
    assert plan_for(spec) == [
        (ActionKind.CREATE, f"/subscriptions/{SID}/databases"),
        (ActionKind.UPDATE, new),
        (ActionKind.IMPORT, f"{new}/import"),
        (ActionKind.TAG, f"{new}/tags"),
    ]


def test_tags_follow_the_update_and_need_no_backup() -> None:
    lifecycle = Lifecycle(backup_before_update=True, backup_path="s3://backups/adhoc")
    spec = want({"env": "prod"}, fields={"datasetSizeInGb": 2}, lifecycle=lifecycle)
    kinds = [kind for kind, _ in plan_for(spec, have({}))]
    assert kinds == [ActionKind.BACKUP, ActionKind.UPDATE, ActionKind.TAG]
    tag_only = replace(spec, fields={"datasetSizeInGb": 1})
    assert plan_for(tag_only, have({})) == [(ActionKind.TAG, TAGS_PATH)]


def test_fingerprint_covers_managed_tags_only() -> None:
    def fingerprint(spec: DatabaseSpec, live: LiveDatabase) -> str:
        desired = DesiredState((SubscriptionSpec(SID, False, (spec,), HERE),))
        sub = LiveSubscription(SID, "prod", "active", SUBSCRIPTION, (live,))
        return build_plan(desired, LiveState({SID: sub}), salt="s").fingerprint

    unmanaged = fingerprint(want(None), have(None))
    assert fingerprint(want(None), have(None)) == unmanaged
    managed = fingerprint(want({"env": "prod"}), have({"env": "prod"}))
    assert managed != unmanaged
    # Tags changed live since the plan (still equal to the spec: no action either way).
    assert fingerprint(want({"env": "prod"}), have({"env": "prod", "x": "y"})) != managed
