"""Cross-field rules the API enforces on one database, as a table.

Each :class:`Rule` names the fields it reads, the field its message is about, a test that
is True when the database breaks the rule, and the message. A rule is checked only when
every field it reads is known:

- by ``validate`` (and every command, while loading the spec), known means written in the
  spec, on the database or in the ``defaults`` beside it;
- by ``plan``, once the account is read, a field the spec leaves out is also known: for an
  existing database, from its live value; for a database the plan creates, from the value
  Redis Cloud gives it by default. Rules marked ``new_only`` are checked this way for new
  databases only (an existing database never gets the request they are about).

Rules marked ``when_sent`` are checked for an existing database only when the field they
point at would be sent (its value differs from the live one): the API refuses the request
carrying it, not a database that already has it. Rules marked ``written_only`` are checked
only when every field they read is written in the spec (a live value never breaks them).

Rules marked ``offline=False`` are checked by ``plan`` only: ``modules`` on Redis 8 and
later is refused for a new database, but an existing one upgraded from Redis 7 keeps the
list it was created with (modules are create-only, and ignored from Redis 8 on).

The field a message is about is always one written in the spec, so every problem points
at a line of it. Bounds of single values (ports, sizes, alert values) and patterns are in
the JSON Schema, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compare import version_tuple

View = Mapping[str, Any]

#: Below this Redis version, RESP3 is refused.
RESP3_FROM = (7, 2)
#: From this major Redis version on, every module is bundled: none may be listed.
BUNDLED_MODULES_FROM = 8
SEARCH_MODULE = "RediSearch"
CUSTOM_SHARDING = "custom-regex-rules"
MEMCACHED = "memcached"
BY_SHARDS = "number-of-shards"


@dataclass(frozen=True)
class Rule:
    """One cross-field rule; the module docstring says when it is checked."""

    id: str
    fields: tuple[str, ...]
    at: str
    broken: Callable[[View], bool]
    message: Callable[[View], str]
    new_only: bool = False
    offline: bool = True
    when_sent: bool = False
    written_only: bool = False


def _version(view: View) -> tuple[int, ...] | None:
    return version_tuple(view.get("redisVersion"))


def _module_names(view: View) -> set[str] | None:
    modules = view.get("modules")
    if not isinstance(modules, list):
        return None
    return {str(m.get("name")) for m in modules if isinstance(m, Mapping)}


def _is_standard(factor: Any) -> bool:
    return isinstance(factor, str) and factor.lower() == "standard"


def _needs_search_module(view: View) -> bool:
    version, names, factor = _version(view), _module_names(view), view["queryPerformanceFactor"]
    if version is None or names is None or not isinstance(factor, str) or _is_standard(factor):
        return False
    return version[0] < BUNDLED_MODULES_FROM and SEARCH_MODULE not in names


def _lists_bundled_modules(view: View) -> bool:
    version = _version(view)
    listed = isinstance(view["modules"], list) and bool(view["modules"])
    return listed and version is not None and version[0] >= BUNDLED_MODULES_FROM


def _resp3_too_early(view: View) -> bool:
    version = _version(view)
    return view["respVersion"] == "resp3" and version is not None and version < RESP3_FROM


def _twice(view: View) -> list[str]:
    """Return the module names ``modules`` lists more than once (any case), in list order."""
    modules = view["modules"]
    if not isinstance(modules, list):
        return []
    names = [m.get("name") for m in modules if isinstance(m, Mapping)]
    lowered = [n.lower() for n in names if isinstance(n, str)]
    seen = [n for n in names if isinstance(n, str) and lowered.count(n.lower()) > 1]
    return list(dict.fromkeys(seen))


def _search_by_shards(view: View) -> bool:
    names, throughput = _module_names(view), view["throughputMeasurement"]
    by = throughput.get("by") if isinstance(throughput, Mapping) else None
    return names is not None and SEARCH_MODULE in names and by == BY_SHARDS


def _endpoints(view: View) -> list[Any] | None:
    """Return the endpoints of ``replica.syncSources``; None when not a list of sources."""
    sources = view["replica"].get("syncSources") if isinstance(view["replica"], Mapping) else None
    if not isinstance(sources, list) or not all(isinstance(s, Mapping) for s in sources):
        return None
    return [source.get("endpoint") for source in sources]


def _replica_disagrees(view: View) -> bool:
    endpoints, replica_of = _endpoints(view), view["replicaOf"]
    if endpoints is None or not isinstance(replica_of, list):
        return False
    return any(e not in replica_of for e in endpoints) or any(
        r not in endpoints for r in replica_of
    )


def _memcached_rule(field: str, broken: Callable[[Any], bool], what: str) -> Rule:
    return Rule(
        id=f"{field}-not-for-memcached",
        fields=("protocol", field),
        at=field,
        broken=lambda view: view["protocol"] == MEMCACHED and broken(view[field]),
        message=lambda view: f"a memcached database (protocol: memcached) cannot have {what}",
    )


def _sasl_rule(field: str) -> Rule:
    return Rule(
        id=f"{field}-needs-memcached",
        fields=("protocol", field),
        at=field,
        broken=lambda view: view["protocol"] == "redis",
        message=lambda view: (
            f"{field} is only for memcached databases (protocol: memcached), and this one "
            "is a redis database"
        ),
    )


RULES: tuple[Rule, ...] = (
    Rule(
        id="password-needs-redis",
        fields=("protocol", "password"),
        at="password",
        broken=lambda view: view["protocol"] == "memcached",
        message=lambda view: (
            "password is only for redis databases; a memcached database is reached with "
            "saslUsername and saslPassword"
        ),
    ),
    _sasl_rule("saslUsername"),
    _sasl_rule("saslPassword"),
    Rule(
        id="modules-bundled-from-redis-8",
        fields=("redisVersion", "modules"),
        at="modules",
        broken=_lists_bundled_modules,
        message=lambda view: (
            f"modules cannot be listed for Redis {view['redisVersion']}: Redis 8 and later "
            "bundle every module; remove modules"
        ),
        new_only=True,
        offline=False,
    ),
    Rule(
        id="resp3-from-redis-7.2",
        fields=("redisVersion", "respVersion"),
        at="respVersion",
        broken=_resp3_too_early,
        message=lambda view: (
            f"respVersion resp3 needs Redis 7.2 or later, and this database has Redis "
            f"{view['redisVersion']}: use resp2 or a later redisVersion"
        ),
    ),
    Rule(
        id="query-performance-needs-search",
        fields=("queryPerformanceFactor", "modules", "redisVersion"),
        at="queryPerformanceFactor",
        broken=_needs_search_module,
        message=lambda view: (
            f"queryPerformanceFactor {view['queryPerformanceFactor']} needs the search "
            f"module on Redis {view['redisVersion']}: list {{name: {SEARCH_MODULE}}} in "
            "modules (Redis 8 and later bundle it)"
        ),
    ),
    Rule(
        id="regex-rules-need-custom-sharding",
        fields=("regexRules", "shardingType"),
        at="regexRules",
        broken=lambda view: (
            isinstance(view["shardingType"], str) and view["shardingType"] != CUSTOM_SHARDING
        ),
        message=lambda view: (
            f"regexRules need shardingType {CUSTOM_SHARDING}, and this database's is "
            f"{view['shardingType']}: set shardingType: {CUSTOM_SHARDING}, or remove "
            "regexRules (even [])"
        ),
        when_sent=True,
    ),
    Rule(
        id="external-endpoint-needs-oss-cluster-api",
        fields=("useExternalEndpointForOSSClusterApi", "supportOSSClusterApi"),
        at="useExternalEndpointForOSSClusterApi",
        broken=lambda view: (
            view["useExternalEndpointForOSSClusterApi"] is True
            and view["supportOSSClusterApi"] is not True
        ),
        message=lambda view: (
            "useExternalEndpointForOSSClusterApi: true needs supportOSSClusterApi: true"
        ),
    ),
    _memcached_rule(
        "modules",
        lambda modules: isinstance(modules, list) and bool(modules),
        "modules: remove modules (or list none)",
    ),
    _memcached_rule(
        "supportOSSClusterApi",
        lambda support: support is True,
        "supportOSSClusterApi: true: the OSS Cluster API is for redis databases",
    ),
    _memcached_rule(
        "enableDefaultUser",
        lambda _: True,
        "enableDefaultUser: the default user is a redis one; remove enableDefaultUser",
    ),
    Rule(
        id="one-backup-specification",
        fields=("remoteBackup", "periodicBackupPath"),
        at="periodicBackupPath",
        broken=lambda view: True,
        message=lambda view: (
            "periodicBackupPath cannot be combined with remoteBackup: keep remoteBackup "
            "(periodicBackupPath is deprecated) and remove periodicBackupPath"
        ),
        written_only=True,
    ),
    Rule(
        id="replica-of-agrees-with-replica",
        fields=("replica", "replicaOf"),
        at="replicaOf",
        broken=_replica_disagrees,
        message=lambda view: (
            "replicaOf names other sources than replica.syncSources, and a database has one "
            "set of sources: keep replica (replicaOf is deprecated) and remove replicaOf"
        ),
        written_only=True,
    ),
    Rule(
        id="module-listed-once",
        fields=("modules",),
        at="modules",
        broken=lambda view: bool(_twice(view)),
        message=lambda view: (
            f"modules lists {', '.join(_twice(view))} more than once: list each module once"
        ),
    ),
    Rule(
        id="search-not-by-shards",
        fields=("modules", "throughputMeasurement"),
        at="throughputMeasurement",
        broken=_search_by_shards,
        message=lambda view: (
            f"throughputMeasurement by {BY_SHARDS} cannot be used with the {SEARCH_MODULE} "
            "module: use by: operations-per-second"
        ),
    ),
)


def broken_rules(
    view: View,
    written: Mapping[str, Any],
    *,
    new: bool | None,
    sent: Callable[[str], bool] = lambda field: True,
) -> list[Rule]:
    """Return the rules ``view`` breaks, in table order.

    ``view`` holds the known field values, ``written`` the fields written in the spec;
    ``new`` is True for a database the plan creates, False for an existing one and None when
    unknown (``validate``); ``sent`` tells whether a field of an existing database would be
    sent. A rule is skipped when a field it reads is unknown (or, ``written_only``, not
    written), when the field it points at is not written, when ``new`` is None and the rule
    is not ``offline``, when ``new_only`` on an existing database, and when ``when_sent``
    on an existing database that would not be sent the field.
    """
    found: list[Rule] = []
    for rule in RULES:
        known = written if rule.written_only else view
        if rule.at not in written or any(f not in known for f in rule.fields):
            continue
        if new is None and not rule.offline:
            continue
        if new is False and (rule.new_only or (rule.when_sent and not sent(rule.at))):
            continue
        if rule.broken(view):
            found.append(rule)
    return found
