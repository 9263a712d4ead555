"""What moved between a saved plan file and a fresh plan: the lines of "plan is stale".

:func:`stale_reasons` compares two plan file documents (see
:mod:`reconciler.render.planfile`): the saved one, its fingerprint already checked, and one
made now from a fresh plan with the saved salt. Every line names what moved (spec paths,
flags, spec files, live subscriptions, databases and fields, actions) and never a value; a
changed secret is only said to have changed. The history (who changed a database, from
the system log: ``history`` arrays and ``historyNotes``) informs only: it is left out of the
comparison, so a log that grew since the plan was saved does not make the plan stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: At most this many lines name moved things; the rest are counted.
MAX_REASONS = 20

_DERIVED = ("summary", "subscriptions", "unmanaged", "refusals", "reconcilerVersion")


def stale_reasons(saved: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    """Return one line per thing that differs between ``saved`` and ``fresh``; [] when equal.

    Both are plan file documents made with the same salt, so their digests compare.
    """
    saved, fresh = without_history(saved), without_history(fresh)
    reasons = [
        *_inputs(saved, fresh),
        *_spec_files(_basis(saved, "spec"), _basis(fresh, "spec")),
        *_secrets(saved, fresh),
        *_live(_basis(saved, "live"), _basis(fresh, "live")),
        *_actions(saved.get("actions"), fresh.get("actions")),
    ]
    if not reasons:
        moved = [key for key in _DERIVED if saved.get(key) != fresh.get(key)]
        if moved:
            verb = "differs" if len(moved) == 1 else "differ"
            reasons.append(f"the plan's {', '.join(moved)} {verb} from a fresh plan's")
    if len(reasons) > MAX_REASONS:
        more = len(reasons) - MAX_REASONS + 1
        reasons = [*reasons[: MAX_REASONS - 1], f"… and {more} more"]
    return reasons


def without_history(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a plan document without its informational history."""
    out = {k: v for k, v in document.items() if k != "historyNotes"}
    for key in ("actions", "subscriptions"):
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [_no_history(item) for item in items]
    return out


def _no_history(item: Any) -> Any:
    if isinstance(item, Mapping) and "history" in item:
        return {k: v for k, v in item.items() if k != "history"}
    return item


def _basis(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    basis = document.get("basis")
    part = basis.get(key) if isinstance(basis, Mapping) else None
    return dict(part) if isinstance(part, Mapping) else {}


def _inputs(saved: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    """The spec paths and the plan-shaping flags."""
    out = []
    if saved.get("specPaths") != fresh.get("specPaths"):
        before = " ".join(saved.get("specPaths") or [])
        now = " ".join(fresh.get("specPaths") or [])
        out.append(f"spec paths differ: the plan was made from {before!r}, this run reads {now!r}")
    old = saved.get("filters") or {}
    new = fresh.get("filters") or {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            out.append(
                f"--{name} was {_shown(old.get(name))} when planned, {_shown(new.get(name))} now"
            )
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "given" if value else "not given"
    return repr(value)


def _spec_files(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for file in sorted(set(old) | set(new)):
        if file not in new:
            out.append(f"spec file {file} is no longer read")
        elif file not in old:
            out.append(f"spec file {file} is new")
        elif old[file] != new[file]:
            out.append(f"spec file {file} changed")
    return out


def _secrets(saved: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[str]:
    if _basis_value(saved, "secrets") == _basis_value(fresh, "secrets"):
        return []
    return ["a secret changed (a password or a URI with credentials, in the spec or live)"]


def _basis_value(document: Mapping[str, Any], key: str) -> Any:
    basis = document.get("basis")
    return basis.get(key) if isinstance(basis, Mapping) else None


def _live(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for sub_id in sorted(set(old) | set(new), key=str):
        before, now = old.get(sub_id), new.get(sub_id)
        if before == now:
            continue
        if not isinstance(before, Mapping) or not isinstance(now, Mapping):
            what = "no longer exists" if before else "exists now"
            out.append(f"live: subscription {sub_id} {what}")
            continue
        if before.get("subscription") != now.get("subscription"):
            out.append(f"live: subscription {sub_id} changed (name or deployment)")
        out.extend(_databases(sub_id, before.get("databases") or {}, now.get("databases") or {}))
    return out


def _databases(sub_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for db_id in sorted(set(old) | set(new), key=lambda i: (len(str(i)), str(i))):
        before, now = old.get(db_id), new.get(db_id)
        if before == now:
            continue
        where = f"live: subscription {sub_id}, database {_name(now or before)} (id {db_id})"
        if before is None or now is None:
            out.append(f"{where} {'was created' if before is None else 'was deleted'}")
            continue
        if before.get("name") != now.get("name"):
            out.append(f"{where} was renamed from {_name(before)}")
        fields_before = before.get("fields") or {}
        fields_now = now.get("fields") or {}
        moved = [
            name
            for name in sorted(set(fields_before) | set(fields_now))
            if fields_before.get(name) != fields_now.get(name)
        ]
        if moved:
            out.append(f"{where}: {', '.join(moved)} changed")
    return out


def _name(database: Any) -> str:
    name = database.get("name") if isinstance(database, Mapping) else None
    return repr(name) if isinstance(name, str) else "(unnamed)"


def _actions(old: Any, new: Any) -> list[str]:
    """The actions in one plan and not the other, or changed, by kind, name and subscription."""
    before = old if isinstance(old, list) else []
    now = new if isinstance(new, list) else []
    if before == now:
        return []
    before_keys = [_key(a) for a in before]
    now_keys = [_key(a) for a in now]
    out = []
    for action in now:
        if action in before:
            continue
        if _key(action) in before_keys:
            out.append(f"the action {_action(action)} differs from a fresh plan's")
        else:
            out.append(f"a fresh plan has an action the file lacks: {_action(action)}")
    out += [
        f"the file has an action a fresh plan lacks: {_action(a)}"
        for a in before
        if a not in now and _key(a) not in now_keys
    ]
    return out or ["the file's actions are in another order than a fresh plan's"]


def _key(action: Any) -> tuple[Any, ...]:
    if not isinstance(action, Mapping):
        return (repr(action),)
    return tuple(action.get(k) for k in ("action", "subscriptionId", "databaseId", "name"))


def _action(action: Any) -> str:
    if not isinstance(action, Mapping):
        return "(not an action)"
    database = action.get("databaseId")
    where = f"subscription {action.get('subscriptionId')}"
    where += f", database id {database}" if database is not None else ""
    return f"{action.get('action')} {_name(action)} ({where})"
