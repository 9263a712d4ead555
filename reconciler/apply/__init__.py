"""Applying a plan: one action at a time, waiting for every asynchronous task.

- :mod:`~reconciler.apply.executor` — :func:`apply_plan`.
- :mod:`~reconciler.apply.recovery` — deciding what a lost or refused write did.
- :mod:`~reconciler.apply.waiting` — the poll schedule and the poller.
- :mod:`~reconciler.apply.progress` — progress lines.
- :mod:`~reconciler.apply.report` — the run report.
"""

from reconciler.apply.executor import apply_plan
from reconciler.apply.progress import make_progress

__all__ = ["apply_plan", "make_progress"]
