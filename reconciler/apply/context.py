"""What every part of an apply run is handed: the run's fixed context and its mutable state.

- :class:`ApplyContext` (frozen): the client, the clocks, the per-action timeout and the
  shorter limit of waits for other work ("busy"), where progress goes, the stop flag and the
  secrets to mask. Built once by
  :func:`reconciler.apply.executor.apply_plan`.
- :class:`RunState`: the facts an action leaves for the later ones (the ids of the databases
  created so far, the tasks already followed or seen finished, the subscriptions checked
  for other runs' work).
- :class:`ActionScope` (frozen): one action's view of both, with its poller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.apply.progress import ProgressSink
from reconciler.apply.waiting import Poller
from reconciler.cloud import paths
from reconciler.errors import BadResponseError
from reconciler.plan import PlannedAction
from reconciler.secrets import scrub


class ApiReader(Protocol):
    """What re-reading needs of :class:`reconciler.cloud.ApiClient`: ``get``."""

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and return parsed JSON."""


class ApiClientLike(ApiReader, Protocol):
    """What the executor needs of the API client: ``get`` and ``write``."""

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """Send one POST/PUT/DELETE and return the parsed task JSON."""


@dataclass(frozen=True)
class ApplyContext:
    """The fixed facts of one apply run.

    ``timeout`` bounds each action (all its waits together); ``busy_timeout`` bounds, within
    it, a wait for other work: another run's tasks, or a write refused as "not now" (409,
    403) until it is accepted. ``wait_for_others`` False refuses at once instead of waiting
    for another run's tasks. ``clock`` and ``sleep`` time the waits; ``wall_clock`` stamps
    the report and matches task timestamps. ``secrets`` are the clear values of the plan's
    secrets, longest first.
    """

    client: ApiClientLike
    timeout: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    wall_clock: Callable[[], float]
    progress: ProgressSink
    stop_requested: Callable[[], bool]
    secrets: tuple[str, ...] = ()
    busy_timeout: float = 600.0
    wait_for_others: bool = True

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret value of the plan masked."""
        return scrub(text, self.secrets)

    def poller(
        self,
        started: float,
        on_state: Callable[[str, str], None],
        timeout: float | None = None,
    ) -> Poller:
        """Return a poller of waits from ``started`` for ``timeout`` s (default: the action's)."""
        return Poller(
            clock=self.clock,
            sleep=self.sleep,
            started=started,
            timeout=self.timeout if timeout is None else timeout,
            stop_requested=self.stop_requested,
            on_state=on_state,
        )


@dataclass
class RunState:
    """What the actions run so far leave for the next ones.

    ``new_ids`` maps ``(subscription id, name)`` to the id a create returned;
    ``known_tasks`` holds the tasks followed or seen finished, which are never taken for the
    trace of a lost write nor for another run's work; ``checked`` the subscriptions already
    checked for other runs' unfinished tasks (before this run's first write to each);
    ``sending`` the subscriptions with a write of this run sent and its answer (the task id)
    not back yet: in a parallel run, a task listed meanwhile may be that write's.
    """

    new_ids: dict[tuple[int, str], int] = field(default_factory=dict)
    known_tasks: set[str] = field(default_factory=set)
    checked: set[int] = field(default_factory=set)
    sending: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class ActionScope:
    """One action's view of the run: the context, the state, the action and its poller."""

    context: ApplyContext
    state: RunState
    action: PlannedAction
    started: float
    poller: Poller

    @property
    def client(self) -> ApiClientLike:
        """The API client."""
        return self.context.client

    def busy_poller(self, since: float, on_state: Callable[[str, str], None]) -> Poller:
        """Return the poller of a wait for other work begun at ``since``.

        Its deadline is ``busy_timeout`` after ``since``, and never past the action's.
        """
        timeout = min(self.context.busy_timeout, self.poller.deadline - since)
        return self.context.poller(since, on_state, timeout=timeout)

    def elapsed(self) -> float:
        """Return the seconds since the action started."""
        return self.context.clock() - self.started

    def status(self, text: str) -> None:
        """Tell the progress sink the action's state is ``text``."""
        self.context.progress.action_status(self.action, text, self.elapsed())

    def database_path(self, db_id: int | None) -> str:
        """Return the path of database ``db_id`` of the action's subscription."""
        return paths.database(self.action.subscription_id, str(db_id))

    def get_object(self, path: str) -> Mapping[str, Any]:
        """GET ``path`` and return the answer.

        Raises:
            BadResponseError: the answer is not a JSON object.
        """
        answer = self.context.client.get(path)
        if not isinstance(answer, Mapping):
            raise BadResponseError("GET", path, 200, "", "answer is not a JSON object")
        return answer
