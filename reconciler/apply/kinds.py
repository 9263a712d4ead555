"""What differs between the kinds of action, as one table: :data:`KINDS`.

Every action is run the same way (wait until ready, send, follow the task, wait until
settled, verify); :class:`KindRules` holds what each of those steps needs to know about the
kind, and the recovery of a lost answer reads the same table:

======== ================= ================ ============================== =====================
kind     waits before      settles as       verifies                       a lost answer's trace
======== ================= ================ ============================== =====================
create   subscription      database active  name; an adopted db's fields   task, or the name
update   sub. + database   database active  no field still differs         task, or the fields
upgrade  sub. + database   database active  the target version             task, or the version
delete   sub. + database   database gone    (gone is the check)            task, or db deleting
backup   sub. + database   database active  nothing                        task only
import   sub. + database   database active  nothing                        task only
tag      sub. + database   untouched        the tags re-read               the tags re-read
======== ================= ================ ============================== =====================

A ``tag`` is synchronous: its answer is the outcome, there is no task to follow.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.cloud import tags_of
from reconciler.compare import (
    CompareContext,
    comparable_fields,
    diff_fields,
    live_to_request,
    same_version,
)
from reconciler.errors import ConflictError, NotFoundError, SilentNoOpError
from reconciler.plan import ActionKind, PlannedAction


class Settle(enum.Enum):
    """What the database must become once the task is processed."""

    ACTIVE = "active"
    GONE = "gone"
    UNTOUCHED = "untouched"  # the database's status does not change: nothing to wait for


@dataclass(frozen=True)
class Seen:
    """What the last reads showed once an action settled: what its check looks at.

    ``name_clash`` is the 409 of a create that adopted the database holding its name.
    ``read_back`` is the answer of a GET of the request's own path, for a kind that is
    checked that way (None otherwise).
    """

    action: PlannedAction
    db_id: int | None
    db_raw: Mapping[str, Any]
    sub_raw: Mapping[str, Any]
    name_clash: ConflictError | None = None
    read_back: Any = None

    @property
    def body(self) -> Mapping[str, Any]:
        """The request body (empty when the request has none)."""
        return request_body(self.action)


Verify = Callable[[Seen], None]
# (request body, fetch the database (raises NotFoundError), subscription) -> change made?
InPlace = Callable[[Mapping[str, Any], Callable[[], Mapping[str, Any]], Mapping[str, Any]], bool]


@dataclass(frozen=True)
class KindRules:
    """How one kind of action is run, checked and recovered.

    ``command_type`` is the ``commandType`` of its task in ``GET /tasks`` ("" for a
    ``synchronous`` kind, whose answer is the outcome: no task). ``read_back``: the change
    is checked by a GET of the request's own path rather than of the database.
    ``waits_for_database``: wait for the database too before sending (a create's does not
    exist yet). ``gone_note``: the note when the database is gone before sending (None: that
    is an error). ``verify`` raises when the change did not take effect. ``in_place`` says
    whether a re-read shows the change made after a lost answer (None: the kind leaves no
    trace on the database). ``creates``: the action makes a new database, found by its
    name when the task does not name it, and adopted when an earlier run's create holds it.
    """

    command_type: str
    waits_for_database: bool
    settle: Settle
    verify: Verify
    in_place: InPlace | None
    gone_note: str | None = None
    creates: bool = False
    synchronous: bool = False
    read_back: bool = False


def request_body(action: PlannedAction) -> Mapping[str, Any]:
    """Return the action's request body, or an empty mapping when it has none."""
    body = action.request.body
    return body if isinstance(body, Mapping) else {}


def unapplied_fields(
    body: Mapping[str, Any], db_raw: Mapping[str, Any], sub_raw: Mapping[str, Any]
) -> list[str]:
    """Return the paths of the fields of ``body`` that the live database does not show."""
    live = live_to_request(db_raw, sub_raw)
    context = CompareContext.for_database(body, live, sub_raw)
    want, have = comparable_fields(body, live, context)
    return [change.path for change in diff_fields(want, have)]


def check_adopted(
    clash: ConflictError,
    body: Mapping[str, Any],
    db_raw: Mapping[str, Any],
    sub_raw: Mapping[str, Any],
) -> None:
    """Check that a database adopted after ``clash`` has every field of the create ``body``.

    Raises:
        ConflictError: ``clash`` with the fields that differ added to its description.
    """
    fields = unapplied_fields(body, db_raw, sub_raw)
    if fields:
        text = f"{clash.description}; it differs from this create in: {', '.join(fields)}"
        raise ConflictError(clash.method, clash.path, clash.status, clash.error_type, text)


# ---------------------------------------------------------------------- verify


def _nothing_to_verify(seen: Seen) -> None:
    """A backup or import changes nothing a read shows; a delete's wait for gone is its check."""


def _verify_update(seen: Seen) -> None:
    fields = unapplied_fields(seen.body, seen.db_raw, seen.sub_raw)
    if fields:
        raise SilentNoOpError(f"fields still differ after update: {', '.join(fields)}")


def _verify_upgrade(seen: Seen) -> None:
    target, live = seen.body.get("targetRedisVersion"), seen.db_raw.get("redisVersion")
    if not same_version(target, live):
        raise SilentNoOpError(f"redisVersion is {live} after the upgrade to {target}")


def _verify_create(seen: Seen) -> None:
    name = seen.db_raw.get("name")
    if name != seen.action.name:
        raise SilentNoOpError(f"database {seen.db_id} is named {name!r}, not {seen.action.name!r}")
    if seen.name_clash is not None:
        check_adopted(seen.name_clash, seen.body, seen.db_raw, seen.sub_raw)


def _verify_tags(seen: Seen) -> None:
    path = seen.action.request.path
    want = tags_of(seen.body, "PUT", path)
    have = tags_of(seen.read_back, "GET", path)
    if have != want:
        raise SilentNoOpError(f"tags still differ after the update: {_tag_keys(want, have)}")


def _tag_keys(want: Mapping[str, str], have: Mapping[str, str]) -> str:
    """Return the keys whose values differ, sorted, comma-separated."""
    return ", ".join(sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k)))


# ---------------------------------------------------------------------- a lost answer's trace


def _fields_in_place(
    body: Mapping[str, Any], fetch: Callable[[], Mapping[str, Any]], sub_raw: Mapping[str, Any]
) -> bool:
    return not unapplied_fields(body, fetch(), sub_raw)


def _version_in_place(
    body: Mapping[str, Any], fetch: Callable[[], Mapping[str, Any]], sub_raw: Mapping[str, Any]
) -> bool:
    return same_version(body.get("targetRedisVersion"), fetch().get("redisVersion"))


def _tags_in_place(
    body: Mapping[str, Any], fetch: Callable[[], Mapping[str, Any]], sub_raw: Mapping[str, Any]
) -> bool:
    return tags_of(fetch(), "GET", "…/tags") == tags_of(body, "PUT", "…/tags")


def _deleting(
    body: Mapping[str, Any], fetch: Callable[[], Mapping[str, Any]], sub_raw: Mapping[str, Any]
) -> bool:
    try:
        return fetch().get("status") == "deleting"
    except NotFoundError:
        return True


KINDS: Mapping[ActionKind, KindRules] = {
    ActionKind.CREATE: KindRules(
        command_type="databaseCreateRequest",
        waits_for_database=False,
        settle=Settle.ACTIVE,
        verify=_verify_create,
        in_place=None,  # looked for by name instead (``creates``)
        creates=True,
    ),
    ActionKind.UPDATE: KindRules(
        command_type="databaseUpdateRequest",
        waits_for_database=True,
        settle=Settle.ACTIVE,
        verify=_verify_update,
        in_place=_fields_in_place,
    ),
    ActionKind.UPGRADE: KindRules(
        command_type="databaseUpgradeRequest",
        waits_for_database=True,
        settle=Settle.ACTIVE,
        verify=_verify_upgrade,
        in_place=_version_in_place,
    ),
    ActionKind.DELETE: KindRules(
        command_type="databaseDeleteRequest",
        waits_for_database=True,
        settle=Settle.GONE,
        verify=_nothing_to_verify,
        in_place=_deleting,
        gone_note="already deleted",
    ),
    ActionKind.BACKUP: KindRules(
        command_type="databaseBackupRequest",
        waits_for_database=True,
        settle=Settle.ACTIVE,
        verify=_nothing_to_verify,
        in_place=None,
    ),
    ActionKind.IMPORT: KindRules(
        command_type="databaseImportRequest",
        waits_for_database=True,
        settle=Settle.ACTIVE,
        verify=_nothing_to_verify,
        in_place=None,
    ),
    ActionKind.TAG: KindRules(
        command_type="",
        waits_for_database=True,
        settle=Settle.UNTOUCHED,
        verify=_verify_tags,
        in_place=_tags_in_place,
        synchronous=True,
        read_back=True,
    ),
}
