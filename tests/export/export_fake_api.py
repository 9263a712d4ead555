"""A stand-in for the API client: one subscription ("a-b", id 1) and its databases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import NotFoundError
from reconciler.export import export_account


class FakeApi:
    """Answers the reads of subscription 1 ("a-b") holding ``databases`` (list results)."""

    def __init__(self, *databases: dict[str, Any], subscriptions: Any = None) -> None:
        self.databases = list(databases)
        self.subscriptions = subscriptions

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        if path == "/subscriptions":
            return self.subscriptions
        if path == "/subscriptions/1":
            return {"id": 1, "name": "a-b", "deploymentType": "single-region"}
        if params and params.get("offset"):
            raise NotFoundError("GET", path, 404)
        return {"subscription": [{"subscriptionId": 1, "databases": self.databases}]}

    def export(self) -> str:
        text = export_account(self, subscription_ids=[1], out=None, split=False)  # type: ignore[arg-type]
        assert text is not None
        return text


def db_entry(db_id: int, name: str, **fields: Any) -> dict[str, Any]:
    return {"databaseId": db_id, "name": name, "protocol": "redis", "status": "active", **fields}


def body_lines(text: str) -> list[str]:
    """The lines of the first database entry, from its name on."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("      - name: "))
    return lines[first:]
