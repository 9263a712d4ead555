"""Which subscriptions an export reads (reconciler/export/reading.py)."""

from __future__ import annotations

from typing import Any

import pytest
from export_fake_api import FakeApi

from reconciler.errors import BadResponseError
from reconciler.export import export_account


@pytest.mark.parametrize("answer", [{"subscriptions": [{"name": "x"}]}, {"subscriptions": "x"}, []])
def test_a_strange_subscription_list_is_refused(answer: Any) -> None:
    with pytest.raises(BadResponseError):
        export_account(FakeApi(subscriptions=answer), subscription_ids=None, out=None, split=False)  # type: ignore[arg-type]
