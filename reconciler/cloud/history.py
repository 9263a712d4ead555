"""The account's system log: who changed what, and when (``GET /logs``).

``GET /logs?offset=&limit=`` answers ``{"entries": [...]}``, newest first (offset 0 is the
newest entry; ``limit`` at most 1000). Each entry has ``id``, ``time`` (ISO-8601 UTC),
``originator`` (the user), ``apiKeyName`` (only for changes made through the API: a change
made in the console has none), ``resource`` (the entity's name), ``type`` (the kind of
entity) and ``description`` (free text). The call may answer 403 (the key may not read the
log) or 412 (the feature is off).

:func:`read_system_log` reads the newest pages, at most ``max_pages`` requests, and stops
early on a short or empty page. History only informs a plan, so nothing here raises: a
refused or failed read is a :class:`LogRead` whose ``notes`` say why, an entry of the wrong
shape is skipped (and counted in a note), and overlong text is clipped. Descriptions are
scrubbed of URI credentials like any API text.

:func:`read_key_name` asks ``GET /`` for the name of the API key in use
(``account.key.name``), so the plan can tell the tool's own changes from other people's.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.cloud import paths
from reconciler.errors import ApiError
from reconciler.plan import HistoryEntry
from reconciler.secrets import mask_text

logger = logging.getLogger(__name__)

#: Requests made by default; a user may ask for up to :data:`MAX_PAGES`.
DEFAULT_PAGES = 3
MAX_PAGES = 20
#: Entries asked for per request (the API's default; it accepts up to 1000).
PAGE_SIZE = 100
#: The longest description kept, and the longest name (originator, key, resource, type).
MAX_DESCRIPTION = 500
MAX_NAME = 200
#: The longest reason quoted in a note.
_MAX_REASON = 300


class _Getter(Protocol):
    def get(self, path: str, params: Any = None) -> Any: ...


@dataclass(frozen=True)
class LogRead:
    """The entries read (newest first, each id once), the requests made, and notes.

    ``available`` is False when not one page could be read; ``notes`` then holds the one
    ``history unavailable: …`` line. A read that stopped part way keeps what it read and
    says so in a note, as does a read that skipped malformed entries.
    """

    entries: tuple[HistoryEntry, ...]
    requests: int
    notes: tuple[str, ...] = ()
    available: bool = True


def read_system_log(
    client: _Getter, *, max_pages: int = DEFAULT_PAGES, page_size: int = PAGE_SIZE
) -> LogRead:
    """Return the newest entries of the system log, read in at most ``max_pages`` requests.

    Never raises for the API's sake: every failure is a note in the returned read.
    """
    entries: dict[int, HistoryEntry] = {}
    skipped = 0
    requests = 0
    for number in range(max(1, max_pages)):
        params = {"offset": number * page_size, "limit": page_size}
        requests += 1
        try:
            answer = client.get(paths.LOGS, params)
        except ApiError as exc:
            return _stopped(entries, requests, skipped, _reason(exc), first=number == 0)
        page = answer.get("entries") if isinstance(answer, dict) else None
        if not isinstance(page, list):
            why = f"GET {paths.LOGS} answered an unexpected shape (no 'entries' list)"
            return _stopped(entries, requests, skipped, why, first=number == 0)
        for raw in page[:page_size]:
            entry = log_entry(raw)
            if entry is None:
                skipped += 1
            else:
                entries.setdefault(entry.id, entry)
        if len(page) < page_size:
            break
    return LogRead(_newest_first(entries), requests, _skipped_note(skipped))


def _stopped(
    entries: dict[int, HistoryEntry], requests: int, skipped: int, why: str, *, first: bool
) -> LogRead:
    """The read after a failed request: unavailable on the first page, else partial."""
    logger.info("system log: %s", why)
    if first:
        return LogRead((), requests, (f"history unavailable: {why}",), available=False)
    note = f"history incomplete: the system log stopped after {requests - 1} page(s): {why}"
    return LogRead(_newest_first(entries), requests, (note, *_skipped_note(skipped)))


def _newest_first(entries: dict[int, HistoryEntry]) -> tuple[HistoryEntry, ...]:
    return tuple(sorted(entries.values(), key=lambda e: e.id, reverse=True))


def _skipped_note(skipped: int) -> tuple[str, ...]:
    if not skipped:
        return ()
    plural = "entry" if skipped == 1 else "entries"
    return (f"history: {skipped} system log {plural} of an unexpected shape skipped",)


def _reason(exc: ApiError) -> str:
    """Return why a read failed, in words; the status first when it says it all."""
    if exc.status == 403:
        return "the API key may not read the system log (HTTP 403)"
    if exc.status == 412:
        return "the system log is not enabled for this account (HTTP 412)"
    return _clip(mask_text(str(exc)), _MAX_REASON)


def log_entry(raw: Any) -> HistoryEntry | None:
    """Return one checked, scrubbed entry; None when its shape is not the documented one.

    ``id`` must be an integer, ``time`` an ISO-8601 time, ``originator`` and ``description``
    strings; ``apiKeyName``, ``resource`` and ``type`` strings when present.
    """
    if not isinstance(raw, dict):
        return None
    entry_id = raw.get("id")
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return None
    when = _utc(raw.get("time"))
    texts = [raw.get(k) for k in ("originator", "description")]
    extras = [raw.get(k) for k in ("apiKeyName", "resource", "type")]
    if when is None or not all(isinstance(t, str) for t in texts):
        return None
    if not all(x is None or isinstance(x, str) for x in extras):
        return None
    key = raw.get("apiKeyName")
    return HistoryEntry(
        id=entry_id,
        time=when,
        originator=_name(raw["originator"]),
        api_key_name=_name(key) if isinstance(key, str) and key else None,
        resource=_name(raw.get("resource") or ""),
        type=_name(raw.get("type") or ""),
        description=_clip(mask_text(raw["description"]), MAX_DESCRIPTION),
    )


def _utc(value: Any) -> str | None:
    """Return an ISO-8601 time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:  # the log's times are UTC
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):
        return None


def _name(text: str) -> str:
    return _clip(mask_text(text), MAX_NAME)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def read_key_name(client: _Getter) -> str | None:
    """Return the name of the API key in use (``GET /``: ``account.key.name``), or None.

    None when the call fails or the answer has no such name; never raises for it.
    """
    try:
        answer = client.get(paths.ACCOUNT)
    except ApiError as exc:
        logger.info("the name of the API key in use is unknown: %s", exc)
        return None
    account = answer.get("account") if isinstance(answer, dict) else None
    key = account.get("key") if isinstance(account, dict) else None
    name = key.get("name") if isinstance(key, dict) else None
    return _name(name) if isinstance(name, str) and name else None
