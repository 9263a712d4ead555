"""Every path of the Redis Cloud API v1 that reconciler calls, relative to the base URL.

The one module that spells them: planner, executor, recovery, reader and export ask here.
A database that does not exist yet (the follow-up update and the import after a create) is
addressed with :data:`reconciler.plan.NEW_DATABASE_ID` in place of its id; the executor
substitutes the id the create returned.
"""

from __future__ import annotations

SUBSCRIPTIONS = "/subscriptions"
TASKS = "/tasks"


def subscription(subscription_id: int) -> str:
    """``GET`` one subscription."""
    return f"{SUBSCRIPTIONS}/{subscription_id}"


def databases(subscription_id: int) -> str:
    """``GET`` (paged by ``offset``/``limit``) or ``POST`` (create) the databases of one."""
    return f"{subscription(subscription_id)}/databases"


def database(subscription_id: int, database_id: int | str) -> str:
    """``GET``, ``PUT`` (update) or ``DELETE`` one database."""
    return f"{databases(subscription_id)}/{database_id}"


def database_backup(subscription_id: int, database_id: int | str) -> str:
    """``POST`` an on-demand backup of one database."""
    return f"{database(subscription_id, database_id)}/backup"


def database_import(subscription_id: int, database_id: int | str) -> str:
    """``POST`` an import into one database."""
    return f"{database(subscription_id, database_id)}/import"


def database_upgrade(subscription_id: int, database_id: int | str) -> str:
    """``POST`` a Redis version upgrade of one database."""
    return f"{database(subscription_id, database_id)}/upgrade"


def database_tags(subscription_id: int, database_id: int | str) -> str:
    """``GET`` the tags of one database, or ``PUT`` them (replaces every tag; no task)."""
    return f"{database(subscription_id, database_id)}/tags"


def task(task_id: str) -> str:
    """``GET`` one task."""
    return f"{TASKS}/{task_id}"


# Account lookups: the values the account offers (read by the plan's preflight checks).
REDIS_VERSIONS = "/subscriptions/redis-versions"
"""``GET`` the Redis versions a subscription offers (query ``subscriptionId``)."""
DATABASE_MODULES = "/database-modules"
"""``GET`` the modules (advanced capabilities) the account offers."""
QUERY_PERFORMANCE_FACTORS = "/query-performance-factors"
"""``GET`` the query performance factors the account offers."""
DATA_PERSISTENCE = "/data-persistence"
"""``GET`` the data persistence options the account offers."""

# The account: who the key is, and what was done in it.
ACCOUNT = "/"
"""``GET`` the current account (``account.key.name`` names the API key in use)."""
LOGS = "/logs"
"""``GET`` the account's system log, newest first (paged by ``offset``/``limit``)."""
