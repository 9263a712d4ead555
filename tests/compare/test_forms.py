"""Tests for reconciler.compare.forms and the catalogue's canonical forms."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.compare.comparison import normalise_desired
from reconciler.compare.fields import canonical
from reconciler.compare.forms import presence, same_version, version_tuple
from reconciler.secrets import Secret

# --------------------------------------------------------------------------- canonical forms


def test_normalise_desired_puts_fields_in_canonical_form() -> None:
    fields = {
        "name": "cache",
        "datasetSizeInGb": 2.0,
        "sourceIp": ["10.0.0.0/16", "10.0.0.0/8", "10.0.0.0/16"],
        "alerts": [{"name": "latency", "value": 5.0}, {"name": "dataset-size", "value": 80}],
        "regexRules": [".*\\{(?<tag>.*)\\}.*", "(?<tag>.*)"],
        "modules": [{"name": "RediSearch", "parameters": {}}, {"name": "RedisJSON"}],
        "remoteBackup": {"active": True, "timeUTC": "2:00", "storageType": "aws-s3"},
        "queryPerformanceFactor": "Standard",
        "redisVersion": 7.4,
        "password": "clear",
        "averageItemSizeInBytes": 1000,
        "clientTlsCertificates": [{"publicCertificatePEMString": "x"}],
    }
    out = normalise_desired(fields)
    assert out == {
        "datasetSizeInGb": 2,
        "sourceIp": ["10.0.0.0/16", "10.0.0.0/8"],
        "alerts": [{"name": "dataset-size", "value": 80}, {"name": "latency", "value": 5}],
        "regexRules": [],
        "modules": ["RediSearch", "RedisJSON"],
        "remoteBackup": {"active": True, "timeUTC": "02:00"},
        "queryPerformanceFactor": "standard",
        "redisVersion": "7.4",
        "password": Secret("clear"),
        "averageItemSizeInBytes": 1000,
        "clientTlsCertificates": "(certificates set)",
    }
    assert isinstance(out["datasetSizeInGb"], int)


def test_inactive_backup_keeps_only_active() -> None:
    value = {"active": False, "interval": "every-24-hours", "storagePath": "s3://x"}
    assert canonical("remoteBackup", value) == {"active": False}


def test_custom_regex_rules_keep_their_order() -> None:
    assert canonical("regexRules", ["b", "a"]) == ["b", "a"]


def test_regex_rules_given_with_ordinals_sort_by_ordinal() -> None:
    rules = [{"ordinal": 1, "pattern": "b"}, {"ordinal": 0, "pattern": "a"}]
    assert canonical("regexRules", rules) == ["a", "b"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sourceIp", "10.0.0.0/8"),
        ("alerts", {"name": "x"}),
        ("modules", "RedisJSON"),
        ("remoteBackup", True),
    ],
)
def test_canonical_passes_unexpected_shapes_through(field: str, value: Any) -> None:
    assert canonical(field, value) == value


@pytest.mark.parametrize(
    ("desired", "live", "same"),
    [
        ("7.4", "7.4", True),
        (7.4, "7.4", True),
        ("7.4", "7.4.2", True),
        ("7", "7.4", True),
        ("7.4", "7.2", False),
        ("8.2", "7.4", False),
        ("7.4.3", "7.4", False),
        ("latest", "latest", True),
        ("latest", "7.4", False),
    ],
)
def test_same_version(desired: Any, live: Any, same: bool) -> None:
    assert same_version(desired, live) is same


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7.4", (7, 4)), (7.4, (7, 4)), ("6.0.5", (6, 0, 5)), ("x", None), (None, None)],
)
def test_version_tuple(text: Any, expected: tuple[int, ...] | None) -> None:
    assert version_tuple(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([{"publicCertificatePEMString": "PEM"}], "(certificates set)"),
        ("PEM", "(certificates set)"),
        (True, "(certificates set)"),
        ([], "(no certificates)"),
        ("", "(no certificates)"),
        (False, "(no certificates)"),
        (None, "(no certificates)"),
        (7, 7),
    ],
)
def test_certificates_compare_by_presence(value: Any, expected: Any) -> None:
    assert presence(value) == expected
