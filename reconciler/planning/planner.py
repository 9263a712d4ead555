"""Turn desired and live state into a :class:`reconciler.plan.Plan`.

For each subscription of the spec, databases are matched by their ``databaseId`` when the
spec pins one (a differing ``name`` is then a rename), else by name. An existing database
gets ``backup`` (when its lifecycle asks) → ``upgrade`` → ``update`` (two of them when a new
password comes with a default-user switch; :mod:`~reconciler.planning.existing`); a missing
one gets ``create`` → follow-up ``update`` (fields the create call does not accept) →
``import`` (:mod:`~reconciler.planning.creates`), then ``tag`` when the tags differ
(:mod:`~reconciler.planning.tags`). All ``delete`` actions come last, each
after its backup (:mod:`~reconciler.planning.deletes`). Safety rules do not stop planning:
they are collected in :attr:`Plan.refusals`, so the user sees the whole plan and why it
cannot be applied. Spec fields the live read did not let compare are :attr:`Plan.notices`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.compare import RequestForms
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    SubscriptionSpec,
)
from reconciler.plan import (
    Notice,
    Plan,
    PlannedAction,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.planning.creates import create_actions
from reconciler.planning.deletes import Doomed, delete_steps
from reconciler.planning.existing import change_steps
from reconciler.planning.fingerprint import compute_fingerprint
from reconciler.planning.steps import Steps
from reconciler.planning.tags import tag_steps

#: The spec field that pins a database to its live id (matching by id, not by name).
_DATABASE_ID = "databaseId"


def build_plan(
    desired: DesiredState, live: LiveState, *, force: bool = False, salt: str = ""
) -> Plan:
    """Return the plan that brings ``live`` in line with ``desired``.

    ``force`` lifts the delete safety threshold (no other rule). ``salt`` seeds the salted
    secret digests of the fingerprint. Never raises for a refused plan: refusals are listed
    in the returned plan, which must then not be applied.
    """
    summaries: list[SubscriptionSummary] = []
    unmanaged: list[UnmanagedDatabase] = []
    changes: list[PlannedAction] = []
    deletes: list[PlannedAction] = []
    refusals: list[Refusal] = []
    notices: list[Notice] = []
    forms = RequestForms()  # each live database's request form, for comparison and fingerprint
    for spec in merge_subscriptions(desired):
        sub = live.subscriptions.get(spec.id)
        summaries.append(_summary(spec, sub))
        planned = _plan_subscription(spec, sub, force, forms)
        changes += planned.changes.actions
        deletes += planned.deletes.actions
        refusals += planned.changes.refusals + planned.deletes.refusals
        notices += planned.changes.notices
        unmanaged += planned.unmanaged
    actions = (*changes, *deletes)
    return Plan(
        subscriptions=tuple(summaries),
        actions=actions,
        unmanaged=tuple(unmanaged),
        refusals=tuple(refusals),
        fingerprint=compute_fingerprint(actions, live, desired, salt, forms),
        notices=tuple(notices),
    )


def merge_subscriptions(desired: DesiredState) -> list[SubscriptionSpec]:
    """Return one SubscriptionSpec per id, in first-seen order (databases concatenated).

    The spec loader normally merges already; a subscription named by several entries is
    pruned when any of them asks for it.
    """
    merged: dict[int, SubscriptionSpec] = {}
    for sub in desired.subscriptions:
        seen = merged.get(sub.id)
        if seen is None:
            merged[sub.id] = sub
        else:
            databases = seen.databases + sub.databases
            merged[sub.id] = replace(seen, prune=seen.prune or sub.prune, databases=databases)
    return list(merged.values())


def _summary(spec: SubscriptionSpec, sub: LiveSubscription | None) -> SubscriptionSummary:
    """Return the header facts of one subscription (no name or databases when missing)."""
    if sub is None:
        return SubscriptionSummary(spec.id, "", 0, len(spec.databases))
    return SubscriptionSummary(sub.id, sub.name, len(sub.databases), len(spec.databases))


@dataclass(frozen=True)
class _Planned:
    """One subscription planned: its changes and its deletes (which go last in the plan)."""

    changes: Steps = field(default_factory=Steps)
    deletes: Steps = field(default_factory=Steps)
    unmanaged: tuple[UnmanagedDatabase, ...] = ()


def _plan_subscription(
    spec: SubscriptionSpec, sub: LiveSubscription | None, force: bool, forms: RequestForms
) -> _Planned:
    """Return the actions, unmanaged databases and refusals of one subscription."""
    if sub is None:
        message = f"subscription {spec.id} does not exist (or this API key cannot see it)"
        refusal = Refusal(RefusalRule.MISSING_SUBSCRIPTION, spec.id, message)
        return _Planned(changes=Steps.refused(refusal))
    if not sub.is_pro_single_region:
        kind = sub.raw.get("deploymentType")
        message = (
            f'subscription {sub.id} "{sub.name}" is not a Pro single-region subscription '
            f"(deploymentType {kind!r}); reconciler manages only those"
        )
        refusal = Refusal(RefusalRule.NOT_SINGLE_REGION, sub.id, message)
        return _Planned(changes=Steps.refused(refusal))
    by_name: dict[str, LiveDatabase] = {}
    for db in sub.databases:
        by_name.setdefault(db.name, db)
    by_id = {db.id: db for db in sub.databases}
    changes = Steps()
    doomed: list[Doomed] = []
    matched: set[int] = set()
    for want in spec.databases:
        pinned = want.fields.get(_DATABASE_ID)
        if pinned is not None and pinned not in by_id:
            if want.state != "absent":  # an absent database pinned by id is already gone
                changes += Steps.refused(_unknown_database_id(sub, want, pinned))
            continue
        have = by_id[pinned] if pinned is not None else by_name.get(want.name)
        if have is not None:
            matched.add(have.id)
        if want.state == "absent":
            if have is not None:
                doomed.append(Doomed(have, want.lifecycle, "state: absent", pruned=False))
        elif have is None:
            changes += Steps.of(create_actions(spec.id, want))
        else:
            changes += change_steps(sub, want, have, forms)
        changes += tag_steps(spec.id, want, have)
    unmanaged = _unnamed(spec, sub, doomed, matched)
    return _Planned(changes, delete_steps(sub, doomed, force), unmanaged)


def _unknown_database_id(sub: LiveSubscription, want: DatabaseSpec, pinned: Any) -> Refusal:
    """Return the refusal of a spec ``databaseId`` the subscription does not hold."""
    message = (
        f"{want.location}: database {want.name!r} pins databaseId {pinned}, which does not "
        f'exist in subscription {sub.id} "{sub.name}"; remove databaseId to create it, '
        "or write the id of a database of this subscription"
    )
    rule = RefusalRule.UNKNOWN_DATABASE_ID
    return Refusal(rule, sub.id, message, want.name, None, _DATABASE_ID)


def _unnamed(
    spec: SubscriptionSpec, sub: LiveSubscription, doomed: list[Doomed], matched: set[int]
) -> tuple[UnmanagedDatabase, ...]:
    """Doom (prune on) or return as unmanaged (prune off) the live databases in no file.

    A database is in a file when a spec entry matched it (by ``databaseId`` or by name) or
    names it.
    """
    named = {d.name for d in spec.databases}
    unmanaged: list[UnmanagedDatabase] = []
    for db in sub.databases:
        if db.id in matched or db.name in named:
            continue
        if spec.prune:
            doomed.append(Doomed(db, Lifecycle(), "named in no file; prune is on", pruned=True))
        else:
            unmanaged.append(UnmanagedDatabase(sub.id, db.id, db.name))
    return tuple(unmanaged)
