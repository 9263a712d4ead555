"""A faithful local Redis Cloud API v1 simulator (stdlib HTTP server, one account).

Public API::

    SimulatorConfig(...)                 settings (see its docstring)
    SimUser(name, key, secret, console)  an extra user (``SimulatorConfig(users=...)``)
    serve_in_background(config)          -> RunningSimulator (.url ends in /v1, .api_key,
                                            .api_secret, .stop(), context manager)
    serve_forever(config)                blocks until Ctrl-C (``reconciler simulator``)
    start_for_url("sim:" | "sim:PATH")   in-process simulator for ``--api-url sim:``

Endpoints under ``/v1``: ``GET /subscriptions``, ``GET /subscriptions/{id}``, ``GET`` (paged
by ``offset``/``limit``) and ``POST /subscriptions/{id}/databases``, ``GET``/``PUT``/
``DELETE …/databases/{dbId}``, ``POST``/``GET …/backup``, ``…/import``, ``…/upgrade``,
``GET``/``PUT``/``POST …/tags`` and ``PUT``/``DELETE …/tags/{tagKey}``, the lookups
``GET /subscriptions/redis-versions``, ``/database-modules``,
``/query-performance-factors`` and ``/data-persistence``, ``GET /tasks`` and
``GET /tasks/{taskId}``, and ``GET /logs`` (the system log: every write recorded with
its user, see :mod:`reconciler.simulator.systemlog`). Control routes (no auth, never
limited or faulted):
``GET /_simulator/stats`` →
``{"total": N, "routes": {"GET /subscriptions/{subscriptionId}/databases": 12, …},
"methods": {"GET": …}, "statuses": {"200": …}, "faults": {"500": 0, "503": 0, "drop": 0,
"failing-task": 0, "lost-answer": 0}}`` and ``POST /_simulator/reset`` (back to the seed;
also clears statistics, rate windows and the fault sequence).

Account-wide limits, as the real API's: one task processed at a time (others wait in
``received``); at most three subscriptions changing at once, a create, update, delete or
upgrade that would make a fourth change being refused with 429
``TOO_MANY_PENDING_SUBSCRIPTIONS``.

Environment variables read by :func:`start_for_url` (``--api-url sim:``), each overriding
the demo default:

    RECONCILER_SIM_TASK_SECONDS        task length, submission to completion (default 0.3)
    RECONCILER_SIM_PROVISION_SECONDS   pending status after a task (default 0.5)
    RECONCILER_SIM_LATENCY_MS          delay before every API answer (default 0)
    RECONCILER_SIM_FAULT_RATE          probability of a fault per API request (default 0)
    RECONCILER_SIM_FAULT_SEED          seed of the fault sequence (default 0)
    RECONCILER_SIM_RATE_LIMIT          requests per minute per API key, 0 = off (default 0)
    RECONCILER_SIM_REFUSE_LOGS         403 or 412: ``GET /logs`` answers that (default 0: off)
    RECONCILER_SIM_USERS               extra API users, comma-separated NAME:KEY:SECRET
    RECONCILER_SIM_CONSOLE_USERS       extra console users (logged without apiKeyName), same
"""

from __future__ import annotations

from reconciler.simulator.config import SimulatorConfig
from reconciler.simulator.launch import start_for_url
from reconciler.simulator.server import RunningSimulator, serve_forever, serve_in_background
from reconciler.simulator.users import SimUser

__all__ = [
    "RunningSimulator",
    "SimUser",
    "SimulatorConfig",
    "serve_forever",
    "serve_in_background",
    "start_for_url",
]
