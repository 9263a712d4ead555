"""Pair rules: the (desired, live) pair to compare for one field, given both sides.

Some fields can only be compared knowing both values or the database's context: the
server's default source IPs, modules bundled on Redis 8, 12-hour backup times, fields the
API did not return. Each rule takes canonical values (``live`` is :data:`MISSING` when the
API did not return the field) and returns the pair to diff, or None to skip the field.
When the two are equivalent the pair holds the desired form twice, so the differ sees them
equal and renderers show the user's own spelling. The field catalogue
(:mod:`reconciler.compare.fields`) says which rule each field uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.compare.forms import (
    PRIVATE_SOURCE_IPS,
    PUBLIC_SOURCE_IPS,
    major,
    same_half_day,
    same_version,
    string_set,
)


class _Missing:
    """Marker for a field the API did not return (unknown, not "empty")."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

#: Redis Cloud bundles every module from this major version on; they cannot be chosen.
BUNDLED_MODULES_FROM_MAJOR = 8


@dataclass(frozen=True)
class CompareContext:
    """What the pairwise rules need to know about one database.

    ``public_endpoint_access`` comes from the subscription (absent means true, as the
    Terraform provider reads it); ``redis_major`` is the highest major Redis version on
    either side (None: unknown).
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
                major(desired_fields.get("redisVersion")),
                major(live_request.get("redisVersion")),
            )
            if m is not None
        ]
        return cls(
            public_endpoint_access=subscription.get("publicEndpointAccess", True) is not False,
            redis_major=max(majors) if majors else None,
        )


Pair = tuple[Any, Any]
PairRule = Callable[[Any, Any, CompareContext], "Pair | None"]


def pair_as_read(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """The usual rule: compare as they are; a field the API did not return is skipped."""
    return None if live is MISSING else (desired, live)


def pair_source_ip(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """Desired [] equals either server default; an empty live list is the default."""
    if live is MISSING or not live:
        live = string_set(PUBLIC_SOURCE_IPS if ctx.public_endpoint_access else PRIVATE_SOURCE_IPS)
    if desired == [] and live in (PUBLIC_SOURCE_IPS, PRIVATE_SOURCE_IPS):
        return desired, desired
    return desired, live


def pair_modules(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """Modules are bundled from Redis 8 on: never compared there."""
    if ctx.redis_major is not None and ctx.redis_major >= BUNDLED_MODULES_FROM_MAJOR:
        return None
    return desired, [] if live is MISSING else live


def pair_remote_backup(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """Compare only the sub-fields the spec writes; 12-hour times are equal modulo 12."""
    if live is MISSING:
        live = {"active": False}
    if not isinstance(desired, Mapping) or not isinstance(live, Mapping):
        return desired, live
    have = {k: live.get(k, MISSING) for k in desired}
    have = {k: v for k, v in have.items() if v is not MISSING}
    interval = desired.get("interval", live.get("interval"))
    if interval == "every-12-hours" and same_half_day(desired.get("timeUTC"), have.get("timeUTC")):
        have["timeUTC"] = desired["timeUTC"]
    return dict(desired), have


def pair_version(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """Versions compare as versions: 7.4 == "7.4"; live 7.4.2 satisfies desired 7.4."""
    if live is MISSING:
        return None
    return (desired, desired) if same_version(desired, live) else (desired, live)


def pair_query_performance(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """An unset query performance factor reads back as ``standard``."""
    return desired, "standard" if live is MISSING or live is None else live


def pair_known_only(desired: Any, live: Any, ctx: CompareContext) -> Pair | None:
    """Compared only when the API returned a value (password, memoryLimitInGb)."""
    return None if live is MISSING or live is None else (desired, live)


def missing_reads_as(default: Any) -> PairRule:
    """Return a rule that compares against ``default`` when the API returned nothing."""

    def rule(desired: Any, live: Any, ctx: CompareContext) -> Pair:
        return desired, default if live is MISSING else live

    return rule
