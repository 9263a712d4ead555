"""The one module that imports PyYAML; everything else reads and writes YAML through it.

Three doors, one per need:

- :func:`parse_events` — the parser's event stream (libyaml when available), for the
  reader that keeps positions (:mod:`.yamlload`) and its alias guard (:mod:`.aliases`).
  The event classes they match on are re-exported from here.
- :func:`dump_flow` — one value in YAML flow style on one line, for the spec writer
  (:mod:`.dump`), which lays out the rest of the document itself.
- :func:`safe_load` — plain data without positions, for the simulator's seed file.

PyYAML's errors are translated here, once, into :class:`YamlError`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
)

__all__ = [
    "AliasEvent",
    "CollectionEndEvent",
    "CollectionStartEvent",
    "DocumentStartEvent",
    "Event",
    "MappingStartEvent",
    "ScalarEvent",
    "YamlError",
    "dump_flow",
    "mark_position",
    "parse_events",
    "safe_load",
]

#: A 1-based ``(line, column)``; ``(0, 0)`` when unknown.
Position = tuple[int, int]

# libyaml is ~10x faster than the pure-Python parser; both yield the same events.
_PARSER_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class YamlError(ValueError):
    """Text that is not valid YAML.

    ``str()`` is PyYAML's own message (several lines, with marks); ``position`` is where
    the problem is, and ``reason`` says what it is on one line (with the place of its
    context when that is elsewhere).
    """

    def __init__(self, message: str, position: Position, reason: str) -> None:
        super().__init__(message)
        self.position = position
        self.reason = reason


def mark_position(mark: Any) -> Position:
    """Return the 1-based position of a PyYAML mark (0-based), ``(0, 0)`` for None."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def parse_events(text: str) -> Generator[Event, None, None]:
    """Yield the parser events of ``text``; close the iterator to stop parsing early.

    Raises:
        YamlError: while iterating, at the first place ``text`` is not valid YAML.
    """
    events = yaml.parse(text, Loader=_PARSER_LOADER)
    try:
        yield from events
    except yaml.YAMLError as exc:
        raise _translated(exc, text) from None
    finally:
        events.close()  # type: ignore[attr-defined]


def safe_load(text: str) -> Any:
    """Return the first document of ``text`` as plain data (YAML 1.1, PyYAML's safe loader).

    Raises:
        YamlError: ``text`` is not valid YAML.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _translated(exc, text) from None


def dump_flow(value: Any, *, double_quoted: Callable[[str], bool]) -> str:
    """Return ``value`` in YAML flow style on one line (no document end marker).

    Strings for which ``double_quoted`` is true are written in double quotes; the others
    with PyYAML's safe quoting rules, so the text reads back as ``value``.
    """
    text: str = yaml.dump(
        value,
        Dumper=_dumper(double_quoted),
        default_flow_style=True,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return text.removesuffix("\n...\n").strip()


@functools.cache
def _dumper(double_quoted: Callable[[str], bool]) -> type[yaml.SafeDumper]:
    """Return a SafeDumper subclass that double-quotes the strings ``double_quoted`` picks."""

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = '"' if double_quoted(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    class QuotingDumper(yaml.SafeDumper):
        """A SafeDumper of its own, so the representer added here stays its own."""

    QuotingDumper.add_representer(str, represent_str)
    return QuotingDumper


def _translated(exc: yaml.YAMLError, text: str) -> YamlError:
    """Return ``exc`` as a :class:`YamlError` located in ``text``."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return _syntax_error(exc)
    offset = getattr(exc, "position", None)  # a reader error: a character offset
    reason = getattr(exc, "reason", None) or str(exc)
    if not isinstance(offset, int):
        return YamlError(str(exc), (0, 0), reason)
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return YamlError(str(exc), (line, column), reason)


def _syntax_error(exc: yaml.MarkedYAMLError) -> YamlError:
    """Return a scanner, parser or composer error with its problem and context on one line."""
    mark = exc.problem_mark or exc.context_mark
    reason = exc.problem or exc.context or "cannot parse"
    if exc.context and exc.problem:
        reason += f" ({exc.context}"
        context_at = mark_position(exc.context_mark)
        if exc.context_mark is not None and context_at != mark_position(mark):
            reason += f" at line {context_at[0]}, column {context_at[1]}"
        reason += ")"
    return YamlError(str(exc), mark_position(mark), reason)
