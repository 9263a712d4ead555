"""Seed files (reconciler/simulator/seed.py) and the example seed of the example account."""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SimApi

from reconciler.errors import UsageError
from reconciler.simulator import RunningSimulator
from reconciler.simulator.seed import account_from_document, seed_account

EXAMPLE_SEED = Path(__file__).resolve().parents[2] / "examples" / "simulator-seed.yaml"


def test_packaged_seed_is_the_example_file() -> None:
    packaged = importlib.resources.files("reconciler.simulator").joinpath("default-seed.yaml")
    assert packaged.read_text(encoding="utf-8") == EXAMPLE_SEED.read_text(encoding="utf-8")


def test_example_seed_describes_the_example_account() -> None:
    account = seed_account(EXAMPLE_SEED, 0.0)
    layout = {
        sub["id"]: [(db["databaseId"], db["name"]) for db in account.databases_in(sub["id"])]
        for sub in account.subscriptions
    }
    assert layout == {
        2001234: [
            (51170941, "sessions"),
            (51170942, "legacy-cache"),
            (51170943, "cache"),
            (51170944, "queue"),
            (51170950, "analytics"),
        ],
        2005678: [
            (51180001, "staging-sessions"),
            (51180002, "staging-cache"),
            (51180009, "scratch"),
        ],
    }
    assert seed_account(None, 0.0).data == account.data  # None = the packaged copy


def project(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: body[key] for key in keys}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/subscriptions/2001234/databases/51170941",
            {
                "redisVersion": "7.4",
                "datasetSizeInGb": 1.0,
                "replication": True,
                "dataEvictionPolicy": "volatile-lru",
                "dataPersistence": "aof-every-1-second",
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
            },
        ),
        (
            "/subscriptions/2001234/databases/51170942",
            {
                "redisVersion": "7.2",
                "datasetSizeInGb": 0.5,
                "replication": True,
                "dataEvictionPolicy": "volatile-lru",
                "dataPersistence": "aof-every-1-second",
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
            },
        ),
        (
            "/subscriptions/2001234/databases/51170943",
            {
                "redisVersion": "7.4",
                "datasetSizeInGb": 1.0,
                "replication": False,
                "dataEvictionPolicy": "allkeys-lru",
                "dataPersistence": "aof-every-1-second",
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
            },
        ),
        (
            "/subscriptions/2001234/databases/51170944",
            {
                "redisVersion": "7.2",
                "datasetSizeInGb": 1.0,
                "replication": True,
                "dataEvictionPolicy": "noeviction",
                "dataPersistence": "aof-every-1-second",
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
            },
        ),
        (
            "/subscriptions/2005678/databases/51180001",
            {
                "redisVersion": "7.4",
                "datasetSizeInGb": 1.0,
                "replication": False,
                "dataEvictionPolicy": "allkeys-lru",
                "dataPersistence": "none",
                "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
            },
        ),
    ],
)
def test_example_databases_read_back_as_the_table_says(
    simulator: RunningSimulator,
    sim_api: Callable[[RunningSimulator], SimApi],
    path: str,
    expected: dict[str, Any],
) -> None:
    body = sim_api(simulator).get(path).json()
    assert project(body, *expected) == expected


def test_example_sessions_and_staging_cache_details(
    simulator: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    api = sim_api(simulator)
    sessions = api.get("/subscriptions/2001234/databases/51170941").json()
    assert sessions["security"]["password"] == "seed-sessions-password-0000000001"
    assert sessions["security"]["sourceIps"] == ["10.0.0.0/16"]
    assert [(a["name"], a["value"]) for a in sessions["alerts"]] == [("dataset-size", 80)]
    assert sessions["backup"]["timeUTC"] == "02:00"
    cache = api.get("/subscriptions/2005678/databases/51180002").json()
    assert project(cache, "protocol", "datasetSizeInGb", "dataPersistence", "replication") == {
        "protocol": "memcached",
        "datasetSizeInGb": 0.5,
        "dataPersistence": "none",
        "replication": False,
    }


SEED_ERRORS = [
    ([], "seed.yaml: account: the seed file needs a top-level 'account' mapping"),
    ({"account": {"id": "x"}}, "seed.yaml: account.id: must be an integer"),
    (
        {"account": {"id": 1, "subscriptions": [{"id": 1, "name": "a", "provider": "AWS"}]}},
        "seed.yaml: account.subscriptions[0]: 'region' is required",
    ),
    (
        {
            "account": {
                "id": 1,
                "subscriptions": [
                    {"id": 1, "name": "a", "provider": "AWS", "region": "r", "color": 1}
                ],
            }
        },
        "seed.yaml: account.subscriptions[0]: unknown key 'color'",
    ),
    (
        {
            "account": {
                "id": 1,
                "subscriptions": [
                    {
                        "id": 1,
                        "name": "a",
                        "provider": "AWS",
                        "region": "r",
                        "databases": [{"name": "db"}],
                    }
                ],
            }
        },
        'seed.yaml: account.subscriptions[0].databases[0]: BAD_REQUEST: "databaseId" is required',
    ),
    (
        {
            "account": {
                "id": 1,
                "subscriptions": [
                    {
                        "id": 1,
                        "name": "a",
                        "provider": "AWS",
                        "region": "r",
                        "databases": [{"databaseId": 2, "name": "db", "datasetSizeInGb": "big"}],
                    }
                ],
            }
        },
        "seed.yaml: account.subscriptions[0].databases[0]: BAD_REQUEST: "
        '"datasetSizeInGb" must be a number, got string',
    ),
    (
        {
            "account": {
                "id": 1,
                "subscriptions": [
                    {
                        "id": 1,
                        "name": "a",
                        "provider": "AWS",
                        "region": "r",
                        "databases": [
                            {"databaseId": 2, "name": "db"},
                            {"databaseId": 3, "name": "db"},
                        ],
                    }
                ],
            }
        },
        "seed.yaml: account.subscriptions[0].databases[1]: database name 'db' is used twice",
    ),
    (
        {
            "account": {
                "id": 1,
                "subscriptions": [
                    {
                        "id": 1,
                        "name": "a",
                        "provider": "AWS",
                        "region": "r",
                        "databases": [
                            {"databaseId": 2, "name": "db"},
                            {"databaseId": 2, "name": "other"},
                        ],
                    }
                ],
            }
        },
        "seed.yaml: account.subscriptions[0].databases[1]: database id 2 is used twice",
    ),
]


@pytest.mark.parametrize(("document", "message"), SEED_ERRORS)
def test_seed_errors(document: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        account_from_document(document, "seed.yaml", 0.0)
    assert str(caught.value) == message


def test_seed_accepts_update_only_fields_and_status(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        json.dumps(  # JSON is YAML too
            {
                "account": {
                    "id": 1,
                    "subscriptions": [
                        {
                            "id": 1,
                            "name": "a",
                            "provider": "AWS",
                            "region": "r",
                            "status": "error",
                            "databases": [
                                {
                                    "databaseId": 2,
                                    "name": "db",
                                    "enableDefaultUser": False,
                                    "password": "set-before-disabling-1",
                                    "status": "error",
                                    "port": 12000,
                                }
                            ],
                        }
                    ],
                }
            }
        )
    )
    account = seed_account(seed, 0.0)
    record = account.databases[0]
    assert (record["enableDefaultUser"], record["password"], record["status"], record["port"]) == (
        False,
        "set-before-disabling-1",
        "error",
        12000,
    )


def test_unreadable_seed(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read simulator seed"):
        seed_account(tmp_path / "missing.yaml", 0.0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("account: [unclosed")
    with pytest.raises(UsageError, match=f"^{bad}: not valid YAML: "):
        seed_account(bad, 0.0)
