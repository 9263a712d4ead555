"""Tests for reconciler.compare.differ: field-level changes between canonical mappings."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.compare.differ import diff_fields, same
from reconciler.plan import FieldChange
from reconciler.secrets import Secret


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (2, 2.0),
        (0.5, 0.5),
        ("x", "x"),
        (None, None),
        (True, True),
        (
            {"by": "operations-per-second", "value": 25000},
            {"value": 25000.0, "by": "operations-per-second"},
        ),
        ([1, "a"], (1.0, "a")),
        ({"a", "b"}, frozenset({"b", "a"})),
        (Secret("pw"), Secret("pw")),
        (Secret("pw"), "pw"),
        ("pw", Secret("pw")),
    ],
)
def test_same_values(a: Any, b: Any) -> None:
    assert same(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (True, 1),
        (1, True),
        (False, 0),
        (0, None),
        ("2", 2),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": 1, "b": 2}),
        ([1], {1}),
        (Secret("pw"), Secret("other")),
        (Secret("pw"), None),
        ({"by": "x", "value": 1}, {"by": "x", "value": True}),
        (["x"], "x"),
        (object(), object()),
    ],
)
def test_different_values(a: Any, b: Any) -> None:
    assert not same(a, b)


def test_equal_mappings_have_no_changes() -> None:
    desired = {"datasetSizeInGb": 2, "alerts": [{"name": "dataset-size", "value": 80}]}
    live = {"datasetSizeInGb": 2.0, "alerts": [{"name": "dataset-size", "value": 80.0}]}
    assert diff_fields(desired, live) == ()


def test_only_desired_keys_are_compared() -> None:
    assert (
        diff_fields({"replication": True}, {"replication": True, "dataPersistence": "none"}) == ()
    )


def test_scalar_change() -> None:
    assert diff_fields({"datasetSizeInGb": 2}, {"datasetSizeInGb": 1}) == (
        FieldChange("datasetSizeInGb", 1, 2),
    )


def test_missing_live_key_reads_as_none() -> None:
    assert diff_fields({"respVersion": "resp3"}, {}) == (FieldChange("respVersion", None, "resp3"),)


def test_changes_follow_desired_key_order() -> None:
    desired = {"b": 2, "a": 1, "c": 3}
    live = {"a": 0, "b": 0, "c": 3}
    assert [c.path for c in diff_fields(desired, live)] == ["b", "a"]


def test_lists_are_reported_whole() -> None:
    desired = {"alerts": [{"name": "dataset-size", "value": 90}]}
    live = {"alerts": [{"name": "dataset-size", "value": 80}]}
    assert diff_fields(desired, live) == (
        FieldChange(
            "alerts",
            [{"name": "dataset-size", "value": 80}],
            [{"name": "dataset-size", "value": 90}],
        ),
    )


def test_sets_compare_as_sets_and_show_as_sorted_lists() -> None:
    assert diff_fields({"sourceIp": {"b", "a"}}, {"sourceIp": {"a", "b"}}) == ()
    (change,) = diff_fields({"sourceIp": {"b", "a"}}, {"sourceIp": {"a"}})
    assert change == FieldChange("sourceIp", ["a"], ["a", "b"])


def test_nested_mapping_reports_sub_fields() -> None:
    desired = {"remoteBackup": {"active": True, "interval": "every-6-hours", "timeUTC": "03:00"}}
    live = {"remoteBackup": {"active": True, "interval": "every-12-hours"}}
    assert diff_fields(desired, live) == (
        FieldChange("remoteBackup.interval", "every-12-hours", "every-6-hours"),
        FieldChange("remoteBackup.timeUTC", None, "03:00"),
    )


def test_nested_mapping_lists_are_reported_at_their_key() -> None:
    desired = {"replica": {"syncSources": ["redis://a:1", "redis://b:2"]}}
    live = {"replica": {"syncSources": ["redis://a:1"]}}
    assert diff_fields(desired, live) == (
        FieldChange("replica.syncSources", ["redis://a:1"], ["redis://a:1", "redis://b:2"]),
    )


def test_throughput_value_change_is_a_sub_field() -> None:
    desired = {"throughputMeasurement": {"by": "operations-per-second", "value": 30000}}
    live = {"throughputMeasurement": {"by": "operations-per-second", "value": 25000.0}}
    assert diff_fields(desired, live) == (
        FieldChange("throughputMeasurement.value", 25000.0, 30000),
    )


def test_bool_versus_number_inside_a_mapping_is_reported_whole() -> None:
    desired = {"throughputMeasurement": {"by": "x", "value": 1}}
    live = {"throughputMeasurement": {"by": "x", "value": True}}
    assert diff_fields(desired, live) == (
        FieldChange(
            "throughputMeasurement", live["throughputMeasurement"], desired["throughputMeasurement"]
        ),
    )


def test_unexpected_live_type_compares_unequal() -> None:
    desired = {"remoteBackup": {"active": True}, "alerts": [], "datasetSizeInGb": 1}
    live = {"remoteBackup": "on", "alerts": "none", "datasetSizeInGb": "1"}
    assert [c.path for c in diff_fields(desired, live)] == [
        "remoteBackup",
        "alerts",
        "datasetSizeInGb",
    ]


@pytest.mark.parametrize(
    ("ignore", "paths"),
    [
        ((), ["datasetSizeInGb", "remoteBackup.interval", "remoteBackup.timeUTC"]),
        (("datasetSizeInGb",), ["remoteBackup.interval", "remoteBackup.timeUTC"]),
        (("remoteBackup",), ["datasetSizeInGb"]),
        (("remoteBackup.timeUTC",), ["datasetSizeInGb", "remoteBackup.interval"]),
        (("remoteBack",), ["datasetSizeInGb", "remoteBackup.interval", "remoteBackup.timeUTC"]),
    ],
)
def test_ignore(ignore: tuple[str, ...], paths: list[str]) -> None:
    desired = {
        "datasetSizeInGb": 2,
        "remoteBackup": {"interval": "every-6-hours", "timeUTC": "03:00"},
    }
    live = {
        "datasetSizeInGb": 1,
        "remoteBackup": {"interval": "every-12-hours", "timeUTC": "02:00"},
    }
    assert [c.path for c in diff_fields(desired, live, ignore=ignore)] == paths


def test_secret_change_is_sensitive_and_wraps_the_live_value() -> None:
    (change,) = diff_fields({"password": Secret("new-pw")}, {"password": "old-pw"})
    assert change.sensitive
    assert change.before == Secret("old-pw")
    assert isinstance(change.before, Secret)
    assert change.after == Secret("new-pw")
    assert "old-pw" not in repr(change)
    assert "new-pw" not in repr(change)


def test_equal_secrets_have_no_change() -> None:
    assert diff_fields({"password": Secret("pw")}, {"password": Secret("pw")}) == ()


def test_password_is_sensitive_even_in_clear() -> None:
    (change,) = diff_fields({"password": "new-pw"}, {"password": None})
    assert change.sensitive
    assert change.before is None
    assert isinstance(change.after, Secret)


def test_secret_inside_a_structure_makes_the_whole_field_sensitive() -> None:
    desired = {"replicaOf": [Secret("redis://u:new@h:1"), "redis://h:2"]}
    live = {"replicaOf": [Secret("redis://u:old@h:1"), "redis://h:2"]}
    (change,) = diff_fields(desired, live)
    assert change.path == "replicaOf"
    assert change.sensitive
    assert all(isinstance(v, Secret) for v in [*change.before, *change.after])
    assert "old" not in repr(change)
    assert "new" not in repr(change)


def test_secret_inside_a_mapping_never_reaches_sub_field_reports() -> None:
    desired = {"remoteBackup": {"active": True, "storagePath": Secret("ftp://u:new@h/b")}}
    live = {"remoteBackup": {"active": True, "storagePath": Secret("ftp://u:old@h/b")}}
    (change,) = diff_fields(desired, live)
    assert change.path == "remoteBackup"
    assert change.sensitive
    assert "new" not in repr(change)


def test_clear_uri_with_credentials_is_wrapped_and_sensitive() -> None:
    (change,) = diff_fields({"x": "redis://h:1"}, {"x": "redis://u:pw@h:1"})
    assert change.sensitive
    assert change.before == Secret("redis://u:pw@h:1")
    assert isinstance(change.after, Secret)
