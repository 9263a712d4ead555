"""The Markdown plan (``--format markdown``), for pull-request comments.

A heading, a summary table (``| action | count |``), the refusals, the notices (spec fields
the API did not let compare, never truncated: one per field at most), the history (who
changed the databases the plan changes, from the account's system log: at most three
entries per database, so it stays small; or the note saying why it is unavailable), then one
``<details>`` block per subscription holding a table of its actions
(``| | action | database | changes |``) and its unmanaged databases.

Names and values come from spec files and the live account, so every piece of them is
escaped for where it lands: in Markdown, ``&``, ``<``, ``>``, backslash and backtick become
entities, ``| * _ [ ] ~ $`` are backslash-escaped, a leading block marker (``#``, ``-``,
``1.``) is neutralised and line breaks become ``<br>``; inside ``<summary>`` (raw HTML)
the text is HTML-escaped. A name cannot end a table cell, open a tag or start a list.

GitHub refuses comments over 65,536 characters, so the output never exceeds ``limit``:
when the whole plan does not fit, rows are dropped from the end (whole ``<details>``
blocks stay balanced) and a note says how many were left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.plan import History, Plan, PlannedAction
from reconciler.render._common import (
    SubscriptionBlock,
    action_detail,
    change_text,
    database_label,
    group_by_subscription,
    listed_changes,
    notices_by_database,
    subscription_header,
    summary_counts,
)
from reconciler.render.history import history_lines
from reconciler.secrets import mask_text

HEADING = "### reconciler plan"
_MAX_CHANGES = 50  # per action; a row stays readable and small
_MAX_CHANGE_CHARS = 300
_MAX_HISTORY_ITEMS = 20

_LINE_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "&#92;", "`": "&#96;"}
_BACKSLASHED = frozenset("|*_[]~$")
_ORDERED_MARKER = re.compile(r"^(\d+)([.)])(?=\s|$)")
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.\[\]-]+")


def md_escape(text: str, *, newline: str = "<br>") -> str:
    """Return ``text`` safe inside a Markdown table cell or list item.

    Line breaks become ``newline``; other control characters become spaces.
    """
    return newline.join(_escape_line(line) for line in _LINE_BREAKS.split(text))


def _escape_line(line: str) -> str:
    line = _CONTROL.sub(" ", line).strip()
    out = "".join(_ENTITIES.get(ch) or (f"\\{ch}" if ch in _BACKSLASHED else ch) for ch in line)
    if out[:1] in ("#", "+", "-", "="):
        return "\\" + out
    return _ORDERED_MARKER.sub(r"\1\\\2", out)


def html_text(text: str) -> str:
    """Return ``text`` safe as the content of a raw HTML element, on one line."""
    return html.escape(_CONTROL.sub(" ", _LINE_BREAKS.sub(" ", text)))


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


@dataclass(frozen=True)
class _Block:
    """One subscription's ``<details>``: pre-rendered table rows and unmanaged items."""

    header: str
    rows: tuple[str, ...]
    unmanaged: tuple[str, ...]

    def render(self, rows: Sequence[str], unmanaged: Sequence[str]) -> str:
        """Return the balanced ``<details>`` block showing ``rows`` and ``unmanaged``."""
        counts = _counts_text(len(self.rows), len(self.unmanaged))
        shown = len(rows) + len(unmanaged)
        if shown < len(self.rows) + len(self.unmanaged):
            counts += f" (first {shown} shown)"
        parts = [f"<details><summary>{self.header}: {counts}</summary>"]
        if rows:
            parts.append(
                "\n".join(["| | action | database | changes |", "|---|---|---|---|", *rows])
            )
        if unmanaged:
            parts.append("Unmanaged (in no file; prune is off):")
            parts.append("\n".join(unmanaged))
        if not self.rows and not self.unmanaged:
            parts.append("No changes.")
        parts.append("</details>")
        return "\n\n".join(parts)


def _counts_text(actions: int, unmanaged: int) -> str:
    if not actions and not unmanaged:
        return "no changes"
    parts = []
    if actions:
        parts.append(f"{actions} action" + ("" if actions == 1 else "s"))
    if unmanaged:
        parts.append(f"{unmanaged} unmanaged")
    return ", ".join(parts)


class _Document:
    """The pre-rendered pieces of the comment, assembled with as many rows as fit."""

    def __init__(self, plan: Plan, limit: int) -> None:
        self.limit = limit
        self.head = _head(plan)
        self.refusals = [f"- {md_escape(mask_text(str(r)))}" for r in plan.refusals]
        self.notices = [
            f"- {md_escape(mask_text(label))}: {md_escape(mask_text(str(n)))}"
            for block in group_by_subscription(plan)
            for label, found in notices_by_database(block.notices)
            for n in found
        ]
        self.history = _history(plan)
        self.blocks = [_block(b) for b in group_by_subscription(plan)]
        self.item_count = sum(len(b.rows) + len(b.unmanaged) for b in self.blocks)

    def render(self, n_refusals: int, n_items: int) -> str:
        """Return the comment with the first ``n_refusals`` refusals and ``n_items`` items."""
        parts = [self.head]
        if self.refusals:
            parts.append("**Refused** — this plan cannot be applied:")
            if n_refusals:
                parts.append("\n".join(self.refusals[:n_refusals]))
        if self.notices:
            parts.append("**Not compared** — the API did not let these spec fields be compared:")
            parts.append("\n".join(self.notices))
        parts.extend(self.history)
        left, omitted_actions, omitted_unmanaged = n_items, 0, 0
        for block in self.blocks:
            rows = block.rows[: max(left, 0)]
            unmanaged = block.unmanaged[: max(left - len(rows), 0)]
            left -= len(block.rows) + len(block.unmanaged)
            omitted_actions += len(block.rows) - len(rows)
            omitted_unmanaged += len(block.unmanaged) - len(unmanaged)
            if rows or unmanaged or (left >= 0 and not block.rows and not block.unmanaged):
                parts.append(block.render(rows, unmanaged))
        omitted_refusals = len(self.refusals) - n_refusals
        if omitted_actions or omitted_unmanaged or omitted_refusals:
            parts.append(self.note(omitted_actions, omitted_unmanaged, omitted_refusals))
        return "\n\n".join(parts) + "\n"

    def note(self, actions: int, unmanaged: int, refusals: int) -> str:
        """Return the truncation note naming what was left out."""
        missing = [
            f"{n} more {noun}" + ("" if n == 1 else plural)
            for n, noun, plural in (
                (actions, "action", "s"),
                (unmanaged, "unmanaged database", "s"),
                (refusals, "refusal", "s"),
            )
            if n
        ]
        what = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        return (
            f"… {what} not shown (plan truncated to fit a {self.limit:,}-character comment); "
            "run `reconciler plan` for the full plan."
        )


def render_markdown(plan: Plan, *, limit: int = 65_000) -> str:
    """Return the Markdown plan, at most ``limit`` characters long.

    When the whole plan is longer, action rows (then unmanaged items, then refusals) are
    dropped from the end and a note says how many; below a few hundred characters only the
    note itself, clipped, is returned.
    """
    doc = _Document(plan, limit)
    n_refusals = len(doc.refusals)
    full = doc.render(n_refusals, doc.item_count)
    if len(full) <= limit:
        return full
    n_items = _largest(lambda k: len(doc.render(n_refusals, k)) <= limit, doc.item_count)
    if n_items is not None:
        return doc.render(n_refusals, n_items)
    n_shown = _largest(lambda k: len(doc.render(k, 0)) <= limit, n_refusals)
    if n_shown is not None:
        return doc.render(n_shown, 0)
    return doc.note(len(plan.actions), len(plan.unmanaged), n_refusals)[:limit]


def _largest(fits: Callable[[int], bool], high: int) -> int | None:
    """Return the largest ``k`` in ``0..high`` with ``fits(k)`` (monotone), or None."""
    if not fits(0):
        return None
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def _head(plan: Plan) -> str:
    """Return the heading, the summary table and, without actions, the no-changes line."""
    rows = [f"| {kind} | {count} |" for kind, count in summary_counts(plan).items()]
    table = "\n".join(["| action | count |", "|:--|--:|", *rows])
    parts = [HEADING, table]
    if not plan.actions and not plan.refusals and plan.notices:
        parts.append("**No changes planned**, but some spec fields could not be compared.")
    elif not plan.actions and not plan.refusals:
        parts.append("**No changes.** The live account matches the spec.")
    return "\n\n".join(parts)


def _history(plan: Plan) -> list[str]:
    """Return the History section: a heading line, then one item per database (or none).

    At most :data:`_MAX_HISTORY_ITEMS` databases (each at most four lines), so the section
    never crowds the actions out of a comment.
    """
    labels = {(a.subscription_id, a.database_id): a.name for a in plan.actions}
    items = [_history_item(found, labels) for found in plan.history[:_MAX_HISTORY_ITEMS]]
    left_out = len(plan.history) - len(items)
    if left_out:
        items.append(f"- … and {left_out} more; run `reconciler plan` for all of it")
    notes = [f"_{md_escape(mask_text(note))}_" for note in plan.history_notes]
    if not items:
        return ["**History**: " + " ".join(notes)] if notes else []
    head = "**History** — who changed these databases, from the account's system log:"
    return [head, "\n".join(items), *notes]


def _history_item(found: History, labels: Mapping[tuple[int, int | None], str]) -> str:
    """Return one database's (or subscription's) history as a list item with sub-items."""
    if found.database_id is None:
        label = f'subscription {found.subscription_id} "{found.name}"'
    else:
        name = labels.get((found.subscription_id, found.database_id), found.name)
        label = database_label(name, found.database_id)
    lines = [f"  - {md_escape(line)}" for line in history_lines(found)]
    return "\n".join([f"- {md_escape(_clip(mask_text(label), _MAX_CHANGE_CHARS))}", *lines])


def _block(block: SubscriptionBlock) -> _Block:
    return _Block(
        header=html_text(subscription_header(block)),
        rows=tuple(_row(a) for a in block.actions),
        unmanaged=tuple(
            f"- {md_escape(database_label(u.name, u.database_id))}" for u in block.unmanaged
        ),
    )


def _row(action: PlannedAction) -> str:
    """Return the table row of one action: mark, kind, database, changes."""
    cells = (
        md_escape(action.kind.symbol),
        action.kind.value,
        md_escape(
            database_label(_clip(mask_text(action.name), _MAX_CHANGE_CHARS), action.database_id)
        ),
        "<br>".join(_change_items(action)),
    )
    return "| " + " | ".join(cells) + " |"


def _change_items(action: PlannedAction) -> list[str]:
    """Return the lines of the changes cell: detail, reason, then field changes."""
    items = []
    detail = action_detail(action)
    if detail:
        items.append(md_escape(_clip(detail, _MAX_CHANGE_CHARS)))
    if action.reason:
        items.append(f"<em>{md_escape(mask_text(action.reason))}</em>")
    changes = listed_changes(action)
    for change in changes[:_MAX_CHANGES]:
        text = _clip(change_text(change, action), _MAX_CHANGE_CHARS)
        items.append(f"{_path(change.path)}: {md_escape(text)}")
    if len(changes) > _MAX_CHANGES:
        items.append(f"… {len(changes) - _MAX_CHANGES} more changes")
    return items


def _path(path: str) -> str:
    """Return a field path as inline code when it is plainly safe, else escaped text."""
    return f"`{path}`" if _SAFE_PATH.fullmatch(path) else md_escape(path)
