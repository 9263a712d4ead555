"""Shared examples for the compare tests: a database and subscriptions as the API returns them."""

from __future__ import annotations

import copy
from typing import Any

SUBSCRIPTION: dict[str, Any] = {"id": 120416, "name": "prod", "deploymentType": "single-region"}
PRIVATE_SUBSCRIPTION: dict[str, Any] = {**SUBSCRIPTION, "publicEndpointAccess": False}

# The OpenAPI ``Database`` example, with alert and backup details from a recorded response.
API_DATABASE: dict[str, Any] = {
    "databaseId": 1,
    "name": "DB-RCP-2-81-7",
    "protocol": "redis",
    "provider": "AWS",
    "region": "us-east-1",
    "redisVersion": "7.4",
    "redisVersionCompliance": "7.4.2",
    "respVersion": "resp3",
    "status": "active",
    "datasetSizeInGb": 2,
    "memoryUsedInMb": 4,
    "memoryStorage": "ram",
    "supportOSSClusterApi": True,
    "useExternalEndpointForOSSClusterApi": True,
    "dataPersistence": "snapshot-every-1-hour",
    "replication": False,
    "dataEvictionPolicy": "noeviction",
    "throughputMeasurement": {"by": "operations-per-second", "value": 2500},
    "activatedOn": "2021-08-29T13:03:08Z",
    "lastModified": "2021-08-29T13:03:08Z",
    "publicEndpoint": "redis-17571.c235866.us-east-1-1.ec2.qa-cloud.rlrcp.com:17571",
    "privateEndpoint": "redis-17571.internal.c235866.us-east-1-1.ec2.qa-cloud.rlrcp.com:17571",
    "dynamicEndpoints": {"public": "pot-27804.db.redis.io:17571", "private": "x:17571"},
    "replica": {
        "syncSources": [
            {"endpoint": "redis://localhost:6379", "encryption": True, "clientCert": "-----BEGIN"}
        ]
    },
    "clustering": {
        "numberOfShards": 1,
        "regexRules": [
            {"ordinal": 1, "pattern": "(?<tag>.*)"},
            {"ordinal": 0, "pattern": ".*\\{(?<tag>.*)\\}.*"},
        ],
        "hashingPolicy": "standard",
    },
    "security": {
        "enableDefaultUser": True,
        "password": "redis123456redis",
        "sslClientAuthentication": False,
        "tlsClientAuthentication": False,
        "enableTls": False,
        "sourceIps": ["0.0.0.0/0"],
    },
    "modules": [
        {
            "id": 18536,
            "name": "RedisJSON",
            "capabilityName": "JSON",
            "version": "2.0.6",
            "description": "Native JSON",
            "parameters": [],
        }
    ],
    "alerts": [{"id": "222333-1", "name": "dataset-size", "value": 80, "defaultValue": 80}],
    "backup": {
        "enableRemoteBackup": True,
        "interval": "every-12-hours",
        "timeUTC": "02:00",
        "destination": "s3://backups/db",
    },
    "queryPerformanceFactor": "Standard",
    "autoMinorVersionUpgrade": True,
    "links": [{"rel": "self", "href": "https://api/v1/subscriptions/1/databases/1", "type": "GET"}],
}


def api_database(**changes: Any) -> dict[str, Any]:
    """Return a deep copy of the example database with top-level keys replaced (None drops)."""
    db = copy.deepcopy(API_DATABASE)
    for key, value in changes.items():
        if value is None:
            db.pop(key, None)
        else:
            db[key] = value
    return db
