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
        new_only=True,
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
)


def broken_rules(view: View, written: Mapping[str, Any], *, new: bool | None) -> list[Rule]:
    """Return the rules ``view`` breaks, in table order.

    ``view`` holds the known field values, ``written`` the fields written in the spec;
    ``new`` is True for a database the plan creates, False for an existing one and None when
    unknown (``validate``). A rule is skipped when a field it reads is unknown, when the
    field it points at is not written, when ``new`` is None and the rule is not ``offline``,
    and when ``new_only`` on an existing database.
    """
    found: list[Rule] = []
    for rule in RULES:
        if rule.at not in written or any(f not in view for f in rule.fields):
            continue
        if new is None and not rule.offline:
            continue
        if rule.new_only and new is False:
            continue  # checked by validate already when every field is written
        if rule.broken(view):
            found.append(rule)
    return found
