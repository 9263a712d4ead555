"""Alias expansion for the spec reader, within a budget.

The event stream of a YAML parser carries ``*alias`` events; a loader expands each into a
copy of the anchored node. A few lines of aliases can expand to billions of nodes (the
"billion laughs"), so expansion here stops with a located error past
:data:`MAX_ALIAS_NODES` replayed nodes. Replayed events keep their original marks: a
problem inside aliased content points where that content is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconciler.spec import yamlio
from reconciler.spec.located import DocumentError, located
from reconciler.spec.yamlio import mark_position

MAX_ALIAS_NODES = 100_000


class _Recording:
    """The events of an anchored collection, recorded until it closes."""

    __slots__ = ("events", "level", "name")

    def __init__(self, name: str, start: yamlio.Event) -> None:
        self.name = name
        self.events = [start]
        self.level = 1


class AliasExpander:
    """Expands ``*alias`` events into the events of their anchored node, within a budget."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.anchors: dict[str, list[yamlio.Event]] = {}
        self.recording: list[_Recording] = []
        self.expanded = 0

    def expand(self, raw: Iterable[yamlio.Event]) -> Iterator[yamlio.Event]:
        """Yield ``raw`` with every alias replaced by a replay of its anchored events."""
        for event in raw:
            if self.recording:
                self._record(event)
            if isinstance(event, yamlio.AliasEvent):
                yield from self._replay(event)
                continue
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                self._anchor(str(anchor), event)
            yield event

    def _record(self, event: yamlio.Event) -> None:
        step = 1 if isinstance(event, yamlio.CollectionStartEvent) else 0
        step -= 1 if isinstance(event, yamlio.CollectionEndEvent) else 0
        for recording in self.recording:
            recording.events.append(event)
            recording.level += step
        while self.recording and self.recording[-1].level == 0:
            done = self.recording.pop()
            self.anchors[done.name] = done.events

    def _anchor(self, name: str, event: yamlio.Event) -> None:
        if isinstance(event, yamlio.CollectionStartEvent):
            self.recording.append(_Recording(name, event))
        else:
            self.anchors[name] = [event]

    def _replay(self, alias: yamlio.AliasEvent) -> Iterator[yamlio.Event]:
        # An explicit stack rather than recursion: aliases inside anchored nodes nest.
        stack = [iter(self._anchored(alias))]
        while stack:
            event = next(stack[-1], None)
            if event is None:
                stack.pop()
            elif isinstance(event, yamlio.AliasEvent):
                stack.append(iter(self._anchored(event)))
            else:
                if isinstance(event, (yamlio.ScalarEvent, yamlio.CollectionStartEvent)):
                    self._count(alias)
                yield event

    def _anchored(self, alias: yamlio.AliasEvent) -> list[yamlio.Event]:
        events = self.anchors.get(str(alias.anchor))
        if events is None:
            message = f"alias '*{alias.anchor}' refers to no anchor completed before it"
            raise DocumentError(located(self.file, mark_position(alias.start_mark), (), message))
        return events

    def _count(self, alias: yamlio.AliasEvent) -> None:
        self.expanded += 1
        if self.expanded > MAX_ALIAS_NODES:
            message = (
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to read "
                "further (an alias bomb?)"
            )
            raise DocumentError(located(self.file, mark_position(alias.start_mark), (), message))
