"""Tests for reconciler.spec.yamlload: data, positions, YAML 1.2 scalars, guards."""

from __future__ import annotations

import math
from typing import Any

import pytest

from reconciler.spec.yamlload import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    Document,
    DocumentError,
    read_document,
    render_path,
)


def read(text: str, environ: dict[str, str] | None = None) -> Document:
    return read_document(text, "f.yaml", environ or {})


def messages(doc: Document) -> list[str]:
    return [str(p) for p in doc.problems]


def fatal(text: str) -> str:
    with pytest.raises(DocumentError) as caught:
        read(text)
    return str(caught.value.problem)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a", "a"),
        ("", None),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("0", 0),
        ("-12", -12),
        ("+7", 7),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("7.4", 7.4),
        ("7.10", 7.1),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-2.5E-1", -0.25),
        ("14:00", "14:00"),
        ("2024-01-01", "2024-01-01"),
        ("0.1.2", "0.1.2"),
        ("'7.4'", "7.4"),
        ('"true"', "true"),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!float 1", 1.0),
        ("!!bool true", True),
        ("!!null ''", None),
        ("! 12", "12"),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, value: Any) -> None:
    got = read(f"k: {text}\n").data["k"]
    assert got == value and type(got) is type(value)


def test_special_floats_are_read_but_flagged() -> None:
    doc = read("a: .inf\nb: -.Inf\nc: .nan\n")
    assert doc.data["a"] == math.inf and doc.data["b"] == -math.inf
    assert math.isnan(doc.data["c"])
    assert messages(doc) == [
        "f.yaml:1:4: a: '.inf' is not a finite number",
        "f.yaml:2:4: b: '-.Inf' is not a finite number",
        "f.yaml:3:4: c: '.nan' is not a finite number",
    ]
    assert doc.flagged == {("a",), ("b",), ("c",)}


def test_positions_of_values_and_keys() -> None:
    text = "version: 1\nsubscriptions:\n  - id: 7\n    databases:\n      - {name: x, port: 12000}\n"
    doc = read(text)
    assert doc.data == {
        "version": 1,
        "subscriptions": [{"id": 7, "databases": [{"name": "x", "port": 12000}]}],
    }
    assert doc.values[()] == (1, 1)
    assert doc.values[("version",)] == (1, 10)
    assert doc.keys[("subscriptions",)] == (2, 1)
    assert doc.values[("subscriptions",)] == (3, 3)
    assert doc.values[("subscriptions", 0)] == (3, 5)
    assert doc.values[("subscriptions", 0, "databases", 0)] == (5, 9)
    assert doc.keys[("subscriptions", 0, "databases", 0, "port")] == (5, 19)
    assert doc.values[("subscriptions", 0, "databases", 0, "port")] == (5, 25)


def test_position_falls_back_to_the_nearest_parent() -> None:
    doc = read("a:\n  b: 1\n")
    assert doc.position(("a", "b", "c", 0)) == (2, 6)
    assert doc.position(("a", "b"), key=True) == (2, 3)
    assert doc.position(("zzz",), key=True) == (1, 1)


def test_plain_text_of_unquoted_non_strings_is_kept() -> None:
    doc = read("a: 7.4\nb: '7.4'\nc:\nd: true\ne: text\n")
    assert doc.plain == {("a",): "7.4", ("c",): "", ("d",): "true"}


def test_keys_are_text_as_written() -> None:
    assert read("1: a\ntrue: b\n~: c\n").data == {"1": "a", "true": "b", "~": "c"}


def test_duplicate_keys_are_reported_and_the_first_value_kept() -> None:
    doc = read("a: 1\nb:\n  c: 2\n  c: {x: [1, 2]}\na: 3\n")
    assert doc.data == {"a": 1, "b": {"c": 2}}
    assert messages(doc) == [
        "f.yaml:4:3: b.c: duplicate key 'c' (first written at line 3, column 3)",
        "f.yaml:5:1: a: duplicate key 'a' (first written at line 1, column 1)",
    ]
    assert doc.values[("b", "c")] == (3, 6)


def test_problems_inside_a_dropped_value_are_not_reported() -> None:
    doc = read("a: 1\na: {b: !!int x, c: '${NOPE}'}\n")
    assert messages(doc) == ["f.yaml:2:1: a: duplicate key 'a' (first written at line 1, column 1)"]


def test_merge_keys_are_refused() -> None:
    doc = read("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n")
    assert doc.data == {"base": {"x": 1}, "use": {"y": 2}}
    assert messages(doc) == [
        "f.yaml:3:3: use: YAML merge keys ('<<') are not supported; use the subscription's defaults"
    ]


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert read("'<<': 1\n").data == {"<<": 1}


def test_aliases_are_expanded_into_independent_copies() -> None:
    doc = read("a: &x [1, {b: 2}]\nc: *x\nd: &s text\ne: *s\n")
    assert doc.data == {"a": [1, {"b": 2}], "c": [1, {"b": 2}], "d": "text", "e": "text"}
    assert doc.data["a"] is not doc.data["c"]
    assert doc.data["a"][1] is not doc.data["c"][1]
    # Errors inside aliased content point where it is written.
    assert doc.values[("c", 1, "b")] == (1, 15)


def test_nested_aliases_and_anchors_inside_anchors() -> None:
    doc = read("a: &a {x: &inner [1]}\nb: &b [*a, *inner]\nc: *b\n")
    assert doc.data["c"] == [{"x": [1]}, [1]]


def test_alias_as_a_key() -> None:
    assert read("k: &k name\n*k : v\n").data == {"k": "name", "name": "v"}


def test_undefined_and_recursive_aliases() -> None:
    message = "alias '*nope' refers to no anchor completed before it"
    assert fatal("a: *nope\n") == f"f.yaml:1:4: {message}"
    recursive = "alias '*r' refers to no anchor completed before it"
    assert fatal("a: &r [*r]\n") == f"f.yaml:1:8: {recursive}"


def test_alias_bomb_is_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    message = fatal("\n".join(lines) + "\n")
    assert message.endswith(
        f"aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to read further "
        "(an alias bomb?)"
    )


def test_aliases_within_budget_are_fine() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 4)]
    assert len(read("\n".join(lines) + "\n").data["a3"]) == 10


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
        "".join("  " * i + "-\n" for i in range(MAX_DEPTH + 5)),
    ],
)
def test_nesting_is_limited(text: str) -> None:
    assert fatal(text).endswith(f"nesting deeper than {MAX_DEPTH} levels")


def test_nesting_up_to_the_limit_is_fine() -> None:
    text = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert read(text).data is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: [1, 2\n",
            "f.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
            "sequence at line 1, column 4)",
        ),
        ("a: b: c\n", "f.yaml:1:5: invalid YAML: mapping values are not allowed in this context"),
        (
            "a:\n\t- b\n",
            "f.yaml:2:1: invalid YAML: found character that cannot start any token "
            "(while scanning for the next token)",
        ),
        ("? [a]\n: b\n", "f.yaml:1:3: a mapping key must be a plain value"),
        ("a: \x07\n", "f.yaml:1:4: invalid YAML: control characters are not allowed"),
    ],
)
def test_invalid_yaml_is_located(text: str, message: str) -> None:
    assert fatal(text) == message


def test_only_the_first_document_is_read() -> None:
    doc = read("a: 1\n---\nb: [\n")
    assert doc.data == {"a": 1}
    assert messages(doc) == [
        "f.yaml:2:1: a spec file holds one YAML document; a second one starts here"
    ]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "~\n"])
def test_empty_documents(text: str) -> None:
    assert read(text).data is None


def test_unsupported_tags() -> None:
    doc = read("a: !Ref x\nb: !!set {x}\nc: !!int nope\n")
    assert doc.data == {"a": "x", "b": {"x": None}, "c": "nope"}
    assert messages(doc) == [
        "f.yaml:1:4: a: unsupported YAML tag '!Ref'",
        "f.yaml:2:4: b: unsupported YAML tag '!!set'",
        "f.yaml:3:4: c: 'nope' cannot be read as !!int",
    ]
    assert doc.flagged == {("a",), ("c",)}


def test_environment_is_substituted_in_string_values_only() -> None:
    doc = read("${K}: ${V}\nn: ${N}\nq: '${V}'\n", {"K": "key", "V": "value", "N": "5"})
    assert doc.data == {"${K}": "value", "n": "5", "q": "value"}


def test_missing_variables_are_located_at_the_string() -> None:
    doc = read("a:\n  - x\n  - pre-${NOPE}\n")
    assert doc.data == {"a": ["x", "pre-${NOPE}"]}
    assert messages(doc) == ["f.yaml:3:5: a[1]: environment variable NOPE is not set"]
    assert doc.flagged == {("a", 1)}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("version",), "version"),
        (("subscriptions", 0, "databases", 2, "name"), "subscriptions[0].databases[2].name"),
        (("a", "my key", "x.y", "<<"), "a['my key']['x.y']['<<']"),
        ((0, "a"), "[0].a"),
    ],
)
def test_render_path(path: tuple[str | int, ...], text: str) -> None:
    assert render_path(path) == text
