"""The spec document an export writes: modeline, header, subscriptions and databases.

Secrets never reach the text: passwords are not read, and each Redis database gets a
commented-out ``password: ${...}`` line instead (see :data:`HEADER`), its variable name
unique within one export.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.export.fields import database_fields
from reconciler.model import LiveDatabase, LiveSubscription
from reconciler.spec import Note, Remark, dump_spec, spec_problems

log = logging.getLogger(__name__)

SCHEMA_FILE = "reconciler.schema.json"
# Where a modeline may find the schema, from a folder: beside the specs (what `reconciler schema
# > reconciler.schema.json` makes) or in this tool's own source tree.
SCHEMA_PLACES = ((SCHEMA_FILE,), ("reconciler", "schemas", SCHEMA_FILE))
STDOUT_SCHEMA_NOTE = (
    f"The modeline above expects the schema beside this file: `reconciler schema > {SCHEMA_FILE}`."
)

HEADER = """\
Written by `reconciler export` from the live account: `reconciler plan` on it shows no change.
Only values that differ from Redis Cloud's defaults are written (redisVersion,
datasetSizeInGb and throughputMeasurement always); a field left out is not managed.

Passwords are never exported. Each Redis database has a commented-out line
`# password: ${SUBSCRIPTION_DATABASE_PASSWORD}`: while it stays a comment the password is
not managed. To manage it, put the current password in that environment variable (a CI
secret) and uncomment the line; a different value would change the password on apply.
remoteBackup.storageType is not returned by the API: it is derived from the storage path."""

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def password_variable(subscription_name: str, database_name: str) -> str:
    """Return the environment variable named by a database's password placeholder.

    ``prod`` / ``sessions`` → ``PROD_SESSIONS_PASSWORD``: upper case, every run of other
    characters than letters and digits becomes ``_``; a leading digit gets a ``_`` first.
    """
    words = [_NOT_ALNUM.sub("_", part).strip("_") for part in (subscription_name, database_name)]
    name = "_".join([*(w for w in words if w), "PASSWORD"]).upper()
    return f"_{name}" if name[0].isdigit() else name


class Placeholders:
    """Hands out password variable names, unique within one export."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def take(self, sub: LiveSubscription, db: LiveDatabase) -> str:
        """Return the variable for ``db``'s password, its id added when the name is taken."""
        name = password_variable(sub.name, db.name)
        if name in self._used:  # "a-b"/"c" and "a"/"b-c" would share a name
            name = name.removesuffix("_PASSWORD") + f"_{db.id}_PASSWORD"
        self._used.add(name)
        return name


def spec_text(
    subs: Sequence[LiveSubscription], schema: str, names: Placeholders, *, note: str = ""
) -> str:
    """Return the spec text for ``subs``, its modeline naming ``schema`` (a relative path),
    ``note`` (when given) as the last header line.

    A text the spec validator would refuse is still returned, with a warning per problem.
    """
    document = {"version": 1, "subscriptions": [_subscription(s, names) for s in subs]}
    lines = [*HEADER.splitlines(), *([note] if note else [])]
    header = [f"yaml-language-server: $schema={schema}", "", *lines]
    text = dump_spec(document, header=header)
    for problem in spec_problems(text, "(export)"):
        log.warning("the export does not validate: %s", problem)
    return text


def schema_reference(base: Path) -> str | None:
    """Return the path of the nearest schema file from ``base``, relative to it, or None.

    Searched in ``base`` and each folder above it: ``reconciler.schema.json``, then
    ``reconciler/schemas/reconciler.schema.json`` (this tool's source tree).
    """
    for folder in (base, *base.parents):
        for place in SCHEMA_PLACES:
            candidate = folder.joinpath(*place)
            if candidate.is_file():
                return Path(os.path.relpath(candidate, base)).as_posix()
    return None


def _subscription(sub: LiveSubscription, names: Placeholders) -> dict[Any, Any]:
    """Return one subscription entry: id (its name as a comment), prune off, databases."""
    label = " ".join(sub.name.split()) or "(no name)"
    databases = sorted(sub.databases, key=lambda d: (d.name, d.id))
    for db in databases:
        if db.status != "active":
            log.warning("database %s (db %s) is %s; exported as read", db.name, db.id, db.status)
    return {
        "id": Remark(sub.id, label),
        "prune": False,
        "databases": [_database(sub, db, names) for db in databases],
    }


def _database(sub: LiveSubscription, db: LiveDatabase, names: Placeholders) -> dict[Any, Any]:
    """Return one database entry: name, its non-default fields, then its comment lines."""
    exported = database_fields(sub, db)
    notes = list(exported.notes)
    if exported.redis:
        variable = names.take(sub, db)
        notes.append(f"password: ${{{variable}}}  # uncomment to manage it (see the top)")
    entry: dict[Any, Any] = {"name": db.name, **exported.fields}
    entry.update((Note(text), None) for text in notes)
    return entry
