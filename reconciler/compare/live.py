"""A database as ``GET`` returns it, turned into the request's names and shapes.

The read and the request name fields differently (``security.sourceIps`` → ``sourceIp``,
``backup.*`` → ``remoteBackup``, ``clustering.regexRules`` → ``regexRules`` …; the field
catalogue lists where each is read) and the read holds volatile facts (status, usage,
timestamps, endpoints) that are dropped here, so two reads of an unchanged database give
the same result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.compare.fields import API_DEFAULTS, READ_AS_IS_FIELDS
from reconciler.compare.forms import PRIVATE_SOURCE_IPS, PUBLIC_SOURCE_IPS, protect, sort_key
from reconciler.secrets import Secret

#: ``clustering.hashingPolicy`` of a read → the ``shardingType`` the database was created with.
_SHARDING_BY_HASHING_POLICY = {
    "standard": "default-regex-rules",
    "custom": "custom-regex-rules",
    "redis-oss-hashing": "redis-oss-hashing",
}
#: Client certificate fields and the ``security`` flag telling whether they are set.
_CERTIFICATE_FLAGS = (
    ("clientTlsCertificates", "tlsClientAuthentication"),
    ("clientSslCertificate", "sslClientAuthentication"),
)


def live_to_request(db: Mapping[str, Any], subscription: Mapping[str, Any]) -> dict[str, Any]:
    """Return the request-shaped, non-volatile fields of a database as read from the API.

    ``subscription`` is the raw subscription object; it supplies the default source IPs
    when the database does not report any. Passwords and URIs with credentials come back
    wrapped in :class:`Secret`. Unexpected shapes are passed through (they then simply
    compare unequal); nothing here raises on a strange payload.
    """
    out: dict[str, Any] = {k: db[k] for k in READ_AS_IS_FIELDS if k in db}
    out.setdefault("protocol", API_DEFAULTS["protocol"])
    if isinstance(db.get("throughputMeasurement"), Mapping):
        tm = db["throughputMeasurement"]
        out["throughputMeasurement"] = {k: tm[k] for k in ("by", "value") if k in tm}
    port = _endpoint_port(db.get("publicEndpoint")) or _endpoint_port(db.get("privateEndpoint"))
    if port is not None:
        out["port"] = port
    out.update(_security(db.get("security"), subscription))
    out["remoteBackup"] = _backup(db.get("backup"))
    out["periodicBackupPath"] = _backup_path(db.get("backup"))
    out["regexRules"] = _regex_rules(db.get("clustering"))
    sharding = _sharding_type(db.get("clustering"))
    if sharding is not None:
        out["shardingType"] = sharding
    out["modules"] = _modules(db.get("modules"))
    out["alerts"] = _alerts(db.get("alerts"))
    endpoints = _endpoints(db)
    out["replicaOf"] = endpoints
    out["replica"] = {"syncSources": [{"endpoint": e} for e in endpoints]}
    return out


@dataclasses.dataclass(frozen=True)
class RequestForms:
    """Remembers :func:`live_to_request` per database read, so one planning pass (comparison
    and fingerprint) computes each database's request form once.

    Keyed by the identity of the two read objects (kept referenced here, so an identity is
    never reused while the memo lives); the forms handed out must be treated as read-only.
    """

    _memo: dict[tuple[int, int], tuple[Mapping[str, Any], Mapping[str, Any], dict[str, Any]]] = (
        dataclasses.field(default_factory=dict)
    )

    def of(self, db: Mapping[str, Any], subscription: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``live_to_request(db, subscription)``, computed on the first call only."""
        key = (id(db), id(subscription))
        hit = self._memo.get(key)
        if hit is None:
            hit = (db, subscription, live_to_request(db, subscription))
            self._memo[key] = hit
        return hit[2]


def _endpoint_port(endpoint: Any) -> int | None:
    """Return the port of a ``host:port`` endpoint, or None."""
    if isinstance(endpoint, str) and endpoint.rpartition(":")[2].isdigit():
        return int(endpoint.rpartition(":")[2])
    return None


def _security(security: Any, subscription: Mapping[str, Any]) -> dict[str, Any]:
    """Return sourceIp/password/enableDefaultUser/enableTls from the ``security`` object.

    A switch the read leaves out has the value a create gives it.
    """
    sec: Mapping[str, Any] = security if isinstance(security, Mapping) else {}
    out: dict[str, Any] = {
        "sourceIp": _source_ips(sec.get("sourceIps"), subscription),
        "enableDefaultUser": sec.get("enableDefaultUser", API_DEFAULTS["enableDefaultUser"]),
        "enableTls": sec.get("enableTls", API_DEFAULTS["enableTls"]),
    }
    if isinstance(sec.get("password"), str) and sec["password"]:
        out["password"] = Secret(sec["password"])
    for field, flag in _CERTIFICATE_FLAGS:
        if flag in sec:
            out[field] = sec[flag]
    if "saslUsername" in sec:
        out["saslUsername"] = sec["saslUsername"]
    return out


def _source_ips(source_ips: Any, subscription: Mapping[str, Any]) -> Any:
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
            out[dst] = protect(backup[src])
    return out


def _backup_path(backup: Any) -> Any:
    """Return ``periodicBackupPath``: the backup destination, "" when there is none."""
    if not isinstance(backup, Mapping) or backup.get("destination") is None:
        return ""
    return protect(backup["destination"])


def _sharding_type(clustering: Any) -> str | None:
    """Return the ``shardingType`` the hashing policy tells, or None (unknown policy)."""
    policy = clustering.get("hashingPolicy") if isinstance(clustering, Mapping) else None
    return _SHARDING_BY_HASHING_POLICY.get(policy) if isinstance(policy, str) else None


def _regex_rules(clustering: Any) -> Any:
    """Return the regex rule patterns sorted by ordinal ([] when none)."""
    rules = clustering.get("regexRules") if isinstance(clustering, Mapping) else None
    if not rules:
        return []
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
        return rules
    ordered = sorted(rules, key=lambda r: sort_key(r.get("ordinal")))
    return [r.get("pattern") for r in ordered]


def _modules(modules: Any) -> Any:
    """Return ``[{name}]`` for the modules list, dropping server-side details."""
    if not modules:
        return []
    if not isinstance(modules, list):
        return modules
    return [{"name": m.get("name")} if isinstance(m, Mapping) else m for m in modules]


def _alerts(alerts: Any) -> Any:
    """Return ``[{name, value}]``, dropping alert ``id`` and ``defaultValue``."""
    if not alerts:
        return []
    if not isinstance(alerts, list):
        return alerts
    return [
        {"name": a.get("name"), "value": a.get("value")} if isinstance(a, Mapping) else a
        for a in alerts
    ]


def _endpoints(db: Mapping[str, Any]) -> list[Any]:
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
    return [protect(e) for e in found]
