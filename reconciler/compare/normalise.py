"""Bring live API objects and spec fields into one comparable, request-shaped form.

Three steps, all pure functions:

1. :func:`live_to_request` turns a database as ``GET`` returns it into the names of
   ``DatabaseCreateRequest``/``DatabaseUpdateRequest`` (``security.sourceIps`` → ``sourceIp``,
   ``backup.*`` → ``remoteBackup`` …) and drops volatile fields (facts §6.12).
2. :func:`normalise_desired` (and the same canonicalisers for the live side) puts each
   field into a canonical form: sets as sorted de-duplicated lists, numbers as ``2`` rather
   than ``2.0``, server defaults folded (the default regex pair is ``[]``), write-only
   fields dropped.
3. :func:`comparable` applies the rules that need both sides or the database's context
   (source IP defaults, modules bundled on Redis 8, 12-hour backup times, fields the API
   did not return). When two values are equivalent it returns the desired form on both
   sides, so the differ sees them equal and renderers show the user's own spelling.

Secrets (passwords, URIs with credentials) are :class:`reconciler.secrets.Secret` on both
sides, so a comparison never needs them in clear outside ``Secret.__eq__``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.secrets import Secret, has_credentials

log = logging.getLogger(__name__)

PUBLIC_SOURCE_IPS = ["0.0.0.0/0"]
PRIVATE_SOURCE_IPS = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"]
DEFAULT_REGEX_RULES = [r".*\{(?<tag>.*)\}.*", "(?<tag>.*)"]

#: Sent but never read back the same way (facts §6.10, §6.16): never diffed.
WRITE_ONLY_FIELDS = frozenset(
    {
        "useExternalEndpointForOSSClusterApi", "averageItemSizeInBytes", "saslUsername",
        "saslPassword", "clientSslCertificate", "clientTlsCertificates", "periodicBackupPath",
        "localThroughputMeasurement",
    }
)  # fmt: skip

#: Never compared: identity and request-only switches.
_NOT_COMPARED = frozenset({"name", "dryRun", "subscriptionId", "databaseId", "commandType"})

#: Top-level fields copied from the API object unchanged (same name in request and read).
_PLAIN_FIELDS = (
    "name", "protocol", "datasetSizeInGb", "memoryLimitInGb", "redisVersion", "respVersion",
    "supportOSSClusterApi", "useExternalEndpointForOSSClusterApi", "dataPersistence",
    "dataEvictionPolicy", "replication", "queryPerformanceFactor", "autoMinorVersionUpgrade",
    "ramPercentage", "shardingType",
)  # fmt: skip

_SECRET_FIELDS = frozenset({"password", "saslPassword"})
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class _Missing:
    """Marker for a field the API did not return (unknown, not "empty")."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class CompareContext:
    """What the pairwise rules need to know about one database.

    ``public_endpoint_access`` comes from the subscription (absent means true, as TF reads
    it); ``redis_major`` is the highest major Redis version on either side (None: unknown).
    """

    public_endpoint_access: bool = True
    redis_major: int | None = None

    @classmethod
    def for_database(
        cls,
        desired_fields: Mapping[str, Any],
        live_request: Mapping[str, Any],
        subscription: Mapping[str, Any],
    ) -> CompareContext:
        """Return the context for one database from its spec fields, live fields, subscription."""
        majors = [
            m
            for m in (
                _major(desired_fields.get("redisVersion")),
                _major(live_request.get("redisVersion")),
            )
            if m is not None
        ]
        return cls(
            public_endpoint_access=subscription.get("publicEndpointAccess", True) is not False,
            redis_major=max(majors) if majors else None,
        )


# --------------------------------------------------------------------------- live → request


def live_to_request(db: Mapping[str, Any], subscription: Mapping[str, Any]) -> dict[str, Any]:
    """Return the request-shaped, non-volatile fields of a database as read from the API.

    ``subscription`` is the raw subscription object; it supplies the default source IPs
    when the database does not report any. Passwords and URIs with credentials come back
    wrapped in :class:`Secret`. Unexpected shapes are passed through (they then simply
    compare unequal); nothing here raises on a strange payload.
    """
    out: dict[str, Any] = {k: db[k] for k in _PLAIN_FIELDS if k in db}
    out.setdefault("protocol", "redis")
    if isinstance(db.get("throughputMeasurement"), Mapping):
        tm = db["throughputMeasurement"]
        out["throughputMeasurement"] = {k: tm[k] for k in ("by", "value") if k in tm}
    port = _endpoint_port(db.get("publicEndpoint")) or _endpoint_port(db.get("privateEndpoint"))
    if port is not None:
        out["port"] = port
    out.update(_security(db.get("security"), subscription))
    out["remoteBackup"] = _backup(db.get("backup"))
    out["regexRules"] = _live_regex_rules(db.get("clustering"))
    out["modules"] = _live_modules(db.get("modules"))
    out["alerts"] = _live_alerts(db.get("alerts"))
    endpoints = _live_endpoints(db)
    out["replicaOf"] = endpoints
    out["replica"] = {"syncSources": [{"endpoint": e} for e in endpoints]}
    return out


def _endpoint_port(endpoint: Any) -> int | None:
    """Return the port of a ``host:port`` endpoint, or None."""
    if isinstance(endpoint, str) and endpoint.rpartition(":")[2].isdigit():
        return int(endpoint.rpartition(":")[2])
    return None


def _security(security: Any, subscription: Mapping[str, Any]) -> dict[str, Any]:
    """Return sourceIp/password/enableDefaultUser/enableTls from the ``security`` object."""
    sec: Mapping[str, Any] = security if isinstance(security, Mapping) else {}
    out: dict[str, Any] = {
        "sourceIp": _live_source_ips(sec.get("sourceIps"), subscription),
        "enableDefaultUser": sec.get("enableDefaultUser", True),
        "enableTls": sec.get("enableTls", False),
    }
    if isinstance(sec.get("password"), str) and sec["password"]:
        out["password"] = Secret(sec["password"])
    return out


def _live_source_ips(source_ips: Any, subscription: Mapping[str, Any]) -> Any:
    """Return a copy of the live source IPs; none reported means the subscription default."""
    if not source_ips:
        return list(_default_source_ips(subscription))
    return list(source_ips) if isinstance(source_ips, list) else source_ips


def _default_source_ips(subscription: Mapping[str, Any]) -> list[str]:
    """Return the server's default source IPs for databases of this subscription."""
    if subscription.get("publicEndpointAccess", True) is False:
        return PRIVATE_SOURCE_IPS
    return PUBLIC_SOURCE_IPS


def _backup(backup: Any) -> Any:
    """Return ``remoteBackup`` {active, interval, timeUTC, storagePath} from ``backup``."""
    if backup is None:
        return {"active": False}
    if not isinstance(backup, Mapping):
        return backup
    out: dict[str, Any] = {"active": bool(backup.get("enableRemoteBackup", False))}
    for src, dst in (
        ("interval", "interval"),
        ("timeUTC", "timeUTC"),
        ("destination", "storagePath"),
    ):
        if backup.get(src) is not None:
            out[dst] = _protect(backup[src])
    return out


def _live_regex_rules(clustering: Any) -> Any:
    """Return the regex rule patterns sorted by ordinal ([] when none)."""
    rules = clustering.get("regexRules") if isinstance(clustering, Mapping) else None
    if not rules:
        return []
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
        return rules
    ordered = sorted(rules, key=lambda r: _sort_key(r.get("ordinal")))
    return [r.get("pattern") for r in ordered]


def _live_modules(modules: Any) -> Any:
    """Return ``[{name}]`` for the modules list, dropping server-side details."""
    if not modules:
        return []
    if not isinstance(modules, list):
        return modules
    return [{"name": m.get("name")} if isinstance(m, Mapping) else m for m in modules]


def _live_alerts(alerts: Any) -> Any:
    """Return ``[{name, value}]``, dropping alert ``id`` and ``defaultValue``."""
    if not alerts:
        return []
    if not isinstance(alerts, list):
        return alerts
    return [
        {"name": a.get("name"), "value": a.get("value")} if isinstance(a, Mapping) else a
        for a in alerts
    ]


def _live_endpoints(db: Mapping[str, Any]) -> list[Any]:
    """Return the replication source endpoints from ``replica`` or ``replicaOf`` ([] if none)."""
    found: list[Any] = []
    replica = db.get("replica")
    if isinstance(replica, Mapping) and isinstance(replica.get("syncSources"), list):
        found += [
            s.get("endpoint") if isinstance(s, Mapping) else s for s in replica["syncSources"]
        ]
    replica_of = db.get("replicaOf")
    if isinstance(replica_of, Mapping) and isinstance(replica_of.get("endpoints"), list):
        found += replica_of["endpoints"]
    elif isinstance(replica_of, list):
        found += replica_of
    return [_protect(e) for e in found]


# --------------------------------------------------------------------------- canonical forms


def normalise_desired(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the canonical comparable form of desired request fields.

    Write-only fields and ``name`` are dropped (they are never compared); every other field
    is canonicalised as :func:`canonical` describes.
    """
    return {
        k: canonical(k, v)
        for k, v in fields.items()
        if k not in WRITE_ONLY_FIELDS and k not in _NOT_COMPARED
    }


def canonical(field: str, value: Any) -> Any:
    """Return the canonical form of one request-shaped field value (desired or live).

    Sets become sorted, de-duplicated lists; numbers lose a ``.0``; secrets are wrapped.
    A value of an unexpected shape is returned as it is.
    """
    return _CANONICAL.get(field, _plain)(value)


def _plain(value: Any) -> Any:
    """Return a JSON-like value with integral floats made ints (recursively)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _secret(value: Any) -> Any:
    """Return ``value`` wrapped in :class:`Secret` when it is a plain string."""
    return Secret(value) if isinstance(value, str) else value


def _protect(value: Any) -> Any:
    """Return ``value`` with strings that carry credentials wrapped in :class:`Secret`."""
    if isinstance(value, str) and has_credentials(value):
        return Secret(value)
    return value


def _sort_key(value: Any) -> tuple[int, str]:
    """Return a total-order key for mixed values; secrets sort by a digest, never clear."""
    if isinstance(value, Secret):
        return (2, hashlib.sha256(value.reveal().encode()).hexdigest())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, repr(value))
    return (0, f"{value:030.10f}")


def _as_set(items: Iterable[Any]) -> list[Any]:
    """Return the distinct items, sorted: a set in a JSON-friendly, comparable form."""
    distinct: list[Any] = []
    for item in items:
        if item not in distinct:
            distinct.append(item)
    return sorted(distinct, key=_sort_key)


def _string_set(value: Any) -> Any:
    """Return a list of strings as a sorted set (sourceIp)."""
    return _as_set(_plain(value)) if isinstance(value, (list, tuple)) else value


def _alerts(value: Any) -> Any:
    """Return alerts as a sorted set of ``{name, value}`` (extra keys dropped)."""
    if not isinstance(value, (list, tuple)):
        return value
    alerts = [
        {"name": a.get("name"), "value": _plain(a.get("value"))} if isinstance(a, Mapping) else a
        for a in value
    ]
    distinct: list[Any] = []
    for alert in alerts:
        if alert not in distinct:
            distinct.append(alert)
    return sorted(distinct, key=lambda a: _sort_key(_alert_key(a)))


def _alert_key(alert: Any) -> Any:
    """Return a sortable description of one alert."""
    if isinstance(alert, Mapping):
        return f"{alert.get('name')}\0{_sort_key(alert.get('value'))}"
    return alert


def _regex_rules(value: Any) -> Any:
    """Return regex rules as an ordered list of patterns; the server default pair is []."""
    if not isinstance(value, (list, tuple)):
        return value
    if value and all(isinstance(r, Mapping) for r in value):
        value = [r.get("pattern") for r in sorted(value, key=lambda r: _sort_key(r.get("ordinal")))]
    patterns = list(value)
    return [] if patterns == DEFAULT_REGEX_RULES else patterns


def _remote_backup(value: Any) -> Any:
    """Return remoteBackup without storageType; only ``active`` matters when it is false."""
    if not isinstance(value, Mapping):
        return value
    if value.get("active") is False:
        return {"active": False}
    out = {k: _protect(v) for k, v in value.items() if k != "storageType"}
    if isinstance(out.get("timeUTC"), str):
        out["timeUTC"] = _time_text(out["timeUTC"])
    return out


def _time_text(text: str) -> str:
    """Return ``H:MM`` as ``HH:MM``; other text unchanged."""
    m = _TIME.match(text)
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else text


def _module_names(value: Any) -> Any:
    """Return module names as a sorted set."""
    if not isinstance(value, (list, tuple)):
        return value
    return _as_set(m.get("name") if isinstance(m, Mapping) else m for m in value)


def _endpoints(value: Any) -> Any:
    """Return replicaOf endpoints as a sorted set (credentials wrapped in Secret)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return value
    return _as_set(_protect(e) for e in value)


def _sync_sources(value: Any) -> Any:
    """Return ``replica.syncSources`` endpoints as a sorted set."""
    if value is None:
        return []
    if not isinstance(value, Mapping) or not isinstance(value.get("syncSources"), (list, tuple)):
        return value
    return _endpoints(
        [s.get("endpoint") if isinstance(s, Mapping) else s for s in value["syncSources"]]
    )


def _qpf(value: Any) -> Any:
    """Return the query performance factor in lower case (``Standard`` → ``standard``)."""
    return value.lower() if isinstance(value, str) else value


def _version_text(value: Any) -> Any:
    """Return a Redis version as text (``7.4`` → ``"7.4"``)."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


_CANONICAL: dict[str, Callable[[Any], Any]] = {
    "password": _secret,
    "saslPassword": _secret,
    "sourceIp": _string_set,
    "alerts": _alerts,
    "regexRules": _regex_rules,
    "remoteBackup": _remote_backup,
    "modules": _module_names,
    "replicaOf": _endpoints,
    "replica": _sync_sources,
    "queryPerformanceFactor": _qpf,
    "redisVersion": _version_text,
}


# --------------------------------------------------------------------------- pairwise rules


def version_tuple(value: Any) -> tuple[int, ...] | None:
    """Return ``"7.4"`` as ``(7, 4)``; None when it is not a dotted version."""
    text = _version_text(value)
    if not isinstance(text, str) or not _VERSION.match(text.strip()):
        return None
    return tuple(int(p) for p in text.strip().split("."))


def _major(value: Any) -> int | None:
    """Return the major version number, or None."""
    version = version_tuple(value)
    return version[0] if version else None


def same_version(desired: Any, live: Any) -> bool:
    """Return True when ``live`` is the desired version (compared on the desired parts)."""
    want, have = version_tuple(desired), version_tuple(live)
    if want is None or have is None:
        return bool(_version_text(desired) == _version_text(live))
    return have[: len(want)] == want


def comparable(
    field: str, desired: Any, live: Any, *, context: CompareContext
) -> tuple[Any, Any] | None:
    """Return the (desired, live) pair to compare for ``field``, or None to skip it.

    Both values are canonical (see :func:`canonical`); ``live`` is :data:`MISSING` when
    the API did not return the field. None means "not comparable": the field is write-only,
    unknown live, or bundled (modules on Redis ≥ 8). When the two are equivalent the pair
    holds the desired form twice.
    """
    rule = _PAIR_RULES.get(field)
    if rule is not None:
        return rule(desired, live, context)
    if live is MISSING or field in WRITE_ONLY_FIELDS or field in _NOT_COMPARED:
        return None
    return desired, live


def _pair_source_ip(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """Desired [] equals either server default; an empty live list is the default."""
    if live is MISSING or not live:
        live = _string_set(PUBLIC_SOURCE_IPS if ctx.public_endpoint_access else PRIVATE_SOURCE_IPS)
    if desired == [] and live in (PUBLIC_SOURCE_IPS, PRIVATE_SOURCE_IPS):
        return desired, desired
    return desired, live


def _pair_modules(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """Modules are bundled from Redis 8 on: never compared there."""
    if ctx.redis_major is not None and ctx.redis_major >= 8:
        return None
    return desired, [] if live is MISSING else live


def _pair_remote_backup(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """Compare only the sub-fields the spec writes; 12-hour times are equal modulo 12."""
    if live is MISSING:
        live = {"active": False}
    if not isinstance(desired, Mapping) or not isinstance(live, Mapping):
        return desired, live
    have = {k: live.get(k, MISSING) for k in desired}
    have = {k: v for k, v in have.items() if v is not MISSING}
    interval = desired.get("interval", live.get("interval"))
    if interval == "every-12-hours" and _same_half_day(desired.get("timeUTC"), have.get("timeUTC")):
        have["timeUTC"] = desired["timeUTC"]
    return dict(desired), have


def _same_half_day(want: Any, have: Any) -> bool:
    """Return True when two ``HH:MM`` times are equal modulo 12 hours."""
    a = _TIME.match(want) if isinstance(want, str) else None
    b = _TIME.match(have) if isinstance(have, str) else None
    if a is None or b is None:
        return False
    return int(a.group(1)) % 12 == int(b.group(1)) % 12 and a.group(2) == b.group(2)


def _pair_version(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """Versions compare as versions: 7.4 == "7.4"; live 7.4.2 satisfies desired 7.4."""
    if live is MISSING:
        return None
    return (desired, desired) if same_version(desired, live) else (desired, live)


def _pair_qpf(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """An unset query performance factor reads back as ``standard``."""
    return desired, "standard" if live is MISSING or live is None else live


def _pair_known_only(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any] | None:
    """Compared only when the API returned a value (password, memoryLimitInGb)."""
    return None if live is MISSING or live is None else (desired, live)


def _pair_defaulted(default: Any) -> Callable[[Any, Any, CompareContext], tuple[Any, Any]]:
    """Return a rule that compares against ``default`` when the API returned nothing."""

    def rule(desired: Any, live: Any, ctx: CompareContext) -> tuple[Any, Any]:
        return desired, default if live is MISSING else live

    return rule


_PairRule = Callable[[Any, Any, CompareContext], "tuple[Any, Any] | None"]
_PAIR_RULES: dict[str, _PairRule] = {
    "sourceIp": _pair_source_ip,
    "modules": _pair_modules,
    "remoteBackup": _pair_remote_backup,
    "redisVersion": _pair_version,
    "queryPerformanceFactor": _pair_qpf,
    "password": _pair_known_only,
    "memoryLimitInGb": _pair_known_only,
    "enableDefaultUser": _pair_defaulted(True),
    "enableTls": _pair_defaulted(False),
    "alerts": _pair_defaulted([]),
    "regexRules": _pair_defaulted([]),
    "replicaOf": _pair_defaulted([]),
    "replica": _pair_defaulted([]),
}


def comparable_fields(
    desired_fields: Mapping[str, Any],
    live_request: Mapping[str, Any],
    context: CompareContext,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (desired, live) canonical mappings holding only the fields to compare.

    ``desired_fields`` are the spec's request fields, ``live_request`` the output of
    :func:`live_to_request`. Keys of the two results are the same.
    """
    desired_out: dict[str, Any] = {}
    live_out: dict[str, Any] = {}
    for field, want in normalise_desired(desired_fields).items():
        have = canonical(field, live_request[field]) if field in live_request else MISSING
        pair = comparable(field, want, have, context=context)
        if pair is None:
            log.debug("field %s is not compared", field)
            continue
        desired_out[field], live_out[field] = pair
    return desired_out, live_out


def request_value(field: str, value: Any) -> Any:
    """Return a desired field value as it goes into a request body: secrets wrapped.

    ``password``/``saslPassword`` become :class:`Secret`; strings with credentials anywhere
    inside (replicaOf URIs, sync source endpoints, storage paths) become :class:`Secret`.
    """
    if field in _SECRET_FIELDS:
        return _secret(value)
    return _protect_deep(value)


def _protect_deep(value: Any) -> Any:
    """Return a copy of a JSON-like value with credential-bearing strings wrapped."""
    if isinstance(value, Mapping):
        return {k: _protect_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_protect_deep(v) for v in value]
    return _protect(value)
