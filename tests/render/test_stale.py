"""Tests of reconciler.render.stale: each kind of drift gets a line naming it, no value."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.render.stale import MAX_REASONS, stale_reasons


def document(**changes: Any) -> dict[str, Any]:
    """A plan file document (the parts stale_reasons reads), with ``changes`` applied."""
    data: dict[str, Any] = {
        "specPaths": ["spec/"],
        "filters": {"force": False},
        "basis": {
            "spec": {"spec/a.yaml": "aaaa"},
            "live": {
                "1": {
                    "subscription": "s1",
                    "databases": {
                        "5": {"name": "sessions", "fields": {"datasetSizeInGb": "d1", "port": "p"}}
                    },
                },
                "2": None,
            },
            "secrets": "ssss",
        },
        "actions": [],
        "summary": {"update": 0},
    }
    data.update(changes)
    return data


def basis(**changes: Any) -> dict[str, Any]:
    return {**document()["basis"], **changes}


def live_sub(databases: dict[str, Any], subscription: str = "s1") -> dict[str, Any]:
    return {"subscription": subscription, "databases": databases}


SESSIONS = {"name": "sessions", "fields": {"datasetSizeInGb": "d1", "port": "p"}}


@pytest.mark.parametrize(
    ("fresh", "lines"),
    [
        (document(), []),
        (
            document(specPaths=["other/"]),
            ["spec paths differ: the plan was made from 'spec/', this run reads 'other/'"],
        ),
        (
            document(basis=basis(spec={"spec/a.yaml": "bbbb", "spec/b.yaml": "cccc"})),
            ["spec file spec/a.yaml changed", "spec file spec/b.yaml is new"],
        ),
        (document(basis=basis(spec={})), ["spec file spec/a.yaml is no longer read"]),
        (
            document(basis=basis(live={"1": None, "2": live_sub({})})),
            ["live: subscription 1 no longer exists", "live: subscription 2 exists now"],
        ),
        (
            document(basis=basis(live={"1": live_sub({"5": SESSIONS}, "s2"), "2": None})),
            ["live: subscription 1 changed (name or deployment)"],
        ),
        (
            document(
                basis=basis(
                    live={
                        "1": live_sub({"5": {**SESSIONS, "name": "cache"}, "6": SESSIONS}),
                        "2": None,
                    }
                )
            ),
            [
                "live: subscription 1, database 'cache' (id 5) was renamed from 'sessions'",
                "live: subscription 1, database 'sessions' (id 6) was created",
            ],
        ),
        (
            document(basis=basis(live={"1": live_sub({}), "2": None})),
            ["live: subscription 1, database 'sessions' (id 5) was deleted"],
        ),
        (
            document(summary={"update": 1}),
            ["the plan's summary differs from a fresh plan's"],
        ),
    ],
    ids=[
        "same", "paths", "spec-files", "spec-gone", "subscriptions", "subscription-facts",
        "renamed-created", "deleted", "derived",
    ],
)  # fmt: skip
def test_each_drift_is_named(fresh: dict[str, Any], lines: list[str]) -> None:
    assert stale_reasons(document(), fresh) == lines


def test_action_order_alone() -> None:
    a = {"action": "update", "subscriptionId": 1, "databaseId": 5, "name": "a"}
    b = {**a, "name": "b"}
    assert stale_reasons(document(actions=[a, b]), document(actions=[b, a])) == [
        "the file's actions are in another order than a fresh plan's"
    ]


def test_the_lines_are_capped() -> None:
    spec = {f"spec/{i:03d}.yaml": "x" for i in range(50)}
    reasons = stale_reasons(document(), document(basis=basis(spec=spec)))
    assert len(reasons) == MAX_REASONS
    assert reasons[-1] == f"… and {51 - MAX_REASONS + 1} more"
