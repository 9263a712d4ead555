"""Where an export goes: --out checks, split file names (reconciler/export/files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_support import client_of
from fake_api import FakeApi, in_order

from reconciler.errors import UsageError
from reconciler.export import export_account
from reconciler.export.files import split_file_name
from reconciler.model import LiveSubscription


@pytest.mark.parametrize(
    ("out", "split", "message"),
    [
        (None, True, "--split writes one file per subscription: give a folder with --out"),
        ("file.yaml", True, "--split needs a folder for --out, but {tmp}/file.yaml is a file"),
        ("folder", False, "--out {tmp}/folder is a folder: give a file name, or add --split"),
    ],
)
def test_out_of_the_wrong_kind_is_refused_before_reading(
    tmp_path: Path, out: str | None, split: bool, message: str
) -> None:
    (tmp_path / "file.yaml").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    target = str(tmp_path / out) if out else None
    with FakeApi(in_order()) as api, client_of(api) as client, pytest.raises(UsageError) as caught:
        export_account(client, subscription_ids=None, out=target, split=split)
    assert str(caught.value) == message.format(tmp=tmp_path)
    assert api.seen == []  # refused before reading
    assert (tmp_path / "file.yaml").read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("prod", "prod-5.yaml"),
        ("Team B / private", "Team-B-private-5.yaml"),
        ("../etc", "etc-5.yaml"),
        ("", "subscription-5.yaml"),
    ],
)
def test_split_file_name(name: str, file: str) -> None:
    assert split_file_name(LiveSubscription(5, name, "active", {}, ())) == file
