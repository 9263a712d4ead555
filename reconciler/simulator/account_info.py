"""``GET /``: the current account and the API key the request was made with.

The answer has the shape of the OpenAPI ``RootAccount`` example:
``{"account": {"id", "name", "key": {"name", "accountId", "owner": {"name"}}}}``. The key's
``name`` is what the system log records as ``apiKeyName`` for this user's writes (in the
simulator an API key's name is its access key), so a client can tell its own changes apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.simulator.replies import Reply

if TYPE_CHECKING:
    from reconciler.simulator.api import ApiRequest, Simulator

ACCOUNT_NAME = "Simulated account"


def get_current_account(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /: the account, and the key (with its owner's name) that made the request."""
    user = request.actor or sim.config.default_user()
    account_id = sim.account.account_id
    key = {"name": user.key, "accountId": account_id, "owner": {"name": user.name}}
    return Reply(200, {"account": {"id": account_id, "name": ACCOUNT_NAME, "key": key}})
