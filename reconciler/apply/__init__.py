"""Applying a plan: one action at a time per subscription, waiting for every asynchronous task.

- :mod:`~reconciler.apply.executor` — :func:`apply_plan`, the run over the plan's actions.
- :mod:`~reconciler.apply.parallel` — ``--parallel``: lanes of subscriptions side by side.
- :mod:`~reconciler.apply.lanes` — how lanes are started (threads), and at most how many.
- :mod:`~reconciler.apply.step` — one action: wait, send, follow its task, settle, verify.
- :mod:`~reconciler.apply.kinds` — what differs between kinds of action, as one table.
- :mod:`~reconciler.apply.context` — the run's fixed context and the state actions share.
- :mod:`~reconciler.apply.recovery` — deciding what a lost or refused write did.
- :mod:`~reconciler.apply.waiting` — the poll schedule and the poller.
- :mod:`~reconciler.apply.progress` — progress lines.
- :mod:`~reconciler.apply.report` — the run report.
"""

from reconciler.apply.executor import apply_plan
from reconciler.apply.progress import make_progress
from reconciler.apply.report import ActionOutcome, ActionSummary, ApplyReport

__all__ = ["ActionOutcome", "ActionSummary", "ApplyReport", "apply_plan", "make_progress"]
