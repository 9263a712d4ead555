"""Everything between the HTTP socket and the endpoints: latency, auth, rate limit, faults,
statistics, JSON encoding, and the ``/_simulator`` control routes.

Order for an API request: latency sleep → route → auth (401; any user's key pair) → rate
limit (429, per key) → fault → 404/405 → JSON body → endpoint (which knows the user).
``/_simulator`` routes need no auth and are never rate limited, faulted or counted.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from reconciler.simulator.api import ApiRequest, Simulator
from reconciler.simulator.config import SimulatorConfig
from reconciler.simulator.faults import Fault, FaultInjector
from reconciler.simulator.limits import RateDecision, RateLimiter, RequestStats
from reconciler.simulator.replies import ApiProblem, Reply, bad_request
from reconciler.simulator.routes import Match, find_route, parse_params, route_problem
from reconciler.simulator.users import SimUser

logger = logging.getLogger(__name__)


@dataclass
class Answer:
    """What the HTTP layer sends: status, body bytes, headers; or nothing (``drop``)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


#: JSON separators without the spaces: smaller answers, encoded faster (pages of 100 databases).
_COMPACT = (",", ":")


def encode(reply: Reply) -> Answer:
    """Return the HTTP answer for ``reply`` (compact JSON body, or an empty body for None)."""
    headers = dict(reply.headers)
    if reply.body is None:
        return Answer(reply.status, b"", headers)
    headers["Content-Type"] = "application/json"
    body = json.dumps(reply.body, separators=_COMPACT).encode("utf-8")
    return Answer(reply.status, body, headers)


def _fault_reply(fault: Fault) -> Reply:
    if fault is Fault.ERROR_503:
        problem = ApiProblem(
            503, "SERVICE_UNAVAILABLE", "Server is temporarily unable to handle the request"
        )
    else:
        problem = ApiProblem(500, "GENERAL_ERROR", "Internal system error")
    return Reply.problem(problem)


class Gateway:
    """Turns raw requests into answers for one :class:`Simulator`."""

    def __init__(self, simulator: Simulator, config: SimulatorConfig) -> None:
        self.simulator = simulator
        self.config = config
        self.limiter = RateLimiter(config.rate_limit, config.clock)
        self.faults = FaultInjector(config.fault_rate, config.fault_seed)
        self.stats = RequestStats()

    def reset(self) -> None:
        """Put the account back to the seed; clear statistics, rate windows, fault sequence."""
        self.simulator.reset()
        self.stats.reset()
        self.limiter.reset()
        self.faults.reset()

    def control(self, method: str, path: str) -> Answer:
        """Answer a ``/_simulator`` request (no auth, no limits, not counted)."""
        if (method, path) == ("GET", "/_simulator/stats"):
            return encode(Reply(200, self.stats.snapshot()))
        if (method, path) == ("POST", "/_simulator/reset"):
            self.reset()
            return encode(Reply(200, {"reset": True}))
        return encode(Reply.problem(ApiProblem(404, "ENTITY_NOT_FOUND", "No such simulator route")))

    def api(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        base_url: str,
    ) -> Answer:
        """Answer one API request (``path`` relative to ``/v1``; ``headers`` keys lower-case)."""
        if self.config.latency_ms > 0:
            time.sleep(self.config.latency_ms / 1000.0)
        match = find_route(method, path)
        answer = self._answer(method, match, query, headers, body, base_url)
        self.stats.count(method, match.template, "dropped" if answer.drop else answer.status)
        return answer

    def _answer(
        self,
        method: str,
        match: Match,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        base_url: str,
    ) -> Answer:
        user = self._user(headers)
        if user is None:
            problem = ApiProblem(
                401, "UNAUTHORIZED", "Authentication failed for requested resource"
            )
            return encode(Reply.problem(problem))
        decision = self.limiter.check(user.key) if self.limiter.enabled else None
        if decision is not None and not decision.allowed:
            problem = ApiProblem(429, "TOO_MANY_REQUESTS", "Too many requests; retry later")
            return self._with_rate_headers(encode(Reply.problem(problem)), decision)
        is_write = match.route.is_write if match.route else method != "GET"
        fault = self.faults.draw(is_write)
        if fault is not None:
            self.stats.count_fault(fault.value)
        if fault in (Fault.ERROR_500, Fault.ERROR_503):
            return self._with_rate_headers(encode(_fault_reply(fault)), decision)
        if fault is Fault.DROP:
            return Answer(0, drop=True)
        reply = self._call(match, query, body, base_url, fault is Fault.FAILING_TASK, user)
        if fault is Fault.LOST_ANSWER:
            logger.debug("fault: answer of %s %s lost after it took effect", method, match.template)
            return Answer(0, drop=True)
        return self._with_rate_headers(encode(reply), decision)

    def _user(self, headers: Mapping[str, str]) -> SimUser | None:
        """Return the user whose key pair the headers carry, or None (every pair compared)."""
        key, secret = headers.get("x-api-key"), headers.get("x-api-secret-key")
        if key is None or secret is None:
            return None
        found = None
        for user in self.config.all_users():
            key_ok = hmac.compare_digest(key.encode(), user.key.encode())
            secret_ok = hmac.compare_digest(secret.encode(), user.secret.encode())
            if key_ok and secret_ok:
                found = user
        return found

    def _call(
        self,
        match: Match,
        query: str,
        body: bytes,
        base_url: str,
        fail_task: bool,
        user: SimUser,
    ) -> Reply:
        try:
            if match.route is None:
                raise route_problem(match)
            request = ApiRequest(
                params=parse_params(match.raw_params),
                query=dict(parse_qsl(query)),
                body=_parse_json(body),
                base_url=base_url,
                fail_task=fail_task,
                actor=user,
            )
            return self.simulator.call(match.route.handler, request)
        except ApiProblem as problem:
            return Reply.problem(problem)

    def _with_rate_headers(self, answer: Answer, decision: RateDecision | None) -> Answer:
        if decision is None:
            return answer
        answer.headers["X-Rate-Limit-Remaining"] = str(decision.remaining)
        if not decision.allowed:
            answer.headers["x-rate-limit-retry-after-seconds"] = str(decision.retry_after)
            answer.headers["Retry-After"] = str(decision.retry_after)
        return answer


def _refuse_constant(name: str) -> Any:
    raise bad_request(f"The request body holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise bad_request(f"The request body holds a number too large for a double: {text[:20]}…")
    return value


def _parse_json(body: bytes) -> Any:
    """Return the parsed JSON body (None when empty).

    ``NaN``/``Infinity`` (which Python's parser would take), numbers beyond a double, and
    nesting too deep to parse are refused like any malformed body.

    Raises:
        ApiProblem: 400 when the body is not strict JSON.
    """
    if not body.strip():
        return None
    try:
        return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # an int of > 4300 digits is a ValueError too
        raise bad_request("The request body is not valid JSON") from None
