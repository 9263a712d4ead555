"""Tests of reconciler.secrets: masking URLs, every encoded form, and log records."""

from __future__ import annotations

import logging

import pytest

from reconciler.secrets import MASK, ScrubbingFilter, mask_url, scrub, url_secrets

SECRET = "CANARY&SECRET<s1>"


@pytest.mark.parametrize(
    "text",
    [
        SECRET,
        "CANARY&amp;SECRET&lt;s1&gt;",
        "CANARY%26SECRET%3Cs1%3E",
        "CANARY%26SECRET%3cs1%3e",
        "CANARY\\u0026SECRET\\u003cs1\\u003e",
        "CANARY\\u0026SECRET\\u003Cs1\\u003E",
        "CANARY&#38;SECRET&#x3C;s1&#0062;",
        "%43ANARY&SECRET<s1>",
    ],
)
def test_scrub_masks_every_encoding(text: str) -> None:
    assert scrub(f"a {text} b", [SECRET]) == f"a {MASK} b"


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ('pw"q\\', 'x "pw\\"q\\\\" y', f'x "{MASK}" y'),
        ("two words", "two+words and two%20words", f"{MASK} and {MASK}"),
        ("short", "longer-short", f"longer-{MASK}"),
        ("nope", "CANARY", "CANARY"),
    ],
)
def test_scrub_json_and_form_escapes(secret: str, text: str, expected: str) -> None:
    assert scrub(text, [secret]) == expected


def test_scrub_masks_the_longer_secret_whole() -> None:
    assert scrub("abcdef", ["abc", "abcdef", ""]) == MASK


@pytest.mark.parametrize(
    ("url", "masked", "hidden"),
    [
        ("https://u:pw12@h/v1", f"https://{MASK}@h/v1", ("u:pw12", "pw12")),
        (
            "https://h/v1?token=tok%2B1&v=1&flag",
            f"https://h/v1?token={MASK}&v={MASK}&flag",
            ("tok%2B1", "tok+1"),
        ),
        ("https://tok123@h:8/v1", f"https://{MASK}@h:8/v1", ("tok123",)),
        ("https://h/v1", "https://h/v1", ()),
    ],
)
def test_mask_url_and_url_secrets(url: str, masked: str, hidden: tuple[str, ...]) -> None:
    assert mask_url(url) == masked
    assert url_secrets(url) == hidden


def test_scrubbing_filter_freezes_the_masked_message() -> None:
    scrubber = ScrubbingFilter()
    scrubber.add(SECRET, "")
    record = logging.LogRecord(
        "x",
        logging.DEBUG,
        __file__,
        1,
        "sent %s to %s",
        ("CANARY%26SECRET%3Cs1%3E", "https://u:pw@h"),
        None,
    )
    assert scrubber.filter(record)
    assert record.getMessage() == f"sent {MASK} to https://{MASK}@h"
