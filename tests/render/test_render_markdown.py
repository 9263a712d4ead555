"""Tests of reconciler.render.markdown: layout, escaping, size limit."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_factory import CANARY, PROD, STAGING, act

from reconciler.plan import (
    ActionKind,
    Plan,
    Refusal,
    RefusalRule,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.render import render_markdown
from reconciler.render.markdown import html_text, md_escape
from reconciler.secrets import Secret

OUR_TAGS = {"<br>", "<em>", "</em>", "<details>", "<summary>", "</summary>", "</details>"}
NOTE = re.compile(
    r"^… (?:(\d+) more actions?)?(?:(?:, | and )?(\d+) more unmanaged databases?)?"
    r"(?:(?:, | and )?(\d+) more refusals?)? not shown \(plan truncated to fit a "
    r"([\d,]+)-character comment\); run `reconciler plan` for the full plan\.$",
    re.MULTILINE,
)


def refusals(*messages: str) -> tuple[Refusal, ...]:
    """Return refusals with these messages (renderers show a refusal as its message)."""
    return tuple(Refusal(RefusalRule.CREATE_ONLY, PROD, message) for message in messages)


def small_plan() -> Plan:
    return Plan(
        subscriptions=(SubscriptionSummary(PROD, "prod", 4, 3),),
        actions=(
            act(
                ActionKind.UPDATE,
                "sessions",
                51170941,
                ("datasetSizeInGb", 1, 2),
                ("password", Secret("old"), Secret(CANARY), True),
                body={"datasetSizeInGb": 2, "password": Secret(CANARY)},
            ),
            act(
                ActionKind.BACKUP,
                "legacy-cache",
                51170942,
                body={"adhocBackupPath": "s3://backups/adhoc"},
                reason="before delete",
            ),
            act(ActionKind.DELETE, "legacy-cache", 51170942),
        ),
        unmanaged=(UnmanagedDatabase(PROD, 51170950, "analytics"),),
        refusals=refusals(
            "deleting sessions (db 51170941) is prevented by lifecycle.preventDestroy"
        ),
    )


SMALL_MARKDOWN = """\
### reconciler plan

| action | count |
|:--|--:|
| create | 0 |
| update | 1 |
| tag | 0 |
| upgrade | 0 |
| backup | 1 |
| import | 0 |
| delete | 1 |
| unmanaged | 1 |

**Refused** — this plan cannot be applied:

- deleting sessions (db 51170941) is prevented by lifecycle.preventDestroy

<details><summary>Subscription 2001234 &quot;prod&quot; — 4 databases live, 3 in spec: \
3 actions, 1 unmanaged</summary>

| | action | database | changes |
|---|---|---|---|
| \\~ | update | sessions (db 51170941) | `datasetSizeInGb`: 1 → 2<br>`password`: \
(sensitive value changed) |
| » | backup | legacy-cache (db 51170942) | to s3://backups/adhoc<br><em>before delete</em> |
| \\- | delete | legacy-cache (db 51170942) |  |

Unmanaged (in no file; prune is off):

- analytics (db 51170950)

</details>
"""


def assert_well_formed(md: str) -> None:
    """Balanced, unnested <details>; only our HTML tags; every table row has its cells."""
    depth = 0
    for tag in re.findall(r"</?details>", md):
        depth += 1 if tag == "<details>" else -1
        assert depth in (0, 1)
    assert depth == 0
    assert set(re.findall(r"<[^>]*>", md)) <= OUR_TAGS
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.endswith(" |") or line.endswith("|")
            assert len(re.findall(r"(?<!\\)\|", line)) in (3, 5), line
        if line.startswith("#"):
            assert line == "### reconciler plan"


def action_rows(md: str) -> list[str]:
    return [
        line
        for line in md.splitlines()
        if line.startswith("| ")
        and len(re.findall(r"(?<!\\)\|", line)) == 5
        and not line.startswith("| | action")
    ]


def test_small_plan_golden() -> None:
    assert render_markdown(small_plan()) == SMALL_MARKDOWN


def test_no_changes() -> None:
    plan = Plan((SubscriptionSummary(STAGING, "staging", 2, 2),), ())
    md = render_markdown(plan)
    assert md.endswith(
        "| unmanaged | 0 |\n"
        "\n"
        "**No changes.** The live account matches the spec.\n"
        "\n"
        "<details><summary>Subscription 2005678 &quot;staging&quot; — 2 databases live, "
        "2 in spec: no changes</summary>\n"
        "\n"
        "No changes.\n"
        "\n"
        "</details>\n"
    )
    assert_well_formed(md)


def test_detail_lines_for_upgrade_and_import() -> None:
    plan = Plan(
        (),
        (
            act(
                ActionKind.UPGRADE,
                "q",
                6,
                ("redisVersion", "7.2", "7.4"),
                body={"targetRedisVersion": "7.4"},
            ),
            act(
                ActionKind.IMPORT,
                "r",
                None,
                body={"sourceType": "redis", "importFromUri": [f"redis://u:{CANARY}@h:1"]},
            ),
        ),
    )
    assert action_rows(render_markdown(plan)) == [
        "| ↑ | upgrade | q (db 6) | redisVersion 7.2 → 7.4 |",
        "| ← | import | r | from redis://(sensitive)@h:1 |",
    ]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain-name", "plain-name"),
        ("a|b", "a\\|b"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("</details>", "&lt;/details&gt;"),
        ("x\n| injected | row |", "x<br>\\| injected \\| row \\|"),
        ("a\r\nb\rc", "a<br>b<br>c"),
        ("`code`", "&#96;code&#96;"),
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("![img](http://x/y.png)", "!\\[img\\](http://x/y.png)"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. item", "1\\. item"),
        ("7.4", "7.4"),
        ("**bold** _it_ ~~s~~", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~"),
        ("&lt;", "&amp;lt;"),
        ("\\|", "&#92;\\|"),
        ("$x^2$", "\\$x^2\\$"),
        ("a\x00b\x1bc\td", "a b c d"),
    ],
)
def test_md_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


def test_html_text_for_summary() -> None:
    assert html_text('a</summary>\n<b>"x"&') == "a&lt;/summary&gt; &lt;b&gt;&quot;x&quot;&amp;"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_md_escape_never_leaves_active_characters(text: str) -> None:
    out = md_escape(text)
    assert "\n" not in out and "\r" not in out and "`" not in out
    assert not re.search(r"(?<!\\)\|", out)
    assert set(re.findall(r"<[^>]*>?", out)) <= {"<br>"}
    assert ">" not in out.replace("<br>", "")
    assert not re.search(r"\\(?![|*_\[\]~$#+=.)-])", out)  # every backslash is ours


ATTACKS = [
    "a|b|c",
    "<img src=x onerror=alert(1)>",
    "x\n\n</details>\n# pwned",
    "`rm -rf /`",
    "[link](javascript:alert(1))",
    "- list",
    "\\|",
]


def test_attacks_in_names_values_and_reasons_cannot_break_the_comment() -> None:
    actions = tuple(
        act(
            ActionKind.UPDATE,
            attack,
            i + 1,
            ("field", attack, attack),
            (attack, 1, 2),
            reason=attack,
        )
        for i, attack in enumerate(ATTACKS)
    )
    plan = Plan(
        subscriptions=(SubscriptionSummary(PROD, '</summary></details><script>x</script>"', 9, 9),),
        actions=actions,
        unmanaged=tuple(UnmanagedDatabase(PROD, 100 + i, a) for i, a in enumerate(ATTACKS)),
        refusals=refusals(*ATTACKS),
    )
    md = render_markdown(plan)
    assert_well_formed(md)
    assert len(action_rows(md)) == len(ATTACKS)
    assert "<script" not in md and "<img" not in md
    assert "`rm" not in md  # no code span opened by a name
    assert not any(line.startswith(("- list", "# pwned")) for line in md.splitlines())


def test_canary_secret_never_in_markdown() -> None:
    md = render_markdown(small_plan())
    assert CANARY not in md
    assert "`password`: (sensitive value changed)" in md


def big_plan(n: int, name_size: int) -> Plan:
    """``n`` updates over two subscriptions, each with long, escape-heavy names and values."""
    actions = tuple(
        act(
            ActionKind.UPDATE if i % 3 else ActionKind.CREATE,
            f"db-{i}-" + "<|>&`" * (name_size // 5),
            i + 1,
            ("datasetSizeInGb", i, i + 1),
            (
                "alerts",
                [{"name": "dataset-size", "value": 80}],
                [{"name": "dataset-size", "value": 90}],
            ),
            ("password", None, Secret(CANARY), True),
            ("sourceIp", ["10.0.0.0/16"], [f"10.{i % 250}.0.0/16"] * 20),
            sub=PROD if i < n // 2 else STAGING,
        )
        for i in range(n)
    )
    return Plan(
        subscriptions=(
            SubscriptionSummary(PROD, "prod", n, n),
            SubscriptionSummary(STAGING, "staging", n, n),
        ),
        actions=actions,
        unmanaged=tuple(UnmanagedDatabase(STAGING, 10**6 + i, f"u{i}") for i in range(50)),
    )


@pytest.mark.parametrize(("n", "name_size"), [(300, 200), (5000, 400)])
def test_large_plans_stay_under_the_comment_limit(n: int, name_size: int) -> None:
    started = time.monotonic()
    md = render_markdown(big_plan(n, name_size))
    assert time.monotonic() - started < 10
    assert len(md) <= 65_000
    assert_well_formed(md)
    assert CANARY not in md
    match = NOTE.search(md)
    assert match is not None
    omitted, omitted_unmanaged, omitted_refusals, limit = match.groups()
    assert limit == "65,000"
    assert omitted_refusals is None
    assert len(action_rows(md)) + int(omitted) == n
    assert omitted_unmanaged == "50"
    assert md.endswith("for the full plan.\n")
    # it is a truncation, not a collapse: most of the room is used
    assert len(md) > 60_000


def test_custom_limit_and_first_shown_count() -> None:
    md = render_markdown(big_plan(40, 10), limit=5_000)
    assert len(md) <= 5_000
    assert_well_formed(md)
    shown = len(action_rows(md))
    assert 0 < shown < 40
    assert f"20 actions (first {shown} shown)</summary>" in md
    assert f"… {40 - shown} more actions and 50 more unmanaged databases not shown" in md
    assert "(plan truncated to fit a 5,000-character comment)" in md


def test_refusals_are_cut_last_when_nothing_else_fits() -> None:
    plan = Plan(
        (),
        (act(ActionKind.DELETE, "x", 1),),
        refusals=refusals(*(f"r{i}" * 50 for i in range(100))),
    )
    md = render_markdown(plan, limit=3_000)
    assert len(md) <= 3_000
    assert_well_formed(md)
    assert action_rows(md) == []
    assert re.search(r"… 1 more action and \d+ more refusals not shown", md)


def test_tiny_limit_still_respected() -> None:
    md = render_markdown(big_plan(10, 10), limit=60)
    assert len(md) <= 60
    assert md.startswith("… 10 more actions")


def test_plan_that_fits_has_no_note() -> None:
    md = render_markdown(big_plan(10, 10))
    assert "truncated" not in md
    assert len(action_rows(md)) == 10


def test_many_changes_in_one_action_are_capped() -> None:
    changes = tuple((f"f{i}", i, i + 1) for i in range(80))
    md = render_markdown(Plan((), (act(ActionKind.UPDATE, "x", 1, *changes),)))
    (row,) = action_rows(md)
    assert row.count("<br>") == 50
    assert row.endswith("<br>… 30 more changes |")


def test_long_values_are_clipped() -> None:
    md = render_markdown(Plan((), (act(ActionKind.UPDATE, "x", 1, ("f", "a" * 1000, "b")),)))
    (row,) = action_rows(md)
    assert "a" * 290 in row and "a" * 300 not in row and "…" in row


def test_long_names_are_clipped_but_keep_the_database_id() -> None:
    md = render_markdown(Plan((), (act(ActionKind.DELETE, "n" * 1000, 42),)))
    (row,) = action_rows(md)
    assert row == "| \\- | delete | " + "n" * 299 + "… (db 42) |  |"


def test_refused_plan_without_actions_does_not_claim_no_changes() -> None:
    plan = Plan((), (), refusals=refusals("subscription 1 does not exist"))
    assert "No changes" not in render_markdown(plan)
