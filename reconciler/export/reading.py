"""Which subscriptions an export covers, read with their databases.

Export handles Pro single-region subscriptions only: a named subscription of another kind
is refused, and when none is named every other kind ``GET /subscriptions`` lists is skipped
with a warning. The tags of every exported database are read (``GET …/tags`` each); a
database whose tags answer 404 (deleted meanwhile, or an API without the tags endpoint) is
exported without them (logged at info level).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from reconciler.cloud import ApiClient, paths, read_live, with_tags
from reconciler.errors import BadResponseError, NotFoundError, UsageError
from reconciler.model import (
    DesiredState,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    Location,
    SubscriptionSpec,
)

log = logging.getLogger(__name__)


def read_subscriptions(
    client: ApiClient, subscription_ids: list[int] | None
) -> list[LiveSubscription]:
    """Return the subscriptions to export, read with their databases, in the asked order.

    ``subscription_ids`` None means every Pro single-region subscription of the account;
    a repeated id is read once.

    Raises:
        UsageError: a named subscription does not exist or is not Pro single-region.
        BadResponseError: ``GET /subscriptions`` answered something that is not a list of
            subscriptions with ids.
        ApiError: reading the account failed.
    """
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
    return [_tagged(client, sub) for sub in found if sub.is_pro_single_region]


def _tagged(client: ApiClient, sub: LiveSubscription) -> LiveSubscription:
    """Return ``sub`` with the tags of each of its databases read (see the module)."""
    return replace(sub, databases=tuple(_with_tags(client, sub.id, db) for db in sub.databases))


def _with_tags(client: ApiClient, sub_id: int, db: LiveDatabase) -> LiveDatabase:
    """Return ``db`` with its tags read; as it is when they answer 404 (logged)."""
    try:
        return with_tags(client.get, sub_id, db)
    except NotFoundError:
        log.info("database %s (db %s): its tags cannot be read (404); not exported", db.name, db.id)
        return db


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
    """Return why ``sub`` is not exported (its deployment type)."""
    kind = sub.raw.get("deploymentType")
    return (
        f'subscription {sub.id} "{sub.name}" is not a Pro single-region subscription '
        f"(deploymentType {kind!r}); export handles only those"
    )
