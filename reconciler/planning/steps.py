"""What each planning step returns: the actions it plans, the refusals and notices it found.

Safety rules do not stop planning: every step returns its refusals beside its actions, so
the user sees the whole plan and every reason it cannot be applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.plan import Notice, PlannedAction, Refusal
from reconciler.secrets import Secret


@dataclass(frozen=True)
class Steps:
    """Actions in execution order; refusals and notices in the order they were found."""

    actions: tuple[PlannedAction, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    notices: tuple[Notice, ...] = ()

    def __add__(self, other: Steps) -> Steps:
        return Steps(
            self.actions + other.actions,
            self.refusals + other.refusals,
            self.notices + other.notices,
        )

    @classmethod
    def of(cls, actions: Iterable[PlannedAction]) -> Steps:
        """Return the steps holding ``actions`` and no refusal."""
        return cls(actions=tuple(actions))

    @classmethod
    def refused(cls, refusal: Refusal) -> Steps:
        """Return the steps holding one refusal and no action."""
        return cls(refusals=(refusal,))


def subject(sub_id: int, name: str, db_id: int | None = None) -> str:
    """Return how refusals name a database."""
    where = f"subscription {sub_id} database {name!r}"
    return f"{where} (db {db_id})" if db_id is not None else where


def show(value: Any) -> str:
    """Return a value for a refusal message (secrets masked)."""
    return str(value) if isinstance(value, Secret) else repr(value)
