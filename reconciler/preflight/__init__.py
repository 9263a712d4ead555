"""Preflight: what the API would refuse half-way through an apply, found before it starts.

- :mod:`~reconciler.preflight.rules` — the cross-field rules, a table (:data:`RULES`).
- :mod:`~reconciler.preflight.offline` — :func:`check_document`: the rules on one spec
  document, no network; the spec loader runs it, so every command reports them.
- :mod:`~reconciler.preflight.account` — :func:`check_account`: run by ``plan`` (and
  ``apply``) once the account is read: the rules again with live values and API defaults
  filling the fields the spec leaves out, and values checked against the account's own
  lists (Redis versions, modules, query performance factors, persistence options).

Bounds and patterns of single values are in the JSON Schema
(``reconciler/schemas/reconciler.schema.json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.preflight.offline import Finding, check_document
from reconciler.preflight.rules import RULES, Rule

if TYPE_CHECKING:
    from reconciler.cloud import ApiClient
    from reconciler.model import DesiredState, LiveState

__all__ = ["RULES", "Finding", "Rule", "check_account", "check_document"]


def check_account(client: ApiClient, desired: DesiredState, live: LiveState) -> None:
    """Check ``desired`` against the account read as ``live`` (see :mod:`.account`).

    Raises:
        SpecError: a database breaks a rule or asks for a value the account does not offer.
    """
    from reconciler.preflight.account import check_account as run

    run(client, desired, live)
