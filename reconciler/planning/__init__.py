"""Planning: desired and live state in, an inert :class:`reconciler.plan.Plan` out.

- :mod:`~reconciler.planning.planner` — :func:`build_plan`: actions, order, refusals.
- :mod:`~reconciler.planning.fingerprint` — the hash that tells a saved plan is stale.
"""

from reconciler.planning.planner import build_plan

__all__ = ["build_plan"]
