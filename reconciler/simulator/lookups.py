"""The account-wide lookup endpoints, answered from the simulator's own catalogue.

What they list is exactly what the simulator accepts on create and upgrade: the Redis
versions of ``redisVersion``/``targetRedisVersion``, the modules of ``modules``, the
factors of ``queryPerformanceFactor`` and the options of ``dataPersistence``. Shapes
follow the OpenAPI schemas ``RedisVersions``, ``ModulesData``,
``SearchScalingFactorsData`` and ``DataPersistenceOptions``.
"""

from __future__ import annotations

from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.api import ApiRequest, Simulator
from reconciler.simulator.replies import Reply, bad_request


def _self_link(request: ApiRequest, path: str) -> list[dict[str, str]]:
    return [{"rel": "self", "type": "GET", "href": request.base_url + path}]


def redis_versions(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /subscriptions/redis-versions (optional ``?subscriptionId=``).

    Raises:
        ApiProblem: 400 for a ``subscriptionId`` that is not an integer, 404 for an
            unknown subscription.
    """
    raw = request.query.get("subscriptionId")
    if raw is not None:
        try:
            subscription_id = int(raw)
        except ValueError:
            raise bad_request(f'"subscriptionId" must be an integer, got "{raw[:20]}"') from None
        sim.subscription(ApiRequest(params={"subscriptionId": subscription_id}))
    versions = [
        {
            "version": version,
            "eolDate": catalog.REDIS_VERSION_EOL_DATES[version],
            "isPreview": False,
            "isDefault": version == catalog.DEFAULT_REDIS_VERSION,
        }
        for version in catalog.SUPPORTED_REDIS_VERSIONS
    ]
    return Reply(200, {"redisVersions": versions})


def _module_parameters(name: str) -> list[dict[str, Any]]:
    return [
        {
            "name": parameter,
            "description": description,
            "type": "integer",
            "defaultValue": default,
            "required": False,
        }
        for parameter, (description, default, _, _) in catalog.MODULE_PARAMETERS.get(
            name, {}
        ).items()
    ]


def database_modules(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /database-modules: ``{modules: [{name, capabilityName, description, parameters}]}``."""
    modules = [
        {
            "name": name,
            "capabilityName": details["capabilityName"],
            "description": details["description"],
            "parameters": _module_parameters(name),
        }
        for name, details in sorted(catalog.MODULES.items())
    ]
    return Reply(200, {"modules": modules, "links": _self_link(request, "/database-modules")})


def query_performance_factors(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /query-performance-factors: ``{queryPerformanceFactors: ["Standard", "2x", …]}``."""
    return Reply(
        200,
        {
            "queryPerformanceFactors": list(catalog.QUERY_PERFORMANCE_FACTORS),
            "links": _self_link(request, "/query-performance-factors"),
        },
    )


def data_persistence(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /data-persistence: ``{dataPersistence: [{name, description}]}``."""
    options = [
        {"name": name, "description": description}
        for name, description in catalog.DATA_PERSISTENCE_OPTIONS.items()
    ]
    return Reply(
        200, {"dataPersistence": options, "links": _self_link(request, "/data-persistence")}
    )
