"""What an endpoint answers: a :class:`Reply`, or an :class:`ApiProblem` it raises.

Synchronous errors carry a small JSON body ``{"error": {"type", "status", "description"}}``
(the real API's synchronous error body is undocumented, and the Go SDK keeps it as opaque
text); task errors use the same ``{type, status, description}`` object inside
``response.error``, as the real API's task answers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


def status_text(code: int) -> str:
    """Return the API's ``"<code> <REASON>"`` form, e.g. ``"400 BAD_REQUEST"``."""
    return f"{code} {HTTPStatus(code).name}"


def error_object(code: int, error_type: str, description: str) -> dict[str, Any]:
    """Return the ``{type, status, description}`` object used in error bodies and tasks."""
    return {"type": error_type, "status": status_text(code), "description": description}


class ApiProblem(Exception):
    """A request the API refuses synchronously (4xx/5xx with a JSON error body)."""

    def __init__(self, code: int, error_type: str, description: str) -> None:
        self.code = code
        self.error_type = error_type
        self.description = description
        super().__init__(f"{code} {error_type}: {description}")

    def as_error(self) -> dict[str, Any]:
        """Return the ``{type, status, description}`` object for this problem."""
        return error_object(self.code, self.error_type, self.description)


def bad_request(description: str, error_type: str = "BAD_REQUEST") -> ApiProblem:
    """Return a 400 problem (``BAD_REQUEST`` unless a more precise type is given)."""
    return ApiProblem(400, error_type, description)


@dataclass
class Reply:
    """An HTTP answer: status, JSON body (None = empty body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def problem(cls, problem: ApiProblem) -> Reply:
        """Return the reply carrying ``problem`` as a JSON error body."""
        return cls(problem.code, {"error": problem.as_error()})
