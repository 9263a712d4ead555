"""The pure matching of system-log entries to the databases a plan changes."""

from __future__ import annotations

import pytest

from reconciler.plan import (
    ActionKind,
    ApiRequest,
    FieldChange,
    History,
    HistoryEntry,
    Plan,
    PlannedAction,
)
from reconciler.planning.history import Target, history_targets, match_history

SUB = 2001234
OTHER_SUB = 2009999
SUBS = {SUB: "prod", OTHER_SUB: "staging"}


def entry(
    entry_id: int,
    description: str,
    *,
    resource: str = "",
    kind: str = "Database",
    key: str | None = None,
    who: str = "alice@example.com",
) -> HistoryEntry:
    return HistoryEntry(
        id=entry_id,
        time=f"2026-11-20T14:{entry_id % 60:02d}:00Z",
        originator=who,
        api_key_name=key,
        resource=resource,
        type=kind,
        description=description,
    )


def ids(histories: tuple[History, ...]) -> dict[tuple[int, int | None], list[int]]:
    return {(h.subscription_id, h.database_id): [e.id for e in h.entries] for h in histories}


def action(kind: ActionKind, name: str, db: int | None, *changes: FieldChange) -> PlannedAction:
    return PlannedAction(kind, SUB, db, name, changes, ApiRequest("PUT", "/x"))


def test_targets_are_existing_databases_once_with_a_rename_adding_the_new_name() -> None:
    plan = Plan(
        subscriptions=(),
        actions=(
            action(ActionKind.UPGRADE, "sessions", 1),
            action(ActionKind.UPDATE, "sessions", 1, FieldChange("name", "sessions", "sess")),
            action(ActionKind.CREATE, "new", None),
            action(ActionKind.DELETE, "legacy", 3),
        ),
    )
    assert history_targets(plan) == (
        Target(SUB, 1, ("sessions", "sess")),
        Target(SUB, 3, ("legacy",)),
    )


def test_a_plan_without_existing_changes_has_no_targets() -> None:
    plan = Plan(subscriptions=(), actions=(action(ActionKind.CREATE, "new", None),))
    assert history_targets(plan) == ()


def test_resource_name_matches_newest_first() -> None:
    targets = [Target(SUB, 11, ("sessions",))]
    log = [
        entry(5, "Database memory limit changed", resource="sessions"),
        entry(4, "Database updated", resource="other"),
        entry(3, "Database password changed", resource="sessions"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {(SUB, 11): [5, 3]}


def test_prefix_names_do_not_steal_each_others_entries() -> None:
    targets = [Target(SUB, 11, ("cache",)), Target(SUB, 12, ("cache-eu",))]
    log = [
        entry(9, "Database 'cache-eu' memory limit changed"),
        entry(8, "Database 'cache' memory limit changed"),
        entry(7, "x", resource="cache-eu"),
        entry(6, 'Database "cache" was resized'),
        entry(5, "cache-eu and cache mentioned without quotes"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {(SUB, 11): [8, 6], (SUB, 12): [9, 7]}


def test_a_renamed_database_matches_its_old_and_new_name() -> None:
    targets = [Target(SUB, 11, ("sessions", "sessions-v2"))]
    log = [
        entry(3, "Database renamed", resource="sessions-v2"),
        entry(2, "Database 'sessions' resized"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {(SUB, 11): [3, 2]}


def test_an_id_in_the_description_decides_over_the_name() -> None:
    targets = [Target(SUB, 11, ("cache",)), Target(SUB, 12, ("queue",))]
    log = [
        entry(4, "Database 'cache' (id 12) renamed to 'queue'"),
        entry(3, "Database 12 updated", resource="cache"),
        entry(2, "Updated database #11"),
        entry(1, "Database 99 updated", resource="cache"),  # another database named cache
    ]
    assert ids(match_history(log, targets, SUBS)) == {(SUB, 11): [2], (SUB, 12): [4, 3]}


def test_entries_of_other_subscriptions_do_not_match() -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [
        entry(4, f"Database 'cache' in subscription {OTHER_SUB} resized", resource="cache"),
        entry(3, f"Database 'cache' of subscription 'staging' (id {OTHER_SUB})", resource="cache"),
        entry(2, f"Database 'cache' in subscription id {SUB} resized", resource="cache"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {(SUB, 11): [2]}


def test_a_name_two_subscriptions_share_needs_a_subscription_id() -> None:
    targets = [Target(SUB, 11, ("cache",)), Target(OTHER_SUB, 21, ("cache",))]
    log = [
        entry(3, "Database 'cache' resized", resource="cache"),  # which one? neither
        entry(2, f"Subscription {OTHER_SUB}: database 'cache' resized"),
        entry(1, "Database 11 resized", resource="cache"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {(OTHER_SUB, 21): [2], (SUB, 11): [1]}


def test_subscription_entries_are_shown_apart() -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [
        entry(4, "Subscription payment method changed", resource="prod", kind="Subscription"),
        entry(3, f"Subscription {SUB} renamed", kind="Subscription"),
        entry(2, "Subscription resized", resource="staging", kind="Subscription"),
        entry(2, f"Subscription 'staging' (id {OTHER_SUB}) updated", kind="Subscription"),
        entry(2, f"Subscription 'prod' (id {SUB}) updated", resource="x", kind="Subscription"),
        entry(1, "User invited", resource="prod", kind="Account"),
    ]
    found = match_history(log, targets, SUBS)
    assert ids(found) == {(SUB, None): [4, 3, 2]}
    assert found[0].name == "prod"


def test_an_empty_log_gives_no_history() -> None:
    assert match_history([], [Target(SUB, 11, ("cache",))], SUBS) == ()


def test_no_targets_gives_no_history() -> None:
    assert match_history([entry(1, "Database 'cache' resized")], [], SUBS) == ()


def test_the_tools_own_last_change_ends_the_list() -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [
        entry(5, "Database 'cache' resized"),  # console
        entry(4, "Database 'cache' resized", key="ci-key", who="bob@example.com"),
        entry(3, "Database 'cache' resized", key="reconciler"),  # the tool's own
        entry(2, "Database 'cache' resized"),
    ]
    found = match_history(log, targets, SUBS, key_name="reconciler")
    assert ids(found) == {(SUB, 11): [5, 4]}
    assert found[0].since == "2026-11-20T14:03:00Z"


def test_without_a_key_name_every_matching_entry_counts() -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [entry(2, "Database 'cache' resized", key="reconciler"), entry(1, "Database 'cache'")]
    found = match_history(log, targets, SUBS)
    assert ids(found) == {(SUB, 11): [2, 1]}
    assert found[0].since == ""


def test_a_database_whose_newest_entry_is_the_tools_own_has_no_history() -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [entry(2, "Database 'cache' resized", key="reconciler"), entry(1, "Database 'cache'")]
    assert match_history(log, targets, SUBS, key_name="reconciler") == ()


@pytest.mark.parametrize(("count", "kept", "older"), [(3, 3, 0), (4, 4, 0), (6, 4, 2)])
def test_entries_are_capped_and_the_rest_counted(count: int, kept: int, older: int) -> None:
    targets = [Target(SUB, 11, ("cache",))]
    log = [entry(100 - i, "x", resource="cache") for i in range(count)]
    (found,) = match_history(log, targets, SUBS, limit=4)
    assert (len(found.entries), found.older) == (kept, older)


@pytest.mark.parametrize("kind", ["", "Database", "database", "Pro Database"])
def test_resource_counts_for_database_types_or_none(kind: str) -> None:
    targets = [Target(SUB, 11, ("cache",))]
    assert ids(match_history([entry(1, "x", resource="cache", kind=kind)], targets, SUBS)) == {
        (SUB, 11): [1]
    }


@pytest.mark.parametrize("kind", ["User", "Subscription", "Payment method"])
def test_resource_of_another_type_does_not_count(kind: str) -> None:
    targets = [Target(SUB, 11, ("cache",))]
    assert match_history([entry(1, "x", resource="cache", kind=kind)], targets, SUBS) == ()


def test_the_simulators_descriptions_match_by_id() -> None:
    targets = [Target(SUB, 51170941, ("sessions",)), Target(SUB, 51170942, ("env",))]
    log = [
        entry(3, "Tag 'env' added to database 'sessions' (id 51170941): 'prod'"),
        entry(2, "Database 'sessions' (id 51170941) dataset size changed from 1GB to 2GB"),
        entry(1, "Database 'env' (id 51170942) was updated", resource="env"),
    ]
    assert ids(match_history(log, targets, SUBS)) == {
        (SUB, 51170941): [3, 2],
        (SUB, 51170942): [1],
    }
