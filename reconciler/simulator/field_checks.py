"""Checkers for single database request fields whose rules go beyond a JSON type.

Each takes ``(path, value)`` like the checkers of :mod:`reconciler.simulator.checks` and
returns the value or raises a 400 :class:`~reconciler.simulator.replies.ApiProblem` with
the API's own error type (the OpenAPI ``ProcessorResponse.error`` catalogue).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.checks import array, enum, integer, obj, string
from reconciler.simulator.replies import bad_request

_NAME_RULE = re.compile(r"^[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?$")
_VERSION_RULE = re.compile(r"^\d{1,3}\.\d{1,3}$")
_QPF_RULE = re.compile(r"^(\d{1,3})x$")
NAME_MAX_LENGTH = 40


def database_name(path: str, value: Any) -> Any:
    """Check a database name: ≤ 40 letters, digits and hyphens, letter first."""
    value = string()(path, value)
    if len(value) > NAME_MAX_LENGTH:
        raise bad_request(
            f"Database name is limited to {NAME_MAX_LENGTH} characters", "DATABASE_NAME_TOO_LONG"
        )
    if not _NAME_RULE.match(value):
        raise bad_request(
            "Database name must include only letters, digits and hyphens, start with a letter "
            "and end with a letter or digit",
            "DATABASE_INVALID_NAME",
        )
    return value


def redis_version(path: str, value: Any) -> Any:
    """Check a Redis version: ``major.minor`` and one of GET /subscriptions/redis-versions."""
    value = string()(path, value)
    if not _VERSION_RULE.match(value):
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise bad_request(
            f'"{path}" must be a major.minor version such as "7.4", got "{shown}"',
            "DATABASE_REDIS_VERSION_INVALID_VALUE",
        )
    if value not in catalog.SUPPORTED_REDIS_VERSIONS:
        raise bad_request(
            f'Redis version "{value}" is not supported; supported versions: '
            + ", ".join(catalog.SUPPORTED_REDIS_VERSIONS),
            "DATABASE_REDIS_VERSION_IS_NOT_SUPPORTED",
        )
    return value


def source_ip(path: str, value: Any) -> Any:
    """Check one ``sourceIp`` entry: an IP address or CIDR."""
    value = string()(path, value)
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        shown = value if len(value) <= 50 else value[:50] + "…"
        raise bad_request(
            f'"{path}" is not a valid IP address or CIDR: "{shown}"', "DATABASE_INVALID_SIP"
        ) from None
    return value


def _alert(path: str, value: Any) -> Any:
    alert = obj(
        {
            "name": enum(tuple(catalog.ALERTS), "DATABASE_INVALID_ALERTS"),
            "value": integer(
                -catalog.INT32_MAX - 1, catalog.INT32_MAX, "DATABASE_INVALID_ALERT_VALUE"
            ),
        },
        required=("name", "value"),
    )(path, value)
    highest = catalog.ALERTS[alert["name"]][1]
    if alert["value"] < 0 or (highest is not None and alert["value"] > highest):
        raise bad_request(
            f'"{path}.value" {alert["value"]} is not valid for alert "{alert["name"]}"',
            "DATABASE_INVALID_ALERT_VALUE",
        )
    return alert


def alerts(path: str, value: Any) -> Any:
    """Check ``alerts``: known names, each once, thresholds in range."""
    checked = array(_alert)(path, value)
    names = [alert["name"] for alert in checked]
    if len(names) != len(set(names)):
        raise bad_request(f'"{path}" names the same alert twice', "DATABASE_INVALID_ALERTS")
    return checked


def _module_parameters(path: str, name: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise bad_request(f'"{path}" must be an object')
    declared = catalog.MODULE_PARAMETERS.get(name, {})
    for key, given in value.items():
        if key not in declared:
            raise bad_request(
                f'Module "{name}" has no parameter "{key}"', "DATABASE_INVALID_MODULE_PARAMETER"
            )
        _, _, lowest, highest = declared[key]
        integer(lowest, highest, "DATABASE_INVALID_MODULE_PARAMETER_VALUE")(f"{path}.{key}", given)
    return value


def _module(path: str, value: Any) -> Any:
    module = obj({"name": string(), "parameters": lambda p, v: v}, required=("name",))(path, value)
    if module["name"] not in catalog.MODULES:
        raise bad_request(f'Module "{module["name"]}" is not available', "DATABASE_INVALID_MODULE")
    if "parameters" in module:
        _module_parameters(f"{path}.parameters", module["name"], module["parameters"])
    return module


def modules(path: str, value: Any) -> Any:
    """Check ``modules``: names from GET /database-modules, each once, known parameters."""
    checked = array(_module)(path, value)
    names = [module["name"] for module in checked]
    if len(names) != len(set(names)):
        raise bad_request(
            f'"{path}" names the same module twice', "DATABASE_MODULE_MUST_BE_DEFINED_ONCE"
        )
    return checked


def replica_of_uri(path: str, value: Any) -> Any:
    """Check a replica source: a ``redis://`` or ``rediss://`` URI."""
    value = string()(path, value)
    if not value.startswith(("redis://", "rediss://")):
        raise bad_request(f'"{path}" must be a redis:// URI', "DATABASE_REPLICA_OF_BAD_URI")
    return value


def regex_rule(path: str, value: Any) -> Any:
    """Check one ``regexRules`` entry: it captures a ``(?<tag>…)`` group."""
    value = string()(path, value)
    if "(?<tag>" not in value:
        raise bad_request(
            f'"{path}" must capture a hash tag with a "(?<tag>...)" group',
            "DATABASE_INVALID_REGEX_RULES",
        )
    return value


def query_performance_factor(path: str, value: Any) -> Any:
    """Check ``queryPerformanceFactor``: one of GET /query-performance-factors (any case)."""
    value = string()(path, value)
    match = _QPF_RULE.match(value)
    factor = int(match.group(1)) if match else 0
    if value.lower() != "standard" and not (2 <= factor <= 16 and factor % 2 == 0):
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise bad_request(
            f'"{path}" must be "Standard" or an even factor from 2x to 16x, got "{shown}"',
            "DATABASE_QUERY_PERFORMANCE_FACTOR_INVALID_VALUE",
        )
    return value


def throughput(path: str, value: Any) -> Any:
    """Check ``throughputMeasurement``: ``{by, value}``, value within the ``by``'s bounds."""
    checked = obj(
        {
            "by": enum(catalog.THROUGHPUT_BY),
            "value": integer(
                1,
                catalog.MAX_OPERATIONS_PER_SECOND,
                error_type="PLANNER_INVALID_THROUGHPUT",
                too_big_error="DATABASE_THROUGHPUT_TOO_BIG",
            ),
        },
        required=("by", "value"),
    )(path, value)
    by_shards = checked["by"] == "number-of-shards"
    highest = catalog.MAX_SHARDS if by_shards else catalog.MAX_OPERATIONS_PER_SECOND
    if checked["value"] > highest:
        raise bad_request(
            f'"{path}.value" must be at most {highest} for {checked["by"]}, got {checked["value"]}',
            "DATABASE_THROUGHPUT_TOO_BIG",
        )
    return checked
