"""Which subscriptions an export reads (reconciler/export/reading.py)."""

from __future__ import annotations

from typing import Any

import pytest
from export_support import account, client_of
from fake_api import FakeApi

from reconciler.errors import BadResponseError
from reconciler.export import export_account


@pytest.mark.parametrize("answer", [{"subscriptions": [{"name": "x"}]}, {"subscriptions": "x"}, []])
def test_a_strange_subscription_list_is_refused(answer: Any) -> None:
    with FakeApi(account(subscriptions=answer)) as api, client_of(api) as client:
        with pytest.raises(BadResponseError):
            export_account(client, subscription_ids=None, out=None, split=False)
        assert api.paths() == ["/subscriptions"]
