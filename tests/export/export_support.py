"""The export tests' account: subscription 1 ("a-b") and its databases, on tests/fake_api.py.

- ``account(*databases, subscriptions=None)``: a responder serving ``GET /subscriptions``
  (``subscriptions`` as the body), ``GET /subscriptions/1`` and the one page of its
  database list (``databases`` as given; any later page is a 404, as the API answers).
- ``exported(*databases)``: export subscription 1 of that account through a real
  ``ApiClient`` over loopback; return the YAML text.
- ``client_of(api)``: an ``ApiClient`` to a ``FakeApi``.
- ``db_entry(id, name, **fields)``: a database as the list answer holds it.
- ``body_lines(text)``: the lines of the first database entry, from its name on.

Imported as a plain module (``from export_support import …``): pytest's default "prepend"
import mode puts tests/export/ on ``sys.path`` for the tests here.
"""

from __future__ import annotations

from typing import Any

from fake_api import FakeApi, Reply, Responder, Seen, by_route

from reconciler.cloud import ApiClient
from reconciler.export import export_account

SUBSCRIPTION = {"id": 1, "name": "a-b", "deploymentType": "single-region"}


def account(*databases: dict[str, Any], subscriptions: Any = None) -> Responder:
    """Serve subscription 1 holding ``databases``; ``subscriptions`` is the list answer."""

    def page(seen: Seen) -> Reply:
        if seen.query.get("offset", "0") != "0":
            return Reply(404, {"error": {"type": "NOT_FOUND", "description": "no such page"}})
        return Reply(body={"subscription": [{"subscriptionId": 1, "databases": list(databases)}]})

    return by_route(
        {
            ("GET", "/subscriptions"): Reply(body=subscriptions),
            ("GET", "/subscriptions/1"): Reply(body=SUBSCRIPTION),
            ("GET", "/subscriptions/1/databases"): page,
        }
    )


def client_of(api: FakeApi) -> ApiClient:
    """Return an API client to ``api`` (fake credentials, no back-off between retries)."""
    return ApiClient(api.url, "fake-key", "fake-secret", backoff_factor=0.0, get_retries=0)


def exported(*databases: dict[str, Any]) -> str:
    """Export subscription 1 holding ``databases``; return the YAML text."""
    with FakeApi(account(*databases)) as api, client_of(api) as client:
        text = export_account(client, subscription_ids=[1], out=None, split=False)
    assert text is not None
    return text


def db_entry(db_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """Return a database as the list answer holds it."""
    return {"databaseId": db_id, "name": name, "protocol": "redis", "status": "active", **fields}


def body_lines(text: str) -> list[str]:
    """The lines of the first database entry, from its name on."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("      - name: "))
    return lines[first:]
