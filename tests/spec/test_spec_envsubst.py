"""Tests for reconciler.spec.envsubst: ${NAME} substitution and the $${ escape."""

from __future__ import annotations

import pytest

from reconciler.spec.envsubst import SubstitutionError, substitute

ENV = {"USER": "alice", "EMPTY": "", "HOST": "db.example.com", "_X1": "x"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${USER}", "alice"),
        ("redis://${USER}@${HOST}:12000", "redis://alice@db.example.com:12000"),
        ("${EMPTY}", ""),
        ("${_X1}", "x"),
        ("$${USER}", "${USER}"),
        ("$${", "${"),
        ("$$${USER}", "$${USER}"),  # leftmost match: "$" then the "$${" escape
        ("$${USER} is ${USER}", "${USER} is alice"),
        ("cost: $5", "cost: $5"),
        ("$USER", "$USER"),
        ("a$", "a$"),
        ("}${USER}{", "}alice{"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, ENV) == expected


def test_substituted_values_are_not_substituted_again() -> None:
    assert substitute("${A}", {"A": "${B}", "B": "no"}) == "${B}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${NOPE}", "environment variable NOPE is not set"),
        ("${NOPE}-${USER}-${NOPE}", "environment variable NOPE is not set"),
        ("${A}${B}", "environment variables A, B are not set"),
        (
            "${bad-name}",
            "invalid variable reference '${bad-name}': a name has letters, digits and "
            "underscores (write '$${' for a literal '${')",
        ),
        (
            "${}",
            "invalid variable reference '${}': a name has letters, digits and underscores "
            "(write '$${' for a literal '${')",
        ),
        (
            "${1ST}",
            "invalid variable reference '${1ST}': a name has letters, digits and underscores "
            "(write '$${' for a literal '${')",
        ),
        ("s3://${BUCKET", "unterminated '${' (write '$${' for a literal '${')"),
    ],
)
def test_substitute_errors(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute(text, ENV)
    assert str(caught.value) == message
