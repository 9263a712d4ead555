"""The account's system log: what each write records, and ``GET /logs``.

Entries have the OpenAPI ``AccountSystemLogEntry`` shape: ``id`` (increasing), ``time``
(ISO-8601 UTC, whole seconds), ``originator`` (the user's name), ``apiKeyName`` (API users
only; a console user's entries have none), ``resource`` (the database's name), ``type``
(``Database``) and ``description`` (:mod:`reconciler.simulator.logtext`).

What is recorded:

- a database create, update, delete, backup, import or upgrade: one entry when the request
  is accepted, another when its task ends (done, or failed with its error type), both in
  the requesting user's name; dry runs record nothing;
- a tag write (synchronous): one entry.

``GET /logs?offset=&limit=`` answers ``{"entries": [...], "links": []}``, newest first
(offset 0 is the newest entry); ``limit`` is 1 to 1000 (default 100), ``offset`` at least
0; an offset past the end gives no entries. ``SimulatorConfig.refuse_logs`` makes it answer
403 or 412 instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.simulator import logtext
from reconciler.simulator.replies import ApiProblem, Reply, bad_request
from reconciler.simulator.state import Account
from reconciler.simulator.timeline import iso_time
from reconciler.simulator.validation import parse_paging

if TYPE_CHECKING:
    from reconciler.simulator.api import ApiRequest, Simulator

MAX_LIMIT = 1000
ENTRY_KEYS = ("id", "time", "originator", "apiKeyName", "resource", "type", "description")
SEED_ENTRY_KEYS = ENTRY_KEYS[1:]
SEED_ENTRY_REQUIRED = ("time", "originator", "type", "description")
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DATABASE_TYPE = "Database"
REFUSALS: Mapping[int, tuple[str, str]] = {
    403: ("FORBIDDEN", "Not allowed to access requested resource"),
    412: ("PRECONDITION_FAILED", "Feature flag for this flow is off"),
}


def write_entry(
    account: Account, at: float, author: Mapping[str, str], resource: str, description: str
) -> dict[str, Any]:
    """Record one database entry by ``author`` (``originator`` [+ ``apiKeyName``]) at ``at``.

    Returns the stored entry.
    """
    fields = {
        "time": iso_time(at),
        **author,
        "resource": resource,
        "type": DATABASE_TYPE,
        "description": description,
    }
    return account.add_log_entry(fields)


def task_accepted(
    account: Account, task: dict[str, Any], author: Mapping[str, str], now: float
) -> None:
    """Record an accepted write task and remember its author for the entry at its end.

    Status requests and dry runs record nothing.
    """
    if task["kind"] not in logtext.TASK_WORDS or task["payload"].get("dryRun"):
        return
    payload = task["payload"]
    record = payload.get("record") or account.database(task["subscriptionId"], task["databaseId"])
    if record is None:
        return
    task["log"] = {"author": dict(author), "resource": record["name"]}
    write_entry(
        account, now, author, record["name"], logtext.accepted_text(task["kind"], record, payload)
    )


def task_ended(account: Account, task: Mapping[str, Any]) -> None:
    """Record the end of a task accepted by :func:`task_accepted` (at its end time)."""
    log = task.get("log")
    if log is None or task.get("outcome") is None:
        return
    name = str(log["resource"])
    changes = task["payload"].get("changes") or {}
    if "error" not in task["outcome"] and "name" in changes:
        name = str(changes["name"])
    description = logtext.ended_text(
        task["kind"], name, int(task["databaseId"]), task["payload"], task["outcome"]
    )
    write_entry(account, float(task["endAt"]), log["author"], name, description)


def get_logs(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /logs: a page of the system log, newest first.

    Raises:
        ApiProblem: 403/412 when ``refuse_logs`` says so; 400 for a bad offset or limit.
    """
    refusal = REFUSALS.get(sim.config.refuse_logs)
    if refusal is not None:
        raise ApiProblem(sim.config.refuse_logs, *refusal)
    offset, limit = parse_paging(request.query)
    if limit > MAX_LIMIT:
        raise bad_request(f'"limit" must be at most {MAX_LIMIT}, got {limit}')
    page = sim.account.system_log[::-1][offset : offset + limit]
    return Reply(200, {"entries": [_in_order(entry) for entry in page], "links": []})


def _in_order(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``entry`` with its keys in the API's order (a state file sorts them)."""
    return {key: entry[key] for key in ENTRY_KEYS if key in entry}


def seed_log(account: Account, entries: Any) -> None:
    """Store a seed's ``log`` entries (oldest first) with ids from 1 in their order.

    Each entry is a mapping of :data:`SEED_ENTRY_KEYS` to strings; ``time`` is ISO-8601
    UTC (``2026-11-20T14:02:11Z``) and never earlier than the entry before it.

    Raises:
        ValueError: ``(where, problem)`` as its two arguments, for the seed's message.
    """
    if not isinstance(entries, list):
        raise ValueError("log", "must be a list of entries")
    previous = ""
    for index, entry in enumerate(entries):
        where = f"log[{index}]"
        _check_seed_entry(entry, where)
        if entry["time"] < previous:
            raise ValueError(f"{where}.time", "is earlier than the entry before it")
        previous = entry["time"]
        account.add_log_entry({key: entry[key] for key in SEED_ENTRY_KEYS if key in entry})


def _check_seed_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict):
        raise ValueError(where, "must be a mapping")
    unknown = sorted(set(entry) - set(SEED_ENTRY_KEYS))
    if unknown:
        raise ValueError(where, f"unknown key {unknown[0]!r}")
    for key in SEED_ENTRY_REQUIRED:
        if key not in entry:
            raise ValueError(where, f"{key!r} is required")
    for key, value in entry.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where}.{key}", "must be a non-empty string")
    if not _ISO_UTC.fullmatch(entry["time"]) or not _is_date(entry["time"]):
        raise ValueError(f"{where}.time", "must be ISO-8601 UTC like 2026-11-20T14:02:11Z")


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True
