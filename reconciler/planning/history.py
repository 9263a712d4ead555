"""Which system-log entries concern which database of a plan: a pure function of both.

The plan's *targets* are the existing databases it changes (update, upgrade, tag, backup,
delete): :func:`history_targets`. :func:`match_history` gives each the log entries that
concern it, newest first:

- an id in the description decides: ``database 51170941``, ``db #51170941``,
  ``(id 51170941)`` concern that database and no other, whatever the ``resource`` says;
  ``subscription 2001234`` (or ``subscription id …``, ``Subscription 'prod' (id …)``) rules
  out the other subscriptions;
- else its name: the entry's ``resource`` equals the database's live name (or, for a
  rename, its new name) and its ``type`` is empty or a database, or the description quotes
  the name (``'cache'``, ``"cache"``): a quote ends the name, so ``cache`` never takes the
  entries of ``cache-eu``. A name two targets share (in two subscriptions) decides nothing
  without a subscription id: such an entry is left out rather than shown under both;
- entries of type subscription that name a target's subscription (by its name as
  ``resource``, or its id) are that subscription's own history, shown apart.

Entries stop at the tool's own last change when ``key_name`` (the name of the API key in
use) is known: the newest matching entry made with that key ends the list (it and older
entries are left out; its time is ``History.since``). A same-named database in a
subscription the plan does not read cannot be told apart by name alone; ids can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.plan import History, HistoryEntry, Plan

#: Entries kept per database (and per subscription); older matches are only counted.
MAX_ENTRIES = 10

_NUMBER_GAP = r"[\s:#=]{0,3}"
_QUOTED_NAME = r"""(?:'[^']*'|"[^"]*")\s*\(?"""
_SUBSCRIPTION_ID = re.compile(
    rf"(?i)\bsubscriptions?\s*(?:{_QUOTED_NAME})?{_NUMBER_GAP}(?:id{_NUMBER_GAP})?(\d+)\b"
)
_DATABASE_ID = re.compile(rf"(?i)(?:\bdatabases?|\bdbs?|\bid|#){_NUMBER_GAP}(\d+)\b")
_OPEN_QUOTES = "'\"`\u2018\u201c\u00ab"
_CLOSE_QUOTES = "'\"`\u2019\u201d\u00bb"


@dataclass(frozen=True)
class Target:
    """An existing database the plan changes: its ids and the names the log may use."""

    subscription_id: int
    database_id: int
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        """The live name (the first)."""
        return self.names[0]


@dataclass(frozen=True)
class _Clues:
    """What one entry's description says about ids."""

    subscriptions: frozenset[int]
    databases: frozenset[int]


def history_targets(plan: Plan) -> tuple[Target, ...]:
    """Return the existing databases ``plan`` changes, in plan order, each once.

    A rename (a ``name`` change) adds the new name to the live one.
    """
    names: dict[tuple[int, int], list[str]] = {}
    for action in plan.actions:
        if action.database_id is None:
            continue
        known = names.setdefault((action.subscription_id, action.database_id), [action.name])
        for change in action.changes:
            renamed = change.path == "name" and isinstance(change.after, str)
            if renamed and change.after not in known:
                known.append(change.after)
    return tuple(Target(sub, db, tuple(found)) for (sub, db), found in names.items())


def match_history(
    entries: Sequence[HistoryEntry],
    targets: Sequence[Target],
    subscriptions: Mapping[int, str],
    *,
    key_name: str | None = None,
    limit: int = MAX_ENTRIES,
) -> tuple[History, ...]:
    """Return the history of each target that has one, then of each target's subscription.

    ``entries`` are newest first; ``subscriptions`` maps ids to names. Histories with no
    entry are left out.
    """
    shared = _shared_names(targets)
    found: dict[tuple[int, int | None], list[HistoryEntry]] = {}
    for entry in entries:
        clues = _clues(entry.description)
        hits = [t for t in targets if _concerns(entry, t, clues, shared)]
        for target in hits:
            found.setdefault((target.subscription_id, target.database_id), []).append(entry)
        if not hits:
            for sub_id in _subscriptions_of(entry, clues, targets, subscriptions):
                found.setdefault((sub_id, None), []).append(entry)
    databases = [
        _history(t.subscription_id, t.database_id, t.name, found.get(key), key_name, limit)
        for t in targets
        for key in [(t.subscription_id, t.database_id)]
    ]
    own = [
        _history(sub_id, None, subscriptions.get(sub_id, ""), found.get(key), key_name, limit)
        for sub_id in dict.fromkeys(t.subscription_id for t in targets)
        for key in [(sub_id, None)]
    ]
    return tuple(h for h in (*databases, *own) if h is not None)


def attach_history(
    plan: Plan,
    entries: Sequence[HistoryEntry],
    notes: Sequence[str],
    *,
    key_name: str | None = None,
) -> Plan:
    """Return ``plan`` with the history of its targets and the notes of the log's read."""
    subscriptions = {s.id: s.name for s in plan.subscriptions}
    found = match_history(entries, history_targets(plan), subscriptions, key_name=key_name)
    return replace(plan, history=found, history_notes=tuple(notes))


def _clues(description: str) -> _Clues:
    subscriptions = frozenset(int(m) for m in _SUBSCRIPTION_ID.findall(description))
    rest = _SUBSCRIPTION_ID.sub(" ", description)
    return _Clues(subscriptions, frozenset(int(m) for m in _DATABASE_ID.findall(rest)))


def _shared_names(targets: Iterable[Target]) -> frozenset[str]:
    """Names held by targets of more than one subscription."""
    owners: dict[str, set[int]] = {}
    for target in targets:
        for name in target.names:
            owners.setdefault(name, set()).add(target.subscription_id)
    return frozenset(name for name, subs in owners.items() if len(subs) > 1)


def _concerns(entry: HistoryEntry, target: Target, clues: _Clues, shared: frozenset[str]) -> bool:
    """True when ``entry`` is about ``target`` (see the module docstring)."""
    if clues.subscriptions and target.subscription_id not in clues.subscriptions:
        return False
    if clues.databases:
        return target.database_id in clues.databases
    if not _names_it(entry, target):
        return False
    return bool(clues.subscriptions) or not (set(target.names) & shared)


def _names_it(entry: HistoryEntry, target: Target) -> bool:
    if entry.resource in target.names and _is_database_type(entry.type):
        return True
    return any(_quoted(name, entry.description) for name in target.names)


def _is_database_type(kind: str) -> bool:
    return not kind or "database" in kind.lower()


def _quoted(name: str, text: str) -> bool:
    """True when ``text`` holds ``name`` between quotes (any common quote marks)."""
    pattern = f"[{re.escape(_OPEN_QUOTES)}]{re.escape(name)}[{re.escape(_CLOSE_QUOTES)}]"
    return re.search(pattern, text) is not None


def _subscriptions_of(
    entry: HistoryEntry,
    clues: _Clues,
    targets: Sequence[Target],
    subscriptions: Mapping[int, str],
) -> list[int]:
    """The targets' subscriptions an entry of type subscription is about ([] for others)."""
    if "subscription" not in entry.type.lower():
        return []
    wanted = dict.fromkeys(t.subscription_id for t in targets)
    return [
        sub_id
        for sub_id in wanted
        if sub_id in clues.subscriptions
        or (
            not clues.subscriptions
            and entry.resource
            and entry.resource == subscriptions.get(sub_id)
        )
    ]


def _history(
    subscription_id: int,
    database_id: int | None,
    name: str,
    matched: list[HistoryEntry] | None,
    key_name: str | None,
    limit: int,
) -> History | None:
    """Return the history of one database or subscription, cut at the tool's own change."""
    kept: list[HistoryEntry] = []
    since = ""
    for entry in matched or ():
        if key_name is not None and entry.api_key_name == key_name:
            since = entry.time
            break
        kept.append(entry)
    if not kept:
        return None
    return History(
        subscription_id, database_id, name, tuple(kept[:limit]), max(0, len(kept) - limit), since
    )
