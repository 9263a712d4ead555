"""``reconciler export``: write the live databases of an account as a spec.

The export is a starting point for a GitOps repository, so ``reconciler plan`` on it must
show no change. Each database is turned into request-shaped fields by
:func:`reconciler.compare.normalise.live_to_request`, and only values that differ from what Redis
Cloud would choose by itself are written (``redisVersion``, ``datasetSizeInGb`` and
``throughputMeasurement`` always: they decide size and cost). A written field is checked
with the planner's own comparison rules before it is kept, so a live value of a shape this
module does not know is left out (with a warning) rather than shown as a change.

Secrets never reach a file: passwords are not read, each Redis database gets a
commented-out ``password: ${...}`` line instead (see :data:`HEADER`), and a backup
location or replication source whose URI carries credentials is written as a comment with
the credentials masked.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.cloud import ApiClient, paths, read_live
from reconciler.compare import (
    PRIVATE_SOURCE_IPS,
    PUBLIC_SOURCE_IPS,
    CompareContext,
    canonical,
    comparable_fields,
    diff_fields,
    live_to_request,
    version_tuple,
)
from reconciler.errors import BadResponseError, UsageError
from reconciler.model import (
    DesiredState,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)
from reconciler.secrets import MASK, Secret, mask_uri
from reconciler.spec import load_schema
from reconciler.spec.dump import Note, Remark, dump_spec, flow_text, spec_problems

log = logging.getLogger(__name__)

SCHEMA_PATH = ("reconciler", "schemas", "reconciler.schema.json")

HEADER = """\
Written by `reconciler export` from the live account: `reconciler plan` on it shows no change.
Only values that differ from Redis Cloud's defaults are written (redisVersion,
datasetSizeInGb and throughputMeasurement always); a field left out is not managed.

Passwords are never exported. Each Redis database has a commented-out line
`# password: ${SUBSCRIPTION_DATABASE_PASSWORD}`: while it stays a comment the password is
not managed. To manage it, put the current password in that environment variable (a CI
secret) and uncomment the line; a different value would change the password on apply.
remoteBackup.storageType is not returned by the API: it is derived from the storage path."""

#: Values Redis Cloud chooses when a create request leaves the field out (facts §2.5, §6).
#: A live value equal to its default is not written.
_DEFAULTS: Mapping[str, Any] = {
    "protocol": "redis",
    "supportOSSClusterApi": False,
    "useExternalEndpointForOSSClusterApi": False,
    "dataPersistence": "none",
    "dataEvictionPolicy": "volatile-lru",
    "replication": True,
    "enableTls": False,
    "enableDefaultUser": True,
    "alerts": [],
    "modules": [],
    "regexRules": [],
    "shardingType": "default-regex-rules",
    "queryPerformanceFactor": "standard",
    "autoMinorVersionUpgrade": True,
}
#: Never written: assigned by the server (port), never read in clear (password), or a
#: deprecated alias of ``replica``. memoryLimitInGb is written only without datasetSizeInGb.
_NEVER_WRITTEN = frozenset({"port", "password", "replicaOf"})
#: The Redis version from which a database gets RESP3 when none is asked for.
_RESP3_DEFAULT_FROM = (7, 4)
#: Backup storage path prefix → remoteBackup.storageType (the API does not return it).
_STORAGE_TYPES: tuple[tuple[str, str], ...] = (
    ("s3://", "aws-s3"),
    ("gs://", "google-blob-storage"),
    ("ftp://", "ftp"),
    ("ftps://", "ftp"),
    ("abs://", "azure-blob-storage"),
)
_AZURE_HTTPS = re.compile(r"^https://[^/]+\.blob\.core\.windows\.net/", re.IGNORECASE)
_TIMED_INTERVALS = frozenset({"every-12-hours", "every-24-hours"})
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_NOT_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def export_account(
    client: ApiClient, *, subscription_ids: list[int] | None, out: str | None, split: bool
) -> str | None:
    """Export the databases of the given subscriptions (None: every Pro single-region one).

    Returns the YAML text when ``out`` is None; otherwise writes ``out`` (a file, or with
    ``split`` a folder holding ``<subscription-name>-<id>.yaml`` per subscription) and
    returns None. Files are replaced atomically.

    Raises:
        UsageError: ``--split`` without ``--out``, an ``--out`` of the wrong kind, a named
            subscription that does not exist or is not Pro single-region, a failed write.
        ApiError: reading the account failed.
    """
    _check_out(out, split)
    live = _read(client, subscription_ids)
    placeholders = _Placeholders()
    if out is None:
        return _document(live, Path.cwd(), placeholders)
    if not split:
        _write_file(Path(out), _document(live, Path(out).resolve().parent, placeholders))
        return None
    for sub in live:
        text = _document([sub], Path(out).resolve(), placeholders)
        _write_file(Path(out) / split_file_name(sub), text)
    if not live:
        log.warning("no subscription to export: nothing written")
    return None


def _check_out(out: str | None, split: bool) -> None:
    """Refuse an output of the wrong kind before anything is read.

    Raises:
        UsageError: ``split`` without ``out``, ``split`` with a file, a file that is a folder.
    """
    if split and out is None:
        raise UsageError("--split writes one file per subscription: give a folder with --out")
    if split and out is not None and Path(out).exists() and not Path(out).is_dir():
        raise UsageError(f"--split needs a folder for --out, but {out} is a file")
    if not split and out is not None and Path(out).is_dir():
        raise UsageError(f"--out {out} is a folder: give a file name, or add --split")


def split_file_name(sub: LiveSubscription) -> str:
    """Return ``<subscription-name>-<id>.yaml`` with the name made safe for a file name."""
    name = _NOT_FILENAME.sub("-", sub.name).strip("-.") or "subscription"
    return f"{name}-{sub.id}.yaml"


def password_variable(subscription_name: str, database_name: str) -> str:
    """Return the environment variable named by a database's password placeholder.

    ``prod`` / ``sessions`` → ``PROD_SESSIONS_PASSWORD``: upper case, every run of other
    characters than letters and digits becomes ``_``; a leading digit gets a ``_`` first.
    """
    words = [_NOT_ALNUM.sub("_", part).strip("_") for part in (subscription_name, database_name)]
    name = "_".join([*(w for w in words if w), "PASSWORD"]).upper()
    return f"_{name}" if name[0].isdigit() else name


# --------------------------------------------------------------------------- reading


def _read(client: ApiClient, subscription_ids: list[int] | None) -> list[LiveSubscription]:
    """Return the subscriptions to export, read with their databases, in the asked order."""
    named = subscription_ids is not None
    ids = list(dict.fromkeys(subscription_ids or ())) if named else _listed_ids(client)
    specs = tuple(SubscriptionSpec(i, False, (), Location("(export)")) for i in ids)
    live: LiveState = read_live(client, DesiredState(specs))
    if live.missing:
        missing = ", ".join(str(i) for i in live.missing)
        raise UsageError(f"subscription {missing} does not exist (or this API key cannot see it)")
    found = [live.subscriptions[i] for i in ids]
    for sub in found:
        if named and not sub.is_pro_single_region:
            raise UsageError(_not_single_region(sub))
    return [sub for sub in found if sub.is_pro_single_region]


def _listed_ids(client: ApiClient) -> list[int]:
    """Return the ids of the Pro single-region subscriptions ``GET /subscriptions`` lists."""
    answer = client.get(paths.SUBSCRIPTIONS)
    listed = answer.get("subscriptions") if isinstance(answer, Mapping) else None
    if not isinstance(listed, list) or not all(isinstance(s, Mapping) for s in listed):
        raise BadResponseError("GET", paths.SUBSCRIPTIONS, 200, "", "expected a subscriptions list")
    ids: list[int] = []
    for raw in listed:
        if not isinstance(raw.get("id"), int) or isinstance(raw.get("id"), bool):
            raise BadResponseError("GET", paths.SUBSCRIPTIONS, 200, "", "a subscription has no id")
        sub = LiveSubscription(raw["id"], str(raw.get("name", "")), "", raw, ())
        if sub.is_pro_single_region:
            ids.append(sub.id)
        else:
            log.warning("skipping %s", _not_single_region(sub))
    return ids


def _not_single_region(sub: LiveSubscription) -> str:
    kind = sub.raw.get("deploymentType")
    return (
        f'subscription {sub.id} "{sub.name}" is not a Pro single-region subscription '
        f"(deploymentType {kind!r}); export handles only those"
    )


# --------------------------------------------------------------------------- the document


class _Placeholders:
    """Hands out password variable names, unique within one export."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def take(self, sub: LiveSubscription, db: LiveDatabase) -> str:
        name = password_variable(sub.name, db.name)
        if name in self._used:  # "a-b"/"c" and "a"/"b-c" would share a name
            name = name.removesuffix("_PASSWORD") + f"_{db.id}_PASSWORD"
        self._used.add(name)
        return name


def _document(subs: Sequence[LiveSubscription], base: Path, names: _Placeholders) -> str:
    """Return the spec text for ``subs``, with a schema modeline relative to ``base``."""
    document = {"version": 1, "subscriptions": [_subscription(s, names) for s in subs]}
    header = [f"yaml-language-server: $schema={schema_reference(base)}", "", *HEADER.splitlines()]
    text = dump_spec(document, header=header)
    for problem in spec_problems(text, "(export)"):
        log.warning("the export does not validate: %s", problem)
    return text


def schema_reference(base: Path) -> str:
    """Return the modeline's schema path: relative to ``base`` when a folder above it holds
    ``reconciler/schemas/reconciler.schema.json`` (the file name alone otherwise)."""
    for folder in (base, *base.parents):
        candidate = folder.joinpath(*SCHEMA_PATH)
        if candidate.is_file():
            return Path(os.path.relpath(candidate, base)).as_posix()
    return SCHEMA_PATH[-1]


def _subscription(sub: LiveSubscription, names: _Placeholders) -> dict[Any, Any]:
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


def _database(sub: LiveSubscription, db: LiveDatabase, names: _Placeholders) -> dict[Any, Any]:
    """Return one database entry: name, then its non-default fields in schema order."""
    live = _with_sharding_type(live_to_request(db.raw, sub.raw), db.raw)
    context = CompareContext.for_database({}, live, sub.raw)
    fields: dict[str, Any] = {}
    notes: list[str] = []
    for field in _field_order():
        if _written(field, live):
            _add_field(fields, notes, field, live, context)
    fields = _settled(sub, db, fields, live)
    entry: dict[Any, Any] = {"name": db.name, **fields}
    if live.get("protocol") == "redis":
        variable = names.take(sub, db)
        notes.append(f"password: ${{{variable}}}  # uncomment to manage it (see the top)")
    entry.update((Note(text), None) for text in notes)
    return entry


def _with_sharding_type(live: dict[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``shardingType: custom-regex-rules`` for a database whose hashing policy is custom.

    The API does not return ``shardingType``; ``clustering.hashingPolicy`` ``custom`` is the
    one value known to mean custom regex rules (facts §3.1). Without it an exported
    ``regexRules`` could not be created again. The planner never diffs ``shardingType``
    against this guess: it only compares what the API returns.
    """
    clustering = raw.get("clustering")
    if isinstance(clustering, Mapping) and clustering.get("hashingPolicy") == "custom":
        return {**live, "shardingType": "custom-regex-rules"}
    return live


def _written(field: str, live: Mapping[str, Any]) -> bool:
    """True when ``field`` may be written: read live, not ``name``, not never-written, and
    ``memoryLimitInGb`` only for a database that reports no ``datasetSizeInGb``."""
    if field not in live or field == "name" or field in _NEVER_WRITTEN:
        return False
    return field != "memoryLimitInGb" or "datasetSizeInGb" not in live


def _field_order() -> list[str]:
    """Return the database fields in the order the JSON Schema lists them."""
    properties: Mapping[str, Any] = load_schema()["$defs"]["Database"]["properties"]
    return list(properties)


def _add_field(
    fields: dict[str, Any],
    notes: list[str],
    field: str,
    live: Mapping[str, Any],
    ctx: CompareContext,
) -> None:
    """Add ``field`` to ``fields`` (or a comment to ``notes``) unless it holds a default."""
    value = canonical(field, live[field])
    if field == "remoteBackup":
        _add_backup(fields, notes, value)
    elif field == "replica":
        _add_replica(fields, notes, value)
    elif not _is_default(field, value, live, ctx):
        fields[field] = [{"name": n} for n in value] if field == "modules" else value


def _is_default(field: str, value: Any, live: Mapping[str, Any], ctx: CompareContext) -> bool:
    """Return True when a canonical live value is what Redis Cloud picks by itself."""
    if field == "sourceIp":
        public = ctx.public_endpoint_access
        return bool(value == canonical(field, PUBLIC_SOURCE_IPS if public else PRIVATE_SOURCE_IPS))
    if field == "modules" and ctx.redis_major is not None and ctx.redis_major >= 8:
        return True  # bundled with Redis 8 and later: listed live, refused in a request
    if field == "respVersion":
        return bool(value == _default_resp(live.get("redisVersion")))
    return field in _DEFAULTS and bool(value == canonical(field, _DEFAULTS[field]))


def _default_resp(version: Any) -> str | None:
    """Return the RESP version Redis Cloud gives a database of ``version`` by default."""
    parsed = version_tuple(version)
    if parsed is None:
        return None
    return "resp3" if parsed >= _RESP3_DEFAULT_FROM else "resp2"


def _add_backup(fields: dict[str, Any], notes: list[str], value: Any) -> None:
    """Add an active remote backup with its derived storageType; a comment when it cannot be."""
    if not isinstance(value, Mapping) or value.get("active") is not True:
        return
    backup: dict[str, Any] = {"active": True, "interval": value.get("interval")}
    if value.get("interval") in _TIMED_INTERVALS and value.get("timeUTC"):
        backup["timeUTC"] = value["timeUTC"]
    path = value.get("storagePath")
    storage = storage_type(path.reveal() if isinstance(path, Secret) else path)
    backup.update(storageType=storage or "?", storagePath=path)
    why = _unwritable_backup(path, storage, backup["interval"])
    if why:
        shown = flow_text({k: _shown(v) for k, v in backup.items()})
        notes.append(f"remoteBackup: {shown}  # not managed: {why}")
        return
    fields["remoteBackup"] = backup


def _unwritable_backup(path: Any, storage: str | None, interval: Any) -> str:
    """Return why a live remote backup cannot be written as a spec ("" when it can)."""
    if isinstance(path, Secret):
        return "its path carries credentials"
    if storage is None:
        return "its storage type cannot be told from its path"
    return "" if interval else "it has no interval"


def storage_type(path: Any) -> str | None:
    """Return the remoteBackup.storageType for a storage path (None when unknown)."""
    if not isinstance(path, str):
        return None
    lowered = path.lower()
    for prefix, kind in _STORAGE_TYPES:
        if lowered.startswith(prefix):
            return kind
    return "azure-blob-storage" if _AZURE_HTTPS.match(path) else None


def _add_replica(fields: dict[str, Any], notes: list[str], endpoints: Any) -> None:
    """Add ``replica.syncSources`` for a replica database (a comment when a URI has secrets)."""
    if not isinstance(endpoints, list) or not endpoints:
        return
    if any(isinstance(e, Secret) for e in endpoints):
        shown = flow_text({"syncSources": [{"endpoint": _shown(e)} for e in endpoints]})
        notes.append(f"replica: {shown}  # not managed: a source URI carries credentials")
        return
    fields["replica"] = {"syncSources": [{"endpoint": e} for e in endpoints]}


def _shown(value: Any) -> Any:
    """Return a value fit for a comment: secrets masked (URIs keep their host)."""
    if isinstance(value, Secret):
        return mask_uri(value.reveal()) if "@" in value.reveal() else MASK
    return value


def _settled(
    sub: LiveSubscription, db: LiveDatabase, fields: dict[str, Any], live: Mapping[str, Any]
) -> dict[str, Any]:
    """Return ``fields`` without any field the planner would see as a change (warned).

    This is the planner's own comparison, so a live value of an unexpected shape can never
    make ``plan`` on the export show a change.
    """
    context = CompareContext.for_database(fields, live, sub.raw)
    desired, have = comparable_fields(fields, live, context)
    changed = {c.path.split(".", 1)[0] for c in diff_fields(desired, have)}
    for field in sorted(changed):
        log.warning("database %s (db %s): %s left out (not comparable)", db.name, db.id, field)
    return {k: v for k, v in fields.items() if k not in changed}


# --------------------------------------------------------------------------- writing


def _write_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temporary file renamed over it).

    Raises:
        UsageError: the folder cannot be created or the file cannot be written.
    """
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    log.info("wrote %s", path)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, rename it."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """Return the mode of the file being replaced, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
