"""The simulated API's read endpoints: subscriptions, database pages and databases, tasks,
and the status reads of upgrades, backups and imports (the last two answer with a task, as
the real API's do). Writes are in :mod:`reconciler.simulator.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.simulator import views
from reconciler.simulator.replies import ApiProblem, Reply
from reconciler.simulator.timeline import live_databases
from reconciler.simulator.validation import parse_paging

if TYPE_CHECKING:
    from reconciler.simulator.api import ApiRequest, Simulator


def list_subscriptions(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /subscriptions."""
    return Reply(
        200,
        {
            "accountId": sim.account.account_id,
            "subscriptions": [
                views.render_subscription(sim.account, sub, now, request.base_url)
                for sub in sim.account.subscriptions
            ],
            "links": [{"rel": "self", "type": "GET", "href": f"{request.base_url}/subscriptions"}],
        },
    )


def get_subscription(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /subscriptions/{subscriptionId}."""
    return Reply(
        200,
        views.render_subscription(sim.account, sim.subscription(request), now, request.base_url),
    )


def list_databases(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /subscriptions/{subscriptionId}/databases: paged; 404 with no body past the end."""
    subscription = sim.subscription(request)
    offset, limit = parse_paging(request.query)
    databases = live_databases(sim.account, subscription["id"], now)
    if offset >= len(databases) and (offset, len(databases)) != (0, 0):
        return Reply(404)
    page = [
        views.render_database(db, subscription, now, request.base_url, with_secrets=False)
        for db in databases[offset : offset + limit]
    ]
    links = (request.base_url, offset, limit)
    return Reply(
        200, views.render_database_page(sim.account, subscription, page, len(databases), links)
    )


def get_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /subscriptions/{subscriptionId}/databases/{databaseId}."""
    subscription, record = sim.database(request, now)
    return Reply(
        200, views.render_database(record, subscription, now, request.base_url, with_secrets=True)
    )


def list_tasks(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /tasks: ``{"tasks": [TaskStateUpdate…]}`` (the SPEC envelope)."""
    rendered = (views.render_task(task, now, request.base_url) for task in sim.account.tasks)
    return Reply(200, {"tasks": [task for task in rendered if task is not None]})


def get_task(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET /tasks/{taskId}: 404 until the task is known (a short moment after submission)."""
    task = sim.account.task(str(request.params["taskId"]))
    view = views.render_task(task, now, request.base_url) if task is not None else None
    if view is None:
        raise ApiProblem(404, "ENTITY_NOT_FOUND", f"Task {request.params['taskId']} not found")
    return Reply(200, view)


def upgrade_status(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET …/upgrade: the latest upgrade's ``BdbVersionUpgradeStatus`` (synchronous)."""
    _, record = sim.database(request, now)
    return Reply(200, views.render_upgrade_status(sim.account, record, now))


def backup_status(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET …/backup: asynchronous, answers a ``databaseBackupStatusRequest`` task."""
    _, record = sim.database(request, now)
    return Reply(200, sim.submit("backup-status", request, record["databaseId"], {}, now))


def import_status(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET …/import: asynchronous, answers a ``databaseImportStatusRequest`` task."""
    _, record = sim.database(request, now)
    return Reply(200, sim.submit("import-status", request, record["databaseId"], {}, now))
