"""The Terraform-like text plan (``--format text``, the default).

Layout::

    Subscription 2001234 "prod" — 4 databases live, 3 in spec

      ~ update sessions (db 51170941)
          datasetSizeInGb       1 → 2
          password              (sensitive value changed)
          changed 2026-11-20 14:02 UTC by alice@example.com (console): "Database 'sessions' …"
      » backup legacy-cache (db 51170942) to s3://backups/adhoc     before delete
      - delete legacy-cache (db 51170942)
      ! unverified cache (db 51170943): fields the plan could not compare
          cannot compare saslPassword: not returned by the API
      ? unmanaged analytics (db 51170950): in no file; prune is off

    Plan: 0 to create, 1 to update, 1 to delete, 1 backup.  Unmanaged: 1.  Not compared: 1.

A notice (a spec field the API did not return, so the plan cannot promise it matches) is a
line under its database, as is the history of a database the plan changes (who changed it,
from the account's system log: ``changed 2026-11-20 14:02 UTC by alice@example.com
(console): "…"``); the subscription's own history is under its header. A ``Note:`` line before the
summary says when the history is unavailable or partial. Colour (ANSI) only
when asked for; :func:`color_enabled` says when a stream wants it.
Control characters in names and values are shown escaped (``\\x1b``), so a database or
subscription name cannot move the cursor or forge plan lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TextIO

from reconciler.plan import ActionKind, History, Plan, PlannedAction
from reconciler.render._common import (
    SubscriptionBlock,
    action_detail,
    change_text,
    database_label,
    group_by_subscription,
    listed_changes,
    notices_by_database,
    subscription_header,
    summary_line,
    unmanaged_text,
)
from reconciler.render.history import (
    HistoryKey,
    history_by_key,
    history_lines,
    last_of_each_database,
)
from reconciler.secrets import mask_text

_ACTION_INDENT = "  "
_CHANGE_INDENT = "      "
_MIN_PATH_WIDTH = 22
_REASON_GAP = "     "
_UPGRADE_GAP = "   "

_RESET = "\x1b[0m"
_BOLD = "1"
_KIND_STYLES = {
    ActionKind.CREATE: "32",
    ActionKind.UPDATE: "33",
    ActionKind.DELETE: "31",
    ActionKind.BACKUP: "36",
    ActionKind.UPGRADE: "35",
    ActionKind.IMPORT: "34",
    ActionKind.TAG: "33",
}
_UNMANAGED_STYLE = "2"
_REFUSED_STYLE = "1;31"
_NOTICE_STYLE = "33"
_HISTORY_STYLE = "2"
_UNVERIFIED = "unverified {}: fields the plan could not compare"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def color_enabled(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Return True when plan output to ``stream`` should be coloured.

    Any non-empty ``NO_COLOR`` turns colour off (https://no-color.org) and wins over
    everything. Otherwise a non-empty ``FORCE_COLOR`` decides: ``0``/``false``/``no``/``off``
    turn colour off, any other value on. Otherwise colour is on only for a TTY whose
    ``TERM`` is not ``dumb``.
    """
    if environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR", "")
    if force:
        return force.strip().lower() not in _FALSE_WORDS
    if environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def render_text(plan: Plan, *, color: bool = False) -> str:
    """Return the text plan, ending with a newline; ANSI colour only when ``color``."""
    paint = _Painter(color)
    history = history_by_key(plan)
    lines: list[str] = []
    for block in group_by_subscription(plan):
        lines.append(paint(_BOLD, printable(subscription_header(block))))
        lines.extend(_history_lines(history, (block.id, None), "subscription ", paint))
        lines.append("")
        lines.extend(_block_lines(block, paint, history))
        lines.append("")
    if plan.refusals:
        lines.append(paint(_REFUSED_STYLE, "Refused:"))
        for refusal in plan.refusals:
            lines.append(f"{_ACTION_INDENT}{paint(_REFUSED_STYLE, '!')} {_clean(str(refusal))}")
        lines.append("")
    lines.extend(f"Note: {_clean(note)}" for note in plan.history_notes)
    lines.append(paint(_BOLD, summary_line(plan)))
    return "\n".join(lines) + "\n"


def printable(text: str) -> str:
    """Return ``text`` with control characters shown as Python escapes (``\\n``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _clean(text: str) -> str:
    """Mask credentials in URIs and escape control characters of free text."""
    return printable(mask_text(text))


class _Painter:
    """Wraps text in an ANSI style when colour is on; the identity otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.enabled else text


def _block_lines(
    block: SubscriptionBlock, paint: _Painter, history: dict[HistoryKey, History]
) -> list[str]:
    """Return the action, history, notice and unmanaged lines of one subscription block."""
    lines: list[str] = []
    last = last_of_each_database(block.actions)
    for index, action in enumerate(block.actions):
        lines.extend(_action_lines(action, paint))
        if index in last:
            lines.extend(_history_lines(history, last[index], "", paint))
    for label, notices in notices_by_database(block.notices):
        mark = paint(_NOTICE_STYLE, "!")
        lines.append(f"{_ACTION_INDENT}{mark} {printable(_UNVERIFIED.format(label))}")
        lines.extend(f"{_CHANGE_INDENT}{_clean(str(n))}" for n in notices)
    for db in block.unmanaged:
        mark = paint(_UNMANAGED_STYLE, "?")
        lines.append(f"{_ACTION_INDENT}{mark} {printable(unmanaged_text(db))}")
    if not lines:
        lines.append(f"{_ACTION_INDENT}(no changes)")
    return lines


def _history_lines(
    history: dict[HistoryKey, History], key: HistoryKey, lead: str, paint: _Painter
) -> list[str]:
    """Return the history lines of one database (or, with ``lead``, a subscription)."""
    found = history.get(key)
    if found is None:
        return []
    indent = _ACTION_INDENT if lead else _CHANGE_INDENT
    return [
        f"{indent}{paint(_HISTORY_STYLE, _clean(lead + line))}" for line in history_lines(found)
    ]


def _action_lines(action: PlannedAction, paint: _Painter) -> list[str]:
    """Return the head line of an action and its aligned field-change lines."""
    kind = action.kind
    mark = paint(_KIND_STYLES[kind], f"{kind.symbol} {kind.value}")
    head = f"{_ACTION_INDENT}{mark} {_head_rest(action)}"
    changes = listed_changes(action)
    width = max([_MIN_PATH_WIDTH] + [len(c.path) + 2 for c in changes])
    body = [
        f"{_CHANGE_INDENT}{printable(c.path).ljust(width)}{printable(change_text(c, action))}"
        for c in changes
    ]
    return [head, *body]


def _head_rest(action: PlannedAction) -> str:
    """Return what follows the mark: ``sessions (db 1) to s3://…     before delete``."""
    text = database_label(action.name, action.database_id)
    detail = action_detail(action)
    if detail:
        gap = _UPGRADE_GAP if action.kind is ActionKind.UPGRADE else " "
        text += gap + detail
    if action.reason:
        text += _REASON_GAP + action.reason
    return _clean(text)
