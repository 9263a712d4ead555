"""Tests of reconciler/spec/dump.py: spec documents written as readable YAML."""

from __future__ import annotations

import math
from typing import Any

import pytest

from reconciler.secrets import Secret
from reconciler.spec.dump import DumpError, Note, Remark, dump_spec, flow_text, spec_problems


def test_layout_with_notes_and_remarks() -> None:
    document = {
        "version": 1,
        "subscriptions": [
            {
                "id": Remark(7, "prod"),
                "databases": [
                    {
                        "name": "a",
                        "redisVersion": "7.4",
                        "throughputMeasurement": {"by": "operations-per-second", "value": 1000},
                        "alerts": [{"name": "latency", "value": 5}],
                        "remoteBackup": {
                            "active": True,
                            "interval": "every-12-hours",
                            "timeUTC": "02:00",
                            "storageType": "aws-s3",
                            "storagePath": "s3://bucket/a-rather-long-path/for/the/backups",
                        },
                        Note("password: ${A_PASSWORD}"): None,
                    },
                    {"name": "b"},
                ],
            }
        ],
    }
    assert dump_spec(document, header=["first", "", "second"]) == (
        "# first\n"
        "#\n"
        "# second\n"
        "version: 1\n"
        "subscriptions:\n"
        "  - id: 7  # prod\n"
        "    databases:\n"
        "      - name: a\n"
        '        redisVersion: "7.4"\n'
        "        throughputMeasurement: {by: operations-per-second, value: 1000}\n"
        "        alerts:\n"
        "          - {name: latency, value: 5}\n"
        "        remoteBackup:\n"
        "          active: true\n"
        "          interval: every-12-hours\n"
        '          timeUTC: "02:00"\n'
        "          storageType: aws-s3\n"
        "          storagePath: s3://bucket/a-rather-long-path/for/the/backups\n"
        "        # password: ${A_PASSWORD}\n"
        "      - name: b\n"
    )


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("${HOME}", "x: $${HOME}"),
        ("a $${ b", "x: a $$${ b"),
        ("7.4", 'x: "7.4"'),
        ("14:00", 'x: "14:00"'),
        ("yes", "x: 'yes'"),
        ("a # b", "x: 'a # b'"),
        ("", "x: ''"),
        (0.5, "x: 0.5"),
        (False, "x: false"),
        (None, "x: null"),
        ([], "x: []"),
        ({}, "x: {}"),
        (["10.0.0.0/16", "a, b"], "x: [10.0.0.0/16, 'a, b']"),
        ("ünïcode", "x: ünïcode"),
    ],
)
def test_values_read_back_as_written(value: Any, line: str) -> None:
    assert dump_spec({"x": value}) == line + "\n"


def test_a_long_list_is_written_one_item_a_line() -> None:
    ips = [f"10.{i}.0.0/16" for i in range(12)]
    assert dump_spec({"sourceIp": ips}) == "sourceIp:\n" + "".join(f"  - {ip}\n" for ip in ips)


def test_a_note_before_the_first_key_of_a_list_item() -> None:
    text = dump_spec({"databases": [{Note("first"): None, "name": "a"}]})
    assert text == "databases:\n    # first\n  - name: a\n"


def test_nested_lists() -> None:
    text = dump_spec({"x": [[{"a": [1, {"b": 2}]}]]})
    assert text == "x:\n  - - a:\n        - 1\n        - {b: 2}\n"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"a": {"password": Secret("p")}}, "a.password: a secret cannot be written to a spec file"),
        ({"a": [Remark(Secret("p"), "x")]}, "a[0]: a secret cannot be written to a spec file"),
        ({"a": math.inf}, "a: inf cannot be written"),
        ({"a": {1: "x"}}, "a: mapping key 1 is not a string"),
        ({"a": object()}, "a: a object cannot be written"),
    ],
)
def test_what_cannot_be_written(document: dict[str, Any], message: str) -> None:
    with pytest.raises(DumpError) as caught:
        dump_spec(document)
    assert str(caught.value) == message


def test_flow_text() -> None:
    assert flow_text({"active": True, "storagePath": "ftp://(sensitive)@h/p"}) == (
        "{active: true, storagePath: 'ftp://(sensitive)@h/p'}"
    )
    with pytest.raises(DumpError):
        flow_text([Secret("x")])


def test_spec_problems() -> None:
    good = dump_spec({"version": 1, "subscriptions": [{"id": 5, "databases": [{"name": "a"}]}]})
    assert spec_problems(good, "f.yaml") == []
    bad = dump_spec({"version": 1, "subscriptions": [{"id": 5, "databases": [{"nam": "a"}]}]})
    assert [str(p) for p in spec_problems(bad, "f.yaml")] == [
        "f.yaml:5:9: subscriptions[0].databases[0]: missing required field 'name'",
        "f.yaml:5:9: subscriptions[0].databases[0].nam: unknown field 'nam' (did you mean 'name'?)",
    ]
