"""Planning: desired and live state in, an inert :class:`reconciler.plan.Plan` out.

- :mod:`~reconciler.planning.planner` — :func:`build_plan`: subscriptions, matching by name.
- :mod:`~reconciler.planning.existing` — backup → upgrade → update of an existing database.
- :mod:`~reconciler.planning.creates` — create → follow-up update → import of a new one.
- :mod:`~reconciler.planning.deletes` — deletes, each after its backup, and their safety rules.
- :mod:`~reconciler.planning.backups` — the backup before an update or a delete.
- :mod:`~reconciler.planning.steps` — what each step returns: actions and refusals.
- :mod:`~reconciler.planning.history` — which system-log entries concern which database the
  plan changes (:func:`history_targets`, :func:`attach_history`); pure.
- :mod:`~reconciler.planning.fingerprint` — the hash that tells a saved plan is stale, and
  :func:`fingerprint_basis`, the digests that tell what moved.
"""

from reconciler.planning.fingerprint import fingerprint_basis
from reconciler.planning.history import attach_history, history_targets, match_history
from reconciler.planning.planner import build_plan

__all__ = ["attach_history", "build_plan", "fingerprint_basis", "history_targets", "match_history"]
