"""How the system-log history of a plan reads, for the text and Markdown renderers.

One entry reads ``changed 2026-11-20 14:02 UTC by alice@example.com (console): "Database
'sessions' memory limit changed …"``; a change through another API key names that key
(``(API key ci-key)``). At most :data:`SHOWN` entries are shown per database, then a line
counting the older ones. Every text is masked (URI credentials) here; the renderers escape
it for where it lands.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan import History, HistoryEntry, Plan, PlannedAction
from reconciler.secrets import mask_text

#: Entries shown per database in text and Markdown (JSON keeps all the plan holds).
SHOWN = 3
#: The longest description quoted on one line.
MAX_QUOTED = 200

HistoryKey = tuple[int, int | None]


def history_by_key(plan: Plan) -> dict[HistoryKey, History]:
    """Return each history under ``(subscription id, database id or None)``."""
    return {(h.subscription_id, h.database_id): h for h in plan.history}


def entry_line(entry: HistoryEntry) -> str:
    """Return ``changed 2026-11-20 14:02 UTC by NAME (console): "DESCRIPTION"``."""
    when = entry.time.replace("T", " ")[:16] + " UTC"
    who = mask_text(entry.originator) or "(unknown)"
    how = "console" if entry.api_key_name is None else f"API key {mask_text(entry.api_key_name)}"
    text = mask_text(entry.description)
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    return f'changed {when} by {who} ({how}): "{text}"'


def history_lines(history: History) -> list[str]:
    """Return the shown entry lines, then ``… 2 older changes in the system log``."""
    lines = [entry_line(e) for e in history.entries[:SHOWN]]
    older = len(history.entries) - SHOWN + history.older
    if older > 0:
        noun = "change" if older == 1 else "changes"
        lines.append(f"… {older} older {noun} in the system log (--format json lists more)")
    return lines


def last_of_each_database(actions: Sequence[PlannedAction]) -> dict[int, HistoryKey]:
    """Return ``{index: key}`` for the last action of each existing database in ``actions``.

    The history of a database is shown once, after its last action.
    """
    last: dict[HistoryKey, int] = {}
    for index, action in enumerate(actions):
        if action.database_id is not None:
            last[(action.subscription_id, action.database_id)] = index
    return {index: key for key, index in last.items()}
