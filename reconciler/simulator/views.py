"""The API's read shapes, rendered from stored records (the OpenAPI ``Database`` and
``Subscription`` examples, the Go SDK's response structs).

Reproduces what reads back differently from what was sent: nested ``security``,
``backup`` and ``clustering``; generated passwords; the default source IPs; the default
regex rules pair listed ordinal 1 first; alerts with ``id``/``defaultValue``; bundled
modules on Redis 8 and newer; 12-hour backup times modulo 12; ``memoryLimitInGb`` twice the
dataset with replication; volatile ``memoryUsedInMb``/``lastModified``; no password in list
results.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from reconciler.simulator import catalog
from reconciler.simulator.records import dataset_size, memory_limit
from reconciler.simulator.state import Account
from reconciler.simulator.timeline import (
    database_status,
    iso_time,
    iso_time_precise,
    live_databases,
    subscription_status,
    task_phase,
)

# lastModified moves on its own at this period (background maintenance on the real API).
VOLATILE_PERIOD_SECONDS = 5.0

TASK_DESCRIPTIONS: Mapping[str, str] = {
    "received": "Task request received and is being queued for processing.",
    "processing-in-progress": "Task request is being processed.",
    "processing-completed": "Request processing completed successfully and its resources are "
    "now being provisioned / de-provisioned.",
    "processing-error": "Task request failed during processing. See error information for "
    "failure details.",
}


def _link(rel: str, href: str) -> dict[str, str]:
    return {"rel": rel, "type": "GET", "href": href}


def _endpoints(subscription: Mapping[str, Any], port: int) -> tuple[str, str]:
    cloud = "gcp" if subscription.get("provider") == "GCP" else "ec2"
    cluster = int(subscription["id"]) % 1_000_000
    host = f"c{cluster}.{subscription.get('region')}-1.{cloud}.cloud.rlrcp.com"
    return f"redis-{port}.{host}:{port}", f"redis-{port}.internal.{host}:{port}"


def _shards(record: Mapping[str, Any]) -> int:
    throughput = record.get("throughputMeasurement") or {}
    if throughput.get("by") == "number-of-shards":
        return int(throughput.get("value", 1))
    by_load = math.ceil(int(throughput.get("value", 25000)) / 25000)
    return max(1, by_load, math.ceil(dataset_size(record) / 25))


def _clustering(record: Mapping[str, Any]) -> dict[str, Any]:
    sharding = record.get("shardingType")
    if sharding == "redis-oss-hashing":
        rules: list[dict[str, Any]] = []
    elif sharding == "custom-regex-rules" and record.get("regexRules"):
        rules = [{"ordinal": i, "pattern": p} for i, p in enumerate(record["regexRules"])]
    else:
        rules = [
            {"ordinal": ordinal, "pattern": pattern}
            for ordinal, pattern in catalog.DEFAULT_REGEX_RULES
        ]
    rules.reverse()  # the API lists the rules in no particular order (ordinal 1 first)
    policy = {"custom-regex-rules": "custom", "redis-oss-hashing": "redis-oss-hashing"}
    return {
        "numberOfShards": _shards(record),
        "regexRules": rules,
        "hashingPolicy": policy.get(str(sharding), "standard"),
    }


def _security(
    record: Mapping[str, Any], subscription: Mapping[str, Any], with_secrets: bool
) -> dict[str, Any]:
    security: dict[str, Any] = {"enableDefaultUser": bool(record.get("enableDefaultUser", True))}
    if record["protocol"] == "redis" and with_secrets:
        security["password"] = record.get("password")
    if record["protocol"] == "memcached":
        security["saslUsername"] = record.get("saslUsername")
        if with_secrets:
            security["saslPassword"] = record.get("saslPassword")
    default_ips: tuple[str, ...] = catalog.DEFAULT_SOURCE_IPS
    if subscription.get("publicEndpointAccess") is False:
        default_ips = catalog.PRIVATE_SOURCE_IPS
    security.update(
        sslClientAuthentication=bool(record.get("clientSslCertificate")),
        tlsClientAuthentication=bool(record.get("clientTlsCertificates")),
        enableTls=bool(record.get("enableTls")),
        sourceIps=list(record.get("sourceIp") or default_ips),
    )
    return security


# A page of databases asks the same few versions again and again.
_bundles_modules = functools.lru_cache(maxsize=64)(catalog.is_bundled_modules_version)


def _modules(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    if _bundles_modules(str(record["redisVersion"])):
        names: list[str] = list(catalog.BUNDLED_MODULES)
    else:
        names = [module["name"] for module in record.get("modules") or ()]
    return [{"name": name, **catalog.MODULES[name], "parameters": []} for name in names]


def _reorder_module(module: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "capabilityName", "version", "description", "parameters")
    return {key: module[key] for key in keys}


def _alerts(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{record['databaseId']}-{index}",
            "name": alert["name"],
            "value": alert["value"],
            "defaultValue": catalog.ALERTS[alert["name"]][0],
        }
        for index, alert in enumerate(record.get("alerts") or (), start=1)
    ]


def backup_view(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the ``backup`` read shape, or None when no backup location is configured."""
    remote = record.get("remoteBackup")
    if remote:
        view: dict[str, Any] = {"enableRemoteBackup": bool(remote.get("active"))}
        if remote.get("interval"):
            view["interval"] = remote["interval"]
        if remote.get("timeUTC"):
            hour = int(remote["timeUTC"][:2])
            if remote.get("interval") == "every-12-hours":
                hour %= 12  # the API keeps 12-hour schedules as the morning hour
            view["timeUTC"] = f"{hour:02d}:00"
        if remote.get("storagePath"):
            view["destination"] = remote["storagePath"]
        return view
    if record.get("periodicBackupPath"):
        path = record["periodicBackupPath"]
        return {"enableRemoteBackup": True, "interval": "every-24-hours", "destination": path}
    return None


def _replica(record: Mapping[str, Any]) -> dict[str, Any]:
    sources = (record.get("replica") or {}).get("syncSources")
    if sources is None:
        sources = [{"endpoint": uri} for uri in record.get("replicaOf") or ()]
    return {
        "syncSources": [
            {
                "endpoint": source["endpoint"],
                "encryption": bool(source.get("encryption", False)),
                "clientCert": source.get("serverCert", ""),
            }
            for source in sources
        ]
    }


def _volatile(record: Mapping[str, Any], now: float) -> tuple[float, str]:
    """Return (memoryUsedInMb, lastModified), which move on their own between reads."""
    used = 1.5 + (int(record["databaseId"]) % 7) + (now % 3600.0) / 3600.0
    tick = math.floor(now / VOLATILE_PERIOD_SECONDS) * VOLATILE_PERIOD_SECONDS
    return used, iso_time(max(float(record["lastModified"]), tick))


def render_database(
    record: Mapping[str, Any],
    subscription: Mapping[str, Any],
    now: float,
    base_url: str,
    with_secrets: bool,
) -> dict[str, Any]:
    """Return the ``Database`` read shape of ``record`` at ``now``.

    ``with_secrets`` False (list results) leaves out ``security.password``.
    """
    public, private = _endpoints(subscription, int(record["port"]))
    used, last_modified = _volatile(record, now)
    path = f"/subscriptions/{subscription['id']}/databases/{record['databaseId']}"
    view: dict[str, Any] = {
        "databaseId": record["databaseId"],
        "name": record["name"],
        "protocol": record["protocol"],
        "provider": subscription.get("provider"),
        "region": subscription.get("region"),
        "redisVersion": record["redisVersion"],
        "redisVersionCompliance": catalog.COMPLIANCE_VERSIONS.get(
            record["redisVersion"], record["redisVersion"]
        ),
        "respVersion": record["respVersion"],
        "status": database_status(record, now) or "deleting",
        "datasetSizeInGb": dataset_size(record),
        "memoryLimitInGb": memory_limit(record),
        "memoryUsedInMb": used,
        "memoryStorage": subscription.get("memoryStorage", "ram"),
        "supportOSSClusterApi": bool(record.get("supportOSSClusterApi")),
        "useExternalEndpointForOSSClusterApi": bool(
            record.get("useExternalEndpointForOSSClusterApi")
        ),
        "dataPersistence": record["dataPersistence"],
        "replication": bool(record["replication"]),
        "dataEvictionPolicy": record["dataEvictionPolicy"],
        "throughputMeasurement": dict(record["throughputMeasurement"]),
        "activatedOn": iso_time(float(record["activatedOn"])),
        "lastModified": last_modified,
        "publicEndpoint": public,
        "privateEndpoint": private,
        "replica": _replica(record),
        "clustering": _clustering(record),
        "security": _security(record, subscription, with_secrets),
        "modules": [_reorder_module(module) for module in _modules(record)],
        "alerts": _alerts(record),
    }
    backup = backup_view(record)
    if backup is not None:
        view["backup"] = backup
    view["queryPerformanceFactor"] = record.get("queryPerformanceFactor") or "Standard"
    view["autoMinorVersionUpgrade"] = bool(record.get("autoMinorVersionUpgrade", True))
    view["links"] = [_link("self", base_url + path)]
    return view


def render_subscription(
    account: Account, subscription: Mapping[str, Any], now: float, base_url: str
) -> dict[str, Any]:
    """Return the ``Subscription`` read shape at ``now``."""
    databases = live_databases(account, int(subscription["id"]), now)
    region = str(subscription.get("region"))
    return {
        "id": subscription["id"],
        "name": subscription["name"],
        "status": subscription_status(account, subscription, now),
        "deploymentType": subscription.get("deploymentType", "single-region"),
        "paymentMethodId": subscription.get("paymentMethodId", 8241),
        "memoryStorage": subscription.get("memoryStorage", "ram"),
        "numberOfDatabases": len(databases),
        "paymentMethodType": subscription.get("paymentMethodType", "credit-card"),
        "storageEncryption": bool(subscription.get("storageEncryption", False)),
        "subscriptionPricing": [
            {
                "type": "Shards",
                "typeDetails": "high-throughput",
                "quantity": sum(_shards(db) for db in databases),
                "quantityMeasurement": "shards",
                "pricePerUnit": 0.124,
                "priceCurrency": "USD",
                "pricePeriod": "hour",
            }
        ],
        "cloudDetails": [
            {
                "provider": subscription.get("provider"),
                "cloudAccountId": 1,
                "totalSizeInGb": round(sum(memory_limit(db) for db in databases), 4),
                "regions": [
                    {
                        "region": region,
                        "networking": [
                            {
                                "deploymentCIDR": "10.0.0.0/24",
                                "subnetId": f"subnet-{subscription['id']:x}",
                            }
                        ],
                        "preferredAvailabilityZones": [f"{region}a"],
                        "multipleAvailabilityZones": False,
                    }
                ],
                "links": [],
            }
        ],
        "publicEndpointAccess": subscription.get("publicEndpointAccess", True),
        "links": [_link("self", f"{base_url}/subscriptions/{subscription['id']}")],
    }


def render_database_page(
    account: Account,
    subscription: Mapping[str, Any],
    page: list[dict[str, Any]],
    total: int,
    links: tuple[str, int, int],
) -> dict[str, Any]:
    """Return the ``AccountSubscriptionDatabases`` shape: one ``subscription`` element.

    ``links`` is ``(base_url, offset, limit)`` for the self link.
    """
    base_url, offset, limit = links
    href = f"{base_url}/subscriptions/{subscription['id']}/databases?offset={offset}&limit={limit}"
    return {
        "accountId": account.account_id,
        "subscription": [
            {
                "subscriptionId": subscription["id"],
                "numberOfDatabases": total,
                "databases": page,
                "links": [],
            }
        ],
        "links": [_link("self", href)],
    }


def render_task(task: Mapping[str, Any], now: float, base_url: str) -> dict[str, Any] | None:
    """Return the ``TaskStateUpdate`` shape at ``now``; None while the task is unknown."""
    phase = task_phase(task, now)
    if phase is None:
        return None
    moments = {"received": task["submittedAt"], "processing-in-progress": task["startAt"]}
    view: dict[str, Any] = {
        "taskId": task["taskId"],
        "commandType": task["commandType"],
        "status": phase,
        "description": TASK_DESCRIPTIONS[phase],
        "timestamp": iso_time_precise(float(moments.get(phase, task["endAt"]))),
    }
    if phase in ("processing-completed", "processing-error"):
        view["response"] = task["outcome"]
    view["links"] = [_link("task", f"{base_url}/tasks/{task['taskId']}")]
    return view


def render_submitted_task(task: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """Return the immediate answer to a write: the task as ``received``."""
    return {
        "taskId": task["taskId"],
        "commandType": task["commandType"],
        "status": "received",
        "description": TASK_DESCRIPTIONS["received"],
        "timestamp": iso_time_precise(float(task["submittedAt"])),
        "links": [_link("task", f"{base_url}/tasks/{task['taskId']}")],
    }


def render_upgrade_status(
    account: Account, record: Mapping[str, Any], now: float
) -> dict[str, Any]:
    """Return the ``BdbVersionUpgradeStatus`` shape of the database's latest upgrade."""
    waiting = [
        task
        for task in account.tasks
        if task["kind"] == "upgrade"
        and task["databaseId"] == record["databaseId"]
        and (task["outcome"] is None or "error" in task["outcome"])
    ]
    status: dict[str, Any] = {"databaseId": record["databaseId"]}
    last = record.get("lastUpgrade")
    latest_failure = waiting[-1] if waiting and waiting[-1]["outcome"] is not None else None
    if waiting and latest_failure is None:
        target, progress, state = waiting[-1]["payload"]["targetRedisVersion"], 0.0, "in-progress"
    elif latest_failure is not None and (last is None or latest_failure["endAt"] > last["at"]):
        target, progress, state = latest_failure["payload"]["targetRedisVersion"], 0.0, "failed"
    elif last is not None and now < last["until"]:
        share = (now - last["at"]) / max(last["until"] - last["at"], 1e-9)
        target, progress, state = last["target"], round(100.0 * share, 1), "in-progress"
    else:
        target, progress, state = record["redisVersion"], 100.0, "done"
    status.update(targetRedisVersion=target, progress=progress, upgradeStatus=state)
    return status
