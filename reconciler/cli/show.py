"""``reconciler show PLANFILE`` and ``reconciler schema``: no network, no spec files.

``show`` renders a saved plan (``plan --out FILE``) as text, Markdown or JSON, the way
``plan`` printed it; ``schema`` prints the JSON Schema of the spec (or, with ``--plan``, of
the plan's JSON form).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from reconciler.cli.runtime import Runtime
from reconciler.errors import UsageError
from reconciler.plan import (
    ActionKind,
    ApiRequest,
    FieldChange,
    History,
    HistoryEntry,
    Notice,
    Plan,
    PlannedAction,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.secrets import MASK

SPEC_SCHEMA = "reconciler.schema.json"
PLAN_SCHEMA = "plan.schema.json"
# A plan file's own keys: apply needs them, a shown plan does not.
_PLAN_FILE_ONLY = ("salt", "specPaths", "basis", "filters")


def run_show(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler show``: print a saved plan; returns 0.

    Raises:
        UsageError: the file is missing, not a plan file, or does not match the plan schema.
    """
    from reconciler.render import color_enabled, read_plan_file, render_markdown, render_text

    data = read_plan_file(args.planfile).data
    check_plan_shape(args.planfile, data)
    if args.format == "json":
        shown = {k: v for k, v in data.items() if k not in _PLAN_FILE_ONLY}
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(plan_from_dict(data)))
    else:
        color = not args.no_color and color_enabled(sys.stdout, os.environ)
        sys.stdout.write(render_text(plan_from_dict(data), color=color))
    return 0


def run_schema(args: argparse.Namespace, runtime: Runtime) -> int:
    """``reconciler schema [--plan]``: print the spec's (or the plan's) JSON Schema; returns 0."""
    from reconciler.spec import packaged_schema_text

    sys.stdout.write(packaged_schema_text(PLAN_SCHEMA if args.plan else SPEC_SCHEMA))
    return 0


def check_plan_shape(path: str, data: dict[str, Any]) -> None:
    """Raise UsageError naming the first place ``data`` breaks the plan schema."""
    import jsonschema

    from reconciler.spec import packaged_schema_text

    schema = json.loads(packaged_schema_text(PLAN_SCHEMA))
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(data)
    )
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise UsageError(f"{path} is not a valid plan file: at {where}: {error.message}")


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Return the :class:`Plan` a plan file's JSON describes (secrets stay masked).

    The JSON keeps only a refusal's sentence, so every refusal read back carries the rule
    ``MISSING_SUBSCRIPTION`` and subscription 0; renderers show only the sentence.
    """
    return Plan(
        subscriptions=tuple(
            SubscriptionSummary(s["id"], s["name"], s["liveDatabases"], s["specDatabases"])
            for s in data["subscriptions"]
        ),
        actions=tuple(_action(a) for a in data["actions"]),
        unmanaged=tuple(
            UnmanagedDatabase(u["subscriptionId"], u["databaseId"], u["name"])
            for u in data["unmanaged"]
        ),
        refusals=tuple(
            Refusal(RefusalRule.MISSING_SUBSCRIPTION, 0, text) for text in data["refusals"]
        ),
        fingerprint=data["fingerprint"],
        notices=tuple(
            Notice(n["subscriptionId"], n["name"], n["databaseId"], n["field"], n["message"])
            for n in data.get("notices", ())
        ),
        history=_histories(data),
        history_notes=tuple(data.get("historyNotes", ())),
    )


def _histories(data: dict[str, Any]) -> tuple[History, ...]:
    """The history arrays of a plan's actions (once per database) and subscriptions."""
    found: dict[tuple[int, int | None], History] = {}
    for a in data["actions"]:
        key = (a["subscriptionId"], a["databaseId"])
        if "history" in a and a["databaseId"] is not None and key not in found:
            found[key] = History(*key, a["name"], tuple(_entry(e) for e in a["history"]))
    for s in data["subscriptions"]:
        if "history" in s:
            entries = tuple(_entry(e) for e in s["history"])
            found[(s["id"], None)] = History(s["id"], None, s["name"], entries)
    return tuple(found.values())


def _entry(e: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        e["id"],
        e["time"],
        e["originator"],
        e["apiKeyName"],
        e["resource"],
        e["type"],
        e["description"],
    )


def _action(a: dict[str, Any]) -> PlannedAction:
    request = a["request"]
    return PlannedAction(
        kind=ActionKind(a["action"]),
        subscription_id=a["subscriptionId"],
        database_id=a["databaseId"],
        name=a["name"],
        changes=tuple(_change(c) for c in a["changes"]),
        request=ApiRequest(request["method"], request["path"], request.get("body")),
        reason=a["reason"],
    )


def _change(c: dict[str, Any]) -> FieldChange:
    if c["sensitive"]:
        before = None if c["before"] is None else MASK
        return FieldChange(c["path"], before, MASK, sensitive=True)
    return FieldChange(c["path"], c["before"], c["after"])
