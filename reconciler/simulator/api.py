"""The simulated API's endpoints, over one account held in memory and saved to a file.

:class:`Simulator` owns the account, a lock, and persistence. Each endpoint handler takes
an :class:`ApiRequest` and the current time and returns a :class:`Reply` or raises an
:class:`ApiProblem`. Before every request the account is advanced to "now" (finished tasks
take effect, finished deletes disappear); after it, the account is saved when it changed.

Checks on a write happen in the real API's order: unknown subscription/database (404),
bad body (400), subscription not ``active`` (403 ``SUBSCRIPTION_NOT_ACTIVE``, as the real
API answers), database not ``active`` or still busy with a queued or processing task (409
``DATABASE_NOT_ACTIVE``), name taken (409). A create, update, delete or upgrade that would
make a fourth subscription of the account non-active is refused at submission with 429
(:func:`~reconciler.simulator.limits.require_capacity`); resubmitting succeeds once a
change has completed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.simulator import systemlog, views
from reconciler.simulator.config import SimulatorConfig
from reconciler.simulator.effects import advance
from reconciler.simulator.limits import require_capacity
from reconciler.simulator.records import Record, build_record, pick_port
from reconciler.simulator.replies import ApiProblem, Reply
from reconciler.simulator.seed import seed_account
from reconciler.simulator.state import Account, load_account, save_account
from reconciler.simulator.timeline import (
    CHANGING_KINDS,
    database_status,
    live_databases,
    new_task,
    pending_writes,
    subscription_status,
    unfinished_write,
)
from reconciler.simulator.users import SimUser
from reconciler.simulator.validation import (
    validate_backup,
    validate_create,
    validate_import,
    validate_update,
    validate_upgrade,
)

logger = logging.getLogger(__name__)


@dataclass
class ApiRequest:
    """One parsed API request: path parameters, query, JSON body, base URL, and its user.

    ``actor`` None means the simulator's default user.
    """

    params: Mapping[str, Any]
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    base_url: str = "http://127.0.0.1/v1"
    fail_task: bool = False
    actor: SimUser | None = None


Handler = Callable[["Simulator", ApiRequest, float], Reply]


class Simulator:
    """One simulated account and the endpoints that read and change it."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.account = self._load_or_seed()
        self._dirty = False  # the account changed during the current request

    def _load_or_seed(self) -> Account:
        path = self.config.state_path
        if path is not None and path.exists():
            logger.info("simulator state loaded from %s", path)
            return load_account(path)
        account = seed_account(self.config.seed_path, self.config.clock())
        if path is not None:
            save_account(account, path)
        return account

    def save(self) -> None:
        """Write the account to the state file (when there is one)."""
        if self.config.state_path is not None:
            save_account(self.account, self.config.state_path)

    def changed(self) -> None:
        """Mark the account as changed by the current request (it is saved afterwards)."""
        self._dirty = True

    def reset(self) -> None:
        """Put the account back to the seed and save it."""
        with self.lock:
            self.account = seed_account(self.config.seed_path, self.config.clock())
            self.save()

    def call(self, handler: Handler, request: ApiRequest) -> Reply:
        """Advance the account to now, run ``handler``, save if anything changed.

        Raises:
            ApiProblem: the handler refused the request.
        """
        with self.lock:
            now = self.config.clock()
            self._dirty = advance(self.account, now, self.config.provision_seconds)
            try:
                return handler(self, request, now)
            finally:
                if self._dirty:
                    self.save()

    def author(self, request: ApiRequest) -> dict[str, str]:
        """Return the system log ``originator`` (+ ``apiKeyName``) of the request's user."""
        return (request.actor or self.config.default_user()).author()

    # ----------------------------------------------------------------- lookups and checks

    def subscription(self, request: ApiRequest) -> dict[str, Any]:
        """Return the request's subscription record.

        Raises:
            ApiProblem: 404 ``SUBSCRIPTION_NOT_FOUND``.
        """
        subscription_id = request.params["subscriptionId"]
        found = self.account.subscription(subscription_id)
        if found is None:
            raise ApiProblem(
                404, "SUBSCRIPTION_NOT_FOUND", f"Subscription {subscription_id} not found"
            )
        return found

    def database(self, request: ApiRequest, now: float) -> tuple[dict[str, Any], Record]:
        """Return the request's subscription and (still existing) database records.

        Raises:
            ApiProblem: 404 for an unknown subscription or database.
        """
        subscription = self.subscription(request)
        database_id = request.params["databaseId"]
        record = self.account.database(subscription["id"], database_id)
        if record is None or database_status(record, now) is None:
            raise ApiProblem(404, "DATABASE_NOT_FOUND", f"Database {database_id} not found")
        return subscription, record

    def require_writable(
        self, subscription: Mapping[str, Any], record: Mapping[str, Any] | None, now: float
    ) -> None:
        """Refuse a write while the subscription or the database is not ready for it.

        Raises:
            ApiProblem: 403 ``SUBSCRIPTION_NOT_ACTIVE`` (subscription not ``active``), 409
                ``DATABASE_NOT_ACTIVE`` (database not ``active``, or a task on it still
                queued or processing).
        """
        status = subscription_status(self.account, subscription, now)
        if status != "active":
            raise ApiProblem(
                403,
                "SUBSCRIPTION_NOT_ACTIVE",
                f"Cannot perform any actions for subscription {subscription['id']} that is not "
                f"in an active state (status: {status})",
            )
        if record is None:
            return
        if (db_status := database_status(record, now)) != "active":
            raise ApiProblem(
                409,
                "DATABASE_NOT_ACTIVE",
                f"Database {record['databaseId']} is not active (status: {db_status})",
            )
        busy = unfinished_write(self.account, int(subscription["id"]), record["databaseId"])
        if busy is not None:
            raise ApiProblem(
                409,
                "DATABASE_NOT_ACTIVE",
                f"Database {record['databaseId']} has a task in progress "
                f"({busy['commandType']} {busy['taskId']}); retry when it has finished",
            )

    def require_name_free(
        self, subscription_id: int, name: str, own_id: int | None, now: float
    ) -> None:
        """Refuse a name already used by a database or by a queued create/rename.

        Raises:
            ApiProblem: 409 ``DATABASE_NAME_EXISTS``.
        """
        taken = {
            db["name"]
            for db in live_databases(self.account, subscription_id, now)
            if db["databaseId"] != own_id
        }
        for task in pending_writes(self.account, subscription_id):
            payload = task["payload"]
            if payload.get("dryRun") or task["databaseId"] == own_id:
                continue
            taken.add((payload.get("record") or payload.get("changes") or {}).get("name"))
        if name in taken:
            raise ApiProblem(
                409, "DATABASE_NAME_EXISTS", f'A database named "{name}" already exists'
            )

    def submit(
        self,
        kind: str,
        request: ApiRequest,
        database_id: int | None,
        payload: Mapping[str, Any],
        now: float,
    ) -> dict[str, Any]:
        """Queue a task for the request's subscription; return its immediate answer body.

        Raises:
            ApiProblem: 429 ``TOO_MANY_PENDING_SUBSCRIPTIONS`` (see :func:`require_capacity`).
        """
        if kind in CHANGING_KINDS and not payload.get("dryRun"):
            require_capacity(self.account, request.params["subscriptionId"], now)
        task = new_task(
            self.account,
            kind=kind,
            subscription_id=request.params["subscriptionId"],
            database_id=database_id,
            payload=payload,
            now=now,
            task_seconds=self.config.task_length(kind, database_id),
            provision_seconds=self.config.provision_length(kind, database_id),
            force_error=request.fail_task,
        )
        self._dirty = True
        systemlog.task_accepted(self.account, task, self.author(request), now)
        logger.debug("task %s (%s) queued", task["taskId"], kind)
        return views.render_submitted_task(task, request.base_url)

    def taken_ports(self, subscription_id: int, now: float) -> set[int]:
        """Return the ports used by the subscription's databases and queued creates."""
        ports = {int(db["port"]) for db in live_databases(self.account, subscription_id, now)}
        for task in pending_writes(self.account, subscription_id):
            if task["kind"] == "create" and "record" in task["payload"]:
                ports.add(int(task["payload"]["record"]["port"]))
        return ports


# ----------------------------------------------------------------------------- writes


def create_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """POST /subscriptions/{subscriptionId}/databases: 202 with a task."""
    subscription = sim.subscription(request)
    fields = validate_create(request.body)
    sim.require_writable(subscription, None, now)
    sim.require_name_free(subscription["id"], fields["name"], None, now)
    taken = sim.taken_ports(subscription["id"], now)
    if fields.get("port") in taken:
        raise ApiProblem(400, "DATABASE_PORT_IS_UNAVAILABLE", f"Port {fields['port']} is in use")
    if fields.get("dryRun"):
        return Reply(202, sim.submit("create", request, None, {"dryRun": True}, now))
    db_id = sim.account.reserve_database_id()
    port = fields.pop("port", None) or pick_port(db_id, taken)
    record = build_record(
        fields, db_id=db_id, subscription_id=subscription["id"], port=port, now=now
    )
    return Reply(202, sim.submit("create", request, db_id, {"record": record}, now))


def update_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """PUT …/databases/{databaseId}: partial update, 200 with a task."""
    subscription, record = sim.database(request, now)
    changes = validate_update(request.body, record)
    sim.require_writable(subscription, record, now)
    if "name" in changes and changes["name"] != record["name"]:
        sim.require_name_free(subscription["id"], changes["name"], record["databaseId"], now)
    payload = {"changes": changes, "dryRun": bool(changes.get("dryRun"))}
    return Reply(200, sim.submit("update", request, record["databaseId"], payload, now))


def delete_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """DELETE …/databases/{databaseId}: 200 with a task; ``deleting``, then 404."""
    subscription, record = sim.database(request, now)
    sim.require_writable(subscription, record, now)
    return Reply(200, sim.submit("delete", request, record["databaseId"], {}, now))


def backup_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """POST …/backup (body optional): 200 with a task; no location → task error."""
    subscription, record = sim.database(request, now)
    fields = validate_backup(request.body, str(subscription.get("deploymentType")))
    sim.require_writable(subscription, record, now)
    return Reply(200, sim.submit("backup", request, record["databaseId"], fields, now))


def import_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """POST …/import: 200 with a task; malformed URIs → task error."""
    subscription, record = sim.database(request, now)
    fields = validate_import(request.body)
    sim.require_writable(subscription, record, now)
    return Reply(200, sim.submit("import", request, record["databaseId"], fields, now))


def upgrade_database(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """POST …/upgrade: 200 with a task; only to a newer version."""
    subscription, record = sim.database(request, now)
    target = validate_upgrade(request.body, record)
    running = [
        task
        for task in sim.account.tasks
        if task["kind"] == "upgrade"
        and task["databaseId"] == record["databaseId"]
        and task["outcome"] is None
    ]
    if running:
        raise ApiProblem(
            409, "DATABASE_UPGRADE_IS_ALREADY_RUNNING", "An upgrade is already running"
        )
    sim.require_writable(subscription, record, now)
    payload = {"targetRedisVersion": target}
    return Reply(200, sim.submit("upgrade", request, record["databaseId"], payload, now))
