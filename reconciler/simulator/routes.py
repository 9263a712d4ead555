"""The route table of the simulated API (paths relative to ``/v1``).

Templates use the OpenAPI parameter names, and are also the keys of the request
statistics (``"GET /subscriptions/{subscriptionId}/databases"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.simulator import account_info, api, lookups, reads, systemlog, tags
from reconciler.simulator.replies import ApiProblem, bad_request

_DB = "/subscriptions/{subscriptionId}/databases/{databaseId}"
_INTEGER_PARAMS = ("subscriptionId", "databaseId")


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path template, handler, compiled path pattern."""

    method: str
    template: str
    handler: api.Handler
    pattern: re.Pattern[str]

    @property
    def is_write(self) -> bool:
        """Return True for requests that change the account (they may lose their answer)."""
        return self.method != "GET"


def _route(method: str, template: str, handler: api.Handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, template, handler, re.compile(f"^{regex}/?$"))


ROUTES: tuple[Route, ...] = (
    _route("GET", "/", account_info.get_current_account),
    _route("GET", "/subscriptions", reads.list_subscriptions),
    # Before /subscriptions/{subscriptionId}, which would take "redis-versions" as an id.
    _route("GET", "/subscriptions/redis-versions", lookups.redis_versions),
    _route("GET", "/database-modules", lookups.database_modules),
    _route("GET", "/query-performance-factors", lookups.query_performance_factors),
    _route("GET", "/data-persistence", lookups.data_persistence),
    _route("GET", "/subscriptions/{subscriptionId}", reads.get_subscription),
    _route("GET", "/subscriptions/{subscriptionId}/databases", reads.list_databases),
    _route("POST", "/subscriptions/{subscriptionId}/databases", api.create_database),
    _route("GET", _DB, reads.get_database),
    _route("PUT", _DB, api.update_database),
    _route("DELETE", _DB, api.delete_database),
    _route("POST", f"{_DB}/backup", api.backup_database),
    _route("GET", f"{_DB}/backup", reads.backup_status),
    _route("POST", f"{_DB}/import", api.import_database),
    _route("GET", f"{_DB}/import", reads.import_status),
    _route("POST", f"{_DB}/upgrade", api.upgrade_database),
    _route("GET", f"{_DB}/upgrade", reads.upgrade_status),
    _route("GET", f"{_DB}/tags", tags.get_tags),
    _route("PUT", f"{_DB}/tags", tags.replace_tags),
    _route("POST", f"{_DB}/tags", tags.add_tag),
    _route("PUT", f"{_DB}/tags/{{tagKey}}", tags.update_tag),
    _route("DELETE", f"{_DB}/tags/{{tagKey}}", tags.delete_tag),
    _route("GET", "/logs", systemlog.get_logs),
    _route("GET", "/tasks", reads.list_tasks),
    _route("GET", "/tasks/{taskId}", reads.get_task),
)


@dataclass(frozen=True)
class Match:
    """The result of routing: the route (None when none fits) and what to count it as."""

    route: Route | None
    template: str
    raw_params: dict[str, str]
    allowed: tuple[str, ...] = ()


def find_route(method: str, path: str) -> Match:
    """Return the route for ``method`` and ``path`` (relative to ``/v1``).

    When the path exists for other methods only, ``allowed`` lists them (405).
    """
    allowed: list[str] = []
    template = "(unmatched)"
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return Match(route, route.template, found.groupdict())
        if route.method not in allowed:
            allowed.append(route.method)
        template = route.template
    return Match(None, template, {}, tuple(allowed))


def parse_params(raw: dict[str, str]) -> dict[str, Any]:
    """Return path parameters with the integer ids converted.

    Raises:
        ApiProblem: 400 when an id is not an integer.
    """
    params: dict[str, Any] = dict(raw)
    for name in _INTEGER_PARAMS:
        if name in params:
            try:
                params[name] = int(params[name])
            except ValueError:
                raise bad_request(f'"{name}" must be an integer, got "{params[name]}"') from None
    return params


def route_problem(match: Match) -> ApiProblem:
    """Return the 404 or 405 problem for a request no route accepts."""
    if match.allowed:
        return ApiProblem(
            405, "BAD_REQUEST", f"Method not allowed; allowed: {', '.join(match.allowed)}"
        )
    return ApiProblem(404, "ENTITY_NOT_FOUND", "No such API path")
