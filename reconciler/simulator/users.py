"""The simulator's users: who may call it, and how their writes appear in the system log.

Every accepted key pair is a :class:`SimUser`. An API user's writes are logged with
``originator`` (the user's name) and ``apiKeyName``; a console user's writes without
``apiKeyName``, as the real system log records changes made in the Redis Cloud console.
The simulator names each API key after its access key, so ``apiKeyName`` is the
``x-api-key`` value that was used.

Users come from ``NAME:KEY:SECRET`` texts (``--user``/``--console-user``, or the
comma-separated ``RECONCILER_SIM_USERS``/``RECONCILER_SIM_CONSOLE_USERS``). Messages about a
bad text never repeat it: it holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import UsageError

DEFAULT_USER_NAME = "sim-user@example.com"
USER_FORM = "NAME:KEY:SECRET"
USERS_ENV = "RECONCILER_SIM_USERS"
CONSOLE_USERS_ENV = "RECONCILER_SIM_CONSOLE_USERS"
_PARTS = ("NAME", "KEY", "SECRET")


@dataclass(frozen=True)
class SimUser:
    """One user of the simulated account and the key pair it calls with.

    ``console`` True records its writes as console changes (no ``apiKeyName``).
    """

    name: str
    key: str
    secret: str
    console: bool = False

    def __repr__(self) -> str:
        """Return the user without its secret."""
        return f"SimUser(name={self.name!r}, key={self.key!r}, console={self.console})"

    def label(self) -> str:
        """Return ``NAME (key KEY)`` or ``NAME (key KEY, console)``: never the secret."""
        return f"{self.name} (key {self.key}{', console' if self.console else ''})"

    def author(self) -> dict[str, str]:
        """Return the ``originator`` (and, for API users, ``apiKeyName``) of its log entries."""
        if self.console:
            return {"originator": self.name}
        return {"originator": self.name, "apiKeyName": self.key}


def parse_user(text: str, console: bool = False) -> SimUser:
    """Return the user described by ``NAME:KEY:SECRET`` (the secret may hold ``:``).

    Raises:
        UsageError: fewer than three parts, or an empty or space-padded NAME or KEY, or an
            empty SECRET; the message never repeats ``text``.
    """
    parts = text.split(":", 2)
    if len(parts) != len(_PARTS):
        raise UsageError(
            f"expected {USER_FORM} (three parts separated by ':'), got {len(parts)} part"
            + ("" if len(parts) == 1 else "s")
        )
    for label, part in zip(_PARTS, parts, strict=True):
        if part == "":
            raise UsageError(f"expected {USER_FORM}, got an empty {label}")
        if label != "SECRET" and part.strip() != part:
            raise UsageError(f"expected {USER_FORM}, got a {label} with spaces around it")
    name, key, secret = parts
    return SimUser(name, key, secret, console)


def users_from_env(environ: Mapping[str, str]) -> tuple[SimUser, ...]:
    """Return the users of ``RECONCILER_SIM_USERS`` then ``RECONCILER_SIM_CONSOLE_USERS``.

    Each holds comma-separated ``NAME:KEY:SECRET`` texts; empty items are skipped.

    Raises:
        UsageError: a malformed item (named by variable and position, never repeated).
    """
    users: list[SimUser] = []
    for variable, console in ((USERS_ENV, False), (CONSOLE_USERS_ENV, True)):
        items = [item for item in environ.get(variable, "").split(",") if item.strip()]
        for position, item in enumerate(items, start=1):
            try:
                users.append(parse_user(item.strip(), console))
            except UsageError as exc:
                raise UsageError(f"{variable}: item {position}: {exc}") from None
    return tuple(users)


def check_unique_keys(users: Iterable[SimUser]) -> None:
    """Refuse two users sharing one access key (the log could not tell them apart).

    Raises:
        UsageError: a key given twice.
    """
    seen: set[str] = set()
    for user in users:
        if user.key in seen:
            raise UsageError(f"simulator key {user.key!r} is given to two users")
        seen.add(user.key)
