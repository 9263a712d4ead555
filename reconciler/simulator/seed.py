"""Seed files: a YAML description of the account the simulator starts from.

Shape (see ``examples/simulator-seed.yaml``)::

    account:
      id: 1001
      subscriptions:
        - {id: 2001234, name: prod, provider: AWS, region: us-east-1,
           status: active, deploymentType: single-region, publicEndpointAccess: true,
           memoryStorage: ram,
           databases: [ {databaseId: 51170941, name: sessions, <create-request fields>} ]}

``account.log`` (optional) lists system log entries that happened before (oldest first):
``{time: "2026-11-20T14:02:11Z", originator, apiKeyName (API changes only), resource, type,
description}``; they take ids 1, 2, … in their order.

Database entries take the fields of a create request (``password``, ``remoteBackup``,
``alerts``, ``modules``, ``sourceIp`` …) plus ``enableDefaultUser``, ``regexRules``,
``status`` and ``tags`` (a mapping of lower-case keys to values); they are checked with
the API's own request rules. Generated secrets are derived from the database id, so a
reseed gives the same account.
"""

from __future__ import annotations

import importlib.resources
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import UsageError
from reconciler.simulator.records import build_record, pick_port
from reconciler.simulator.replies import ApiProblem
from reconciler.simulator.state import Account
from reconciler.simulator.systemlog import seed_log
from reconciler.simulator.tags import seed_tags
from reconciler.simulator.validation import validate_seed_database
from reconciler.spec.yamlio import YamlError, safe_load

PACKAGED_SEED = ("reconciler.simulator", "default-seed.yaml")
_SUBSCRIPTION_KEYS = {
    "id",
    "name",
    "status",
    "provider",
    "region",
    "deploymentType",
    "publicEndpointAccess",
    "memoryStorage",
    "databases",
}


def read_seed(seed_path: Path | None) -> tuple[str, str]:
    """Return ``(text, source name)`` of the seed file, or of the packaged example seed.

    Raises:
        UsageError: the file cannot be read.
    """
    try:
        if seed_path is not None:
            return seed_path.read_text(encoding="utf-8"), str(seed_path)
        package, name = PACKAGED_SEED
        resource = importlib.resources.files(package).joinpath(name)
        return resource.read_text(encoding="utf-8"), f"{package}/{name}"
    except (OSError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"cannot read simulator seed {seed_path or PACKAGED_SEED[1]}: {exc}"
        ) from None


def seed_account(seed_path: Path | None, now: float) -> Account:
    """Return the account described by the seed file (None: the packaged example).

    Raises:
        UsageError: the file is unreadable, not YAML, or breaks a rule (the message names
            the file and the place inside it).
    """
    text, source = read_seed(seed_path)
    try:
        document = safe_load(text)
    except YamlError as exc:
        raise UsageError(f"{source}: not valid YAML: {exc}") from None
    return account_from_document(document, source, now)


def _fail(source: str, where: str, message: str) -> UsageError:
    return UsageError(f"{source}: {where}: {message}")


def account_from_document(document: Any, source: str, now: float) -> Account:
    """Return the account of a parsed seed document.

    Raises:
        UsageError: a structural problem or a database breaking a request rule.
    """
    if not isinstance(document, dict) or not isinstance(document.get("account"), dict):
        raise _fail(source, "account", "the seed file needs a top-level 'account' mapping")
    spec = document["account"]
    if not isinstance(spec.get("id"), int) or isinstance(spec.get("id"), bool):
        raise _fail(source, "account.id", "must be an integer")
    account = Account.empty(spec["id"])
    unknown = sorted(set(spec) - {"id", "subscriptions", "log"})
    if unknown:
        raise _fail(source, "account", f"unknown key {unknown[0]!r}")
    for index, subscription in enumerate(spec.get("subscriptions") or ()):
        _add_subscription(account, subscription, f"account.subscriptions[{index}]", source, now)
    try:
        seed_log(account, [] if spec.get("log") is None else spec["log"])
    except ValueError as exc:
        where, problem = exc.args
        raise _fail(source, f"account.{where}", problem) from None
    return account


def _add_subscription(account: Account, entry: Any, where: str, source: str, now: float) -> None:
    if not isinstance(entry, dict):
        raise _fail(source, where, "must be a mapping")
    unknown = sorted(set(entry) - _SUBSCRIPTION_KEYS)
    if unknown:
        raise _fail(source, where, f"unknown key {unknown[0]!r}")
    for key in ("id", "name", "provider", "region"):
        if key not in entry:
            raise _fail(source, where, f"{key!r} is required")
    if account.subscription(entry["id"]) is not None:
        raise _fail(source, where, f"subscription {entry['id']} is listed twice")
    record = {key: value for key, value in entry.items() if key != "databases"}
    record.setdefault("status", "active")
    record.setdefault("deploymentType", "single-region")
    account.add_subscription(record)
    for index, database in enumerate(entry.get("databases") or ()):
        _add_database(account, record, database, f"{where}.databases[{index}]", source, now)


def _add_database(
    account: Account,
    subscription: Mapping[str, Any],
    entry: Any,
    where: str,
    source: str,
    now: float,
) -> None:
    try:
        tags = entry.get("tags") if isinstance(entry, dict) else None
        fields = validate_seed_database(
            {key: value for key, value in entry.items() if key != "tags"}
            if isinstance(entry, dict)
            else entry
        )
        stored_tags = None if tags is None else seed_tags("tags", tags, now)
    except ApiProblem as problem:
        raise _fail(source, where, f"{problem.error_type}: {problem.description}") from None
    db_id = int(fields.pop("databaseId"))
    siblings = account.databases_in(int(subscription["id"]))
    if any(db["databaseId"] == db_id for db in account.databases):
        raise _fail(source, where, f"database id {db_id} is used twice")
    if any(db["name"] == fields["name"] for db in siblings):
        raise _fail(source, where, f"database name {fields['name']!r} is used twice")
    port = fields.pop("port", None) or pick_port(db_id, (db["port"] for db in siblings))
    record = build_record(
        fields,
        db_id=db_id,
        subscription_id=int(subscription["id"]),
        port=port,
        now=now,
        rng=random.Random(db_id),
    )
    if stored_tags is not None:
        record["tags"] = stored_tags
    account.add_database(record)
