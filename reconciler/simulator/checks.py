"""Small composable checkers for JSON request bodies.

A checker takes ``(path, value)`` and returns the value (possibly normalised, e.g. an int
size turned into a float) or raises :class:`~reconciler.simulator.replies.ApiProblem`
(400). Like the real API's JSON binding, ``null`` for an optional field means "not sent".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from reconciler.simulator.replies import ApiProblem, bad_request

Checker = Callable[[str, Any], Any]

# The widest integer any request field takes (OpenAPI ``format: int64``).
INT64_MAX = 2**63 - 1


def json_type(value: Any) -> str:
    """Return the JSON type name of ``value`` (``boolean``, ``integer``, ``number`` …)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_error(path: str, expected: str, value: Any) -> ApiProblem:
    """Return the 400 problem for ``value`` at ``path`` not being of the ``expected`` type."""
    return bad_request(f'"{path}" must be {expected}, got {json_type(value)}')


def boolean() -> Checker:
    """Return a checker accepting JSON booleans only."""

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, bool):
            raise type_error(path, "a boolean", value)
        return value

    return check


def integer(
    minimum: int | None = None,
    maximum: int | None = None,
    error_type: str = "BAD_REQUEST",
    too_big_error: str | None = None,
) -> Checker:
    """Return a checker accepting JSON integers within ``[minimum, maximum]``.

    Without ``maximum`` the int64 range bounds the value, so a 400-digit integer is a 400,
    never stored. ``too_big_error`` (default ``error_type``) is the type of "above maximum".
    """
    highest = INT64_MAX if maximum is None else maximum
    lowest = -INT64_MAX - 1 if minimum is None else minimum

    def check(path: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise type_error(path, "an integer", value)
        if value > highest:
            raise bad_request(
                f'"{path}" is out of range: {_shown(value)} is above {highest}',
                too_big_error or error_type,
            )
        if value < lowest:
            raise bad_request(
                f'"{path}" is out of range: {_shown(value)} is below {lowest}', error_type
            )
        return value

    return check


def _shown(value: int | float) -> str:
    """Return ``value`` for an error message, shortened when it is absurdly long."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"


def number(
    minimum: float,
    maximum: float,
    error_type: str = "BAD_REQUEST",
    too_big_error: str | None = None,
) -> Checker:
    """Return a checker accepting finite JSON numbers in ``[minimum, maximum]``; a float.

    An integer too large for a float (a 400-digit ``datasetSizeInGb``) is "above maximum",
    not an overflow. ``too_big_error`` (default ``error_type``) is the type of that case.
    """

    def check(path: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise type_error(path, "a number", value)
        if isinstance(value, float) and not math.isfinite(value):
            raise bad_request(f'"{path}" must be a finite number', error_type)
        if value > maximum:
            raise bad_request(
                f'"{path}" must be at most {maximum:g}, got {_shown(value)}',
                too_big_error or error_type,
            )
        if value < minimum:
            raise bad_request(
                f'"{path}" must be at least {minimum}, got {_shown(value)}', error_type
            )
        return float(value)

    return check


def string(non_blank_error: str | None = None, max_length: int | None = None) -> Checker:
    """Return a checker accepting strings; optionally refusing blank or too long ones."""

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise type_error(path, "a string", value)
        if non_blank_error and not value.strip():
            raise bad_request(f'"{path}" must not be blank', non_blank_error)
        if max_length is not None and len(value) > max_length:
            raise bad_request(f'"{path}" is longer than {max_length} characters', "BAD_REQUEST")
        return value

    return check


def enum(values: Collection[str], error_type: str = "BAD_REQUEST") -> Checker:
    """Return a checker accepting one of ``values``."""
    allowed = ", ".join(values)

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise type_error(path, "a string", value)
        if value not in values:
            raise bad_request(f'"{path}" must be one of {allowed}, got "{value}"', error_type)
        return value

    return check


def array(item: Checker) -> Checker:
    """Return a checker accepting a JSON array whose items pass ``item``."""

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, list):
            raise type_error(path, "an array", value)
        return [item(f"{path}[{index}]", entry) for index, entry in enumerate(value)]

    return check


def free_object() -> Checker:
    """Return a checker accepting any JSON object (e.g. module parameters)."""

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise type_error(path, "an object", value)
        return value

    return check


def obj(
    fields: Mapping[str, Checker],
    required: Collection[str] = (),
    ignored: Collection[str] = (),
) -> Checker:
    """Return a checker for a JSON object with exactly the ``fields`` given.

    ``ignored`` keys are accepted and dropped (read-only schema properties); unknown keys
    are refused; ``null`` values count as absent.
    """

    def check(path: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise type_error(path or "body", "an object", value)
        return check_fields(path, value, fields, required, ignored)

    return check


def check_fields(
    path: str,
    value: Mapping[str, Any],
    fields: Mapping[str, Checker],
    required: Collection[str] = (),
    ignored: Collection[str] = (),
) -> dict[str, Any]:
    """Check an object's members; return the sent, non-null, non-ignored ones, checked.

    Raises:
        ApiProblem: an unknown member, a missing required one, or a member that fails.
    """
    prefix = f"{path}." if path else ""
    for key in value:
        if key not in fields and key not in ignored:
            raise bad_request(f'Unrecognized field "{prefix}{key}"')
    for key in required:
        if value.get(key) is None:
            raise bad_request(f'"{prefix}{key}" is required')
    return {
        key: fields[key](f"{prefix}{key}", member)
        for key, member in value.items()
        if key in fields and member is not None
    }
