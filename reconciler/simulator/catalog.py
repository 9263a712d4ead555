"""Fixed facts of the simulated Redis Cloud: versions, modules, defaults, enumerations.

Values follow the OpenAPI description (``DatabaseCreateRequest`` defaults, the ``Database``
examples) and the Go SDK; where the real API's exact value is unknown a plausible one is
chosen and kept stable, since clients must not depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUPPORTED_REDIS_VERSIONS: tuple[str, ...] = ("6.2", "7.2", "7.4", "8.0", "8.2")
DEFAULT_REDIS_VERSION = "7.4"
# End-of-life dates listed by GET /subscriptions/redis-versions (plausible, kept stable).
REDIS_VERSION_EOL_DATES: Mapping[str, str] = {
    "6.2": "2027-02-28",
    "7.2": "2028-02-28",
    "7.4": "2028-08-31",
    "8.0": "2029-05-31",
    "8.2": "2029-11-30",
}
# Full patch versions reported as redisVersionCompliance.
COMPLIANCE_VERSIONS: Mapping[str, str] = {
    "6.2": "6.2.18",
    "7.2": "7.2.7",
    "7.4": "7.4.2",
    "8.0": "8.0.2",
    "8.2": "8.2.1",
}

PROTOCOLS = ("redis", "memcached")
RESP_VERSIONS = ("resp2", "resp3")
# Data persistence option → description (the OpenAPI ``DataPersistenceOptions`` example).
DATA_PERSISTENCE_OPTIONS: Mapping[str, str] = {
    "none": "None",
    "aof-every-1-second": "Append only file (AOF) - fsync every 1 second",
    "aof-every-write": "Append only file (AOF) - fsync every write",
    "snapshot-every-1-hour": "Snapshot every 1 hour",
    "snapshot-every-6-hours": "Snapshot every 6 hour",
    "snapshot-every-12-hours": "Snapshot every 12 hour",
}
DATA_PERSISTENCE = tuple(DATA_PERSISTENCE_OPTIONS)
EVICTION_POLICIES = (
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "noeviction",
)
THROUGHPUT_BY = ("operations-per-second", "number-of-shards")
SHARDING_TYPES = ("default-regex-rules", "custom-regex-rules", "redis-oss-hashing")
BACKUP_INTERVALS = (
    "every-24-hours",
    "every-12-hours",
    "every-6-hours",
    "every-4-hours",
    "every-2-hours",
    "every-1-hours",
)
BACKUP_STORAGE_TYPES = ("aws-s3", "google-blob-storage", "azure-blob-storage", "ftp")
# A backup storagePath must use the scheme of its storage type.
BACKUP_PATH_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "aws-s3": ("s3://",),
    "google-blob-storage": ("gs://",),
    "azure-blob-storage": ("abs://",),
    "ftp": ("ftp://", "ftps://"),
}
IMPORT_SOURCE_TYPES = (
    "http",
    "redis",
    "ftp",
    "aws-s3",
    "azure-blob-storage",
    "google-blob-storage",
)
# sourceType → (accepted URI prefixes, task error type for a malformed URI).
IMPORT_URI_RULES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "aws-s3": (("s3://",), "DATABASE_IMPORT_S3_BAD_URI"),
    "http": (("http://", "https://"), "DATABASE_IMPORT_HTTP_BAD_URI"),
    "ftp": (("ftp://", "ftps://"), "DATABASE_IMPORT_FTP_BAD_URI"),
    "azure-blob-storage": (("abs://",), "DATABASE_IMPORT_AZURE_BAD_URI"),
    "google-blob-storage": (("gs://",), "DATABASE_IMPORT_GCS_BAD_URI"),
    "redis": (("redis://", "rediss://"), "DATABASE_IMPORT_REDIS_BAD_URI"),
}

# Alert name → (default threshold, highest accepted value or None for no upper bound).
ALERTS: Mapping[str, tuple[int, int | None]] = {
    "dataset-size": (80, 100),
    "datasets-size": (80, 100),
    "throughput-higher-than": (10000, None),
    "throughput-lower-than": (0, None),
    "latency": (5, None),
    "syncsource-error": (1, None),
    "syncsource-lag": (10, None),
    "connections-limit": (80, 100),
}

# Module name → read-back metadata (id, capabilityName, version, description); the
# descriptions are those of the OpenAPI ``ModulesData`` example.
MODULES: Mapping[str, Mapping[str, Any]] = {
    "RedisJSON": {
        "id": 18536,
        "capabilityName": "JSON",
        "version": "2.8.4",
        "description": "Native JSON Data Type for Redis, allowing for atomic reads and "
        "writes of sub-elements",
    },
    "RediSearch": {
        "id": 6652,
        "capabilityName": "Search and query",
        "version": "2.10.7",
        "description": "A comprehensive, expressive, flexible, fast and developer-friendly "
        "search and query engine for the diversity of data types in Redis with "
        "state-of-the-art scoring algorithms",
    },
    "RedisBloom": {
        "id": 18537,
        "capabilityName": "Probabilistic",
        "version": "2.8.2",
        "description": "A set of probabilistic data structures to Redis, including Bloom "
        "filter, Cuckoo filter, Count-min sketch, Top-K, and t-digest",
    },
    "RedisTimeSeries": {
        "id": 18538,
        "capabilityName": "Time series",
        "version": "1.12.2",
        "description": "Time-Series data structure for redis",
    },
}
# Module name → its parameters (the OpenAPI ``ModulesData`` example): name →
# (description, default value, lowest and highest accepted integer).
MODULE_PARAMETERS: Mapping[str, Mapping[str, tuple[str, int, int, int]]] = {
    "RediSearch": {
        "number-of-documents": (
            "Expected number of documents the database module will be indexing",
            1_000_000,
            1,
            2_000_000_000,
        ),
    },
}
BUNDLED_MODULES = ("RedisJSON", "RediSearch", "RedisBloom", "RedisTimeSeries")

# Query performance factors: "Standard" (none) or an even factor from 2x to 16x.
QUERY_PERFORMANCE_FACTORS: tuple[str, ...] = (
    "Standard",
    *(f"{factor}x" for factor in range(2, 17, 2)),
)

# Bounds on request numbers, so that no absurd value reaches storage or arithmetic. The
# real API's exact ceilings are not published; these are far above any real database.
MAX_DATASET_SIZE_GB = 100_000.0
MAX_OPERATIONS_PER_SECOND = 100_000_000
MAX_SHARDS = 10_000
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

DEFAULT_REGEX_RULES: tuple[tuple[int, str], ...] = (
    (0, ".*\\{(?<tag>.*)\\}.*"),
    (1, "(?<tag>.*)"),
)
DEFAULT_SOURCE_IPS = ("0.0.0.0/0",)
PRIVATE_SOURCE_IPS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")

# Server-side defaults for a create request (the OpenAPI ``DatabaseCreateRequest`` defaults;
# enableDefaultUser and autoMinorVersionUpgrade as the Terraform provider defaults them).
CREATE_DEFAULTS: Mapping[str, Any] = {
    "protocol": "redis",
    "redisVersion": DEFAULT_REDIS_VERSION,
    "supportOSSClusterApi": False,
    "useExternalEndpointForOSSClusterApi": False,
    "dataPersistence": "none",
    "dataEvictionPolicy": "volatile-lru",
    "replication": True,
    "enableTls": False,
    "enableDefaultUser": True,
    "shardingType": "default-regex-rules",
    "autoMinorVersionUpgrade": True,
    "datasetSizeInGb": 1.0,
    "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
}


def version_key(version: str) -> tuple[int, ...]:
    """Return a sortable key for a ``major.minor`` version string (bad parts sort as 0)."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def is_bundled_modules_version(version: str) -> bool:
    """Return True when Redis ``version`` bundles its modules (8.0 and newer)."""
    return version_key(version) >= (8,)


def default_resp_version(version: str) -> str:
    """Return the RESP version a database of ``version`` gets when none is asked for."""
    return "resp3" if version_key(version) >= (7, 4) else "resp2"


def supports_resp3(version: str) -> bool:
    """Return True when Redis ``version`` accepts ``respVersion: resp3``."""
    return version_key(version) >= (7, 2)
