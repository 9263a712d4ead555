"""Settings of one simulator run.

:class:`SimulatorConfig` is the public knob set (the CLI builds it from flags);
:func:`config_from_env` overlays the ``RECONCILER_SIM_*`` environment variables used by
``--api-url sim:``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.simulator.users import DEFAULT_USER_NAME, SimUser, check_unique_keys, users_from_env

#: What ``GET /logs`` can be made to answer instead of the log (0 = serve it).
LOGS_REFUSALS = (0, 403, 412)


@dataclass
class SimulatorConfig:
    """How the simulator listens, where it keeps its state, and how real it behaves.

    ``task_seconds`` is how long a task takes from submission to ``processing-completed``
    when the account's queue is free; ``provision_seconds`` how long a database then stays
    in its pending status. ``rate_limit`` is requests per minute per API key (0 = off).
    ``fault_rate`` is the probability that an API request meets a fault; faults are drawn
    from ``random.Random(fault_seed)`` so a run is reproducible. ``log`` receives one line
    per request (never with secrets). ``clock`` returns wall-clock seconds; tests inject one.
    ``seed_path`` None means the packaged example account. ``task_seconds_for``, when set,
    gives each task its own length instead of ``task_seconds``: it is called with the
    task's kind (``create``, ``update`` …) and database id (None for a dry-run create);
    ``provision_seconds_for`` likewise gives each task's provisioning its own length.
    ``api_key``/``api_secret`` are the pair of the API user ``user_name``; ``users`` adds
    more users (API or console). ``refuse_logs`` makes ``GET /logs`` answer 403 (key without
    access) or 412 (feature off) instead of the system log; 0 serves it. It is read on every
    request, so a test may change it on a running simulator.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    state_path: Path | None = None
    seed_path: Path | None = None
    api_key: str = "sim-key"
    api_secret: str = "sim-secret"
    task_seconds: float = 2.0
    provision_seconds: float = 5.0
    latency_ms: float = 0
    rate_limit: int = 0
    fault_rate: float = 0.0
    fault_seed: int = 0
    log: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.time
    task_seconds_for: Callable[[str, int | None], float] | None = None
    user_name: str = DEFAULT_USER_NAME
    users: tuple[SimUser, ...] = ()
    refuse_logs: int = 0
    provision_seconds_for: Callable[[str, int | None], float] | None = None

    def __post_init__(self) -> None:
        """Refuse settings that cannot work.

        Raises:
            UsageError: a negative timing, a fault rate outside [0, 1], a negative limit, an
                unknown ``refuse_logs`` status, two users with one key.
        """
        for name in ("task_seconds", "provision_seconds", "latency_ms"):
            if getattr(self, name) < 0:
                raise UsageError(f"simulator {name} must not be negative")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise UsageError("simulator fault_rate must be between 0 and 1")
        if self.rate_limit < 0:
            raise UsageError("simulator rate_limit must not be negative")
        if self.refuse_logs not in LOGS_REFUSALS:
            raise UsageError("simulator refuse_logs must be 0, 403 or 412")
        check_unique_keys(self.all_users())

    def default_user(self) -> SimUser:
        """Return the API user of the ``api_key``/``api_secret`` pair."""
        return SimUser(self.user_name, self.api_key, self.api_secret)

    def all_users(self) -> tuple[SimUser, ...]:
        """Return every user whose key pair the simulator accepts, the default one first."""
        return (self.default_user(), *self.users)

    def task_length(self, kind: str, database_id: int | None) -> float:
        """Return the length of a new task of ``kind`` on ``database_id``.

        Raises:
            UsageError: ``task_seconds_for`` returned a negative length.
        """
        if self.task_seconds_for is None:
            return self.task_seconds
        seconds = float(self.task_seconds_for(kind, database_id))
        if seconds < 0:
            raise UsageError(f"simulator task_seconds_for gave a negative length for {kind}")
        return seconds

    def provision_length(self, kind: str, database_id: int | None) -> float | None:
        """Return the provisioning length of a new task, or None for ``provision_seconds``.

        Raises:
            UsageError: ``provision_seconds_for`` returned a negative length.
        """
        if self.provision_seconds_for is None:
            return None
        seconds = float(self.provision_seconds_for(kind, database_id))
        if seconds < 0:
            raise UsageError(f"simulator provision_seconds_for gave a negative length for {kind}")
        return seconds


# Environment variable → (config field, converter).
ENV_OVERRIDES: Mapping[str, tuple[str, Callable[[str], float | int]]] = {
    "RECONCILER_SIM_TASK_SECONDS": ("task_seconds", float),
    "RECONCILER_SIM_PROVISION_SECONDS": ("provision_seconds", float),
    "RECONCILER_SIM_LATENCY_MS": ("latency_ms", float),
    "RECONCILER_SIM_FAULT_RATE": ("fault_rate", float),
    "RECONCILER_SIM_FAULT_SEED": ("fault_seed", int),
    "RECONCILER_SIM_RATE_LIMIT": ("rate_limit", int),
    "RECONCILER_SIM_REFUSE_LOGS": ("refuse_logs", int),
}


def config_from_env(base: SimulatorConfig, environ: Mapping[str, str]) -> SimulatorConfig:
    """Return ``base`` with the ``RECONCILER_SIM_*`` variables present in ``environ`` applied.

    ``RECONCILER_SIM_USERS`` and ``RECONCILER_SIM_CONSOLE_USERS`` add users to ``base``'s.

    Raises:
        UsageError: a variable that is not a number of the right kind, a malformed user, or
            an invalid value.
    """
    changes: dict[str, object] = {}
    extra_users = users_from_env(environ)
    if extra_users:
        changes["users"] = (*base.users, *extra_users)
    for variable, (field_name, convert) in ENV_OVERRIDES.items():
        raw = environ.get(variable)
        if raw is None or raw.strip() == "":
            continue
        try:
            changes[field_name] = convert(raw.strip())
        except ValueError:
            raise UsageError(f"{variable}={raw!r} is not a valid number") from None
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def default_environ() -> Mapping[str, str]:
    """Return the process environment (a seam for tests)."""
    return os.environ
